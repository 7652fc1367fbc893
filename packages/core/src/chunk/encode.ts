import { join } from "node:path";
import { makeEvent, type EventDetail } from "@videoforge/events";
import { FfmpegError, firstLine, type Ffmpeg, type FfmpegProgress } from "../ffmpeg/run.ts";
import {
  CHUNK_TS_OFFSET,
  chunkContainerOf,
  encodeChunkArgs,
  PICTURE_TOO_LARGE,
  searchesScenes,
  type FrameRange,
} from "../ffmpeg/args.ts";
import { variantName } from "../media/formats.ts";
import { demuxerOf, firstPacketTime } from "../media/probe.ts";
import { getJob, isFinal } from "../job/lifecycle.ts";
import { keys, pieceName, withScratch, type Deps } from "../deps.ts";
import { isTransient, PublishError } from "../job/failures.ts";
import { putMetric } from "../metrics.ts";
import { encodeToTarget } from "./target-quality.ts";

/** Attempts per chunk, counted in the table so crashed workers count too. */
export const MAX_CHUNK_ATTEMPTS = 3;

/**
 * ChunkReady → decode the chunk once, encode every rung, store them, announce ChunkEncoded.
 *
 * Attempts count failures of the work itself. One is spent when the work starts, so a
 * crash or an OOM kill (which never reaches the catch) counts; a transient platform error
 * (throttling, a storage 5xx, a failed publish) gives it back and is retried. A chunk whose
 * attempts are spent fails its job at once with the reason, even when re-announced later
 * (the sweeper, a redrive), so a file that kills its worker every time is not tried forever.
 * A work failure publishes ChunkFailed (final on the last attempt) and rethrows so the
 * runtime retries.
 */
export async function encodeChunk(
  deps: Deps,
  event: EventDetail<"ChunkReady">,
  opts: EncodeOptions = {},
): Promise<void> {
  const { onProgress, signal, work = encodeWork } = opts;
  const { jobId, chunk } = event;
  const log = deps.log.child({ jobId, chunk: chunk.index });
  const job = await getJob(deps, jobId);
  if (!job || isFinal(job.status)) return log.info("job ended; skipping chunk", { status: job?.status });
  const row = await deps.jobs.getChunk(jobId, chunk.index);
  const ref = { index: chunk.index, count: chunk.count, codec: chunk.codec };
  if (row?.status === "ENCODED") {
    // the tracker marks the row, then adds the index to the job's set: stopped between the two writes,
    // the set never completes unless the chunk is announced again from its row (its outputs are stored)
    if (job.encodedChunks?.includes(chunk.index) || !row.outputs) return log.info("chunk already encoded");
    await deps.events.publish(
      makeEvent("ChunkEncoded", {
        jobId,
        chunk: ref,
        outputs: row.outputs as EventDetail<"ChunkEncoded">["outputs"],
        worker: row.worker ?? deps.worker,
        attempt: Math.max(1, row.attempts ?? 1),
        startedAt: new Date(row.startedAt ?? row.finishedAt ?? Date.now()).toISOString(),
        finishedAt: new Date(row.finishedAt ?? Date.now()).toISOString(),
      }),
    );
    return log.info("chunk encoded but missing from the job's set; announced again");
  }
  if ((row?.attempts ?? 0) >= MAX_CHUNK_ATTEMPTS) {
    // the last attempt never reported back: its worker died (killed, out of memory)
    const lastOn = row?.worker ?? "an unknown worker";
    const reason =
      row?.error ??
      `the worker stopped during each of ${row?.attempts} attempts (last on ${lastOn}); ` +
        "the chunk may be killing its encoder, e.g. out of memory";
    await deps.events.publish(
      makeEvent("ChunkFailed", {
        jobId,
        chunk: ref,
        attempt: row?.attempts ?? MAX_CHUNK_ATTEMPTS,
        final: true,
        reason,
        worker: deps.worker,
      }),
    );
    return log.warn("chunk out of attempts; not trying again", { attempts: row?.attempts });
  }

  const counted = await deps.jobs.startChunkAttempt(jobId, chunk.index, deps.worker, Date.now(), true);
  const attempt = counted.attempts ?? 1;
  const startedAt = new Date().toISOString();

  let outputs;
  let cut;
  try {
    ({ outputs, cut } = await work(deps, event, onProgress, signal, demuxerOf(job.source?.container ?? "")));
  } catch (err) {
    if (isTransient(err) || signal?.aborted) {
      // not the work's fault (or the job was cancelled): the attempt is given back
      await deps.jobs.refundChunkAttempt(jobId, chunk.index);
      log.warn("chunk attempt interrupted; retrying without spending an attempt", { attempt, err });
      throw err;
    }
    // people read the reason: the first line only (ffmpeg's own text, with paths and URLs, stays in the log)
    const reason = firstLine(err).slice(0, 2000);
    // a picture past the limit is refused again on every attempt
    const final =
      attempt >= MAX_CHUNK_ATTEMPTS || (err instanceof FfmpegError && PICTURE_TOO_LARGE.test(err.stderrTail));
    log.error("chunk attempt failed", { attempt, final, err });
    await deps.events.publish(
      makeEvent("ChunkFailed", { jobId, chunk: ref, attempt, final, reason, worker: deps.worker }),
    );
    if (!final) throw err;
    return;
  }
  try {
    await deps.events.publish(
      makeEvent("ChunkEncoded", {
        jobId,
        chunk: ref,
        outputs,
        ...(cut ? { cut } : {}),
        worker: deps.worker,
        attempt,
        startedAt,
        finishedAt: new Date().toISOString(),
      }),
    );
  } catch (err) {
    // the outputs are stored; only the announcement failed: retry it without spending an attempt
    await deps.jobs.refundChunkAttempt(jobId, chunk.index);
    throw new PublishError(`ChunkEncoded could not be published: ${(err as Error).message}`, { cause: err });
  }
  log.info("chunk encoded", { attempt, frames: outputs[0]!.frames, ...(cut ? { cut } : {}) });
  // operators' view: how long a chunk took, and how long it waited for a worker (back-pressure)
  const began = Date.parse(startedAt);
  putMetric("ChunkEncodeSeconds", (Date.now() - began) / 1000, { jobId, chunk: chunk.index });
  putMetric("QueueWaitSeconds", Math.max(0, began - Date.parse(event.occurredAt)) / 1000, {
    jobId,
    chunk: chunk.index,
  });
}

