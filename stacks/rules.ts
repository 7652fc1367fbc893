/**
 * Topology → EventBridge rule specs. Pure (no SST globals), so the bus stack builds its
 * rules from it and test/infra checks it against the local bus without deploying anything.
 *
 * Task targets: a launcher Lambda calling ECS RunTask, not an EventBridge ECS target.
 *  - An ECS target can only pass the event through an input transformer, which cannot turn
 *    the envelope into the string an environment variable needs; the container would get
 *    loose fields instead of the envelope the local task runner passes. The launcher passes
 *    the validated envelope verbatim and checks it fits RunTask's 8,192-character override
 *    limit before paying for a task (adapters/ecs-task-launcher.ts).
 *  - Cost of the choice: one short Lambda invocation (~100 ms) per task, next to Fargate's
 *    30-60 s to pull and start a container: noise.
 *  - Retries: with either target RunTask returns once the task is placed, so a handler that
 *    fails inside the task is invisible to EventBridge. The task retries in process
 *    (VIDEOFORGE_TASK_ATTEMPTS); EventBridge and Lambda retries cover RunTask refusals
 *    (capacity, throttling), made safe by RunTask's clientToken.
 *  - `sst dev`: both call RunTask on the Task's stub definition, which forwards the run to
 *    `dev.command` on the developer's machine; the launcher itself runs live locally too.
 */
import {
  topology as defaultTopology,
  type EventName,
  type HandlerName,
  type Runtime,
  type Subscription,
} from "@videoforge/events";
import { taskLaunchPolicy, TASK_RULE_VARIABLE } from "@videoforge/functions/lambda/task-policy";
import { handlerArtifact, type FunctionArtifactName } from "./artifacts.ts";

/** Where the Lambda entry files live, relative to the repository root (SST resolves from there). */
export const LAMBDA_DIR = "packages/functions/src/lambda";

/** The one Lambda entry of every topology handler; `npm run build:aws` bundles it per handler. */
export const HANDLER_ENTRY = "event-handler";
export const LAUNCHER_ENTRY = "launch-task";

/** Lambda's asynchronous invocation retries at most twice, whatever the rule asks. */
export const LAMBDA_MAX_ASYNC_RETRIES = 2;
/** Lambda's asynchronous event age ceiling (6 hours). */
export const LAMBDA_MAX_EVENT_AGE_SECONDS = 21_600;

export interface LambdaTarget {
  kind: "lambda";
  /** `file.export` as sst.aws.Function's `handler` takes it (what `sst dev` runs). */
  handler: string;
  /** The function artifact that runs the handler (stacks/artifacts.ts). */
  artifact: FunctionArtifactName;
  environment: Record<string, string>;
}

/**
 * EventBridge → an SQS queue → the handler's function (the same entry, in its SQS mode). The
 * function hides a record it has work for later (ChangeMessageVisibility) and SQS hands it back
 * then: retries for as long as the queue keeps messages, beyond EventBridge's and Lambda's.
 */
export interface QueueTarget extends Omit<LambdaTarget, "kind"> {
  kind: "queue";
  /** Receives before a message goes to the dead-letter queue: a day of backoff takes about 20. */
  receives: number;
  /** How long the queue keeps a message: longer than the handler retries (webhooks: 24 h). */
  retentionSeconds: number;
}

/** A queue rule's receive limit and retention (a webhook's day of retries, with room). */
export const QUEUE_RECEIVES = 100;
export const QUEUE_RETENTION_SECONDS = 4 * 86_400;

export interface TaskTarget {
  kind: "task";
  /** The launcher Lambda that calls RunTask for this rule. */
  handler: string;
  environment: Record<string, string>;
  /** The handler the task runs (VIDEOFORGE_HANDLER). */
  taskHandler: HandlerName;
  attempts: number;
  storageGiB?: number;
}

export interface RuleSpec {
  /** PascalCase logical name for SST components (rule, function, queue). */
  id: string;
  /** The subscription's name in events/topology.ts. */
  name: string;
  handler: HandlerName;
  runtime: Runtime;
  events: readonly EventName[];
  /** The pattern exactly as the topology (and so the local bus) has it. */
  pattern: Record<string, unknown>;
  /** What the rule's EventPattern is set to, verbatim. */
  patternJson: string;
  target: LambdaTarget | QueueTarget | TaskTarget;
  /** EventBridge target RetryPolicy: redeliveries when invoking the target fails. */
  retryPolicy: { maximumRetryAttempts: number; maximumEventAgeInSeconds: number };
  /** Lambda asynchronous invocation config: retries when the function throws. */
  invoke: { maximumRetryAttempts: number; maximumEventAgeInSeconds: number };
  /** SQS queue for events that exhaust both retry budgets. */
  deadLetter: { id: string; name: string };
}

