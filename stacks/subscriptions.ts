import { taskLaunchPolicy, TASK_QUEUE_VARIABLE, TASK_STAGE_VARIABLE } from "@videoforge/functions/lambda/task-policy";
import { topology } from "@videoforge/events";
import { deadLetterQueueName, ruleSpecs, type RuleSpec } from "./rules.ts";
import { bundledFunction, dataLinks, handlerGrants, handlerPermissions, imageFunction } from "./functions.ts";
import type { ImageArtifact } from "./functions.ts";
import { functionArtifacts, type FunctionArtifactName } from "./artifacts.ts";
import type { Permission } from "./permissions.ts";
import { eventBus } from "./bus.ts";
import { isDevStage, mediaEnvironment } from "./config.ts";
import { cluster, worker, workerImage } from "./encoder.ts";

/** Dead letters are kept as long as SQS allows, to read and redrive them. */
const FOURTEEN_DAYS = 14 * 24 * 3600;

const isImage = (a: FunctionArtifactName): a is ImageArtifact => functionArtifacts[a].kind === "image";

/**
 * A task rule's events wait in this queue for the launcher: the event source mapping runs at
 * most this many launchers at once, and each launcher also checks the rule's running-task
 * cap. Lambda's minimum for `maximumConcurrency` is 2.
 */
export const LAUNCHER_CONCURRENCY = 2;
/** Receives before a work-queue message is dead-lettered: real failures, never capacity waits. */
export const WORK_QUEUE_RECEIVES = 3;

/** EventBridge may only drop this rule's events (or failures) into this queue. */
export function queuePolicy(id: string, queue: sst.aws.Queue, ruleArn: $util.Input<string>) {
  return new aws.sqs.QueuePolicy(id, {
    queueUrl: queue.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
        },
      ],
    }),
  });
}

/** Lambda-runtime rule: EventBridge → the handler's function (async invoke, retries, on-failure → DLQ). */
function lambdaSubscription(spec: RuleSpec, dlq: sst.aws.Queue) {
  if (spec.target.kind !== "lambda") throw new Error(`${spec.name} is a task rule`);
  const artifact = spec.target.artifact;
  const permissions: Permission[] = [
    ...handlerPermissions(handlerGrants(spec.handler)),
    { actions: ["sqs:SendMessage"], resources: [dlq.arn] },
  ];
  const id = `${spec.id}Handler`;
  let arn: $util.Output<string>;
  if (isImage(artifact)) {
    const fn = imageFunction(id, artifact, {
      image: workerImage,
      handler: spec.handler,
      permissions,
      link: dataLinks,
      environment: mediaEnvironment,
    });
    arn = fn.arn;
    // what sst.aws.Function's `retries` + eventInvokeConfig transform do for the zip functions
    new aws.lambda.FunctionEventInvokeConfig(`${id}EventInvokeConfig`, {
      functionName: fn.name,
      maximumRetryAttempts: spec.invoke.maximumRetryAttempts,
      maximumEventAgeInSeconds: spec.invoke.maximumEventAgeInSeconds,
      destinationConfig: { onFailure: { destination: dlq.arn } },
    });
  } else {
    const fn = bundledFunction(id, artifact, {
      link: dataLinks,
      permissions,
      retries: spec.invoke.maximumRetryAttempts,
      transform: {
        eventInvokeConfig: (args) => {
          args.maximumEventAgeInSeconds = spec.invoke.maximumEventAgeInSeconds;
          // a function that keeps throwing ends in the same queue as an undeliverable event
          args.destinationConfig = { onFailure: { destination: dlq.arn } };
          return undefined;
        },
      },
    });
    arn = fn.arn;
  }
  // the rule and its target are written out (not Bus.subscribe) so zip and image functions
  // are wired alike: the topology's pattern verbatim, its retry policy, its dead-letter queue
  const rule = new aws.cloudwatch.EventRule(`${spec.id}Rule`, {
    eventBusName: eventBus.name,
    eventPattern: spec.patternJson,
  });
  const permission = new aws.lambda.Permission(`${spec.id}Permission`, {
    action: "lambda:InvokeFunction",
    function: arn,
    principal: "events.amazonaws.com",
    sourceArn: rule.arn,
  });
  new aws.cloudwatch.EventTarget(
    `${spec.id}Target`,
    {
      rule: rule.name,
      eventBusName: eventBus.name,
      arn,
      retryPolicy: spec.retryPolicy,
      deadLetterConfig: { arn: dlq.arn },
    },
    { dependsOn: [permission] },
  );
  return { ruleArn: rule.arn, fn: arn };
}

/** The rule, its pattern verbatim, delivering into `queue` (which only this rule may write to). */
function ruleIntoQueue(spec: RuleSpec, queue: sst.aws.Queue, dlq: sst.aws.Queue) {
  const rule = new aws.cloudwatch.EventRule(`${spec.id}Rule`, {
    eventBusName: eventBus.name,
    eventPattern: spec.patternJson,
  });
  queuePolicy(`${spec.id}QueuePolicy`, queue, rule.arn);
  new aws.cloudwatch.EventTarget(`${spec.id}Target`, {
    rule: rule.name,
    eventBusName: eventBus.name,
    arn: queue.arn,
    retryPolicy: spec.retryPolicy,
    deadLetterConfig: { arn: dlq.arn },
  });
  return rule;
}