export interface EncodeOptions {
  onProgress?: (p: FfmpegProgress) => void;
  /** Aborted when the job is cancelled: the running ffmpeg is killed. */
  signal?: AbortSignal;
  /** The media part (real ffmpeg by default; the fault matrix injects a stand-in). */
  work?: EncodeWork;
}
export type EncodeWork = (
  deps: Deps,
  event: EventDetail<"ChunkReady">,
  onProgress?: (p: FfmpegProgress) => void,
  signal?: AbortSignal,
  sourceFormat?: string,
) => Promise<EncodedChunk>;

/** What the media part made: every rung stored, and where a scene-searched window's cuts fell. */
export interface EncodedChunk {
  outputs: EventDetail<"ChunkEncoded">["outputs"];
  cut?: EventDetail<"ChunkEncoded">["cut"];
}

/** The media part: encode every rung of the chunk, check the frame counts, store the outputs. */
export async function encodeWork(
  deps: Deps,
  event: EventDetail<"ChunkReady">,
  onProgress?: (p: FfmpegProgress) => void,
  signal?: AbortSignal,
  sourceFormat?: string,
): Promise<EncodedChunk> {
  const { chunk } = event;
  return withScratch(deps.cfg, async (dir) => {
    const { input, range, seek } = chunk.window ? await windowInput(deps, chunk) : await pieceInput(deps, chunk, dir);
    // a scene search finds the window's frames while decoding: how many is known only afterwards
    const searched = searchesScenes(range);
    const watermark = event.watermark && {
      ...event.watermark,
      file: join(dir, `watermark.${event.watermark.image.format}`),
    };
    if (watermark) await deps.store.download(watermark.image.bucket, watermark.image.key, watermark.file);
    const { codec } = chunk;
    const container = chunkContainerOf(codec);
    const files = event.renditions.map((r) => ({ rendition: r, file: join(dir, `${r.name}.${container}`) }));
    const settings = { ...deps.cfg.x264, gop: event.gop };
    const pictures = {
      codec,
      rotation: event.rotation,
      threads: deps.ffmpeg.threads,
      range,
      ...(searched ? {} : { frames: chunk.frames }),
      seek,
      format: chunk.window ? sourceFormat : chunk.format,
      maxPixels: deps.cfg.limits.maxPixels,
      ...(watermark ? { watermark: { ...watermark, format: watermark.image.format } } : {}),
      ...(event.colour ? { colour: event.colour } : {}),
    };
    // the decoder refuses a picture past the limit (a size change mid-stream); the run stops there
    const encode = (args: string[]) =>
      deps.ffmpeg.run(args, {
        timeoutMs: deps.cfg.ffmpegTimeoutMs,
        stallMs: deps.cfg.ffmpegStallMs,
        onProgress,
        signal,
        failOnStderr: PICTURE_TOO_LARGE,
      });
    const reached = event.quality
      ? await encodeToTarget(deps.ffmpeg, {
          input,
          outputs: files,
          settings,
          pictures,
          target: event.quality,
          encode,
          measure: { signal, timeoutMs: deps.cfg.ffmpegTimeoutMs },
        })
      : await encode(encodeChunkArgs(input, files, settings, pictures, deps.ffmpeg.capabilities)).then(() => []);
    if (event.quality)
      deps.log.info("chunk encoded to target quality", {
        jobId: event.jobId,
        chunk: chunk.index,
        target: event.quality.ssim,
        reached: reached.map((q, i) => ({ rendition: files[i]!.rendition.name, ...q })),
      });
    // every rung must hold exactly the chunk's frames; counted in one pass over all of them
    const spans = await measureFrames(
      deps.ffmpeg,
      files.map((f) => f.file),
    );
    const counts = spans.map((m) => m.frames);
    // with a scene search every rung holds the same frames, wherever the cuts fell
    const expected = searched ? Math.max(1, counts[0]!) : chunk.frames;
    files.forEach(({ rendition }, i) => {
      if (counts[i] !== expected)
        throw new Error(`rendition ${rendition.name} has ${counts[i]} frames, expected ${expected}`);
    });
    // where the window really began and ended: its outputs keep the source's timestamps, moved by the offset
    const cut =
      searched && chunk.window
        ? {
            startTime: Math.max(0, chunk.startTime + spans[0]!.first - CHUNK_TS_OFFSET - chunk.window.start),
            duration: spans[0]!.end - spans[0]!.first,
          }
        : undefined;
    const outputs = await Promise.all(
      files.map(async ({ rendition, file }, i) => {
        // stored by variant and piece, so the assembler joins one variant's pieces in order
        const variant = variantName(rendition.name, codec);
        const key = keys.encoded(event.outputPrefix, variant, chunk.piece ?? chunk.index, container);
        const type = container === "mpegts" ? "video/mp2t" : "application/octet-stream";
        const { bytes } = await deps.store.upload(event.outputBucket, key, file, type);
        return { rendition: variant, key, frames: counts[i]!, bytes, ...(reached[i] ? { quality: reached[i] } : {}) };
      }),
    );
    return { outputs, ...(cut ? { cut } : {}) };
  });
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
  await Promise.all([
    deps.store.download(chunk.source.bucket, chunk.source.key, own),
    chunk.next && next ? deps.store.download(chunk.next.bucket, chunk.next.key, next) : undefined,
  ]);
  const [start, end] = await Promise.all([
    firstPacketTime(deps.ffmpeg, own),
    next ? firstPacketTime(deps.ffmpeg, next) : undefined,
  ]);
  return { input: next ? `concat:${own}|${next}` : own, range: { start, end } };
}

