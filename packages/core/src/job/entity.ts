import { Entity } from "electrodb";
import { JOB_STATUSES } from "./status.ts";

export { JOB_STATUSES, FINAL_STATUSES, type JobStatus } from "./status.ts";

/** A job: one source, one ladder, its progress counters and, at the end, its outputs or its error. */
export const JobEntity = new Entity({
  model: { entity: "job", version: "1", service: "videoforge" },
  attributes: {
    jobId: { type: "string", required: true },
    owner: { type: "string", required: true },
    status: { type: JOB_STATUSES, required: true },
    sourceName: { type: "string", required: true },
    sourceBucket: { type: "string" },
    sourceKey: { type: "string" },
    sourceSize: { type: "number" },
    ladder: { type: "list", items: { type: "string" }, required: true },
    /** Output formats (media/formats.ts); absent on jobs from before formats existed (H.264 only). */
    formats: { type: "list", items: { type: "string" } },
    /** The watermark's settings and where its checked image is stored (events Watermark). */
    watermark: { type: "any" },
    /** Target integrated loudness of the audio (LUFS), when the user asked for normalisation. */
    loudness: { type: "number" },
    /** Target mean SSIM of every chunk of every rung (its CRF searched), when the user asked for one. */
    targetSsim: { type: "number" },
    /** The range of the source to keep (contract Trim), when the user chose one. */
    trim: { type: "any" },
    /** HLS segments as fragmented MP4 (`cmaf`, also the DASH manifest's; absent means cmaf) or MPEG-TS (`ts`). */
    packaging: { type: ["cmaf", "ts"] as const },
    /** What the pipeline changed that the user should know, in words (e.g. HDR tone-mapped to SDR). */
    notes: { type: "list", items: { type: "string" } },
    /** When its owner asked to delete it: it has left the library, and the deleter is removing it. */
    deletingAt: { type: "number" },
    /** The video's title and description as its owner edited them (the title is the file name until then). */
    title: { type: "string" },
    description: { type: "string" },
    /** Where the poster is taken (seconds), when the user chose. */
    posterAt: { type: "number" },
    /** SourceInfo from the probe (parsed with zod where read). */
    source: { type: "any" },
    renditions: { type: "any" },
    chunkCount: { type: "number" },
    /** Indexes of encoded chunks: adding to a set is idempotent, so redelivery cannot double count. */
    encodedChunks: { type: "set", items: "number" },
    outputs: { type: "any" },
    /** Audio-only outputs (`audio.m4a`, `audio.mp3`), as the assembler recorded them. */
    audioOutputs: { type: "any" },
    /** Captions sidecars (`captions/<language>.vtt`), as the assembler recorded them. */
    captions: { type: "any" },
    hls: { type: "string" },
    poster: { type: "string" },
    errorStage: { type: "string" },
    errorReason: { type: "string" },
    /** The job this one retries (same stored source and ladder). */
    retryOf: { type: "string" },
    /** The job that retries this one: a retried POST /jobs/:id/retry answers with it again. */
    retriedBy: { type: "string" },
    /** The multipart upload that brings the source (the sweeper aborts it when abandoned). */
    uploadId: { type: "string" },
    /** The chunk plan's parameters, stored at first chunking and reused by every re-chunking. */
    plan: { type: "any" },
    /** Times the sweeper re-drove this job; past a few it fails the job instead. */
    redrives: { type: "number" },
    /**
     * The sparse index of active jobs (gsi2): set while the job is active, removed when it
     * ends, so the sweeper reads only active jobs. `sweepAt` is when its stage's deadline passes.
     */
    sweepShard: { type: "string", field: "gsi2pk" },
    sweepAt: { type: "number", field: "gsi2sk" },
    createdAt: { type: "number", required: true, readOnly: true },
    updatedAt: { type: "number", watch: "*", set: () => Date.now() },
    /** When the recorder last added to this job's timeline (moves updatedAt: the page's version). */
    touchedAt: { type: "number" },
    /**
     * Writes that change the job page only through another row (a timeline event, a chunk's
     * attempt or failure), counted atomically: two in the same millisecond still move the version.
     */
    rev: { type: "number" },
    /** Writes to this job's chunk rows, counted: the page reads the chunk list only when it moved. */
    chunksRev: { type: "number" },
    chunkingAt: { type: "number" },
    encodingAt: { type: "number" },
    assemblingAt: { type: "number" },
    assembledAt: { type: "number" },
    /** When the growing preview became playable (PlaybackReady): set once. */
    playableAt: { type: "number" },
    endedAt: { type: "number" },
  },
  indexes: {
    byId: {
      collection: "jobView",
      pk: { field: "pk", composite: ["jobId"] },
      sk: { field: "sk", composite: [] },
    },
    byOwner: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["owner"] },
      sk: { field: "gsi1sk", composite: ["createdAt"] },
    },
  },
});
