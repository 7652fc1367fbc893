import { storedFormats } from "../media/formats.ts";
import { createHash } from "node:crypto";
import { makeEvent, toMegabytes } from "@videoforge/events";
import type { JobItem } from "../db/index.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { getJob, isFinal } from "./lifecycle.ts";
import { checkDailyWork, reserveActiveJob } from "./quota.ts";
import type { Deps } from "../deps.ts";

/** The id of the job that retries `jobId`: the same for every request, so a retried POST finds it. */
export const retryIdOf = (jobId: string) => createHash("sha256").update(`${jobId}/retry`).digest("hex").slice(0, 20);

/**
 * Start a new job on a failed or cancelled job's stored source, with the same ladder.
 * The source stays in the uploads bucket, so nothing is uploaded again: the new job is
 * queued and announced with VideoUploaded exactly as a completed upload would be.
 *
 * Idempotent: the old job names its retry once (`retriedBy`), and the retry's id is derived
 * from the old one, so a retried POST answers with the same job. While that job is still
 * QUEUED, VideoUploaded goes out again (the first publish may have failed; the chunker is
 * idempotent).
 */
export async function retryJob(deps: Deps, owner: string, jobId: string): Promise<{ jobId: string }> {
  const old = await getJob(deps, jobId);
  // someone else's job looks exactly like a missing one
  if (!old || old.owner !== owner) throw new NotFoundError(`No job ${jobId}.`);
  if (old.retriedBy) return announceRetry(deps, old, old.retriedBy);
  if (old.status !== "FAILED" && old.status !== "CANCELLED")
    throw new ConflictError(`Only a failed or cancelled job can be retried; job ${jobId} is ${old.status}.`);
  const stored = old.sourceBucket && old.sourceKey ? await deps.store.head(old.sourceBucket, old.sourceKey) : null;
  if (!old.sourceBucket || !old.sourceKey || !stored || stored.size === 0)
    throw new ConflictError(`Job ${jobId} has no stored source to retry with; upload the file again.`);
  if (old.sourceSize !== undefined && stored.size !== old.sourceSize)
    throw new ConflictError(`Job ${jobId}'s upload never completed; upload the file again.`);

  await checkDailyWork(deps, owner);
  const retry = retryIdOf(jobId);
  // the retry counts against the active-job limit like a new upload (idempotent: a retried POST holds the same slot)
  await reserveActiveJob(deps, owner, retry);
  await deps.jobs.createJob({
    jobId: retry,
    owner,
    status: "QUEUED",
    sourceName: old.sourceName,
    sourceBucket: old.sourceBucket,
    sourceKey: old.sourceKey,
    sourceSize: stored.size,
    ladder: old.ladder,
    ...(old.formats ? { formats: old.formats } : {}),
    ...(old.posterAt !== undefined ? { posterAt: old.posterAt } : {}),
    ...(old.trim ? { trim: old.trim } : {}),
    ...(old.packaging ? { packaging: old.packaging } : {}),
    ...(old.loudness !== undefined ? { loudness: old.loudness } : {}),
    ...(old.targetSsim !== undefined ? { targetSsim: old.targetSsim } : {}),
    ...(old.watermark ? { watermark: old.watermark } : {}),
    retryOf: jobId,
    createdAt: Date.now(),
  });
  const holder = await deps.jobs.claimRetry(jobId, retry);
  deps.log.info("job retried", { jobId: holder, retryOf: jobId });
  return announceRetry(deps, old, holder);
}

async function announceRetry(deps: Deps, old: JobItem, retryId: string): Promise<{ jobId: string }> {
  const job = await getJob(deps, retryId);
  // a retried POST that raced the retry job to its end must not leave a slot held (release is idempotent)
  if (job && isFinal(job.status)) await deps.jobs.releaseSlot(job.owner, retryId);
  if (job?.status === "QUEUED" && job.sourceBucket && job.sourceKey) {
    const size = job.sourceSize ?? 0;
    await deps.events.publish(
      makeEvent("VideoUploaded", {
        jobId: retryId,
        owner: job.owner,
        source: {
          bucket: job.sourceBucket,
          key: job.sourceKey,
          size,
          megabytes: toMegabytes(size),
          name: old.sourceName,
        },
        ladder: job.ladder,
        formats: storedFormats(job.formats),
      }),
    );
  }
  return { jobId: retryId };
}