/**
 * A window of the source itself, read in place through a presigned URL (no copy): ffmpeg
 * seeks to the keyframe before the window and the range filter keeps the window's frames.
 */
async function windowInput(deps: Deps, chunk: ReadyChunk): Promise<ChunkInput> {
  const w = chunk.window!;
  const url = await deps.store.presignGet(chunk.source.bucket, chunk.source.key, URL_SECONDS);
  const search = {
    ...(w.startSearch !== undefined ? { startSearch: w.startSearch } : {}),
    ...(w.endSearch !== undefined ? { endSearch: w.endSearch } : {}),
  };
  return { input: url, range: { start: w.start, end: w.end, ...search }, seek: w.seek };
}

/** One file's video frames, and the seconds from its first frame's start to its last frame's end. */
interface FrameSpan {
  frames: number;
  first: number;
  end: number;
}

/** Video packets (= frames) of each file and their span, read in one ffmpeg run by stream copy (no decoding). */
async function measureFrames(ff: Ffmpeg, files: readonly string[]): Promise<FrameSpan[]> {
  const inputs = files.flatMap((f) => ["-i", f]);
  const maps = files.flatMap((_, i) => ["-map", `${i}:v:0`]);
  const { stdout } = await ff.exec(
    "ffmpeg",
    // -copyts: the files' own timestamps, not shifted to start at 0
    [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-copyts",
      ...inputs,
      ...maps,
      "-c",
      "copy",
      "-f",
      "framecrc",
      "-",
    ],
    { timeoutMs: 10 * 60_000 },
  );
  const spans = files.map(() => ({ frames: 0, first: Infinity, end: -Infinity }));
  const timeBases = files.map(() => 1);
  // "#tb 0: 1/90000" per stream, then one line per packet: stream, dts, pts, duration, size, crc
  for (const line of stdout.split("\n")) {
    const tb = /^#tb (\d+): (\d+)\/(\d+)/.exec(line);
    if (tb) timeBases[Number(tb[1])] = Number(tb[2]) / Number(tb[3]);
    const m = /^(\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),/.exec(line);
    if (!m) continue;
    const i = Number(m[1]);
    const span = spans[i]!;
    const pts = Number(m[3]) * timeBases[i]!;
    span.frames += 1;
    span.first = Math.min(span.first, pts);
    span.end = Math.max(span.end, pts + Number(m[4]) * timeBases[i]!);
  }
  return spans;
}
