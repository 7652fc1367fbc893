/**
 * The statuses of jobs, chunks and uploads, written once. This module imports nothing: the
 * table's entities (db/), the state machine (job/machine.ts) and the API contract that the
 * dashboard loads in the browser (contract.ts) all read these lists.
 */

/** Every status of a job, in the order a successful job passes through them, then the other endings. */
export const JOB_STATUSES = [
  "UPLOADING",
  "QUEUED",
  "CHUNKING",
  "ENCODING",
  "ASSEMBLING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a job ends in: it changes no more (a redriven dead letter aside), so clients stop polling. */
export const FINAL_STATUSES: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];

export const CHUNK_STATUSES = ["PENDING", "ENCODED", "FAILED"] as const;
export type ChunkStatus = (typeof CHUNK_STATUSES)[number];

export const UPLOAD_STATUSES = ["OPEN", "COMPLETED", "ABORTED"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];
