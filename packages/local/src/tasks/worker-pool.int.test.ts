import { afterEach, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { createWorkerPool, type WorkerPool } from "./worker-pool.ts";

/** The pool against real child processes (a stand-in entry, so no pipeline loads). */
class TaskFailed extends Error {}
const entry = fileURLToPath(new URL("./worker-standin.fixture.ts", import.meta.url));

interface Line {
  pid: number;
  handler: string;
  phase: "start" | "end";
  at: number;
  threads?: number;
}

let pool: WorkerPool | undefined;
afterEach(() => pool?.stop());

function startPool(size: number, cores?: number) {
  const lines: Line[] = [];
  pool = createWorkerPool({
    size,
    cores,
    env: {},
    entry,
    failure: TaskFailed,
    onLog: (l) => lines.push(JSON.parse(l) as Line),
  });
  return { pool, lines };
}

describe("worker pool", () => {
  it("runs tasks on warm workers, at most `size` at once, reusing the same processes", async () => {
    const { pool, lines } = startPool(2);
    await Promise.all(Array.from({ length: 6 }, () => pool.run("sleep", { ms: 150 }, 1)));
    const starts = lines.filter((l) => l.phase === "start");
    expect(starts).toHaveLength(6);
    // two processes did all six tasks
    expect(new Set(starts.map((l) => l.pid)).size).toBe(2);
    // never more than two tasks in flight: every start is preceded by enough ends
    const events = [...lines].sort((a, b) => a.at - b.at || (a.phase === "end" ? -1 : 1));
    let inFlight = 0;
    let most = 0;
    for (const e of events) {
      inFlight += e.phase === "start" ? 1 : -1;
      most = Math.max(most, inFlight);
    }
    expect(most).toBe(2);
  }, 30_000);

  it("sends each task its share of the cores: all of them alone, one each beside another task", async () => {
    const { pool, lines } = startPool(2, 2);
    await pool.run("sleep", { ms: 10 }, 1);
    // three at once on two workers: each starts beside another task or with one waiting
    await Promise.all(Array.from({ length: 3 }, () => pool.run("sleep", { ms: 150 }, 1)));
    const threads = lines.filter((l) => l.phase === "start").map((l) => l.threads);
    expect(threads).toEqual([2, 1, 1, 1]);
    // alone, but one of a job's two chunks: the other is about to start beside it
    await pool.run("sleep", { detail: { jobId: "job-two-chunks", chunk: { index: 0, count: 2 } } }, 1);
    expect(lines.filter((l) => l.phase === "start").at(-1)?.threads).toBe(1);
    pool.stop();
    // without cores to share, a task is sent no thread count (its environment's applies)
    const fixed = startPool(1);
    await fixed.pool.run("sleep", {}, 1);
    expect(fixed.lines.find((l) => l.phase === "start")?.threads).toBeUndefined();
  }, 30_000);

  it("rejects a failed task with the worker's reason and keeps the worker", async () => {
    const { pool, lines } = startPool(1);
    await expect(pool.run("fail", {}, 1)).rejects.toThrow(new TaskFailed("stand-in failure"));
    await pool.run("sleep", {}, 1);
    expect(new Set(lines.map((l) => l.pid)).size).toBe(1);
  }, 30_000);

  it("fails the task of a worker that dies and replaces the worker", async () => {
    const { pool, lines } = startPool(1);
    await expect(pool.run("crash", { ms: 50 }, 1)).rejects.toThrow(/exited with code 3 during the task/);
    await pool.run("sleep", {}, 1);
    const pids = lines.filter((l) => l.phase === "start").map((l) => l.pid);
    expect(pids).toHaveLength(2);
    expect(pids[0]).not.toBe(pids[1]);
  }, 30_000);

  it("reports the pids of busy workers, and a killed one fails its task", async () => {
    const { pool } = startPool(2);
    const task = pool.run("sleep", { ms: 5_000 }, 1);
    while (pool.busyPids().length === 0) await new Promise((r) => setTimeout(r, 20));
    const [pid] = pool.busyPids();
    expect(pool.busyPids()).toHaveLength(1);
    process.kill(pid!, "SIGKILL");
    await expect(task).rejects.toThrow(/killed by SIGKILL/);
  }, 30_000);

  it("aborts the running tasks of a cancelled job, and only those", async () => {
    const { pool } = startPool(2);
    const cancelled = pool.run("sleep", { ms: 10_000, detail: { jobId: "job-cancelled" } }, 1);
    const other = pool.run("sleep", { ms: 1_000, detail: { jobId: "job-other" } }, 1);
    while (pool.busyPids().length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(pool.abortJob("job-cancelled")).toBe(1);
    await expect(cancelled).rejects.toThrow(/aborted: job job-cancelled was cancelled/);
    await expect(other).resolves.toBeUndefined();
    expect(pool.abortJob("job-cancelled")).toBe(0);
  });
});
