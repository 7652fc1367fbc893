import { makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import { failJob } from "./job.ts";
import { firstLine } from "../ffmpeg/run.ts";
import type { Deps } from "./deps.ts";

/**
 * ChunkEncoded → record the chunk (its row for the dashboard, its index in the job's set).
 * Adding to a set is idempotent and the write returns the set as it was, so exactly one
 * delivery — the one whose write made the set whole — publishes ChunksEncoded.
 */
export async function trackChunk(deps: Deps, event: EventDetail<"ChunkEncoded">): Promise<void> {
  const { jobId, chunk } = event;
  const log = deps.log.child({ jobId, chunk: chunk.index });
  await deps.db.entities.chunk
    .patch({ jobId, index: chunk.index })
    .set({ status: "ENCODED", worker: event.worker, startedAt: Date.parse(event.startedAt), finishedAt: Date.parse(event.finishedAt), outputs: event.outputs })
    .go();
  const before = await deps.db.entities.job.patch({ jobId }).add({ encodedChunks: [chunk.index] }).go({ response: "all_old" });
  const had = before.data.encodedChunks ?? [];
  if (had.includes(chunk.index)) return log.info("duplicate ChunkEncoded ignored");
  const { chunkCount = 0, sourceSize = 0 } = before.data;
  log.info("chunk recorded", { encoded: had.length + 1, chunkCount });
  if (had.length + 1 === chunkCount) await deps.events.publish(makeEvent("ChunksEncoded", { jobId, chunkCount, sourceMegabytes: toMegabytes(sourceSize) }));
}

/** ChunkFailed (final) → the chunk is out of attempts: the job fails with the chunk's reason. */
export async function failOnChunk(deps: Deps, event: EventDetail<"ChunkFailed">): Promise<void> {
  const { jobId, chunk } = event;
  await deps.db.entities.chunk.patch({ jobId, index: chunk.index }).set({ status: "FAILED", error: event.reason }).go();
  await failJob(deps, jobId, "encoding", `Chunk ${chunk.index + 1} of ${chunk.count} failed after ${event.attempt} attempts: ${firstLine(event.reason)}`);
}
