import { deadLetterAccess, taskStoppedAccess } from "./access.ts";
import { bundledFunction, dataLinks, handlerPermissions } from "./functions.ts";
import { deadLetterQueueName, taskStoppedPattern } from "./rules.ts";
import { queuePolicy, subscriptions } from "./subscriptions.ts";
import { cluster, worker } from "./encoder.ts";

/**
 * What tells a job that its work is lost, so it ends FAILED instead of waiting forever:
 *  - DeadLetters consumes every rule's dead-letter queue and fails the event's job;
 *  - TaskStopped watches ECS for worker tasks that stopped without succeeding (OOM, SIGKILL:
 *    RunTask succeeded, so no retry layer ever sees them).
 * Both run core's failOnDeadLetter, as the local bus does when a delivery runs out of retries.
 */

/** Lambda's SQS poller needs these on each queue (SST adds them only for functions it creates). */
const consumeDeadLetters = {
  actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
  resources: subscriptions.map((s) => s.dlq.arn),
};

// one function for all nine queues: one role, one log group to search for "dead letter"
// (its timeout, 30 s, is at most the queues' visibility timeout, or the mapping is refused)
export const deadLetters = bundledFunction("DeadLetters", "dead-letters", {
  link: dataLinks,
  permissions: [...handlerPermissions(deadLetterAccess), consumeDeadLetters],
});

// the messages are deleted once their job is failed: see packages/functions/src/lambda/dead-letters.ts
for (const { dlq } of subscriptions) dlq.subscribe(deadLetters.arn, { batch: { size: 10, partialResponses: true } });

/**
 * Where a TaskStopped event goes when TaskStopped cannot take it (EventBridge could not
 * invoke it, or it threw on every attempt). No consumer: it is an operator's queue, and
 * stacks/alarms.ts alarms as soon as it holds a message.
 */
export const taskStoppedDlq = new sst.aws.Queue("TaskStoppedDlq", {
  transform: {
    queue: {
      name: deadLetterQueueName($app.name, $app.stage, "task-stopped-dlq"),
      messageRetentionSeconds: 14 * 24 * 3600,
    },
  },
});

/** Same budget as a topology rule: 3 EventBridge retries, Lambda's 2 async retries, then the queue. */
const TASK_STOPPED_RETRY = { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 };

export const taskStopped = bundledFunction("TaskStopped", "task-stopped", {
  link: dataLinks,
  permissions: [
    ...handlerPermissions(taskStoppedAccess),
    { actions: ["sqs:SendMessage"], resources: [taskStoppedDlq.arn] },
  ],
  retries: 2,
  transform: {
    eventInvokeConfig: (args) => {
      args.maximumEventAgeInSeconds = TASK_STOPPED_RETRY.maximumEventAgeInSeconds;
      args.destinationConfig = { onFailure: { destination: taskStoppedDlq.arn } };
      return undefined;
    },
  },
});

/** ECS publishes task state changes on the account's default bus, not on ours. */
const region = aws.getRegionOutput().region;
const accountId = aws.getCallerIdentityOutput().accountId;
const defaultBus = $interpolate`arn:aws:events:${region}:${accountId}:event-bus/default`;
const taskDefinition = worker.nodes.taskDefinition;
// the definition's ARN without its `:revision`
const familyArn = taskDefinition.arn.apply((arn) => arn.replace(/:\d+$/, ""));

export const taskStoppedRule = sst.aws.Bus.subscribe("WorkerTaskStopped", defaultBus, taskStopped, {
  transform: {
    rule: (args) => {
      args.eventPattern = $resolve([cluster.nodes.cluster.arn, familyArn]).apply(([clusterArn, family]) =>
        JSON.stringify(taskStoppedPattern(clusterArn, family)),
      );
      return undefined;
    },
    target: (args) => {
      args.retryPolicy = TASK_STOPPED_RETRY;
      args.deadLetterConfig = { arn: taskStoppedDlq.arn };
      return undefined;
    },
  },
});

queuePolicy("TaskStoppedDlqPolicy", taskStoppedDlq, taskStoppedRule.nodes.rule.arn);
