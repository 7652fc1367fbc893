import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEvent, type VideoFormat } from "@videoforge/events";
import { memoryObjectStore } from "../adapters/memory-store.ts";
import { memoryPublisher } from "../adapters/memory-publisher.ts";
import { loadConfig } from "../config.ts";
import { defaultFfmpeg, ffmpeg } from "../ffmpeg/locate.ts";
import { memoryJobStore } from "../adapters/memory-job-store.ts";
import { chargeDailyWork } from "../job/quota.ts";
import { createLogger } from "../log.ts";
import { chunkSource } from "./split.ts";
import { chunkCpuSeconds } from "./cost.ts";
import type { Deps } from "../deps.ts";

/**
 * The chunker's decisions before and as it announces chunks, on a real probe of a generated clip:
 * - the daily encode-work budget: the job is charged frames × output pixels once, and a job that
 *   would pass the day's budget ends FAILED with the fixed sentence before anything is split;
 * - each chunk's route: its estimated CPU-seconds, and the `lambda` mark when that is light enough.
 */
let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-budget-"));
  clip = join(dir, "clip.mp4");
  // 20 frames of 320x240: the 240p rung (320x240 fitted), 1,536,000 pixels of encode work
  await ffmpeg(
    [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=10:duration=2",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-g",
      "10",
      "-pix_fmt",
      "yuv420p",
      clip,
    ],
    { timeoutMs: 30_000 },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function world(maxDailyWork: number, lambdaChunkCpuSeconds?: number) {
  const base = loadConfig({});
  const cfg = {
    ...base,
    limits: { ...base.limits, maxDailyWork },
    lambdaChunkCpuSeconds: lambdaChunkCpuSeconds ?? base.lambdaChunkCpuSeconds,
  };
  const objects = memoryObjectStore();
  // the upload is the generated clip; what the chunker stores is only counted
  const store = { ...objects, download: async (_bucket: string, _key: string, file: string) => copyFile(clip, file) };
  const events = memoryPublisher();
  const jobs = memoryJobStore();
  const deps: Deps = {
    db: undefined as never,
    jobs,
    store,
    events,
    cfg,
    log: createLogger({}),
    ffmpeg: defaultFfmpeg(),
    worker: "test",
  };
  return { deps, jobs, events };
}

async function chunk(deps: Deps, jobId: string, formats: VideoFormat[] = ["h264"]) {
  await deps.jobs.createJob({
    jobId,
    owner: "alice",
    status: "QUEUED",
    sourceName: "clip.mp4",
    ladder: ["240p"],
    createdAt: Date.now(),
  });
  const source = {
    bucket: deps.cfg.buckets.uploads,
    key: `jobs/${jobId}/source`,
    size: 1000,
    megabytes: 1,
    name: "clip.mp4",
  };
  await chunkSource(
    deps,
    makeEvent("VideoUploaded", { jobId, owner: "alice", source, ladder: ["240p"], formats }).detail,
  );
}

const today = () => ({ owner: "alice", kind: "work" as const, period: new Date().toISOString().slice(0, 10) });

describe("daily encode-work budget at the chunker", () => {
  it("charges frames × output pixels once; a job over budget is FAILED with the reason, nothing split", async () => {
    const work = 20 * 320 * 240;
    const { deps, jobs, events } = world(2 * work - 1);

    await chunk(deps, "fits-budget");
    expect((await jobs.getJob("fits-budget"))?.status).not.toBe("FAILED");
    expect(await jobs.counted(today())).toBe(work);

    await chunk(deps, "over-budget");
    const failed = await jobs.getJob("over-budget");
    expect(failed).toMatchObject({ status: "FAILED", errorStage: "chunking" });
    const usedUp = new RegExp(
      "^Your daily encoding budget is used up; it resets at 00:00 UTC \\(in (\\d+ h )?\\d+ min\\)\\. " +
        "Try again after that\\.$",
    );
    expect(failed?.errorReason).toMatch(usedUp);
    expect(await jobs.getChunk("over-budget", 0)).toBeNull();
    expect(events.named("ChunkReady").map((e) => e.detail.jobId)).not.toContain("over-budget");
    expect(events.named("JobFailed").map((e) => e.detail.jobId)).toEqual(["over-budget"]);
    // the refused job charged nothing; the one that fitted still counts once
    expect(await jobs.counted(today())).toBe(work);
    expect(await chargeDailyWork(deps, "alice", "fits-budget", work)).toBe(true);
    expect(await jobs.counted(today())).toBe(work);
  });
});

describe("each chunk's route at the chunker", () => {
  // the clip's one chunk: 20 frames of 320x240 to the 240p rung, decoded once
  const estimate = (codec: VideoFormat) =>
    chunkCpuSeconds({
      codec,
      frames: 20,
      decodedFrames: 20,
      sourcePixels: 320 * 240,
      renditions: [{ width: 320, height: 240 }],
      encodes: 1,
    });
  const announced = async (jobId: string, lambdaChunkCpuSeconds?: number) => {
    const { deps, events } = world(1e12, lambdaChunkCpuSeconds);
    await chunk(deps, jobId, ["h264", "vp9"]);
    return events.published.flatMap((e) => (e.name === "ChunkReady" ? [e.detail.chunk] : []));
  };

  it("marks a chunk `lambda` when its estimate is at most the limit, per format, and never at 0", async () => {
    const h264 = estimate("h264");
    const vp9 = estimate("vp9");
    expect(vp9).toBeGreaterThan(5 * h264);
    const pick = (chunks: Awaited<ReturnType<typeof announced>>) =>
      chunks.map((c) => ({ codec: c.codec, lambda: c.lambda ?? false, cpuSeconds: c.cpuSeconds }));
    const cpu = (x: number) => expect.closeTo(x, 2);

    // the default limit: both of this small clip's chunks are light
    expect(pick(await announced("light-chunks"))).toEqual([
      { codec: "h264", lambda: true, cpuSeconds: cpu(h264) },
      { codec: "vp9", lambda: true, cpuSeconds: cpu(vp9) },
    ]);
    // a limit between the two estimates: the VP9 chunk goes to a task
    expect(pick(await announced("between-limits", (h264 + vp9) / 2))).toEqual([
      { codec: "h264", lambda: true, cpuSeconds: cpu(h264) },
      { codec: "vp9", lambda: false, cpuSeconds: cpu(vp9) },
    ]);
    // 0: every chunk on a task
    expect(pick(await announced("tasks-only", 0)).map((c) => c.lambda)).toEqual([false, false]);
  });
});
