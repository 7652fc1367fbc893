import { join } from "node:path";
import { makeEvent, type EventDetail } from "@videoforge/events";
import { ffmpeg, type FfmpegProgress } from "../ffmpeg/run.ts";
import { encodeChunkArgs } from "../ffmpeg/args.ts";
import { firstPacketTime, measureOutput } from "../media/probe.ts";
import { getJob, isFinal } from "./job.ts";
import { keys, pieceName, withScratch, type Deps } from "./deps.ts";

/** Attempts per chunk, counted in the table so crashed workers count too. */
export const MAX_CHUNK_ATTEMPTS = 3;

/**
 * ChunkReady → decode the chunk once, encode every rung, store them, announce ChunkEncoded.
 * A failure publishes ChunkFailed (final on the last attempt) and rethrows so the runtime retries.
 */
export async function encodeChunk(deps: Deps, event: EventDetail<"ChunkReady">, onProgress?: (p: FfmpegProgress) => void): Promise<void> {
  const { jobId, chunk } = event;
  const log = deps.log.child({ jobId, chunk: chunk.index });
  const job = await getJob(deps, jobId);
  if (!job || isFinal(job.status)) return log.info("job ended; skipping chunk", { status: job?.status });
  const row = await deps.db.entities.chunk.get({ jobId, index: chunk.index }).go();
  if (row.data?.status === "ENCODED") return log.info("chunk already encoded");

  const counted = await deps.db.entities.chunk.patch({ jobId, index: chunk.index }).add({ attempts: 1 }).set({ startedAt: Date.now(), worker: deps.worker }).go({ response: "all_new" });
  const attempt = counted.data.attempts ?? 1;
  const startedAt = new Date().toISOString();

  try {
    const outputs = await withScratch(deps.cfg, async (dir) => {
      const own = join(dir, pieceName(chunk.index, chunk.format));
      await deps.store.download(chunk.source.bucket, chunk.source.key, own);
      let input = own;
      let end: number | undefined;
      if (chunk.next) {
        const next = join(dir, pieceName(chunk.index + 1, "mpegts"));
        await deps.store.download(chunk.next.bucket, chunk.next.key, next);
        end = await firstPacketTime(next);
        input = `concat:${own}|${next}`;
      }
      const range = { start: await firstPacketTime(own), end };
      const files = event.renditions.map((r) => ({ rendition: r, file: join(dir, `${r.name}.ts`) }));
      const args = encodeChunkArgs(input, files, { ...deps.cfg.x264, gop: event.gop }, { rotation: event.rotation, threads: deps.cfg.encoderThreads, range, frames: chunk.frames });
      await ffmpeg(args, { timeoutMs: deps.cfg.ffmpegTimeoutMs, stallMs: 120_000, onProgress });
      return Promise.all(
        files.map(async ({ rendition, file }) => {
          const { frames } = await measureOutput(file);
          if (frames !== chunk.frames) throw new Error(`rendition ${rendition.name} has ${frames} frames, expected ${chunk.frames}`);
          const key = keys.encoded(event.outputPrefix, rendition.name, chunk.index);
          const { bytes } = await deps.store.upload(event.outputBucket, key, file, "video/mp2t");
          return { rendition: rendition.name, key, frames, bytes };
        }),
      );
    });
    await deps.events.publish(makeEvent("ChunkEncoded", { jobId, chunk: { index: chunk.index, count: chunk.count }, outputs, worker: deps.worker, attempt, startedAt, finishedAt: new Date().toISOString() }));
    log.info("chunk encoded", { attempt, frames: chunk.frames });
  } catch (err) {
    const reason = (err as Error).message.slice(0, 2000);
    const final = attempt >= MAX_CHUNK_ATTEMPTS;
    log.error("chunk attempt failed", { attempt, final, err });
    await deps.events.publish(makeEvent("ChunkFailed", { jobId, chunk: { index: chunk.index, count: chunk.count }, attempt, final, reason, worker: deps.worker }));
    if (!final) throw err;
  }
}
