import { makeEvent, type EventDetail } from "@videoforge/events";
import { ConflictError } from "../errors.ts";
import { FINAL_STATUSES } from "../job/status.ts";
import { ownedJob } from "../job/queries.ts";
import type { Deps } from "../deps.ts";
import { deleteShares } from "./share.ts";

/**
 * Deleting a video, asynchronously: the API marks the job (it leaves the library at once) and asks;
 * the deleter removes every output, every intermediate, the source unless another job still reads it
 * (a retry shares its source), and the job's rows, then announces VideoDeleted. Every step can run
 * again: a repeated DELETE asks again, a redelivered request removes what is left.
 */

/** The job's folder in the outputs and the work buckets (deps.ts `keys` name every object under it). */
const jobPrefix = (jobId: string) => `jobs/${jobId}/`;

/** `DELETE /videos/{id}`: any job that has ended; 409 while it runs (cancel it first). */
export async function requestDelete(deps: Pick<Deps, "db" | "jobs" | "events">, owner: string, videoId: string) {
  const job = await ownedJob(deps, owner, videoId);
  if (!FINAL_STATUSES.includes(job.status))
    throw new ConflictError(`Job ${videoId} is ${job.status}; cancel it before deleting it.`);
  if (job.deletingAt === undefined)
    await deps.db.entities.job.patch({ jobId: videoId }).set({ deletingAt: Date.now() }).go();
  await deps.events.publish(makeEvent("VideoDeleteRequested", { jobId: videoId, owner }));
  return { videoId, status: "DELETING" as const };
}

/** VideoDeleteRequested → remove the files and the rows, then VideoDeleted. */
export async function deleteVideo(deps: Deps, event: EventDetail<"VideoDeleteRequested">): Promise<void> {
  const { jobId, owner } = event;
  const log = deps.log.child({ jobId });
  const job = await deps.jobs.getJob(jobId);
  const { buckets } = deps.cfg;
  let bytes = 0;
  for (const bucket of [buckets.outputs, buckets.work]) {
    const objects = await deps.store.list(bucket, jobPrefix(jobId));
    bytes += objects.reduce((sum, o) => sum + o.size, 0);
    // the store sends them in batches of S3's 1,000 keys a request
    if (objects.length)
      await deps.store.remove(
        bucket,
        objects.map((o) => o.key),
      );
  }
  let sourceRemoved = false;
  if (job?.sourceBucket && job.sourceKey) {
    // a retry (or a retry of a retry) reads the same stored source: it stays while another of the owner's jobs names it
    const owned = await deps.db.entities.job.query.byOwner({ owner }).go({ pages: "all" });
    const shared = owned.data.some(
      (j) => j.jobId !== jobId && j.sourceKey === job.sourceKey && j.deletingAt === undefined,
    );
    if (!shared) {
      bytes += (await deps.store.head(job.sourceBucket, job.sourceKey))?.size ?? 0;
      await deps.store.remove(job.sourceBucket, [job.sourceKey]);
      sourceRemoved = true;
    }
  }
  // the rows last: a redelivery after a failure above still finds the job and its source
  const view = await deps.db.collections.jobView({ jobId }).go({ pages: "all" });
  if (view.data.chunk.length)
    await deps.db.entities.chunk.delete(view.data.chunk.map((c) => ({ jobId, index: c.index }))).go();
  if (view.data.timeline.length)
    await deps.db.entities.timeline
      .delete(view.data.timeline.map((t) => ({ jobId, at: t.at, eventId: t.eventId })))
      .go();
  if (job?.uploadId) await deps.db.entities.upload.delete({ uploadId: job.uploadId }).go();
  await deleteShares(deps, jobId);
  if (job) await deps.db.entities.job.delete({ jobId }).go();
  log.info("video deleted", { bytes, sourceRemoved });
  await deps.events.publish(makeEvent("VideoDeleted", { jobId, owner, bytes, sourceRemoved }));
}
