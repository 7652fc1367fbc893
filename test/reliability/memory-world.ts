/**
 * The pipeline's steps on in-memory adapters (job store, publisher, object store) with the
 * media work replaced by stand-ins, driven by a small at-least-once bus: each delivery is
 * tried up to 3 times, then dead-lettered (the job fails with the reason, as on every
 * runtime). Faults are injected at the boundary between a step's state write and its
 * publish, so the races the issue found run in milliseconds.
 */
import { makeEvent, type DomainEvent, type EventDetail, type EventName, type HandlerName } from "@videoforge/events";
import {
  assembleJob,
  cancelJob,
  chunkSource,
  completeUpload,
  defaultFfmpeg,
  encodeChunk,
  failOnChunk,
  failOnDeadLetter,
  finishJob,
  loadConfig,
  memoryJobStore,
  memoryObjectStore,
  memoryPublisher,
  recordEvent,
  retryJob,
  sweepStalledJobs,
  trackChunk,
  type ChunkWork,
  type Deps,
  type EncodeWork,
  type JobStore,
  type Logger,
  type SourceInfo,
  type VerifyWork,
  type AssembleWork,
} from "@videoforge/core";

export const FAULTS = [
  "publish fails once",
  "publish fails until retries are spent",
  "state write fails after the publish",
  // the process stops dead (no catch runs, nothing is given back); the runtime redelivers the event, the client retries
  "process dies between write and publish",
  // as above, and the delivery is gone too: only the sweeper can move the job
  "process dies and its delivery is lost",
] as const;
export type FaultKind = (typeof FAULTS)[number];

/** What a delivery or a client call sees when its process died under it. */
const CRASHED = Symbol("crashed");
/** A throttled write, as DynamoDB answers it: transient, retried. */
const throttled = () =>
  Object.assign(new Error("ProvisionedThroughputExceededException: injected"), {
    name: "ProvisionedThroughputExceededException",
  });

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

export const SOURCE: SourceInfo = {
  container: "mov,mp4,m4a,3gp,3g2,mj2",
  size: 1000,
  duration: 3,
  video: {
    codec: "h264",
    width: 640,
    height: 360,
    displayWidth: 640,
    displayHeight: 360,
    rotation: 0,
    fps: 30,
    pixFmt: "yuv420p",
    frames: 90,
    lastFrameDuration: 1 / 30,
    duration: 3,
    colour: {},
  },
  audio: null,
  audioTracks: [],
  subtitles: [],
};
const RENDITIONS = [{ name: "360p", width: 640, height: 360, videoBitrate: 800_000, maxrate: 1_200_000 }];
export const CHUNKS = 3;

/** The one rendition the single-chunk cases encode. */
export const RENDITION_360P = { name: "360p", width: 640, height: 360, videoBitrate: 800_000, maxrate: 1_200_000 };

/** A ChunkReady for chunk 0 (30 frames, 1 s) of `count`, as the chunker announces it. */
export function chunkReady(jobId: string, count: number) {
  return makeEvent("ChunkReady", {
    jobId,
    chunk: {
      index: 0,
      count,
      source: { bucket: "b", key: "k" },
      format: "mpegts",
      startFrame: 0,
      frames: 30,
      startTime: 0,
      duration: 1,
    },
    renditions: [RENDITION_360P],
    rotation: 0,
    gop: 60,
    outputBucket: "work",
    outputPrefix: `jobs/${jobId}/encoded`,
  });
}

const WRITES = new Set<keyof JobStore>([
  "createJob",
  "transition",
  "recordChunking",
  "addEncodedChunk",
  "recordAssembly",
  "claimRetry",
  "noteRedrive",
  "createChunk",
  "startChunkAttempt",
  "refundChunkAttempt",
  "markChunkEncoded",
  "markChunkFailed",
  "resetChunk",
  "setUploadStatus",
  "putTimeline",
]);

