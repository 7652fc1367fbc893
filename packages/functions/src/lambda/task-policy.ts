import type { HandlerName, Subscription } from "@videoforge/events";

/**
 * How a task-runtime subscription runs on Fargate. Shared by the stacks (which create the
 * work queue and launcher for each task rule) and the launcher Lambda (which starts the
 * task), so both derive it from the same topology entry.
 */
export interface TaskLaunchPolicy {
  /**
   * Handler runs inside one task. RunTask returns once the task is placed, so EventBridge
   * never sees a handler failure: the task retries in process, as many times as the rule
   * would redeliver.
   */
  attempts: number;
  /** Ephemeral storage for this run; undefined keeps the task definition's 20 GiB. */
  storageGiB?: number;
  /** CPU units and memory (MiB) of this run, as RunTask's task-level overrides. */
  size: TaskSize;
  /**
   * Encoding a chunk is short and idempotent: a Spot reclaim costs one chunk, retried. A
   * whole-source chunking or assembly runs long enough that a reclaim would waste it all.
   */
  capacity: "FARGATE" | "FARGATE_SPOT";
  /** At most this many of the rule's tasks run at once; more events wait in its queue. */
  maxRunning: number;
}

export interface TaskSize {
  /** Fargate CPU units (1024 = 1 vCPU). */
  cpu: number;
  memoryMiB: number;
}

/** Fargate's ephemeral storage ceiling: a multi-GB source, its chunks and the outputs side by side. */
export const LARGE_TASK_STORAGE_GIB = 200;

/** Production sizes per step: x264 on 4 vCPU for the encoder; stream copies need little CPU. */
export const TASK_SIZES: Readonly<Record<"encoder" | "chunker" | "assembler" | "importer", TaskSize>> = {
  encoder: { cpu: 4096, memoryMiB: 8192 },
  // a stream copy from the network into S3: one vCPU is plenty
  importer: { cpu: 1024, memoryMiB: 2048 },
  chunker: { cpu: 2048, memoryMiB: 4096 },
  assembler: { cpu: 2048, memoryMiB: 4096 },
};

/** Every task in a dev stage (`sst dev`, personal stages): the smallest size that encodes at all. */
export const DEV_TASK_SIZE: TaskSize = { cpu: 1024, memoryMiB: 2048 };

/**
 * Running-task caps per step in production: 20 encoders are 80 vCPU, under a new account's
 * default Fargate On-Demand and Spot vCPU quotas; dev stages run at most 2 of each.
 */
export const MAX_RUNNING: Readonly<Record<"encoder" | "chunker" | "assembler" | "importer", number>> = {
  encoder: 20,
  importer: 4,
  chunker: 4,
  assembler: 4,
};
export const DEV_MAX_RUNNING = 2;

type TaskHandler = keyof typeof TASK_SIZES;
const isTaskHandler = (h: HandlerName): h is TaskHandler => h in TASK_SIZES;

export function taskLaunchPolicy(sub: Subscription, stage: { dev: boolean } = { dev: false }): TaskLaunchPolicy {
  if (!isTaskHandler(sub.handler)) throw new Error(`${sub.handler} never runs as a task`);
  const attempts = 1 + sub.retry.maximumRetryAttempts;
  const size = stage.dev ? DEV_TASK_SIZE : TASK_SIZES[sub.handler];
  const maxRunning = stage.dev ? DEV_MAX_RUNNING : MAX_RUNNING[sub.handler];
  // the encoder holds one chunk and its renditions; chunking and assembly hold a whole source
  if (sub.handler === "encoder") return { attempts, size, capacity: "FARGATE_SPOT", maxRunning };
  // an import streams through memory: no disk beyond the default, and a reclaim would restart the whole fetch
  if (sub.handler === "importer") return { attempts, size, capacity: "FARGATE", maxRunning };
  return { attempts, storageGiB: LARGE_TASK_STORAGE_GIB, size, capacity: "FARGATE", maxRunning };
}

/** The environment variable that tells a launcher Lambda which task rule it serves. */
export const TASK_RULE_VARIABLE = "VIDEOFORGE_TASK_RULE";
/** Set to `dev` by the stacks in dev stages: small tasks, fewer of them. */
export const TASK_STAGE_VARIABLE = "VIDEOFORGE_TASK_STAGE";
/** The rule's work queue URL: the launcher puts an event back there, delayed, to try later. */
export const TASK_QUEUE_VARIABLE = "VIDEOFORGE_TASK_QUEUE_URL";
