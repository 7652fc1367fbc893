/**
 * A warm local worker: one long-lived process that runs task-runtime handlers sent to it
 * over IPC by worker-pool.ts, one at a time. It does what packages/worker/src/main.ts
 * does for one task (the Fargate entry), minus the process start per task: node, tsx and
 * the AWS SDK load once, and the SDK clients keep their connections between tasks.
 */
import { composeDeps } from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { parseEnvelope, type Envelope, type HandlerName } from "@videoforge/events";
import type { WorkerAbort, WorkerReply, WorkerTask } from "./worker-protocol.ts";

const deps = composeDeps(undefined, `local-worker:${process.pid}`);

function reply(message: WorkerReply): void {
  process.send?.(message);
}

/** The running task's abort, by job: a cancelled job's work stops (its ffmpegs are killed). */
const running = new Map<string, AbortController>();

async function runTask(task: WorkerTask): Promise<void> {
  const handler = handlers[task.handler as HandlerName];
  if (!handler) throw new Error(`unknown handler "${task.handler}"`);
  const event = parseEnvelope(task.envelope as Envelope);
  deps.log.info("task started", {
    handler: task.handler,
    event: event.name,
    eventId: event.id,
    jobId: event.detail.jobId,
    attempt: task.attempt,
    threads: task.threads,
  });
  const stop = new AbortController();
  running.set(event.detail.jobId, stop);
  try {
    const ffmpeg = task.threads ? deps.ffmpeg.withThreads(task.threads) : deps.ffmpeg;
    await handler.handle({ ...deps, ffmpeg, signal: stop.signal }, event);
  } finally {
    if (running.get(event.detail.jobId) === stop) running.delete(event.detail.jobId);
  }
}

process.on("message", (message: WorkerTask | WorkerAbort) => {
  if ("abort" in message) {
    deps.log.info("aborting a cancelled job's task", { jobId: message.abort });
    return void running.get(message.abort)?.abort(new Error(`job ${message.abort} was cancelled`));
  }
  runTask(message).then(
    () => reply({ id: message.id, ok: true }),
    (err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      deps.log.error("task failed", { handler: message.handler, err: error });
      reply({ id: message.id, ok: false, error, errorName: err instanceof Error ? err.name : "Error" });
    },
  );
});
// the parent goes away (killed, crashed): so does the worker, instead of idling forever
process.on("disconnect", () => process.exit(0));
reply({ id: 0, ok: true, ready: true });
