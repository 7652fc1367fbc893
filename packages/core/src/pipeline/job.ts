import { makeEvent, type EventDetail } from "@videoforge/events";
import { applied, FINAL_STATUSES, type JobItem, type JobStatus } from "../db/index.ts";
import type { Deps } from "./deps.ts";

type Stage = EventDetail<"JobFailed">["stage"];

export async function getJob(deps: Pick<Deps, "db">, jobId: string): Promise<JobItem | null> {
  const res = await deps.db.entities.job.get({ jobId }).go();
  return res.data;
}

export const ACTIVE_STATUSES: readonly JobStatus[] = ["UPLOADING", "QUEUED", "CHUNKING", "ENCODING", "ASSEMBLING"];

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

const stampFor: Partial<Record<JobStatus, "chunkingAt" | "encodingAt" | "assemblingAt" | "endedAt">> = {
  CHUNKING: "chunkingAt",
  ENCODING: "encodingAt",
  ASSEMBLING: "assemblingAt",
  COMPLETED: "endedAt",
  FAILED: "endedAt",
  CANCELLED: "endedAt",
};

/**
 * Move a job from one of `from` to `to` with a conditional write. Returns false when the
 * job was not in `from` (another delivery already moved it): callers then do nothing.
 */
export async function transition(deps: Pick<Deps, "db">, jobId: string, from: readonly JobStatus[], to: JobStatus, extra: Partial<JobItem> = {}): Promise<boolean> {
  const stamp = stampFor[to];
  return applied(
    deps.db.entities.job
      .patch({ jobId })
      .set({ ...extra, status: to, ...(stamp ? { [stamp]: Date.now() } : {}) })
      .where((a, op) => `(${from.map((s) => op.eq(a.status, s)).join(" OR ")})`)
      .go(),
  );
}

/** End the job as FAILED with a reason a person can act on; a job already ended stays as it is. */
export async function failJob(deps: Deps, jobId: string, stage: Stage, reason: string): Promise<void> {
  const moved = await transition(deps, jobId, ACTIVE_STATUSES, "FAILED", { errorStage: stage, errorReason: reason });
  deps.log.warn("job failed", { jobId, stage, reason, moved });
  if (moved) await deps.events.publish(makeEvent("JobFailed", { jobId, stage, reason }));
}

/** Cancel a job that has not ended. Returns false if it had already ended. */
export async function cancelJob(deps: Deps, jobId: string, by: string): Promise<boolean> {
  const moved = await transition(deps, jobId, ACTIVE_STATUSES, "CANCELLED", { errorReason: `Cancelled by ${by}` });
  if (moved) await deps.events.publish(makeEvent("JobCancelled", { jobId, by }));
  return moved;
}
