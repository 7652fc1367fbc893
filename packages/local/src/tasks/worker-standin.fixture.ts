/**
 * A stand-in worker for worker-pool.int.test.ts: speaks the pool's protocol without loading
 * the pipeline. Handlers: "sleep" (waits `envelope.ms`), "fail" (replies with an error),
 * "crash" (exits mid-task). Each task logs `{pid, handler, phase, threads}` lines on stdout.
 */
import type { WorkerAbort, WorkerReply, WorkerTask } from "./worker-protocol.ts";

const log = (handler: string, phase: string, threads?: number) =>
  process.stdout.write(JSON.stringify({ pid: process.pid, handler, phase, at: Date.now(), threads }) + "\n");
// a worker replaced while the pool stops may find the channel already closed: nothing to tell then
const reply = (m: WorkerReply) => process.connected && process.send?.(m, undefined, undefined, () => undefined);

const timers = new Map<string, { id: number; timer: NodeJS.Timeout }>();

process.on("message", (task: WorkerTask | WorkerAbort) => {
  // a cancelled job: its task stops at once and says so (the real entry aborts the handler's signal)
  if ("abort" in task) {
    const running = timers.get(task.abort);
    if (running) clearTimeout(running.timer);
    return running && reply({ id: running.id, ok: false, error: `aborted: job ${task.abort} was cancelled` });
  }
  log(task.handler, "start", task.threads);
  const { ms = 0, detail } = task.envelope as { ms?: number; detail?: { jobId?: string } };
  const timer = setTimeout(() => {
    if (task.handler === "crash") process.exit(3);
    log(task.handler, "end");
    if (task.handler === "fail") reply({ id: task.id, ok: false, error: "stand-in failure" });
    else reply({ id: task.id, ok: true });
  }, ms);
  if (detail?.jobId) timers.set(detail.jobId, { id: task.id, timer });
});
process.on("disconnect", () => process.exit(0));
reply({ id: 0, ok: true, ready: true });
