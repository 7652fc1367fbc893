import { createHash } from "node:crypto";
import {
  ListTasksCommand,
  RunTaskCommand,
  type ECSClient,
  type RunTaskCommandInput,
  type TaskOverride,
} from "@aws-sdk/client-ecs";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Envelope, HandlerName } from "@videoforge/events";

/**
 * What RunTask needs to start the worker task: the properties SST's Task component links
 * (`Resource.Worker`). Subnets and security groups come from the cluster's VPC.
 */
export interface WorkerTask {
  cluster: string;
  taskDefinition: string;
  containers: readonly string[];
  subnets: readonly string[];
  securityGroups: readonly string[];
  assignPublicIp: boolean;
}

export interface LaunchRequest {
  /** The subscription whose event this is; with the event id it makes RunTask idempotent. */
  rule: string;
  handler: HandlerName;
  envelope: Envelope;
  /** How many times the task may run the handler before giving up (its in-task retries). */
  attempts: number;
  /** Ephemeral storage for this run, when the task definition's default is too small. */
  storageGiB?: number;
  capacity?: "FARGATE" | "FARGATE_SPOT";
  /** How many times this event was put back to wait for capacity (part of the RunTask token). */
  deferrals?: number;
  /** Task-level CPU units and memory (MiB) for this run; the task definition's when absent. */
  size?: { cpu: number; memoryMiB: number };
}

/**
 * IAM actions of the calls this adapter makes (RunTask passes the task's two roles). The
 * stacks grant them and test/infra/stacks.mock.test.ts checks the grant covers them.
 */
export const ECS_LAUNCHER_ACTIONS = {
  launch: ["ecs:RunTask", "iam:PassRole"],
  running: ["ecs:ListTasks"],
} as const;

/** RunTask refuses overrides whose JSON exceeds this many characters. */
export const RUN_TASK_OVERRIDE_LIMIT = 8192;

/** The event cannot be passed to a task: retrying cannot help, so the runtime should dead-letter it. */
export class OverrideTooLargeError extends Error {
  override name = "OverrideTooLargeError";
}

/** RunTask answered but started nothing (capacity, bad network configuration…). Worth a retry. */
export class TaskNotStartedError extends Error {
  override name = "TaskNotStartedError";
  constructor(
    message: string,
    /** Every failure was a capacity or quota reason: waiting, not a retry budget, fixes it. */
    readonly capacity = false,
  ) {
    super(message);
  }
}

/** RunTask failure reasons that mean "no room right now" (Spot capacity, vCPU quota, placement). */
const CAPACITY_REASON = /capacity is unavailable|^RESOURCE:|limit on the number of|quota|throttl|rate exceeded/i;
/** SDK error names that mean "slow down" rather than "this request is wrong". */
const THROTTLE_NAMES = new Set([
  "ThrottlingException",
  "LimitExceededException",
  "ServerException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
]);

/**
 * Whether an error from launching a task means "try later": Fargate capacity, a vCPU quota,
 * an API throttle or a 5xx. Such an error must delay work, never use up a job's retries.
 */