/**
 * Queue rule: EventBridge → the rule's queue → the handler's function (batches of one, partial
 * responses). The function hides a record it has work for later (ChangeMessageVisibility), so
 * the queue is where a webhook waits between attempts; a message that keeps failing for another
 * reason reaches the dead-letter queue after the target's receive limit.
 */
function queueSubscription(spec: RuleSpec, dlq: sst.aws.Queue) {
  if (spec.target.kind !== "queue") throw new Error(`${spec.name} is not a queue rule`);
  const { artifact, receives, retentionSeconds } = spec.target;
  if (isImage(artifact)) throw new Error(`${spec.name}: queue rules run zip functions`);
  const timeout = functionArtifacts[artifact].timeoutSeconds;
  const queue = new sst.aws.Queue(`${spec.id}Queue`, {
    // Lambda asks for six times the consumer's timeout
    visibilityTimeout: `${6 * timeout} seconds`,
    dlq: { queue: dlq.arn, retry: receives },
    transform: { queue: { messageRetentionSeconds: retentionSeconds } },
  });
  const rule = ruleIntoQueue(spec, queue, dlq);
  const fn = bundledFunction(`${spec.id}Handler`, artifact, {
    link: dataLinks,
    permissions: [
      ...handlerPermissions(handlerGrants(spec.handler)),
      // hiding a record until its next attempt (SST's subscribe grants receive and delete only)
      { actions: ["sqs:ChangeMessageVisibility"], resources: [queue.arn] },
    ],
  });
  queue.subscribe(fn.arn, { batch: { size: 1, partialResponses: true } });
  return { ruleArn: rule.arn, fn: fn.arn, queue };
}

/**
 * Task rule: EventBridge → the rule's work queue → its launcher (RunTask). The queue is the
 * back-pressure: launchers run at most LAUNCHER_CONCURRENCY at once, start no more than the
 * rule's running-task cap, and put an event back, delayed, when Fargate reports capacity,
 * quota or throttling. Only a message that fails WORK_QUEUE_RECEIVES times for another
 * reason reaches the rule's dead-letter queue.
 */
function taskSubscription(spec: RuleSpec, dlq: sst.aws.Queue) {
  const sub = topology.find((s) => s.name === spec.name)!;
  const policy = taskLaunchPolicy(sub, { dev: isDevStage });
  const queue = new sst.aws.Queue(`${spec.id}Queue`, {
    // Lambda asks for six times the consumer's timeout
    visibilityTimeout: "3 minutes",
    dlq: { queue: dlq.arn, retry: WORK_QUEUE_RECEIVES },
  });
  const rule = ruleIntoQueue(spec, queue, dlq);
  const launcher = bundledFunction(`${spec.id}Launcher`, "launch-task", {
    environment: {
      ...spec.target.environment,
      [TASK_QUEUE_VARIABLE]: queue.url,
      ...(isDevStage ? { [TASK_STAGE_VARIABLE]: "dev" } : {}),
    },
    // linking the Task grants ecs:* on its definition and tasks and iam:PassRole on its two roles
    link: [worker],
    permissions: [
      {
        actions: ["ecs:ListTasks"],
        resources: ["*"],
        conditions: [{ test: "ArnEquals", variable: "ecs:cluster", values: [cluster.nodes.cluster.arn] }],
      },
      // consume the work queue (SST adds these only to functions it subscribes itself) and put events back
      {
        actions: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
          "sqs:SendMessage",
        ],
        resources: [queue.arn],
      },
    ],
  });
  queue.subscribe(launcher.arn, {
    batch: { size: 1, partialResponses: true },
    transform: {
      eventSourceMapping: (args) => {
        args.scalingConfig = { maximumConcurrency: LAUNCHER_CONCURRENCY };
        return undefined;
      },
    },
  });
  return { ruleArn: rule.arn, fn: launcher.arn, queue, maxRunning: policy.maxRunning };
}

/**
 * One EventBridge rule per topology entry, pattern verbatim, with the entry's retry policy
 * and its own SQS dead-letter queue; the target is the handler's Lambda, or for task rules
 * the rule's work queue in front of the launcher.
 */
export const subscriptions = ruleSpecs().map((spec) => {
  // named `<app>-<stage>-<rule>-dlq`: the dead-letter consumer (stacks/failures.ts) reads the rule from it
  const name = deadLetterQueueName($app.name, $app.stage, spec.deadLetter.name);
  const dlq = new sst.aws.Queue(spec.deadLetter.id, {
    transform: { queue: { name, messageRetentionSeconds: FOURTEEN_DAYS } },
  });
  const wired =
    spec.target.kind === "task"
      ? taskSubscription(spec, dlq)
      : spec.target.kind === "queue"
        ? queueSubscription(spec, dlq)
        : lambdaSubscription(spec, dlq);
  queuePolicy(`${spec.deadLetter.id}Policy`, dlq, wired.ruleArn);
  return { spec, dlq, ...wired };
});
