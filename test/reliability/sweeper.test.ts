import { describe, expect, it } from "vitest";
import { makeEvent } from "@videoforge/events";
import {
  allowedFrom,
  encodeChunk,
  jobPage,
  jobVersion,
  MAX_CHUNK_ATTEMPTS,
  ownedJob,
  MAX_REDRIVES,
  recordEvent,
  sweepStalledJobs,
  TRANSITIONS,
  type EncodeWork,
} from "@videoforge/core";
import { chunkReady, memoryWorld, RENDITION_360P } from "./memory-world.ts";
import { tally } from "./tally.ts";

const HOUR = 3_600_000;

describe("the job state machine", () => {
  it("is one table: ended jobs never move, and transition refuses a move not in it", async () => {
    expect(TRANSITIONS.COMPLETED).toEqual([]);
    expect(TRANSITIONS.CANCELLED).toEqual([]);
    expect(() => allowedFrom("COMPLETED", ["ENCODING"])).toThrow(/not an allowed transition/);
    const w = memoryWorld();
    const { jobId } = await w.openUpload();
    await expect(w.mem.transition(jobId, "COMPLETED", ["UPLOADING"])).rejects.toThrow(/not an allowed transition/);
    expect(await w.mem.transition(jobId, "ENCODING")).toBeNull();
    expect((await w.mem.getJob(jobId))?.status).toBe("UPLOADING");
  });

  it("keeps only active jobs in the sparse index", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    expect((await w.mem.getJob(jobId))?.sweepShard).toMatch(/^active#\d$/);
    await w.complete(owner, uploadId);
    await w.drain();
    const done = await w.mem.getJob(jobId);
    expect(done?.status).toBe("COMPLETED");
    expect(done?.sweepShard).toBeUndefined();
    expect(await w.mem.listOverdueJobs(Date.now() + 1000 * HOUR)).toEqual([]);
  });
});

describe("the sweeper", () => {
  it("leaves a job alone until its stage's deadline passes, then re-drives it from its state", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    w.arm(false);
    await w.complete(owner, uploadId);
    // the VideoUploaded is lost: nothing drives the QUEUED job
    w.published.published.length = 0;
    expect((await sweepStalledJobs(w.deps, { now: Date.now() + 60_000 })).redriven).toEqual([]);
    const report = await sweepStalledJobs(w.deps, { now: Date.now() + HOUR });
    expect(report.redriven).toEqual([{ jobId, status: "QUEUED", action: "chunk again" }]);
    tally("fault", "lost delivery re-driven by the sweeper (in-memory)");
  });

  it("fails a job it has re-driven too often, with the reason, and never re-drives it again", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    // nothing is ever delivered: every re-drive goes nowhere
    for (let i = 1; i <= MAX_REDRIVES + 1; i++) await sweepStalledJobs(w.deps, { now: Date.now() + i * 3 * HOUR });
    const job = await w.mem.getJob(jobId);
    expect(job?.status).toBe("FAILED");
    expect(job?.errorReason).toMatch(/re-driven 3 times/);
    expect((await sweepStalledJobs(w.deps, { now: Date.now() + 100 * HOUR })).examined).toBe(0);
    tally("jobFailed", "sweeper: re-driven too often");
  });

  it("ends an abandoned upload: aborted in storage, job CANCELLED with the reason, no longer active", async () => {
    const w = memoryWorld();
    const { jobId, uploadId } = await w.openUpload();
    const upload = await w.mem.getUpload(uploadId);
    expect((await sweepStalledJobs(w.deps, { now: Date.now() + 23 * HOUR })).failed).toEqual([]);
    // a restart sweep (all) does not cancel an upload still within its deadline
    expect((await sweepStalledJobs(w.deps, { now: Date.now(), all: true })).failed).toEqual([]);
    const report = await sweepStalledJobs(w.deps, { now: Date.now() + 25 * HOUR });
    expect(report.failed.map((f) => f.jobId)).toEqual([jobId]);
    const job = await w.mem.getJob(jobId);
    expect(job?.status).toBe("CANCELLED");
    expect(job?.errorReason).toMatch(/upload was not completed within 24 h/);
    expect(job?.sweepShard).toBeUndefined();
    expect(w.store.multipart(upload!.s3UploadId)?.state).toBe("aborted");
    expect((await w.mem.getUpload(uploadId))?.status).toBe("ABORTED");
    expect(w.published.named("JobCancelled")).toHaveLength(1);
    tally("fault", "abandoned upload ended by the sweeper (in-memory)");
  });

  it("at a restart skips jobs a pending delivery drives", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    expect(
      (await sweepStalledJobs(w.deps, { now: Date.now(), all: true, isDriven: (id) => id === jobId })).redriven,
    ).toEqual([]);
    expect((await sweepStalledJobs(w.deps, { now: Date.now(), all: true })).redriven.map((r) => r.jobId)).toEqual([
      jobId,
    ]);
  });
});