const HANDLER_OF: Partial<Record<EventName, HandlerName>> = {
  VideoUploaded: "chunker",
  ChunkReady: "encoder",
  ChunkEncoded: "tracker",
  ChunkFailed: "chunkFailures",
  ChunksEncoded: "assembler",
  VideoAssembled: "finisher",
};

export interface WorldOptions {
  fault?: { kind: FaultKind; event: EventName };
  /** Output verification fails (the finisher fails the job): the first `n` times. */
  verifyFails?: number;
}

export function memoryWorld(opts: WorldOptions = {}) {
  const cfg = loadConfig({ VIDEOFORGE_LOCAL: "1" });
  const mem = memoryJobStore();
  const store = memoryObjectStore();
  const published = memoryPublisher();
  const queue: DomainEvent[] = [];
  const counts = { deadLetters: 0, lostDeliveries: 0, faultsFired: 0, redrives: 0 };
  // the process of the running delivery: the publisher "kills" it by resolving this
  let kill: (() => void) | undefined;
  const dies = () => new Promise<typeof CRASHED>((resolve) => (kill = () => resolve(CRASHED)));
  const fault = opts.fault;
  let armed = true;
  let failNextWrite = false;
  let publishFailures = 0;

  const events = {
    async publish(...evs: DomainEvent[]) {
      for (const e of evs) {
        if (fault && armed && e.name === fault.event) {
          if (fault.kind === "publish fails once" && publishFailures === 0) {
            publishFailures++;
            counts.faultsFired++;
            throw new Error("PutEvents failed (injected)");
          }
          if (fault.kind === "publish fails until retries are spent" && publishFailures < 3) {
            publishFailures++;
            counts.faultsFired++;
            throw new Error("PutEvents failed (injected, every attempt)");
          }
          if (
            (fault.kind === "process dies between write and publish" ||
              fault.kind === "process dies and its delivery is lost") &&
            publishFailures === 0
          ) {
            publishFailures++;
            counts.faultsFired++;
            kill?.();
            // a dead process runs nothing more: this publish never returns
            return new Promise<never>(() => undefined);
          }
        }
        await published.publish(e);
        queue.push(e);
        if (
          fault?.kind === "state write fails after the publish" &&
          armed &&
          e.name === fault.event &&
          publishFailures === 0
        ) {
          publishFailures++;
          failNextWrite = true;
        }
      }
    },
  };
  const jobs = new Proxy(mem as JobStore, {
    get(target, prop: keyof JobStore) {
      const fn = target[prop] as (...a: unknown[]) => Promise<unknown>;
      if (!WRITES.has(prop)) return fn;
      return (...args: unknown[]) => {
        if (failNextWrite) {
          failNextWrite = false;
          counts.faultsFired++;
          return Promise.reject(throttled());
        }
        return fn(...args);
      };
    },
  });
  const deps: Deps = {
    db: undefined as never,
    jobs,
    store,
    events,
    cfg,
    log: silent,
    ffmpeg: defaultFfmpeg(),
    worker: "memory-worker",
  };

  let verifyFailures = 0;
  const work = {
    chunk: (async (d, event, job) => {
      await d.jobs.recordChunking(job.jobId, {
        source: SOURCE,
        renditions: RENDITIONS,
        plan: { chunkSeconds: 1, slots: 1, seekable: true, chunks: CHUNKS },
      });
      for (let index = 0; index < CHUNKS; index++) {
        await d.jobs.createChunk({
          jobId: job.jobId,
          index,
          startFrame: index * 30,
          frames: 30,
          startTime: index,
          duration: 1,
          readyAt: Date.now(),
        });
        await d.events.publish(
          makeEvent("ChunkReady", {
            jobId: job.jobId,
            chunk: {
              index,
              count: CHUNKS,
              source: { bucket: event.source.bucket, key: event.source.key },
              format: "mpegts",
              startFrame: index * 30,
              frames: 30,
              startTime: index,
              duration: 1,
            },
            renditions: RENDITIONS,
            rotation: 0,
            gop: 60,
            outputBucket: d.cfg.buckets.work,
            outputPrefix: `jobs/${job.jobId}/encoded`,
          }),
        );
      }
      return CHUNKS;
    }) satisfies ChunkWork,
    encode: (async (d, event) => ({
      outputs: event.renditions.map((r) => {
        const key = `${event.outputPrefix}/${r.name}/${event.chunk.index}.ts`;
        store.put(event.outputBucket, key, 100);
        return { rendition: r.name, key, frames: event.chunk.frames, bytes: 100 };
      }),
    })) satisfies EncodeWork,
    assemble: (async (d, plan) => {
      const outputs = plan.renditions.map((r) => ({
        rendition: r.name,
        format: "h264" as const,
        key: `jobs/${plan.jobId}/${r.name}.mp4`,
        width: r.width,
        height: r.height,
        frames: plan.source.video.frames,
        duration: plan.source.video.duration,
        bytes: 300,
        bitrate: 800,
      }));
      for (const o of outputs) store.put(d.cfg.buckets.outputs, o.key, o.bytes);
      return {
        outputs,
        audioOutputs: [],
        captions: [],
        hls: `jobs/${plan.jobId}/hls/master.m3u8`,
        poster: `jobs/${plan.jobId}/poster.jpg`,
      };
    }) satisfies AssembleWork,
    verify: (async () =>
      verifyFailures++ < (opts.verifyFails ?? 0)
        ? ["360p decodes to 89 frames, the source has 90"]
        : []) satisfies VerifyWork,
  };

  const steps: Partial<Record<HandlerName, (e: DomainEvent) => Promise<void>>> = {
    chunker: (e) => chunkSource(deps, e.detail as EventDetail<"VideoUploaded">, work.chunk),
    encoder: (e) => encodeChunk(deps, e.detail as EventDetail<"ChunkReady">, { work: work.encode }),
    tracker: (e) => trackChunk(deps, e.detail as EventDetail<"ChunkEncoded">),
    chunkFailures: async (e) => {
      if ((e.detail as EventDetail<"ChunkFailed">).final)
        await failOnChunk(deps, e.detail as EventDetail<"ChunkFailed">);
    },
    assembler: (e) => assembleJob(deps, e.detail as EventDetail<"ChunksEncoded">, work.assemble),
    finisher: (e) => finishJob(deps, e.detail as EventDetail<"VideoAssembled">, work.verify),
    recorder: (e) =>
      recordEvent(deps, { ...e, id: `${e.name}-${e.detail.occurredAt}-${JSON.stringify(e.detail).length}` } as never),
  };

  /** One delivery, tried up to 3 times, then dead-lettered; a crash is redelivered, or lost. */
  async function deliver(e: DomainEvent, handler: HandlerName | undefined = HANDLER_OF[e.name]): Promise<void> {
    const step = handler && steps[handler];
    if (!handler || !step) return;
    for (let attempt = 1; ; attempt++) {
      try {
        if ((await Promise.race([step(e), dies()])) !== CRASHED) return;
        if (fault?.kind === "process dies and its delivery is lost") return void counts.lostDeliveries++;
        // the runtime redelivers (the local journal, Lambda's retry, a new task) as a new delivery
        attempt--;
      } catch (err) {
        if (attempt >= 3) {
          counts.deadLetters++;
          return failOnDeadLetter(deps, {
            handler,
            queue: `${handler}-dlq`,
            envelope: { source: "videoforge", "detail-type": e.name, detail: e.detail } as never,
            error: (err as Error).message,
            attempts: attempt,
          });
        }
      }
    }
  }

  /** Deliver until nothing is pending; `onDelivered` lets a scenario act mid-pipeline (a client's DELETE). */
  async function drain(onDelivered?: (e: DomainEvent) => Promise<void>): Promise<void> {
    for (let steps = 0; queue.length; steps++) {
      if (steps > 500) throw new Error("the pipeline does not settle");
      const e = queue.shift()!;
      await deliver(e);
      await deliver(e, "recorder");
      await onDelivered?.(e);
    }
  }

  /** A client call, retried up to 3 times on an error (the dashboard and the CLI do); a crash gets no retry. */
  async function client<T>(call: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const answer = await Promise.race([call(), dies()]);
        if (answer !== CRASHED) return answer;
        // no answer: a client that never hears back may never retry; the sweeper is left
        if (fault?.kind === "process dies and its delivery is lost") return undefined;
      } catch {
        // an error answer: the client retries
      }
    }
    return undefined;
  }

  /** The sweeper, as time passes: each round is past every stage deadline but the upload's. */
  async function sweepUntilSettled(jobId: string, rounds = 6): Promise<void> {
    for (let i = 1; i <= rounds; i++) {
      const job = await mem.getJob(jobId);
      if (!job || ["COMPLETED", "FAILED", "CANCELLED"].includes(job.status)) return;
      const report = await sweepStalledJobs(deps, { now: Date.now() + i * 3 * 3_600_000 });
      counts.redrives += report.redriven.length;
      await drain();
    }
  }

  /** An upload as POST /uploads leaves it, with every byte sent. */
  async function openUpload(owner = "user-1") {
    const jobId = `job${Math.random().toString(36).slice(2, 10)}`;
    const uploadId = `up${Math.random().toString(36).slice(2, 10)}`;
    const key = `jobs/${jobId}/source`;
    const s3UploadId = await store.createMultipart(cfg.buckets.uploads, key, "video/mp4");
    store.sendParts(s3UploadId, SOURCE.size);
    await mem.createJob({
      jobId,
      owner,
      status: "UPLOADING",
      sourceName: "clip.mp4",
      sourceBucket: cfg.buckets.uploads,
      sourceKey: key,
      sourceSize: SOURCE.size,
      ladder: ["360p"],
      createdAt: Date.now(),
      uploadId,
    });
    mem.putUpload({
      uploadId,
      jobId,
      owner,
      bucket: cfg.buckets.uploads,
      key,
      s3UploadId,
      name: "clip.mp4",
      size: SOURCE.size,
      partSize: SOURCE.size,
      ladder: ["360p"],
      status: "OPEN",
      createdAt: Date.now(),
    });
    return { jobId, uploadId, owner };
  }

  const complete = (owner: string, uploadId: string) =>
    client(() => completeUpload(deps, owner, uploadId, { parts: [{ partNumber: 1, etag: "etag-1" }] }));

  /**
   * A job past its upload, CHUNKING, with chunk 0 (frames 0–29) stored and ready; with
   * `renditions`, the chunker's record of the source and ladder too.
   */
  async function chunkingJob(renditions?: Parameters<typeof mem.recordChunking>[1]["renditions"]) {
    const opened = await openUpload();
    await complete(opened.owner, opened.uploadId);
    await mem.transition(opened.jobId, "CHUNKING");
    if (renditions) await mem.recordChunking(opened.jobId, { source: SOURCE, renditions });
    await mem.createChunk({
      jobId: opened.jobId,
      index: 0,
      startFrame: 0,
      frames: 30,
      startTime: 0,
      duration: 1,
      readyAt: Date.now(),
    });
    return opened;
  }

  return {
    deps,
    mem,
    store,
    published,
    counts,
    drain,
    client,
    sweepUntilSettled,
    openUpload,
    chunkingJob,
    arm: (on: boolean) => void (armed = on),
    complete,
    cancel: (jobId: string, by: string) => client(() => cancelJob(deps, jobId, by)),
    retry: (owner: string, jobId: string) => client(() => retryJob(deps, owner, jobId)),
  };
}
export type MemoryWorld = ReturnType<typeof memoryWorld>;
