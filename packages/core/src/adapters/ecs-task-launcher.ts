import { createHash } from "node:crypto";
import { RunTaskCommand, type ECSClient, type RunTaskCommandInput, type TaskOverride } from "@aws-sdk/client-ecs";
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
}

/** RunTask refuses overrides whose JSON exceeds this many characters. */
export const RUN_TASK_OVERRIDE_LIMIT = 8192;

/** The event cannot be passed to a task: retrying cannot help, so the runtime should dead-letter it. */
export class OverrideTooLargeError extends Error {
  override name = "OverrideTooLargeError";
}

/** RunTask answered but started nothing (capacity, bad network configuration…). Worth a retry. */
export class TaskNotStartedError extends Error {
  override name = "TaskNotStartedError";
}

/**
 * The RunTask overrides for one event: the container gets the handler name, the whole
 * EventBridge envelope and its attempt budget as environment variables, exactly what the
 * task entry (packages/encoder/src/main.ts) reads and what the local task runner sets.
 */
export function taskOverrides(task: WorkerTask, req: LaunchRequest): TaskOverride {
  const environment = [
    { name: "VIDEOFORGE_HANDLER", value: req.handler },
    { name: "VIDEOFORGE_EVENT", value: JSON.stringify(req.envelope) },
    { name: "VIDEOFORGE_TASK_ATTEMPTS", value: String(req.attempts) },
  ];
  return {
    containerOverrides: task.containers.map((name) => ({ name, environment })),
    ...(req.storageGiB ? { ephemeralStorage: { sizeInGiB: req.storageGiB } } : {}),
  };
}

/** RunTask's idempotency token (≤ 64 ASCII characters): a redelivered event starts no second task. */
export function runTaskToken(rule: string, eventId: string): string {
  return createHash("sha256").update(`${rule}\n${eventId}`).digest("hex");
}

/** The exact RunTask request for one event; throws OverrideTooLargeError before anything is sent. */
export function runTaskInput(task: WorkerTask, req: LaunchRequest): RunTaskCommandInput {
  if (task.containers.length === 0) throw new Error("the worker task has no containers to override");
  const overrides = taskOverrides(task, req);
  const size = JSON.stringify(overrides).length;
  if (size > RUN_TASK_OVERRIDE_LIMIT) {
    throw new OverrideTooLargeError(
      `${req.envelope["detail-type"]} ${req.envelope.id} needs ${size} characters of RunTask overrides, over the ${RUN_TASK_OVERRIDE_LIMIT} ECS allows: events must carry S3 keys, not data`,
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
    startedBy: `videoforge/${req.rule}`.slice(0, 128),
    clientToken: runTaskToken(req.rule, req.envelope.id),
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
        const why = (res.failures ?? []).map((f) => `${f.reason ?? "unknown"}${f.detail ? ` (${f.detail})` : ""}`).join("; ");
        throw new TaskNotStartedError(`RunTask started no task for ${req.rule}: ${why || "no reason given"}`);
      }
      return { taskArn };
    },
  };
}
export type EcsTaskLauncher = ReturnType<typeof ecsTaskLauncher>;
