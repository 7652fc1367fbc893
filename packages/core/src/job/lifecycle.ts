import { makeEvent, type EventDetail } from "@videoforge/events";
import { FINAL_STATUSES, type JobItem, type JobStatus } from "../db/index.ts";
import { ACTIVE_STATUSES } from "./machine.ts";
import type { JobChange } from "./store.ts";
import { putMetric } from "../metrics.ts";
import type { Deps } from "../deps.ts";

type Stage = EventDetail<"JobFailed">["stage"];

/** One job by id, through the job store port (the ElectroDB entity for callers composed without it). */
export async function getJob(deps: Partial<Pick<Deps, "jobs" | "db">>, jobId: string): Promise<JobItem | null> {
  if (deps.jobs) return deps.jobs.getJob(jobId);
  if (!deps.db) throw new Error("getJob needs the job store");
  return (await deps.db.entities.job.get({ jobId }).go()).data;
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * Move a job to `to` from one of `from` (checked against the state machine's table) with a
 * conditional write. Returns false when the job was elsewhere (another delivery moved it).
 * Callers never announce on the strength of this answer alone: they read the state after.
 */
export async function transition(
  deps: Pick<Deps, "jobs">,
  jobId: string,
  from: readonly JobStatus[],
  to: JobStatus,
  change: JobChange["set"] = {},
): Promise<boolean> {
  return (await deps.jobs.transition(jobId, to, from, { set: change })) !== null;
}

/**
 * End the job as FAILED with a reason a person can act on; a job already ended stays as it
 * is. JobFailed is announced whenever the job is FAILED after the write, also when an
 * earlier delivery made the write and its publish failed.
 */
export async function failJob(deps: Deps, jobId: string, stage: Stage, reason: string): Promise<void> {
  const moved = await deps.jobs.transition(jobId, "FAILED", ACTIVE_STATUSES, {
    set: { errorStage: stage, errorReason: reason },
  });
  const job = moved ?? (await deps.jobs.getJob(jobId));
  deps.log.warn("job failed", { jobId, stage, reason, moved: moved !== null, status: job?.status });
  if (moved) putMetric("JobsFailed", 1, { jobId, stage });
  if (job?.status === "FAILED") await announceFailed(deps, job);
}

/** JobFailed from the stored job: the reason and stage that won, not this caller's. */
export async function announceFailed(deps: Pick<Deps, "events">, job: JobItem): Promise<void> {
  const stage = (job.errorStage ?? "encoding") as Stage;
  await deps.events.publish(makeEvent("JobFailed", { jobId: job.jobId, stage, reason: job.errorReason ?? "failed" }));
}

/**
 * Cancel a job that has not ended. Returns false if it had ended otherwise (COMPLETED or
 * FAILED). A job already CANCELLED answers true and JobCancelled goes out again, so a
 * retried DELETE whose first publish failed still announces it.
 */
export async function cancelJob(deps: Deps, jobId: string, by: string): Promise<boolean> {
  const moved = await deps.jobs.transition(jobId, "CANCELLED", ACTIVE_STATUSES, {
    set: { errorReason: `Cancelled by ${by}` },
  });
  const job = moved ?? (await deps.jobs.getJob(jobId));
  if (job?.status !== "CANCELLED") return false;
  // JobCancelled also tells the runtimes to stop the job's running work (local: the worker pool)
  await deps.events.publish(
    makeEvent("JobCancelled", { jobId, by: moved ? by : (job.errorReason?.replace(/^Cancelled by /, "") ?? by) }),
  );
  if (deps.tasks) {
    const stopped = await deps.tasks.stopJobTasks(jobId);
    if (stopped) deps.log.info("cancelled job's running tasks stopped", { jobId, tasks: stopped });
  }
  await removePartialOutputs(deps, jobId);
  return true;
}

/**
 * A cancelled job's chunks, encoded pieces and outputs are removed (idempotent: a retried
 * DELETE removes what is left). The uploaded source stays: POST /jobs/:id/retry reuses it.
 */
export async function removePartialOutputs(deps: Pick<Deps, "store" | "cfg" | "log">, jobId: string): Promise<number> {
  let removed = 0;
  for (const bucket of new Set([deps.cfg.buckets.work, deps.cfg.buckets.outputs])) {
    const found = await deps.store.list(bucket, `jobs/${jobId}/`);
    if (!found.length) continue;
    await deps.store.remove(
      bucket,
      found.map((o) => o.key),
    );
    removed += found.length;
  }
  if (removed) deps.log.info("cancelled job's partial outputs removed", { jobId, objects: removed });
  return removed;
}
