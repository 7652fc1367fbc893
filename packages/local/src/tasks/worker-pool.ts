import { childEnv } from "@videoforge/core/config";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { WorkerAbort, WorkerReply, WorkerTask } from "./worker-protocol.ts";
import { wholeLines } from "./child-lines.ts";
import { threadShare } from "./slots.ts";
import { exists, workerBundle } from "./worker-bundle.ts";

const WORKER_ENTRY = fileURLToPath(new URL("./worker-entry.ts", import.meta.url));
const TSX = createRequire(import.meta.url).resolve("tsx");

const bundleFailed = (err: Error) =>
  JSON.stringify({
    level: "warn",
    time: new Date().toISOString(),
    msg: "workers run the TypeScript: the worker bundle could not be built",
    err: err.message.split("\n")[0],
  });

export interface WorkerPoolOptions {
  size: number;
  /** Environment of every worker (the local cloud's endpoints and names). */
  env: Record<string, string>;
  /** Where the workers' JSON log lines go. */
  onLog?: (line: string) => void;
  /** Error class for failed tasks (the task runner's, so callers see one kind of failure). */
  failure: new (
    message: string,
  ) => Error;
  /** The worker's entry file (default: worker-entry.ts, from its bundle when it can be had; tests use a stand-in). */
  entry?: string;
  /**
   * Cores to share: each task is sent its share when it starts (slots.ts `threadShare`). Unset, tasks use
   * the threads their environment sets.
   */
  cores?: number;
  /** The handlers whose running tasks take a share (the encoders); the others do not count. Default: all. */
  heavy?: (handler: string) => boolean;
}

interface Worker {
  child: ChildProcess;
  ready: boolean;
  /** The task in flight, if any. */
  task?: { id: number; handler: string; jobId?: string; resolve: () => void; reject: (err: Error) => void };
  /** The last lines it logged, attached to a crash report. */
  tail: string;
}

/**
 * A fixed number of warm worker processes that run tasks sent over IPC, one task per
 * worker at a time. Starting a worker costs CPU (0.85 s from its bundle, 2.7 s through tsx on
 * this machine); a pool pays it once per worker instead of once per chunk. A worker
 * that dies (crash, kill) fails its task, which the bus then retries, and is replaced.
 */
