import { makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import type { JobItem } from "../db/index.ts";
import { failJob } from "../job/lifecycle.ts";
import { firstLine } from "../ffmpeg/run.ts";
import type { Deps } from "../deps.ts";
import { announceIfPlayable } from "../output/preview.ts";

/**
 * ChunkEncoded → record the chunk (its row for the dashboard, its index in the job's set).
 * Adding to a set is idempotent; whenever the set is whole after the write, this delivery
 * announces ChunksEncoded, also a redelivery that finds its index already there (its first
 * publish may have failed). The assembler is idempotent, so a duplicate costs nothing.
 */
export async function trackChunk(deps: Deps, event: EventDetail<"ChunkEncoded">): Promise<void> {
  const { jobId, chunk } = event;
  const log = deps.log.child({ jobId, chunk: chunk.index });
  await deps.jobs.markChunkEncoded(jobId, chunk.index, {
    worker: event.worker,
    startedAt: Date.parse(event.startedAt),
    finishedAt: Date.parse(event.finishedAt),
    outputs: event.outputs,
    // a window cut at a scene change: the row says when it really is (the preview's segments, the assembly);
    // its outputs say how many frames it holds
    ...(event.cut ?? {}),
  });
  const after = await deps.jobs.addEncodedChunk(jobId, chunk.index);
  const encoded = after.encodedChunks?.length ?? 0;
  log.info("chunk recorded", { encoded, chunkCount: after.chunkCount });
  await announceIfPlayable(deps, after);
  await announceIfWhole(deps, after);
}

/**
 * ChunksEncoded when the job's state says it is due: ENCODING with every chunk in the set
 * (once ASSEMBLING, the assembler has it). The count is there only once the chunker has
 * announced every chunk, so a partial set can never look whole.
 */
export async function announceIfWhole(deps: Pick<Deps, "events">, job: JobItem): Promise<boolean> {
  const { chunkCount, sourceSize = 0 } = job;
  // the count is written once every chunk is announced (0: an audio-only job, whole as soon as it is chunked)
  const whole = chunkCount !== undefined && (job.encodedChunks?.length ?? 0) >= chunkCount;
  if (!whole || job.status !== "ENCODING") return false;
  await deps.events.publish(
    makeEvent("ChunksEncoded", { jobId: job.jobId, chunkCount, sourceMegabytes: toMegabytes(sourceSize) }),
  );
  return true;
}

/** ChunkFailed (final) → the chunk is out of attempts: the job fails with the chunk's reason. */
export async function failOnChunk(deps: Deps, event: EventDetail<"ChunkFailed">): Promise<void> {
  const { jobId, chunk } = event;
  await deps.jobs.markChunkFailed(jobId, chunk.index, event.reason);
  await failJob(
    deps,
    jobId,
    "encoding",
    `Chunk ${chunk.index + 1} of ${chunk.count} failed after ${event.attempt} attempts: ${firstLine(event.reason)}`,
  );
}
