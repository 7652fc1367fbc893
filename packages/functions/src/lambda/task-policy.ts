import type { Subscription } from "@videoforge/events";

/**
 * How a task-runtime subscription runs on Fargate. Shared by the stacks (which create the
 * launcher for each task rule) and the launcher Lambda (which starts the task), so both
 * derive it from the same topology entry.
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
}

/** Fargate's ephemeral storage ceiling: a multi-GB source, its chunks and the outputs side by side. */
export const LARGE_TASK_STORAGE_GIB = 200;

export function taskLaunchPolicy(sub: Subscription): TaskLaunchPolicy {
  const attempts = 1 + sub.retry.maximumRetryAttempts;
  // the encoder holds one chunk and its renditions; chunking and assembly hold a whole source
  return sub.handler === "encoder" ? { attempts } : { attempts, storageGiB: LARGE_TASK_STORAGE_GIB };
}

/** The environment variable that tells a launcher Lambda which task rule it serves. */
export const TASK_RULE_VARIABLE = "VIDEOFORGE_TASK_RULE";
