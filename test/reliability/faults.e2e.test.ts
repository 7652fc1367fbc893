import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { ffmpeg, ffmpegBinaries, FfmpegError } from "@videoforge/core";
import type { Subscription, Envelope } from "@videoforge/events";
import { apiClient, type JobView } from "@videoforge/cli/api-client";
import { startTestCloud, type TestCloud } from "../helpers/cloud.ts";
import { decodedVideo, download } from "../helpers/media.ts";
import type { RungName } from "@videoforge/core/contract";
import { tally } from "./tally.ts";

/**
 * Faults against a real local cloud: workers killed mid-chunk, a dead-lettered chunk and its
 * redrive, the whole stack killed and restarted, a stalled read, flaky storage writes, a
 * corrupted output. Each job must end COMPLETED and frame-exact, or FAILED with a reason.
 */
const BIN = fileURLToPath(new URL("../../packages/cli/bin/videoforge.js", import.meta.url));
const LADDER: RungName[] = ["360p", "240p"];
const FRAMES = 150;
let dir: string;
let source: string;

async function makeSource(file: string, seconds: number) {
  // 1 s GOPs, so 1 s chunks give several chunks per job
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=640x360:rate=30:duration=${seconds}`,
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=330:duration=${seconds}`,
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "30",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
    file,
  ]);
}

/** Every rendition downloaded through its presigned URL decodes to the source's frame count. */
async function expectFrameExact(client: ReturnType<typeof apiClient>, jobId: string, frames = FRAMES) {
  const { outputs } = await client.outputs(jobId);
  expect(outputs.map((o) => o.rendition).sort()).toEqual([...LADDER].sort());
  for (const o of outputs) {
    const file = join(dir, `${jobId}-${o.rendition}.mp4`);
    expect(await download(o.url, file)).toBe(o.bytes);
    expect((await decodedVideo(file)).frames, o.rendition).toBe(frames);
  }
}

