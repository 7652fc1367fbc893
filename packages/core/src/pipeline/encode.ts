import { join } from "node:path";
import { makeEvent, type EventDetail } from "@videoforge/events";
import { ffmpeg, runProcess, type FfmpegProgress } from "../ffmpeg/run.ts";
import { ffmpegBinaries } from "../ffmpeg/locate.ts";
import { encodeChunkArgs, type FrameRange } from "../ffmpeg/args.ts";
import { firstPacketTime } from "../media/probe.ts";
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
      const { input, range, seek } = chunk.window ? await windowInput(deps, chunk) : await pieceInput(deps, chunk, dir);
      const files = event.renditions.map((r) => ({ rendition: r, file: join(dir, `${r.name}.ts`) }));
      const args = encodeChunkArgs(input, files, { ...deps.cfg.x264, gop: event.gop }, { rotation: event.rotation, threads: deps.cfg.encoderThreads, range, frames: chunk.frames, seek });
      await ffmpeg(args, { timeoutMs: deps.cfg.ffmpegTimeoutMs, stallMs: deps.cfg.ffmpegStallMs, onProgress });
      // every rung must hold exactly the chunk's frames; counted in one pass over all of them
      const counts = await countFrames(files.map((f) => f.file));
      files.forEach(({ rendition }, i) => {
        if (counts[i] !== chunk.frames) throw new Error(`rendition ${rendition.name} has ${counts[i]} frames, expected ${chunk.frames}`);
      });
      return Promise.all(
        files.map(async ({ rendition, file }, i) => {
          const key = keys.encoded(event.outputPrefix, rendition.name, chunk.index);
          const { bytes } = await deps.store.upload(event.outputBucket, key, file, "video/mp2t");
          return { rendition: rendition.name, key, frames: counts[i]!, bytes };
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

type ReadyChunk = EventDetail<"ChunkReady">["chunk"];
/** Input URLs must outlive the longest encode (the ffmpeg timeout is the bound). */
const URL_SECONDS = 6 * 3600;
interface ChunkInput {
  input: string;
  range: FrameRange;
  seek?: number;
}

/**
 * A keyframe piece plus the next one's head (for leading frames). With the range the chunker
 * measured, both are read in place through presigned URLs; without it (an older event) they
 * are downloaded and measured here.
 */
async function pieceInput(deps: Deps, chunk: ReadyChunk, dir: string): Promise<ChunkInput> {
  if (chunk.range) {
    const url = (ref: { bucket: string; key: string }) => deps.store.presignGet(ref.bucket, ref.key, URL_SECONDS);
    const [own, next] = await Promise.all([url(chunk.source), chunk.next ? url(chunk.next) : undefined]);
    return { input: next ? `concat:${own}|${next}` : own, range: chunk.range };
  }
  const own = join(dir, pieceName(chunk.index, chunk.format));
  const next = chunk.next ? join(dir, pieceName(chunk.index + 1, "mpegts")) : undefined;
  await Promise.all([deps.store.download(chunk.source.bucket, chunk.source.key, own), chunk.next && next ? deps.store.download(chunk.next.bucket, chunk.next.key, next) : undefined]);
  const [start, end] = await Promise.all([firstPacketTime(own), next ? firstPacketTime(next) : undefined]);
  return { input: next ? `concat:${own}|${next}` : own, range: { start, end } };
}

/**
 * A window of the source itself, read in place through a presigned URL (no copy): ffmpeg
 * seeks to the keyframe before the window and the range filter keeps the window's frames.
 */
async function windowInput(deps: Deps, chunk: ReadyChunk): Promise<ChunkInput> {
  const w = chunk.window!;
  const url = await deps.store.presignGet(chunk.source.bucket, chunk.source.key, URL_SECONDS);
  return { input: url, range: { start: w.start, end: w.end }, seek: w.seek };
}

/** Video packets (= frames) of each file, read in one ffmpeg run by stream copy (no decoding). */
async function countFrames(files: readonly string[]): Promise<number[]> {
  const inputs = files.flatMap((f) => ["-i", f]);
  const maps = files.flatMap((_, i) => ["-map", `${i}:v:0`]);
  const { stdout } = await runProcess(ffmpegBinaries().ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", ...inputs, ...maps, "-c", "copy", "-f", "framecrc", "-"], { timeoutMs: 10 * 60_000 });
  const counts = files.map(() => 0);
  // framecrc lines start with the output stream index: one stream per input here
  for (const line of stdout.split("\n")) {
    const m = /^(\d+),/.exec(line);
    if (m) counts[Number(m[1])]! += 1;
  }
  return counts;
}