export function isCapacityError(err: unknown): boolean {
  if (err instanceof TaskNotStartedError) return err.capacity;
  if (!(err instanceof Error)) return false;
  const meta = err as Error & { $retryable?: { throttling?: boolean }; $metadata?: { httpStatusCode?: number } };
  if (meta.$retryable?.throttling || THROTTLE_NAMES.has(err.name)) return true;
  if ((meta.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return CAPACITY_REASON.test(err.message);
}

/**
 * The RunTask overrides for one event: the container gets the handler name, the whole
 * EventBridge envelope and its attempt budget as environment variables, exactly what the
 * task entry (packages/worker/src/main.ts) reads and what the local task runner sets.
 */
export function taskOverrides(task: WorkerTask, req: LaunchRequest): TaskOverride {
  const environment = [
    { name: "VIDEOFORGE_HANDLER", value: req.handler },
    { name: "VIDEOFORGE_EVENT", value: JSON.stringify(req.envelope) },
    { name: "VIDEOFORGE_TASK_ATTEMPTS", value: String(req.attempts) },
  ];
  return {
    containerOverrides: task.containers.map((name) => ({ name, environment })),
    ...(req.size ? { cpu: String(req.size.cpu), memory: String(req.size.memoryMiB) } : {}),
    ...(req.storageGiB ? { ephemeralStorage: { sizeInGiB: req.storageGiB } } : {}),
  };
}

/** startedBy allows letters, digits, -, _ and / only, 128 at most; ListTasks filters on it. */
function startedBy(rule: string): string {
  return `videoforge/${rule}`.slice(0, 128);
}

/**
 * RunTask's idempotency token (≤ 64 ASCII characters): a redelivered event starts no second
 * task. An event put back for capacity gets a new token per deferral, so ECS never answers
 * a later try with the earlier refusal.
 */
export function runTaskToken(rule: string, eventId: string, deferrals = 0): string {
  const key = deferrals ? `${rule}\n${eventId}\n${deferrals}` : `${rule}\n${eventId}`;
  return createHash("sha256").update(key).digest("hex");
}

/** The exact RunTask request for one event; throws OverrideTooLargeError before anything is sent. */
export function runTaskInput(task: WorkerTask, req: LaunchRequest): RunTaskCommandInput {
  if (task.containers.length === 0) throw new Error("the worker task has no containers to override");
  const overrides = taskOverrides(task, req);
  const size = JSON.stringify(overrides).length;
  if (size > RUN_TASK_OVERRIDE_LIMIT) {
    throw new OverrideTooLargeError(
      `${req.envelope["detail-type"]} ${req.envelope.id} needs ${size} characters of RunTask overrides, ` +
        `over the ${RUN_TASK_OVERRIDE_LIMIT} ECS allows: events must carry S3 keys, not data`,
    );
  }
  return {
    cluster: task.cluster,
    taskDefinition: task.taskDefinition,
    count: 1,
    capacityProviderStrategy: [{ capacityProvider: req.capacity ?? "FARGATE", weight: 1 }],
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...task.subnets],
        securityGroups: [...task.securityGroups],
        assignPublicIp: task.assignPublicIp ? "ENABLED" : "DISABLED",
      },
    },
    overrides,
    // startedBy allows letters, digits, -, _ and / only
    startedBy: startedBy(req.rule),
    clientToken: runTaskToken(req.rule, req.envelope.id, req.deferrals),
    propagateTags: "TASK_DEFINITION",
  };
}

/** Starts task-runtime handlers with ECS RunTask (the AWS side of the "run a task" port). */
export function ecsTaskLauncher(client: ECSClient, task: WorkerTask) {
  return {
    async launch(req: LaunchRequest): Promise<{ taskArn: string }> {
      const res = await client.send(new RunTaskCommand(runTaskInput(task, req)));
      const taskArn = res.tasks?.[0]?.taskArn;
      if (!taskArn) {
        const failures = res.failures ?? [];
        const why = failures.map((f) => `${f.reason ?? "unknown"}${f.detail ? ` (${f.detail})` : ""}`).join("; ");
        const capacity = failures.length > 0 && failures.every((f) => CAPACITY_REASON.test(f.reason ?? ""));
        throw new TaskNotStartedError(`RunTask started no task for ${req.rule}: ${why || "no reason given"}`, capacity);
      }
      return { taskArn };
    },
    /** How many of a rule's tasks are running or starting (ListTasks by `startedBy`). */
    async running(rule: string): Promise<number> {
      let count = 0;
      let nextToken: string | undefined;
      do {
        const res = await client.send(
          new ListTasksCommand({
            cluster: task.cluster,
            startedBy: startedBy(rule),
            desiredStatus: "RUNNING",
            nextToken,
          }),
        );
        count += res.taskArns?.length ?? 0;
        nextToken = res.nextToken;
      } while (nextToken);
      return count;
    },
  };
}
export type EcsTaskLauncher = ReturnType<typeof ecsTaskLauncher>;

/** The message attribute counting how often an event was put back to wait for capacity. */
export const DEFERRALS_ATTRIBUTE = "videoforge-deferrals";

/** IAM actions of the calls sqsDeferral makes. */
export const SQS_DEFERRAL_ACTIONS = { defer: ["sqs:SendMessage"] } as const;

/**
 * Puts an event back in its work queue, delayed, as a new message: capacity and throttling
 * must delay work without using up the queue's receive count (which dead-letters real
 * failures).
 */
export function sqsDeferral(client: SQSClient, queueUrl: string) {
  return {
    async defer(body: string, deferrals: number, delaySeconds: number): Promise<void> {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
          MessageAttributes: { [DEFERRALS_ATTRIBUTE]: { DataType: "Number", StringValue: String(deferrals) } },
        }),
      );
    },
  };
}
export type SqsDeferral = ReturnType<typeof sqsDeferral>;