/** How many ffmpeg processes `pid` has started that are still running. */
function ffmpegChildren(pid: number): number {
  try {
    return execFileSync("ps", ["-o", "comm=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((c) => c.trim() === "ffmpeg").length;
  } catch {
    return 0; // ps exits 1 when there is no child
  }
}

/** ffmpeg or task processes still working on this cloud's files: there must be none once a job ended. */
function leftoverProcesses(dataDir: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(dataDir) && !l.includes(" ps "));
}

async function expectNoLeftovers(dataDir: string) {
  const until = Date.now() + 5_000;
  while (leftoverProcesses(dataDir).length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  expect(leftoverProcesses(dataDir)).toEqual([]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-faults-"));
  source = join(dir, "source.mp4");
  await makeSource(source, 5);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("faults inside a running local cloud", () => {
  let t: TestCloud;
  const hooks: { beforeDeliver?: (sub: Subscription, envelope: Envelope) => Promise<void> } = {};

  beforeAll(async () => {
    process.env.VIDEOFORGE_CHUNK_SECONDS = "1";
    // a stalled read gives up after this long instead of hanging the worker
    process.env.VIDEOFORGE_STORAGE_TIMEOUT_MS = "2000";
    // encoders read pieces over HTTP: a stalled read shows as an ffmpeg without progress
    process.env.VIDEOFORGE_FFMPEG_STALL_MS = "4000";
    t = await startTestCloud({ faults: hooks });
  });
  afterAll(async () => {
    // every job this cloud ran ended one way or another: none is left waiting forever
    const { jobs } = await t.client.jobs();
    const lost = jobs.filter((j) => !["COMPLETED", "FAILED", "CANCELLED"].includes(j.status));
    tally("jobLost", "faults suite", lost.length);
    expect(lost.map((j) => `${j.jobId} ${j.status}`)).toEqual([]);
    delete process.env.VIDEOFORGE_CHUNK_SECONDS;
    delete process.env.VIDEOFORGE_STORAGE_TIMEOUT_MS;
    delete process.env.VIDEOFORGE_FFMPEG_STALL_MS;
    await t.stop();
  });
  afterEach(async () => {
    hooks.beforeDeliver = undefined;
    t.cloud.storage.setFaults(undefined);
    await t.cloud.bus.idle();
    expect(t.cloud.tasks.pids()).toEqual([]);
    await expectNoLeftovers(t.dir);
  });

  it("an encoder killed mid-chunk is retried with backoff; the job completes frame-exact", async () => {
    const { jobId } = await t.client.upload(source, LADDER);
    let killed = 0;
    while (!killed) {
      // encoders only (the chunker, assembler and finisher run in the same pool), and only one
      // whose ffmpeg is running: its chunk cannot have been announced yet, so the kill always
      // lands mid-chunk, however fast the machine encodes
      for (const pid of t.cloud.tasks.pids("encoder")) {
        if (!ffmpegChildren(pid)) continue;
        process.kill(pid, "SIGKILL");
        killed = pid;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const view = await t.waitForEnd(jobId);
    expect(view.job.status, view.job.error?.reason).toBe("COMPLETED");
    expect(
      view.chunks.some((c) => (c.attempts ?? 0) >= 2),
      JSON.stringify(view.chunks.map((c) => [c.index, c.attempts, c.status])),
    ).toBe(true);
    await expectFrameExact(t.client, jobId);
    tally("fault", "encoder SIGKILL mid-chunk");
    tally("jobCompleted", "after encoder SIGKILL");
  });

  it(
    "a chunk whose encoder dies on every attempt is dead-lettered, fails the job with the reason, " +
      "and completes after `videoforge dlq redrive`",
    async () => {
      const one = join(dir, "one-chunk.mp4");
      await makeSource(one, 1);
      let killing = true;
      const killer = (async () => {
        while (killing) {
          for (const pid of t.cloud.tasks.pids("encoder")) process.kill(pid, "SIGKILL");
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const { jobId } = await t.client.upload(one, LADDER);
      const failed = await t.waitForEnd(jobId);
      killing = false;
      await killer;
      expect(failed.job.status).toBe("FAILED");
      expect(failed.job.error?.stage).toBe("encoding");
      expect(failed.job.error?.reason).toMatch(
        new RegExp(
          "^Chunk 1 of 1 could not be encoded: 3 attempts failed \\(last: [^)]*killed by SIGKILL[^)]*\\)\\. " +
            // a 1 s chunk is light: its rule is the one that takes it to the encoder's Lambda on AWS
            "The event is kept in the dead-letter queue encode-light-chunk-dlq; " +
            "`videoforge dlq redrive` retries it\\.$",
        ),
      );

      const cli = (...args: string[]) =>
        promisify(execFile)(process.execPath, [BIN, ...args, "--api", t.api.url, "--token", t.token]);
      const listed = await cli("dlq", "list");
      expect(listed.stdout).toContain("encode-light-chunk-dlq");
      expect(listed.stdout).toContain(`job ${jobId} chunk 0`);
      expect(listed.stdout).toContain("3 attempts");
      const id = /^(\S+)\s/.exec(listed.stdout)![1]!;

      const redriven = await cli("dlq", "redrive", id);
      expect(redriven.stdout).toContain(`${id} redriven to encode-light-chunk`);
      const done = await t.waitForEnd(jobId);
      expect(done.job.status, done.job.error?.reason).toBe("COMPLETED");
      expect(done.job.error).toBeFalsy();
      expect((await t.cloud.dlq.list()).length).toBe(0);
      await expectFrameExact(t.client, jobId, 30);
      // a second redrive of the same letter is refused: it is gone
      await expect(cli("dlq", "redrive", id)).rejects.toThrow(/404/);
      tally("fault", "encoder killed on every attempt → dead letter → redrive");
      tally("jobCompleted", "after dead-letter redrive");
    },
  );

  it("stalled storage reads (SDK, ffmpeg over HTTP) time out; attempts are retried, the job completes", async () => {
    // the first read of the source is the chunker's (an SDK download), the second an encoder's (ffmpeg over HTTP)
    t.cloud.storage.setFaults({ stallReads: { of: /\/jobs\/[^/]+\/source$/, times: 2 } });
    const { jobId } = await t.client.upload(source, LADDER);
    const view = await t.waitForEnd(jobId);
    expect(view.job.status, view.job.error?.reason).toBe("COMPLETED");
    expect(t.cloud.storage.injected()).toBe(2);
    await expectFrameExact(t.client, jobId);
    tally("fault", "stalled storage reads (SDK and ffmpeg)", 2);
    tally("jobCompleted", "after stalled read");
  });

  it("transiently failing storage writes (503s, cut connections) are retried; no partial object counts", async () => {
    const before = t.cloud.storage.injected();
    t.cloud.storage.setFaults({ failEveryNthWrite: 4 });
    const { jobId } = await t.client.upload(source, LADDER);
    const view = await t.waitForEnd(jobId);
    t.cloud.storage.setFaults(undefined);
    const injected = t.cloud.storage.injected() - before;
    expect(injected).toBeGreaterThanOrEqual(4);
    expect(view.job.status, view.job.error?.reason).toBe("COMPLETED");
    // every output the job reports is whole in the bucket
    const outputs = view.job.outputs as { key: string; bytes: number }[];
    expect(outputs.length).toBe(LADDER.length);
    for (const o of outputs)
      expect((await t.cloud.deps.store.head(t.cloud.cfg.buckets.outputs, o.key))?.size).toBe(o.bytes);
    await expectFrameExact(t.client, jobId);
    tally("fault", "transient storage write failures", injected);
    tally("jobCompleted", "after storage faults");
  });

  it("an output corrupted after assembly fails verification: the job is FAILED, not COMPLETED", async () => {
    hooks.beforeDeliver = async (sub, envelope) => {
      if (sub.handler !== "finisher" || hooks.beforeDeliver === undefined) return;
      hooks.beforeDeliver = undefined;
      const jobId = (envelope.detail as { jobId: string }).jobId;
      // same size, garbage in the middle: only decoding can tell
      const key = `jobs/${jobId}/240p.mp4`;
      const file = join(dir, "corrupt.mp4");
      await t.cloud.deps.store.download(t.cloud.cfg.buckets.outputs, key, file);
      const bytes = await readFile(file);
      const at = Math.floor(bytes.length * 0.3);
      for (let i = at; i < Math.min(bytes.length, at + 32 * 1024); i++) bytes[i] = (i * 7919) & 0xff;
      await writeFile(file, bytes);
      await t.cloud.deps.store.upload(t.cloud.cfg.buckets.outputs, key, file, "video/mp4");
    };
    const { jobId } = await t.client.upload(source, LADDER);
    const view = await t.waitForEnd(jobId);
    expect(view.job.status).toBe("FAILED");
    expect(view.job.error?.stage).toBe("finishing");
    expect(view.job.error?.reason).toMatch(
      /^Output verification failed: 240p (cannot be decoded|decodes to \d+ frames)/,
    );
    expect(view.job.error?.reason).not.toContain("360p");
    tally("fault", "output corrupted before verification");
  });

  it("ffmpeg on a stalled input is stopped by the stall timeout and leaves no process behind", async () => {
    const fifo = join(t.dir, "stalled.fifo");
    execFileSync("mkfifo", [fifo]);
    const started = Date.now();
    const err = await ffmpeg(["-i", fifo, "-f", "null", "-"], { stallMs: 800, timeoutMs: 60_000 }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as Error).message).toMatch(/stalled: no progress for 800 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectNoLeftovers(t.dir);
    expect(ffmpegBinaries().ffmpeg).toBeTruthy();
    tally("fault", "ffmpeg stalled input");
  });
});

describe("the whole local stack killed mid-job", () => {
  function up(dataDir: string) {
    // its own process group, so one kill takes the stack, its workers and their ffmpegs at once
    const child = spawn(process.execPath, [BIN, "up", "--port", "0", "--data-dir", dataDir], {
      env: { ...process.env, VIDEOFORGE_CHUNK_SECONDS: "1", VIDEOFORGE_ENCODER_THREADS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const url = (async () => {
      const until = Date.now() + 60_000;
      while (!/is up: (\S+)/.test(out)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`up did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return /is up: (\S+)/.exec(out)![1]!;
    })();
    const closed = new Promise<void>((r) => child.on("close", () => r()));
    return { child, url, closed, output: () => out, kill: () => process.kill(-child.pid!, "SIGKILL") };
  }

  it("resumes in-flight jobs from the table and storage and completes them frame-exact", async () => {
    const dataDir = join(dir, "stack");
    const first = up(dataDir);
    const client = apiClient(await first.url, (await readFile(join(dataDir, "token"), "utf8")).trim());
    const { jobId } = await client.upload(source, LADDER);
    const sourceSize = (await readFile(source)).length;

    // kill once some chunks are encoded and some are not
    let view: JobView;
    for (;;) {
      view = await client.job(jobId);
      const encoded = view.timeline.filter((e) => e.type === "ChunkEncoded").length;
      if (encoded >= 1 && ["CHUNKING", "ENCODING"].includes(view.job.status)) break;
      if (["COMPLETED", "FAILED"].includes(view.job.status))
        throw new Error(`job ended before the kill: ${view.job.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill();
    await first.closed;
    await expectNoLeftovers(dataDir);
    tally("fault", "whole stack SIGKILL mid-job");

    const second = up(dataDir);
    try {
      const token = (await readFile(join(dataDir, "token"), "utf8")).trim();
      const again = apiClient(await second.url, token);
      // the token was printed once, at the first start; this start points at its file instead
      expect(first.output()).toContain(token);
      expect(second.output()).not.toContain(token);
      expect(second.output()).toContain(join(dataDir, "token"));
      const until = Date.now() + 120_000;
      let done: JobView;
      for (;;) {
        done = await again.job(jobId);
        if (["COMPLETED", "FAILED", "CANCELLED"].includes(done.job.status) || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(done.job.status, done.job.error?.reason).toBe("COMPLETED");
      // the upload survived whole, and each chunk is in the output exactly once
      expect(done.job.size).toBe(sourceSize);
      expect(done.job.source?.frames).toBe(FRAMES);
      expect(done.chunks.every((c) => c.status === "ENCODED")).toBe(true);
      await expectFrameExact(again, jobId);
      tally("jobCompleted", "after whole-stack restart");
    } finally {
      second.child.kill("SIGINT");
      await second.closed;
    }
    await expectNoLeftovers(dataDir);
  }, 180_000);
});
