import { describe, expect, it } from "vitest";
import { memoryJobStore } from "../adapters/memory-job-store.ts";
import { planSource } from "../media/plan.ts";
import type { Packet } from "../media/probe.ts";
import { splitArgs } from "../ffmpeg/args.ts";
import { pieceTimes, planParams, withParameterSets } from "./split.ts";

/** 60 s at 30 fps, a keyframe every second. */
const packets: Packet[] = Array.from({ length: 1800 }, (_, i) => ({
  pts: i / 30,
  keyframe: i % 30 === 0,
  duration: 1 / 30,
}));

/** The chunker's first chunking: parameters from the configuration, stored on the job with the chunk count. */
async function firstChunking(cfg: { chunkSeconds: number; parallelTasks?: number }) {
  const jobs = memoryJobStore();
  await jobs.createJob({
    jobId: "job1",
    owner: "alice",
    status: "QUEUED",
    sourceName: "a.mp4",
    ladder: ["360p"],
    createdAt: Date.now(),
  });
  await jobs.transition("job1", "CHUNKING", ["QUEUED"]);
  const params = planParams((await jobs.getJob("job1"))!, cfg, true);
  const plan = planSource(packets, params.chunkSeconds, params);
  expect(
    await jobs.recordChunking("job1", { source: {}, renditions: [], plan: { ...params, chunks: plan.chunks.length } }),
  ).toBe(true);
  return { jobs, plan };
}

describe("the chunk plan stored at first chunking", () => {
  it.each([
    ["locally (fixed encoder slots)", { chunkSeconds: 4, parallelTasks: 3 }],
    ["on AWS (no fixed slots)", { chunkSeconds: 4 }],
  ])("%s: a re-chunking under a changed configuration cuts the same chunks", async (_where, first) => {
    const { jobs, plan } = await firstChunking(first);
    const changed = { chunkSeconds: 10, parallelTasks: 7 };
    // the configuration alone would now plan other chunks: the test would prove nothing otherwise
    const fresh = planSource(packets, changed.chunkSeconds, { slots: changed.parallelTasks, seekable: true });
    expect(fresh.chunks.map((c) => c.startFrame)).not.toEqual(plan.chunks.map((c) => c.startFrame));

    // the sweeper or a redelivery chunks the job again, after the configuration changed
    const stored = (await jobs.getJob("job1"))!;
    const params = planParams(stored, changed, true);
    expect(params).toMatchObject({ chunkSeconds: first.chunkSeconds, seekable: true, chunks: plan.chunks.length });
    const again = planSource(packets, params.chunkSeconds, params);
    expect(again).toEqual(plan);
  });

  it("a job chunked before plans were stored is planned from the configuration, without a lead piece", () => {
    const source = { duration: 10 };
    expect(planParams({ source }, { chunkSeconds: 6, parallelTasks: 2 }, false)).toEqual({
      chunkSeconds: 6,
      slots: 2,
      seekable: false,
    });
    expect(planParams({ source, plan: { something: "else" } }, { chunkSeconds: 6 }, true)).toEqual({
      chunkSeconds: 6,
      seekable: true,
    });
  });

  it("a job's first chunking plans a lead piece and scene-aware windows, and stores that it did", () => {
    expect(planParams({}, { chunkSeconds: 8, parallelTasks: 2 }, true)).toEqual({
      chunkSeconds: 8,
      slots: 2,
      seekable: true,
      lead: true,
      scenes: true,
    });
    expect(planParams({ plan: { chunkSeconds: 8, seekable: true, lead: true } }, { chunkSeconds: 4 }, true)).toEqual({
      chunkSeconds: 8,
      seekable: true,
      lead: true,
    });
  });
});

describe("the split's parameter sets", () => {
  const args = splitArgs("/tmp/source", [100, 200], "/tmp/%05d.ts", "mpegts", "mov");
  it("repeats SPS/PPS on every keyframe of an H.264 or HEVC MPEG-TS piece, as the split's video filter", () => {
    const withSets = withParameterSets(args, "h264", "mpegts");
    const at = withSets.indexOf("-bsf:v");
    expect(withSets.slice(at, at + 4)).toEqual([
      "-bsf:v",
      "h264_mp4toannexb,dump_extra=freq=keyframe",
      "-f",
      "segment",
    ]);
    expect(withParameterSets(args, "hevc", "mpegts")).toContain("hevc_mp4toannexb,dump_extra=freq=keyframe");
    expect(withSets.filter((a) => a !== "-bsf:v" && !a.includes("dump_extra"))).toEqual(args);
  });
  it("leaves Matroska pieces (codec private data) and other codecs alone", () => {
    expect(withParameterSets(args, "h264", "matroska")).toEqual(args);
    expect(withParameterSets(args, "mpeg2video", "mpegts")).toEqual(args);
  });
});

describe("piece times under an edit list", () => {
  // the piece's own timeline is the source's shifted (MPEG-TS adds its delay)
  const source: Packet[] = [
    { pts: -0.52, keyframe: true, discard: true },
    { pts: -0.36, keyframe: false, discard: true },
    { pts: 0.04, keyframe: false },
    { pts: 0, keyframe: false },
    { pts: 0.08, keyframe: false },
    { pts: 0.16, keyframe: false, discard: true },
    { pts: 0.12, keyframe: false, discard: true },
  ];
  const own = source.map((p) => ({ pts: p.pts + 1.4, keyframe: p.keyframe }));

  it("starts at the first frame shown and ends before the hidden tail", () => {
    const t = pieceTimes(own, source);
    expect(t.keyframe).toBeCloseTo(0.88, 9);
    expect(t.start).toBeCloseTo(1.4, 9);
    expect(t.end).toBeCloseTo(1.52, 9);
    // what the split added to every timestamp: a trim's ends move into the piece's timeline by it
    expect(t.shift).toBeCloseTo(1.4, 9);
  });

  it("is the keyframe, open-ended, when nothing is hidden", () => {
    const plain = source.map(({ pts, keyframe }) => ({ pts, keyframe }));
    expect(pieceTimes(own, plain)).toEqual({
      keyframe: own[0]!.pts,
      start: own[0]!.pts,
      shift: expect.closeTo(1.4, 9),
    });
  });
});
