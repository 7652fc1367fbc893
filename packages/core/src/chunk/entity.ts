import { Entity } from "electrodb";
import { CHUNK_STATUSES } from "../job/status.ts";

export { CHUNK_STATUSES } from "../job/status.ts";

/** One keyframe-aligned piece of a job's source and what became of it. */
export const ChunkEntity = new Entity({
  model: { entity: "chunk", version: "1", service: "videoforge" },
  attributes: {
    jobId: { type: "string", required: true },
    index: { type: "number", required: true, padding: { length: 6, char: "0" } },
    status: { type: CHUNK_STATUSES, required: true },
    /** The video format this chunk is encoded to (absent on jobs from before formats: H.264). */
    codec: { type: "string" },
    startFrame: { type: "number", required: true },
    frames: { type: "number", required: true },
    startTime: { type: "number", required: true },
    duration: { type: "number", required: true },
    /** The longest the chunk can turn out when its start may move back to a scene change (else `duration`). */
    maxDuration: { type: "number" },
    readyAt: { type: "number" },
    startedAt: { type: "number" },
    finishedAt: { type: "number" },
    worker: { type: "string" },
    attempts: { type: "number", default: 0 },
    error: { type: "string" },
    outputs: { type: "any" },
  },
  indexes: {
    byJob: {
      collection: "jobView",
      pk: { field: "pk", composite: ["jobId"] },
      sk: { field: "sk", composite: ["index"] },
    },
  },
});
