import { childEnv } from "@videoforge/core/config";
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { Envelope, HandlerName } from "@videoforge/events";
import { createWorkerPool } from "./worker-pool.ts";
import { wholeLines } from "./child-lines.ts";
import { concurrencyLimit } from "./slots.ts";

/** The task entry point: the same file the Fargate container runs. */
export const TASK_ENTRY = fileURLToPath(new URL("../../../worker/src/main.ts", import.meta.url));
const TSX = createRequire(import.meta.url).resolve("tsx");

export interface TaskRunnerOptions {
  /** Environment every task gets (the local cloud's endpoints and names). */
  env: Record<string, string>;
  concurrency?: number;
  /** Where the child's JSON log lines go. */
  onLog?: (line: string) => void;
  /**
   * `pool` (default): warm long-lived workers take tasks over IPC (worker-pool.ts).
   * `process`: a fresh child per task running the Fargate entry, exactly as a container would.
   */
  mode?: "pool" | "process";
  /** Pool mode: cores the encoders share, each taking its share as it starts (slots.ts `threadShare`). */
  cores?: number;
}

export class TaskFailedError extends Error {
  override name = "TaskFailedError";
}

/**
 * Runs task-runtime handlers in child processes, at most `concurrency` at once (default:
 * one per core): warm pooled workers by default, or a process per task like ECS RunTask.
 */
export function createTaskRunner(opts: TaskRunnerOptions) {
  const limit = opts.concurrency ?? cpus().length;
  if ((opts.mode ?? "pool") === "pool") {
    const pool = createWorkerPool({
      size: limit,
      env: opts.env,
      onLog: opts.onLog,
      failure: TaskFailedError,
      cores: opts.cores,
      // the encoders split the cores; a chunker, assembler or finisher beside them does not count: each
      // ends soon (the chunker once its audio is stored, the others only run after the encoders)
      heavy: (handler) => handler === "encoder",
    });
    return {
      run: (handler: HandlerName, envelope: Envelope, attempt: number): Promise<void> =>
        pool.run(handler, envelope, attempt),
      /** The pids of workers running a task, of one handler if named (fault tests kill them). */
      pids: (handler?: HandlerName): number[] => pool.busyPids(handler),
      /** A cancelled job's running tasks abort (their ffmpegs are killed). */
      abortJob: (jobId: string): number => pool.abortJob(jobId),
      stopAll: pool.stop,
    };
  }
  const children = new Set<ReturnType<typeof spawn>>();
  const handlerOf = new WeakMap<ReturnType<typeof spawn>, HandlerName>();
  const slot = concurrencyLimit(limit).take;

  return {
    async run(handler: HandlerName, envelope: Envelope, attempt: number): Promise<void> {
      const release = await slot();
      try {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ["--import", TSX, TASK_ENTRY], {
            env: childEnv({
              ...opts.env,
              VIDEOFORGE_HANDLER: handler,
              VIDEOFORGE_EVENT: JSON.stringify(envelope),
              VIDEOFORGE_ATTEMPT: String(attempt),
            }),
            stdio: ["ignore", "pipe", "pipe"],
          });
          children.add(child);
          handlerOf.set(child, handler);
          let tail = "";
          const onData = wholeLines((line) => {
            tail = (tail + line + "\n").slice(-4000);
            opts.onLog?.(line);
          });
          child.stdout.on("data", onData);
          child.stderr.on("data", onData);
          child.on("error", reject);
          child.on("close", (code, signal) => {
            children.delete(child);
            if (code === 0) return resolve();
            const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
            const lastLines = tail.trim().split("\n").slice(-5).join("\n");
            reject(new TaskFailedError(`${handler} task ${how}\n${lastLines}`));
          });
        });
      } finally {
        release();
      }
    },
    /** The pids of running tasks, of one handler if named (fault tests kill them). */
    pids: (handler?: HandlerName) =>
      [...children]
        .filter((c) => handler === undefined || handlerOf.get(c) === handler)
        .map((c) => c.pid)
        .filter((p): p is number => p !== undefined),
    /** A process per task is stopped whole, like StopTask: not per job here (the pool does that). */
    abortJob: (_jobId: string): number => 0,
    stopAll() {
      for (const c of children) c.kill("SIGKILL");
    },
  };
}
export type TaskRunner = ReturnType<typeof createTaskRunner>;
