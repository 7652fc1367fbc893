import { Entity } from "electrodb";

export const JOB_STATUSES = ["UPLOADING", "QUEUED", "CHUNKING", "ENCODING", "ASSEMBLING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];

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
    /** SourceInfo from the probe (parsed with zod where read). */
    source: { type: "any" },
    renditions: { type: "any" },
    chunkCount: { type: "number" },
    /** Indexes of encoded chunks: adding to a set is idempotent, so redelivery cannot double count. */
    encodedChunks: { type: "set", items: "number" },
    outputs: { type: "any" },
    hls: { type: "string" },
    poster: { type: "string" },
    errorStage: { type: "string" },
    errorReason: { type: "string" },
    /** The job this one retries (same stored source and ladder). */
    retryOf: { type: "string" },
    createdAt: { type: "number", required: true, readOnly: true },
    updatedAt: { type: "number", watch: "*", set: () => Date.now() },
    chunkingAt: { type: "number" },
    encodingAt: { type: "number" },
    assemblingAt: { type: "number" },
    assembledAt: { type: "number" },
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