/** "chunk-small-source" → "ChunkSmallSource" (SST component names are PascalCase). */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

function target(sub: Subscription): LambdaTarget | QueueTarget | TaskTarget {
  if (sub.runtime !== "task") {
    const artifact = handlerArtifact(sub.handler);
    const fn = { handler: `${LAMBDA_DIR}/${HANDLER_ENTRY}.handler`, artifact, environment: {} };
    if (sub.runtime === "lambda") return { kind: "lambda", ...fn };
    return { kind: "queue", ...fn, receives: QUEUE_RECEIVES, retentionSeconds: QUEUE_RETENTION_SECONDS };
  }
  const policy = taskLaunchPolicy(sub);
  return {
    kind: "task",
    handler: `${LAMBDA_DIR}/${LAUNCHER_ENTRY}.handler`,
    environment: { [TASK_RULE_VARIABLE]: sub.name },
    taskHandler: sub.handler,
    attempts: policy.attempts,
    ...(policy.storageGiB ? { storageGiB: policy.storageGiB } : {}),
  };
}

/** One rule spec per subscription, in topology order. */
export function ruleSpecs(topology: readonly Subscription[] = defaultTopology): RuleSpec[] {
  return topology.map((sub) => {
    const { maximumRetryAttempts, maximumEventAgeSeconds } = sub.retry;
    return {
      id: pascal(sub.name),
      name: sub.name,
      handler: sub.handler,
      runtime: sub.runtime,
      events: sub.events,
      pattern: sub.pattern,
      patternJson: JSON.stringify(sub.pattern),
      target: target(sub),
      retryPolicy: { maximumRetryAttempts, maximumEventAgeInSeconds: maximumEventAgeSeconds },
      invoke: {
        maximumRetryAttempts: Math.min(maximumRetryAttempts, LAMBDA_MAX_ASYNC_RETRIES),
        maximumEventAgeInSeconds: Math.min(maximumEventAgeSeconds, LAMBDA_MAX_EVENT_AGE_SECONDS),
      },
      deadLetter: { id: pascal(sub.deadLetter), name: sub.deadLetter },
    };
  });
}

/** SQS caps queue names at 80 characters. */
const SQS_NAME_LIMIT = 80;

/**
 * The physical name of a rule's dead-letter queue: `<app>-<stage>-<rule>-dlq`. The queue
 * name ends with the topology's `deadLetter` so the dead-letter consumer can tell the rule
 * from the record's `eventSourceARN` alone, and an operator sees the rule in the console.
 * A long stage name is cut, never the suffix.
 */
export function deadLetterQueueName(app: string, stage: string, deadLetter: string): string {
  const prefix = `${app}-${stage}`.slice(0, Math.max(0, SQS_NAME_LIMIT - deadLetter.length - 1));
  return prefix ? `${prefix}-${deadLetter}` : deadLetter;
}

/** The stopped-task rule and its Lambda (stacks/failures.ts). */
export const TASK_STOPPED_ENTRY = "task-stopped";
/** The consumer of every rule's dead-letter queue (stacks/failures.ts). */
export const DEAD_LETTERS_ENTRY = "dead-letters";

/**
 * ECS "Task State Change" events (default bus) for worker tasks that stopped. Every STOPPED
 * task matches, successful ones too: "did it fail" needs every container's exit code, which
 * a pattern cannot express (`anything-but: 0` on `containers.exitCode` misses containers
 * that never got one, like a task that failed to start), so the Lambda decides.
 * The task definition is matched by family prefix so tasks of the previous revision, still
 * running during a deploy, are watched too.
 */
export function taskStoppedPattern(clusterArn: string, taskDefinitionFamilyArn: string): Record<string, unknown> {
  return {
    source: ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    detail: {
      clusterArn: [clusterArn],
      taskDefinitionArn: [{ prefix: `${taskDefinitionFamilyArn}:` }],
      lastStatus: ["STOPPED"],
    },
  };
}
