import { makeEvent, toMegabytes } from "@videoforge/events";
import { applied, type JobItem } from "../db/index.ts";
import type { Deps } from "./deps.ts";

/**
 * After a crash: jobs that are neither ended nor driven by any pending delivery would wait
 * forever. Each gets the event that moves its stage on again; every handler is idempotent,
 * so anything already done (stored chunks, encoded chunks) is kept, not redone.
 *
 * - QUEUED / CHUNKING → VideoUploaded again (the chunker starts over; keys are deterministic).
 * - ENCODING with every chunk in the set → ChunksEncoded (the tracker died before publishing).
 * - ENCODING with chunks missing → back to CHUNKING and VideoUploaded: the chunker re-announces
 *   every chunk and encoders skip the ones already encoded. This also covers a chunker that
 *   died between its transition and its ChunkReady events.
 * - ASSEMBLING → ChunksEncoded again (the assembler starts over).
 */
export async function resumeStalledJobs(deps: Deps, isDriven: (jobId: string) => boolean): Promise<{ jobId: string; status: string; action: string }[]> {
  const active = await activeJobs(deps);
  const resumed: { jobId: string; status: string; action: string }[] = [];
  for (const job of active) {
    if (isDriven(job.jobId) || !job.sourceBucket || !job.sourceKey) continue;
    const action = await resumeOne(deps, job);
    if (action) resumed.push({ jobId: job.jobId, status: job.status, action });
  }
  if (resumed.length) deps.log.info("resumed stalled jobs", { jobs: resumed.length });
  return resumed;
}

async function activeJobs(deps: Deps): Promise<JobItem[]> {
  const found: JobItem[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: JobItem[]; cursor: string | null } = await deps.db.entities.job.scan
      .where((a, op) => `${op.eq(a.status, "QUEUED")} OR ${op.eq(a.status, "CHUNKING")} OR ${op.eq(a.status, "ENCODING")} OR ${op.eq(a.status, "ASSEMBLING")}`)
      .go({ cursor });
    found.push(...page.data);
    cursor = page.cursor;
  } while (cursor);
  return found;
}

function uploaded(job: JobItem) {
  const size = job.sourceSize ?? 0;
  return makeEvent("VideoUploaded", {
    jobId: job.jobId,
    owner: job.owner,
    source: { bucket: job.sourceBucket!, key: job.sourceKey!, size, megabytes: toMegabytes(size), name: job.sourceName },
    ladder: job.ladder,
  });
}

async function resumeOne(deps: Deps, job: JobItem): Promise<string | null> {
  const log = deps.log.child({ jobId: job.jobId });
  switch (job.status) {
    case "QUEUED":
    case "CHUNKING":
      await deps.events.publish(uploaded(job));
      return "chunk again";
    case "ENCODING": {
      const count = job.chunkCount ?? 0;
      if (count > 0 && (job.encodedChunks?.length ?? 0) >= count) {
        await deps.events.publish(makeEvent("ChunksEncoded", { jobId: job.jobId, chunkCount: count, sourceMegabytes: toMegabytes(job.sourceSize ?? 0) }));
        return "assemble";
      }
      // without a chunk count the tracker cannot complete the set while chunks are re-announced;
      // the chunker's last write restores it and announces ChunksEncoded if the set is whole
      const moved = await applied(deps.db.entities.job.patch({ jobId: job.jobId }).set({ status: "CHUNKING" }).remove(["chunkCount"]).where((a, op) => op.eq(a.status, "ENCODING")).go());
      if (!moved) return null;
      await deps.events.publish(uploaded(job));
      log.info("re-announcing chunks", { encoded: job.encodedChunks?.length ?? 0, of: count });
      return "announce missing chunks";
    }
    case "ASSEMBLING":
      await deps.events.publish(makeEvent("ChunksEncoded", { jobId: job.jobId, chunkCount: job.chunkCount ?? 0, sourceMegabytes: toMegabytes(job.sourceSize ?? 0) }));
      return "assemble again";
    default:
      return null;
  }
}
