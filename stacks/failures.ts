import { deadLetterAccess, taskStoppedAccess } from "./access.ts";
import { dataLinks, handlerPermissions, logging } from "./functions.ts";
import { DEAD_LETTERS_ENTRY, LAMBDA_DIR, TASK_STOPPED_ENTRY, taskStoppedPattern } from "./rules.ts";
import { subscriptions } from "./subscriptions.ts";
import { cluster, worker } from "./encoder.ts";

/**
 * What tells a job that its work is lost, so it ends FAILED instead of waiting forever:
 *  - DeadLetters consumes every rule's dead-letter queue and fails the event's job;
 *  - TaskStopped watches ECS for worker tasks that stopped without succeeding (OOM, Spot
 *    reclaim, SIGKILL: RunTask succeeded, so no retry layer ever sees them).
 * Both run core's failOnDeadLetter, as the local bus does when a delivery runs out of retries.
 */

/** Lambda's SQS poller needs these on each queue (SST adds them only for functions it creates). */
const consumeDeadLetters = {
  actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
  resources: subscriptions.map((s) => s.dlq.arn),
};

// one function for all nine queues: one role, one log group to search for "dead letter"
export const deadLetters = new sst.aws.Function("DeadLetters", {
  handler: `${LAMBDA_DIR}/${DEAD_LETTERS_ENTRY}.handler`,
  runtime: "nodejs20.x",
  // at most the queues' visibility timeout (SST's default, 30 s), or the event source mapping is refused
  timeout: "30 seconds",
  memory: "256 MB",
  logging,
  link: dataLinks,
  permissions: [...handlerPermissions(deadLetterAccess), consumeDeadLetters],
});

// the messages are deleted once their job is failed: see packages/functions/src/lambda/dead-letters.ts
for (const { dlq } of subscriptions) dlq.subscribe(deadLetters.arn, { batch: { size: 10, partialResponses: true } });

export const taskStopped = new sst.aws.Function("TaskStopped", {
  handler: `${LAMBDA_DIR}/${TASK_STOPPED_ENTRY}.handler`,
  runtime: "nodejs20.x",
  timeout: "30 seconds",
  memory: "256 MB",
  logging,
  link: dataLinks,
  permissions: handlerPermissions(taskStoppedAccess),
});

/** ECS publishes task state changes on the account's default bus, not on ours. */
const defaultBus = $interpolate`arn:aws:events:${aws.getRegionOutput().region}:${aws.getCallerIdentityOutput().accountId}:event-bus/default`;
const taskDefinition = worker.nodes.taskDefinition;
// the definition's ARN without its `:revision`
const familyArn = taskDefinition.arn.apply((arn) => arn.replace(/:\d+$/, ""));

export const taskStoppedRule = sst.aws.Bus.subscribe("WorkerTaskStopped", defaultBus, taskStopped, {
  transform: {
    rule: (args) => {
      args.eventPattern = $resolve([cluster.nodes.cluster.arn, familyArn]).apply(([clusterArn, family]) => JSON.stringify(taskStoppedPattern(clusterArn, family)));
      return undefined;
    },
  },
});
