import { fork } from "node:child_process";
import { statSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { WorkerReply } from "./worker-protocol.ts";
import { workerBundle } from "./worker-bundle.ts";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");

describe("the warm worker's bundle", () => {
  it("starts a worker that reports ready, with no TypeScript loader", async () => {
    const errors: Error[] = [];
    const bundle = workerBundle((e) => errors.push(e));
    expect(errors).toEqual([]);
    expect(bundle).toMatch(/node_modules\/\.cache\/videoforge-worker\/worker-[0-9a-f]{16}\.mjs$/);
    const child = fork(bundle!, [], { execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
    const ready = await new Promise<WorkerReply>((resolve, reject) => {
      child.once("message", (m: WorkerReply) => resolve(m));
      child.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
    });
    child.kill();
    expect(ready).toEqual({ id: 0, ok: true, ready: true });
  });

  it("is built again once a file it was built from changes, and found again when it is as it was", () => {
    const first = workerBundle();
    // a source in the worker's graph, touched as an edit would, then put back
    const source = join(ROOT, "packages/core/src/chunk/cost.ts");
    const { atimeMs, mtimeMs } = statSync(source);
    const [atime, mtime] = [atimeMs / 1000, mtimeMs / 1000];
    try {
      utimesSync(source, atime, mtime + 5);
      const edited = workerBundle();
      expect(edited).toBeDefined();
      expect(edited).not.toBe(first);
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(workerBundle()).toBe(first);
  });
});