export function createWorkerPool(opts: WorkerPoolOptions) {
  const workers = new Set<Worker>();
  const waiting: { take: (w: Worker) => void; fail: (err: Error) => void }[] = [];
  let nextId = 1;
  let stopped = false;
  // workers that died before they could take a task, in a row: a broken entry, not bad luck
  let startFailures = 0;
  let broken: Error | undefined;

  // the default entry as one bundle, which starts in a third of the CPU (worker-bundle.ts)
  const bundle = opts.entry ? undefined : workerBundle((err) => opts.onLog?.(bundleFailed(err)));

  function spawnWorker(): void {
    // a bundle removed since (a newer build pruned it) leaves this worker on the TypeScript
    const args = bundle && exists(bundle) ? [bundle] : ["--import", TSX, opts.entry ?? WORKER_ENTRY];
    const child = spawn(process.execPath, args, {
      env: childEnv(opts.env),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const worker: Worker = { child, ready: false, tail: "" };
    workers.add(worker);
    const onData = wholeLines((line) => {
      worker.tail = (worker.tail + line + "\n").slice(-4000);
      opts.onLog?.(line);
    });
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("message", (message: WorkerReply) => {
      if (message.ready) {
        worker.ready = true;
        startFailures = 0;
        return release(worker);
      }
      const task = worker.task;
      if (!task || task.id !== message.id) return;
      worker.task = undefined;
      if (message.ok) task.resolve();
      else task.reject(new opts.failure(message.error ?? "task failed"));
      release(worker);
    });
    child.on("error", (err) => worker.task?.reject(new opts.failure(`worker could not run: ${err.message}`)));
    child.on("exit", (code, signal) => {
      workers.delete(worker);
      const task = worker.task;
      worker.task = undefined;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      task?.reject(
        new opts.failure(
          `worker ${child.pid} ${how} during the task\n${worker.tail.trim().split("\n").slice(-5).join("\n")}`,
        ),
      );
      if (stopped) return;
      if (!worker.ready && ++startFailures >= 3) {
        broken = new opts.failure(
          `task workers cannot start (${how})\n${worker.tail.trim().split("\n").slice(-5).join("\n")}`,
        );
        for (const w of waiting.splice(0)) w.fail(broken);
        return;
      }
      spawnWorker();
    });
  }

  /** Hand an idle, ready worker to the next waiting task. */
  function release(worker: Worker): void {
    if (stopped || !worker.ready || worker.task || claimed.has(worker)) return;
    const next = waiting.shift();
    if (!next) return;
    claimed.add(worker);
    next.take(worker);
  }

  /** An idle worker, claimed at once so no other task can take it before this one is sent. */
  function idleWorker(): Promise<Worker> {
    for (const w of workers) {
      if (!w.ready || w.task || claimed.has(w)) continue;
      claimed.add(w);
      return Promise.resolve(w);
    }
    return new Promise((take, fail) => waiting.push({ take, fail }));
  }
  // workers handed to a task that has not been sent yet
  const claimed = new Set<Worker>();

  for (let i = 0; i < Math.max(1, opts.size); i++) spawnWorker();

  return {
    async run(handler: string, envelope: unknown, attempt: number): Promise<void> {
      if (stopped) throw new opts.failure("the worker pool is stopped");
      if (broken) throw broken;
      const worker = await idleWorker();
      await new Promise<void>((resolve, reject) => {
        const id = nextId++;
        const detail = (envelope as { detail?: { jobId?: unknown; chunk?: { count?: unknown } } } | null)?.detail;
        const jobId = detail?.jobId;
        worker.task = { id, handler, resolve, reject, jobId: typeof jobId === "string" ? jobId : undefined };
        claimed.delete(worker);
        // this task, the heavy tasks running and any worker claimed by a task about to be sent
        const heavy = opts.heavy ?? (() => true);
        const running = [...workers].filter((w) => (w.task && heavy(w.task.handler)) || claimed.has(w)).length;
        const jobChunks = typeof detail?.chunk?.count === "number" ? detail.chunk.count : 1;
        const threads = opts.cores
          ? threadShare(opts.cores, opts.size, { running, waiting: waiting.length, jobChunks })
          : undefined;
        const message: WorkerTask = { id, handler, envelope, attempt, ...(threads ? { threads } : {}) };
        worker.child.send(
          message,
          (err) =>
            err && reject(new opts.failure(`could not send the task to worker ${worker.child.pid}: ${err.message}`)),
        );
      });
    },
    /** A job was cancelled: every worker running one of its tasks aborts it (its ffmpegs are killed). */
    abortJob(jobId: string): number {
      let told = 0;
      for (const w of workers) {
        if (w.task?.jobId !== jobId) continue;
        const message: WorkerAbort = { abort: jobId };
        w.child.send(message, () => undefined);
        told++;
      }
      return told;
    },
    /** Pids of workers running a task right now (fault tests kill them to simulate a lost worker). */
    busyPids: (handler?: string) =>
      [...workers]
        .filter((w) => w.task && (handler === undefined || w.task.handler === handler))
        .map((w) => w.child.pid)
        .filter((p): p is number => p !== undefined),
    stop(): void {
      stopped = true;
      for (const w of waiting.splice(0)) w.fail(new opts.failure("the worker pool stopped"));
      for (const w of workers) {
        if (w.task) {
          w.task.reject(new opts.failure("the worker pool stopped"));
          w.child.kill("SIGKILL");
          continue;
        }
        // an idle worker exits by itself once the channel closes; a stuck one is killed soon after
        w.child.disconnect();
        setTimeout(() => w.child.kill("SIGKILL"), 2000).unref();
      }
    },
  };
}
export type WorkerPool = ReturnType<typeof createWorkerPool>;