describe("attempts count failures of the work itself", () => {
  async function readyChunk() {
    const w = memoryWorld();
    const { jobId } = await w.chunkingJob([RENDITION_360P]);
    const event = chunkReady(jobId, 3).detail;
    return { w, jobId, event };
  }
  const ok: EncodeWork = async (_d, e) => ({
    outputs: [{ rendition: "360p", key: `${e.outputPrefix}/360p/0.ts`, frames: 30, bytes: 1 }],
  });
  const throttled: EncodeWork = async () => {
    throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
  };
  const storage503: EncodeWork = async () => {
    throw Object.assign(new Error("Service Unavailable"), {
      name: "ServiceUnavailable",
      $metadata: { httpStatusCode: 503 },
    });
  };
  const broken: EncodeWork = async () => {
    throw new Error("rendition 360p has 29 frames, expected 30");
  };

  it("a throttle, a storage 5xx and a failed publish spend no attempt", async () => {
    const { w, jobId, event } = await readyChunk();
    for (let i = 0; i < 5; i++)
      await expect(encodeChunk(w.deps, event, { work: i % 2 ? throttled : storage503 })).rejects.toThrow();
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(0);
    expect(w.published.named("ChunkFailed")).toHaveLength(0);
    const publish = w.deps.events.publish;
    w.deps.events.publish = async () => {
      throw new Error("PutEvents failed");
    };
    await expect(encodeChunk(w.deps, event, { work: ok })).rejects.toThrow(/ChunkEncoded could not be published/);
    w.deps.events.publish = publish;
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(0);
    await encodeChunk(w.deps, event, { work: ok });
    expect(w.published.named("ChunkEncoded")).toHaveLength(1);
    tally("fault", "transient errors in the encoder (no attempt spent)", 6);
  });

  it("a failing encode spends attempts; the last one is final", async () => {
    const { w, jobId, event } = await readyChunk();
    for (let i = 1; i < MAX_CHUNK_ATTEMPTS; i++)
      await expect(encodeChunk(w.deps, event, { work: broken })).rejects.toThrow();
    await encodeChunk(w.deps, event, { work: broken });
    const failed = w.published.named("ChunkFailed").map((e) => e.detail as { final: boolean; attempt: number });
    expect(failed.map((f) => [f.attempt, f.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(3);
  });

  it("a worker killed on every attempt fails the chunk after N; a later re-announcement does not retry", async () => {
    const { w, jobId, event } = await readyChunk();
    let ran = 0;
    // a kill: the work never returns and no catch runs
    const killed: EncodeWork = () => {
      ran++;
      return new Promise(() => undefined);
    };
    for (let i = 0; i < MAX_CHUNK_ATTEMPTS; i++) void encodeChunk(w.deps, event, { work: killed });
    await new Promise((r) => setTimeout(r, 10));
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(MAX_CHUNK_ATTEMPTS);
    await encodeChunk(w.deps, event, { work: killed });
    expect(ran).toBe(MAX_CHUNK_ATTEMPTS);
    const [last] = w.published.named("ChunkFailed").map((e) => e.detail as { final: boolean; reason: string });
    expect(last?.final).toBe(true);
    expect(last?.reason).toMatch(/worker stopped during each of 3 attempts/);
    tally("fault", "a chunk that kills its worker every time (in-memory)");
  });

  it("a tracker stopped between its two writes: the re-announced chunk is announced, not re-encoded", async () => {
    const { w, jobId, event } = await readyChunk();
    const outputs = [{ rendition: "360p", key: "jobs/x/encoded/360p/00000.ts", frames: 30, bytes: 10 }];
    // the chunk row says ENCODED; the job's set never got the index (the process stopped in between)
    await w.mem.markChunkEncoded(jobId, 0, { worker: "w1", startedAt: 1, finishedAt: 2, outputs });
    expect((await w.mem.getJob(jobId))?.encodedChunks ?? []).not.toContain(0);
    let encodes = 0;
    await encodeChunk(w.deps, event, { work: async () => (encodes++, { outputs }) });
    expect(encodes).toBe(0);
    const [again] = w.published.named("ChunkEncoded").map((e) => e.detail as { outputs: unknown; worker: string });
    expect(again).toMatchObject({ outputs, worker: "w1" });
    // once the set has it, a further re-announcement is a no-op
    await w.drain();
    expect((await w.mem.getJob(jobId))?.encodedChunks).toContain(0);
    const before = w.published.named("ChunkEncoded").length;
    await encodeChunk(w.deps, event, { work: async () => (encodes++, { outputs }) });
    expect(w.published.named("ChunkEncoded")).toHaveLength(before);
    expect(encodes).toBe(0);
    tally("fault", "a tracker stopped between marking a chunk and adding it to the set (in-memory)");
  });
});

describe("cancel stops work", () => {
  it("removes a cancelled job's partial outputs and keeps its source for a retry", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    const { work, outputs, uploads } = w.deps.cfg.buckets;
    w.store.put(work, `jobs/${jobId}/chunks/00000.ts`, 10);
    w.store.put(work, `jobs/${jobId}/encoded/360p/00000.ts`, 10);
    w.store.put(outputs, `jobs/${jobId}/360p.mp4`, 10);
    w.store.put(work, `jobs/otherjob1/chunks/00000.ts`, 10);
    expect(await w.cancel(jobId, owner)).toBe(true);
    expect(w.store.has(work, `jobs/${jobId}/chunks/00000.ts`)).toBe(false);
    expect(w.store.has(work, `jobs/${jobId}/encoded/360p/00000.ts`)).toBe(false);
    expect(w.store.has(outputs, `jobs/${jobId}/360p.mp4`)).toBe(false);
    expect(w.store.has(work, `jobs/otherjob1/chunks/00000.ts`)).toBe(true);
    expect(w.store.has(uploads, `jobs/${jobId}/source`)).toBe(true);
  });

  it("an encode in progress is aborted by the job's signal and spends no attempt", async () => {
    const w = memoryWorld();
    const { jobId, owner } = await w.chunkingJob();
    const stop = new AbortController();
    const event = chunkReady(jobId, 1).detail;
    // a stand-in for ffmpeg that runs until its signal aborts it, as the wrapper does
    const untilAborted: EncodeWork = (_d, _e, _p, signal) =>
      new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("ffmpeg killed: aborted"))));
    const running = encodeChunk(w.deps, event, { work: untilAborted, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 5));
    await w.cancel(jobId, owner);
    stop.abort();
    await expect(running).rejects.toThrow(/aborted/);
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(0);
    expect(w.published.named("ChunkFailed")).toHaveLength(0);
  });
});

describe("bounded reads", () => {
  it("an unchanged job page costs its poll one item read; an event on the timeline changes its version", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    const v1 = jobVersion(await ownedJob(w.deps, owner, jobId));
    const before = w.mem.stats.reads;
    expect(await jobPage(w.deps, owner, jobId, v1)).toEqual({ etag: v1, view: null });
    expect(await jobPage(w.deps, owner, jobId, v1)).toEqual({ etag: v1, view: null });
    expect(w.mem.stats.reads - before).toBe(2);
    await recordEvent(w.deps, { ...makeEvent("JobCancelled", { jobId, by: "someone" }), id: "e1" });
    expect(jobVersion(await ownedJob(w.deps, owner, jobId))).not.toBe(v1);
    // a chunk's attempt shows on the page (the Gantt chart): it moves the version too
    const v2 = jobVersion(await ownedJob(w.deps, owner, jobId));
    await w.mem.startChunkAttempt(jobId, 0, "worker-1", Date.now(), true);
    expect(jobVersion(await ownedJob(w.deps, owner, jobId))).not.toBe(v2);
    await expect(jobPage(w.deps, "someone-else", jobId, v1)).rejects.toThrow(/No job/);
  });
});
