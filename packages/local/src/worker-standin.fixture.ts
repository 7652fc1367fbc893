/**
 * A stand-in worker for worker-pool.int.test.ts: speaks the pool's protocol without loading
 * the pipeline. Handlers: "sleep" (waits `envelope.ms`), "fail" (replies with an error),
 * "crash" (exits mid-task). Each task logs `{pid, handler, phase}` lines on stdout.
 */
import type { WorkerReply, WorkerTask } from "./worker-protocol.ts";

const log = (handler: string, phase: string) => process.stdout.write(JSON.stringify({ pid: process.pid, handler, phase, at: Date.now() }) + "\n");
const reply = (m: WorkerReply) => process.send?.(m);

process.on("message", (task: WorkerTask) => {
  log(task.handler, "start");
  const { ms = 0 } = task.envelope as { ms?: number };
  setTimeout(() => {
    if (task.handler === "crash") process.exit(3);
    log(task.handler, "end");
    if (task.handler === "fail") reply({ id: task.id, ok: false, error: "stand-in failure" });
    else reply({ id: task.id, ok: true });
  }, ms);
});
process.on("disconnect", () => process.exit(0));
reply({ id: 0, ok: true, ready: true });
