import { makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import { isConditionFailure } from "../db/index.ts";
import { failJob, getJob } from "./job.ts";
import type { Deps } from "./deps.ts";

/**
 * ChunkEncoded → mark the chunk done (conditional: once), bump the job's counter
 * atomically; the write that makes the count whole publishes ChunksEncoded.
 */
export async function trackChunk(deps: Deps, event: EventDetail<"ChunkEncoded">): Promise<void> {
  const { jobId, chunk } = event;
  const log = deps.log.child({ jobId, chunk: chunk.index });
  let first = true;
  try {
    await deps.db.entities.chunk
      .patch({ jobId, index: chunk.index })
      .set({ status: "ENCODED", worker: event.worker, startedAt: Date.parse(event.startedAt), finishedAt: Date.parse(event.finishedAt), outputs: event.outputs })
      .where((a, op) => op.ne(a.status, "ENCODED"))
      .go();
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    first = false;
  }
  if (first) {
    const frames = event.outputs[0]?.frames ?? 0;
    const res = await deps.db.entities.job.patch({ jobId }).add({ chunksEncoded: 1, framesEncoded: frames }).go({ response: "all_new" });
    const { chunksEncoded = 0, chunkCount = 0, sourceSize = 0 } = res.data;
    log.info("chunk recorded", { chunksEncoded, chunkCount });
    if (chunksEncoded === chunkCount) await deps.events.publish(makeEvent("ChunksEncoded", { jobId, chunkCount, sourceMegabytes: toMegabytes(sourceSize) }));
    return;
  }
  // A redelivery. If the earlier delivery died between its two writes, the counter is short:
  // recount from the chunk rows and finish the set if it is complete (the assembler is idempotent).
  const [job, rows] = await Promise.all([getJob(deps, jobId), deps.db.entities.chunk.query.byJob({ jobId }).go({ pages: "all" })]);
  const done = rows.data.filter((c) => c.status === "ENCODED").length;
  if (job?.status === "ENCODING" && job.chunkCount === done && (job.chunksEncoded ?? 0) < done) {
    log.warn("repairing chunk counter after a partial write", { done });
    await deps.db.entities.job.patch({ jobId }).set({ chunksEncoded: done }).go();
    await deps.events.publish(makeEvent("ChunksEncoded", { jobId, chunkCount: done, sourceMegabytes: toMegabytes(job.sourceSize ?? 0) }));
  } else {
    log.info("duplicate ChunkEncoded ignored");
  }
}

/** ChunkFailed (final) → the chunk is out of attempts: the job fails with the chunk's reason. */
export async function failOnChunk(deps: Deps, event: EventDetail<"ChunkFailed">): Promise<void> {
  const { jobId, chunk } = event;
  await deps.db.entities.chunk.patch({ jobId, index: chunk.index }).set({ status: "FAILED", error: event.reason }).go();
  const firstLine = event.reason.split("\n")[0];
  await failJob(deps, jobId, "encoding", `Chunk ${chunk.index + 1} of ${chunk.count} failed after ${event.attempt} attempts: ${firstLine}`);
}
