import { createHash } from "node:crypto";
import type { JobStatus } from "./entity.ts";

/**
 * The job's state machine, written once: every status a job may move to from each status.
 * `transition` (job/store-*.ts) refuses any move not in this table, so a step cannot
 * invent one. A status listed as its own successor may be re-entered (a redelivered
 * chunker or assembler starts its stage over).
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  UPLOADING: ["QUEUED", "CANCELLED", "FAILED"],
  QUEUED: ["CHUNKING", "CANCELLED", "FAILED"],
  CHUNKING: ["CHUNKING", "ENCODING", "CANCELLED", "FAILED"],
  // back to CHUNKING: the sweeper re-announces the chunks of a job whose encoding stopped moving
  ENCODING: ["ASSEMBLING", "CHUNKING", "CANCELLED", "FAILED"],
  ASSEMBLING: ["ASSEMBLING", "COMPLETED", "CANCELLED", "FAILED"],
  // a dead letter redriven reopens the stage it failed in (dead-letters.ts)
  FAILED: ["QUEUED", "ENCODING", "ASSEMBLING"],
  COMPLETED: [],
  CANCELLED: [],
};

export const ACTIVE_STATUSES: readonly JobStatus[] = ["UPLOADING", "QUEUED", "CHUNKING", "ENCODING", "ASSEMBLING"];

export const isActive = (status: JobStatus): boolean => ACTIVE_STATUSES.includes(status);

/** The statuses a job may be in to move to `to`, optionally narrowed to `only`. */
export function allowedFrom(to: JobStatus, only?: readonly JobStatus[]): JobStatus[] {
  const from = (Object.keys(TRANSITIONS) as JobStatus[]).filter((s) => TRANSITIONS[s].includes(to));
  if (!only) return from;
  const refused = only.filter((s) => !from.includes(s));
  if (refused.length) {
    throw new Error(`job state machine: ${refused.join(", ")} → ${to} is not an allowed transition`);
  }
  return from.filter((s) => only.includes(s));
}

/**
 * How long a job may stay in a stage without moving before the sweeper looks at it.
 * "Moving" is any write that advances it: a transition, an encoded chunk.
 * UPLOADING is the abandoned-upload deadline (default 24 h; storage's 7-day abort stays the backstop).
 */
export interface StageDeadlines {
  UPLOADING: number;
  QUEUED: number;
  CHUNKING: number;
  ENCODING: number;
  ASSEMBLING: number;
}

const MIN = 60_000;
export const DEFAULT_DEADLINES: StageDeadlines = {
  UPLOADING: 24 * 60 * MIN,
  QUEUED: 15 * MIN,
  // one ffmpeg may run 30 min (its timeout) and a delivery is tried 3 times
  CHUNKING: 120 * MIN,
  // measured from the last encoded chunk, not from the stage's start
  ENCODING: 120 * MIN,
  ASSEMBLING: 120 * MIN,
};

/** The sparse index's partitions: active jobs spread over a few keys so none gets hot. */
export const SWEEP_SHARDS = 8;

/** The sparse-index key of an active job; ended jobs carry none, so the index holds only active jobs. */
export function sweepShard(jobId: string): string {
  const n = createHash("sha1").update(jobId).digest().readUInt32BE(0) % SWEEP_SHARDS;
  return `active#${n}`;
}

export const allSweepShards = (): string[] => Array.from({ length: SWEEP_SHARDS }, (_, n) => `active#${n}`);

/** When a job that just entered (or moved within) `status` becomes overdue. */
export function sweepAt(status: JobStatus, now: number, deadlines: StageDeadlines = DEFAULT_DEADLINES): number | null {
  return isActive(status) ? now + deadlines[status as keyof StageDeadlines] : null;
}
