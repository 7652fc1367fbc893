import { makeEvent, toMegabytes } from "@videoforge/events";
import { ConflictError, NotFoundError } from "../errors.ts";
import { getJob } from "./job.ts";
import { newId } from "./upload.ts";
import type { Deps } from "./deps.ts";

/**
 * Start a new job on a failed or cancelled job's stored source, with the same ladder.
 * The source stays in the uploads bucket, so nothing is uploaded again: the new job is
 * queued and announced with VideoUploaded exactly as a completed upload would be.
 * The new job records `retryOf`; the old one is left as it ended.
 */
export async function retryJob(deps: Deps, owner: string, jobId: string): Promise<{ jobId: string }> {
  const old = await getJob(deps, jobId);
  // someone else's job looks exactly like a missing one
  if (!old || old.owner !== owner) throw new NotFoundError(`No job ${jobId}.`);
  if (old.status !== "FAILED" && old.status !== "CANCELLED") throw new ConflictError(`Only a failed or cancelled job can be retried; job ${jobId} is ${old.status}.`);
  const stored = old.sourceBucket && old.sourceKey ? await deps.store.head(old.sourceBucket, old.sourceKey) : null;
  if (!old.sourceBucket || !old.sourceKey || !stored || stored.size === 0) throw new ConflictError(`Job ${jobId} has no stored source to retry with; upload the file again.`);
  if (old.sourceSize !== undefined && stored.size !== old.sourceSize) throw new ConflictError(`Job ${jobId}'s upload never completed; upload the file again.`);

  const retry = newId();
  await deps.db.entities.job
    .create({ jobId: retry, owner, status: "QUEUED", sourceName: old.sourceName, sourceBucket: old.sourceBucket, sourceKey: old.sourceKey, sourceSize: stored.size, ladder: old.ladder, retryOf: jobId, createdAt: Date.now() })
    .go();
  await deps.events.publish(
    makeEvent("VideoUploaded", {
      jobId: retry,
      owner,
      source: { bucket: old.sourceBucket, key: old.sourceKey, size: stored.size, megabytes: toMegabytes(stored.size), name: old.sourceName },
      ladder: old.ladder,
    }),
  );
  deps.log.info("job retried", { jobId: retry, retryOf: jobId });
  return { jobId: retry };
}
