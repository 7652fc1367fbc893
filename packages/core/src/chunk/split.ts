import { access, mkdir, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { LAMBDA_CHUNK_SECONDS, makeEvent, QualityTarget, Watermark, type EventDetail } from "@videoforge/events";
import { z } from "zod";
import { FfmpegError, firstLine } from "../ffmpeg/run.ts";
import {
  audioArgs,
  CHUNK_TS_OFFSET,
  previewAudioArgs,
  loudnessMeasureArgs,
  loudnormFilter,
  splitArgs,
  TS_CODECS,
  type AudioOutputSpec,
  type AudioRange,
  type AudioTrack,
} from "../ffmpeg/args.ts";
import {
  audioFormatsOf,
  audioTracksFor,
  isAudioOnly,
  parseFormats,
  videoFormatsOf,
  type Format,
} from "../media/formats.ts";
import { extractCaptions } from "../output/captions.ts";
import { chunkCpuSeconds, lambdaChunk } from "./cost.ts";
import { InvalidInputError } from "../errors.ts";
import { frameIndexer, planSource, type PlannedChunk, type PlannedWindow, type SearchedWindow } from "../media/plan.ts";
import { resolveTrim, storedTrim, trimChunks, TrimSpan, type TrimmedChunk } from "../media/trim.ts";
import {
  audioStreamsOf,
  BadSourceError,
  demuxerOf,
  probeAudioSource,
  probeSource,
  type AudioSourceInfo,
  shownPackets,
  videoPackets,
  type Packet,
  type SourceInfo,
} from "../media/probe.ts";
import { fitLadder, parseLadder } from "../media/ladder.ts";
import { outputColour, TONE_MAP_NEEDS, TONE_MAPPED_NOTE } from "../media/colour.ts";
import { getJob, failJob, isFinal, transition } from "../job/lifecycle.ts";
import { announceIfPlayable, PREVIEW_PLAYLIST } from "../output/preview.ts";
import { announceIfWhole } from "./track.ts";
import type { JobItem } from "../db/index.ts";
import { keys, pieceName, withScratch, type ChunkFormat, type Deps } from "../deps.ts";
import { checkLimits } from "../job/limits.ts";
import { AUDIO_WORK_PER_SECOND, chargeDailyWork, dailyWorkUsedUp } from "../job/quota.ts";

/** GOP of two seconds: HLS segments then cut on keyframes that line up across rungs. */
export function gopFor(fps: number): number {
  return Math.max(1, Math.round(fps * 2));
}

/**
 * VideoUploaded → probe, plan chunks, announce each one as soon as it can be encoded
 * (a keyframe piece once split, verified and stored; a window of a sparse-keyframe source
 * at once), while the audio is encoded once alongside. Safe to run twice: keys are
 * deterministic and chunk rows are created only once.
 */
export async function chunkSource(
  deps: Deps,
  event: EventDetail<"VideoUploaded">,
  work: ChunkWork = chunkMedia,
): Promise<void> {
  const { jobId } = event;
  const log = deps.log.child({ jobId });
  let job = await getJob(deps, jobId);
  if (!job) {
    // a VideoUploaded published without the API (e.g. by an S3 notification): adopt it
    await deps.jobs.createJob({
      jobId,
      owner: event.owner,
      status: "QUEUED",
      sourceName: event.source.name,
      sourceBucket: event.source.bucket,
      sourceKey: event.source.key,
      sourceSize: event.source.size,
      ladder: event.ladder,
      createdAt: Date.now(),
    });
    job = await getJob(deps, jobId);
  }
  if (!job || isFinal(job.status)) return log.info("job already ended; nothing to chunk", { status: job?.status });
  if (job.status !== "QUEUED" && job.status !== "CHUNKING") {
    // a redelivery after the chunker's last write: if its ChunksEncoded did not go out, it goes now
    await announceIfPlayable(deps, job);
    const announced = await announceIfWhole(deps, job);
    return log.info("job already chunked", { status: job.status, announced });
  }
  await transition(deps, jobId, ["QUEUED", "CHUNKING"], "CHUNKING");

  let ladder;
  let formats;
  try {
    ladder = parseLadder(event.ladder);
    formats = parseFormats(job.formats ?? event.formats);
  } catch (err) {
    return failJob(deps, jobId, "chunking", (err as Error).message);
  }
  // an ffmpeg without an encoder a format needs would fail every chunk of that format: say so once
  const missing = await deps.ffmpeg.missingEncoders([...videoFormatsOf(formats), ...audioTracksFor(formats)]);
  if (missing) return failJob(deps, jobId, "chunking", missing);

  // an audio-only job has no chunks: its audio is made here, and the set of no chunks is whole
  const chunkCount = await (isAudioOnly(formats) ? chunkAudioOnly : work)(deps, event, job, ladder, formats);
  if (typeof chunkCount === "number") await endChunking(deps, jobId, chunkCount);
}

/**
 * The media part of chunking: probe, plan, split, store and announce every chunk; the chunk count, or nothing
 * when it failed the job.
 */
export type ChunkWork = (
  deps: Deps,
  event: EventDetail<"VideoUploaded">,
  job: JobItem,
  ladder: ReturnType<typeof parseLadder>,
  formats: Format[],
) => Promise<number | void>;

/** Real chunking in a scratch folder that is removed afterwards. */
export const chunkMedia: ChunkWork = (deps, event, job, ladder, formats) => {
  const codecs = videoFormatsOf(formats);
  const { jobId } = event;
  const log = deps.log.child({ jobId });
  return withScratch(deps.cfg, async (dir) => {
    const source = join(dir, "source");
    await deps.store.download(event.source.bucket, event.source.key, source);
    let probed: Awaited<ReturnType<typeof probeSource>>;
    try {
      // size and declared length are refused from the header, before a single packet is read
      const limits = deps.cfg.limits;
      probed = await probeSource(deps.ffmpeg, source, {
        precheck: (declared) => checkLimits(declared, limits),
        caps: limits,
      });
      const { video, duration } = probed.info;
      checkLimits(
        {
          width: video.width,
          height: video.height,
          duration,
          fps: video.fps,
          frames: video.frames,
          size: probed.info.size,
        },
        limits,
      );
    } catch (err) {
      if (err instanceof BadSourceError) return failJob(deps, jobId, "chunking", err.message);
      throw err;
    }
    const { info, packets } = probed;
    const audioOnly = audioFormatsOf(formats);
    if (audioOnly.length && !info.audio)
      return failJob(
        deps,
        jobId,
        "chunking",
        `The source has no audio track, so ${audioOnly.join(" and ")} cannot be made; ` +
          "choose video formats only, or upload a file with sound.",
      );
    const renditions = fitLadder(ladder, info.video.displayWidth, info.video.displayHeight);
    const colour = outputColour(info.video);
    if (colour.toneMap) {
      const missing = await deps.ffmpeg.missingFilters(TONE_MAP_NEEDS, "Tone-mapping this HDR source to SDR");
      if (missing) return failJob(deps, jobId, "chunking", missing);
    }
    // MP4/MOV and Matroska/WebM carry a seek index, so a window's seek lands on its keyframe
    const seekable = /mp4|mov|matroska|webm/.test(info.container);
    // the plan's parameters are stored at first chunking: a re-chunking (sweeper, redelivery)
    // must cut the same chunks, whatever the configuration says now (encoded rows are kept)
    const params = planParams(job, deps.cfg, seekable);
    const plan = planSource(packets, params.chunkSeconds, {
      slots: params.slots,
      seekable: params.seekable,
      lead: params.lead,
      scenes: params.scenes,
    });
    // a trim keeps the planned cuts (the same pieces, whatever the range) and narrows the chunks to it
    const wanted = storedTrim(job.trim);
    let span: TrimSpan | undefined;
    try {
      span = wanted ? resolveTrim(packets, info.video, wanted) : undefined;
    } catch (err) {
      if (err instanceof BadSourceError) return failJob(deps, jobId, "chunking", err.message);
      throw err;
    }
    const chunks: PlanChunk[] = span
      ? trimChunks<PlannedChunk | PlannedWindow>(plan.chunks, span, frameIndexer(packets))
      : plan.chunks.map((c) => ({ ...c, piece: c.index }));
    log.info("planned chunks", {
      mode: plan.mode,
      chunks: chunks.length,
      frames: span?.frames ?? info.video.frames,
      ...(span ? { trim: { start: span.start, end: span.end } } : {}),
      renditions: renditions.map((r) => `${r.name}:${r.width}x${r.height}`),
      formats,
    });
    // the day's encode work is charged before anything is split: frames × pixels of every rendition, times the
    // encodes a target quality may take per chunk (its probes, each measured)
    const pixels = renditions.reduce((sum, r) => sum + r.width * r.height, 0);
    const quality = job.targetSsim !== undefined ? QualityTarget.parse({ ssim: job.targetSsim }) : undefined;
    const encodeWork = codecs.length * (span?.frames ?? info.video.frames) * pixels * (quality?.maxProbes ?? 1);
    if (!(await chargeDailyWork(deps, job.owner, jobId, encodeWork)))
      return failJob(deps, jobId, "chunking", dailyWorkUsedUp());
    // the job shows its source and ladder while its chunks are announced one by one
    await deps.jobs.recordChunking(jobId, {
      source: info satisfies SourceInfo,
      renditions,
      plan: { ...params, chunks: chunks.length, ...(span ? { span } : {}) },
      ...(colour.toneMap ? { notes: [TONE_MAPPED_NOTE] } : {}),
    });

    const work = deps.cfg.buckets.work;
    const format = TS_CODECS.has(info.video.codec) ? "mpegts" : "matroska";
    // the plan counts time from the first frame shown; an edit list may hide packets before it
    const firstPts = shownPackets(packets).reduce((lo, p) => Math.min(lo, p.pts), Infinity);
    const earliestPts = packets.reduce((lo, p) => Math.min(lo, p.pts), Infinity);
    // frames an edit list hides past the end are decoded from the source but never kept
    const hiddenTail = tailHiddenFrom(packets);
    // a chunk's time (from the first kept frame) in the source's own timeline
    const sourceTime = (t: number) => firstPts + (span?.start ?? 0) + t;
    // where a window's scene search begins (source timeline), unless a trim cut the window before it short
    const searchFrom = (c: PlanChunk, previous: PlanChunk | undefined) => {
      const from = (c as SearchedWindow).sceneFrom;
      return from !== undefined && previous && firstPts + from > sourceTime(previous.startTime)
        ? firstPts + from
        : undefined;
    };
    const common = {
      renditions,
      rotation: info.video.rotation,
      gop: gopFor(info.video.fps),
      ...(job.watermark ? { watermark: Watermark.parse(job.watermark) } : {}),
      colour,
      ...(quality ? { quality } : {}),
      outputBucket: work,
      outputPrefix: keys.encodedPrefix(jobId),
    };
    // each video format is its own set of chunks over the same pieces: chunk i of format f is f × pieces + i
    const count = chunks.length * codecs.length;
    // where the encoders' first frame is, in the timeline they read (the preview's sound is moved there)
    let firstFrameAt: number | undefined;
    const announce = async (
      c: PlanChunk,
      chunk: Pick<EventDetail<"ChunkReady">["chunk"], "source" | "next" | "window" | "range">,
      /** Seconds the chunk may grow by at its start (a scene search): the preview's target duration allows it. */
      growth = 0,
    ) => {
      if (c.index === 0) firstFrameAt = chunk.window?.start ?? chunk.range?.start;
      // the first chunk the preview plays from (H.264's), short enough for a Lambda whatever its estimate
      const lead =
        c.index === 0 && params.lead && codecs[0] === "h264" && chunks.length > 1 && c.duration <= LAMBDA_CHUNK_SECONDS;
      // a window decodes from its seek, before its first kept frame
      const leadIn = chunk.window ? Math.max(0, chunk.window.start - chunk.window.seek) * info.video.fps : 0;
      for (const [f, codec] of codecs.entries()) {
        const index = chunkIndex(f, c.index, chunks.length);
        const { startFrame, frames, startTime, duration } = c;
        // routed by its estimated work: light chunks to the encoder's Lambda, heavy ones to a task
        const cpuSeconds = chunkCpuSeconds({
          codec,
          frames,
          decodedFrames: frames + leadIn,
          sourcePixels: info.video.width * info.video.height,
          renditions,
          encodes: quality?.maxProbes ?? 1,
        });
        const onLambda = lambdaChunk(cpuSeconds, deps.cfg.lambdaChunkCpuSeconds, lead === true && f === 0);
        // create, not put: a second delivery must not reset a chunk that is already encoding
        await deps.jobs.createChunk({
          jobId,
          index,
          codec,
          startFrame,
          frames,
          startTime,
          duration,
          ...(growth > 0 ? { maxDuration: duration + growth } : {}),
          readyAt: Date.now(),
        });
        await deps.events.publish(
          makeEvent("ChunkReady", {
            jobId,
            chunk: {
              index,
              count,
              codec,
              piece: c.index,
              ...(lead && f === 0 ? { lead: true as const } : {}),
              ...(onLambda ? { lambda: true as const } : {}),
              cpuSeconds: Math.round(cpuSeconds * 100) / 100,
              format,
              startFrame,
              frames,
              startTime,
              duration,
              ...chunk,
            },
            ...common,
          }),
        );
      }
    };

    // the audio is encoded while the video is split and encoded; chunking ends when it is stored
    // a chunker that throws (or a job cancelled) stops every ffmpeg it started before its scratch folder goes
    const stop = new AbortController();
    deps.signal?.addEventListener("abort", () => stop.abort(deps.signal?.reason), { once: true });
    // text subtitle streams become captions, extracted once here while the source is at hand
    const captions = storeSourceCaptions({ ...deps, signal: stop.signal }, source, dir, jobId, info);
    captions.catch(() => undefined); // awaited with the audio
    const tracks = audioTracksFor(formats);
    const audio =
      info.audio && tracks.length
        ? storeAudio({ ...deps, signal: stop.signal }, source, dir, {
            jobId,
            tracks,
            streams: audioStreamsOf(info),
            inputFormat: demuxerOf(info.container),
            loudness: job.loudness,
            range: span && {
              ...(span.start > 0 ? { seek: firstPts + span.start } : {}),
              ...(span.cutsEnd ? { duration: span.end - span.start } : {}),
            },
          })
        : Promise.resolve();
    audio.catch(() => undefined); // awaited below, after the chunks are out
    try {
      if (plan.mode === "windows") {
        // encoders read the copy that was validated, never the upload its owner may still write to
        const whole = { bucket: work, key: keys.source(jobId) };
        await deps.store.upload(work, whole.key, source, "application/octet-stream");
        for (const [i, c] of chunks.entries()) {
          const next = chunks[i + 1];
          // without an index ffmpeg seeks by timestamp and may land just past the keyframe: aim a second early
          const seek = Math.max(earliestPts, firstPts + (c as PlannedWindow).seekTime - (seekable ? 0 : 1));
          const end = next ? sourceTime(next.startTime) : span?.cutsEnd ? firstPts + span.end : hiddenTail;
          const startSearch = searchFrom(c, chunks[i - 1]);
          const endSearch = next && searchFrom(next, c);
          const window = {
            seek,
            start: sourceTime(c.startTime),
            end,
            ...(startSearch !== undefined ? { startSearch } : {}),
            ...(endSearch !== undefined ? { endSearch } : {}),
          };
          await announce(c, { source: whole, window }, startSearch === undefined ? 0 : window.start - startSearch);
        }
      } else {
        const ref = (i: number) => ({ bucket: work, key: keys.chunk(jobId, i, format) });
        // only MPEG-TS pieces are read on into the next one, so that one must be stored first
        const readsNext = (i: number) => format === "mpegts" && i + 1 < plan.chunks.length;
        const keptOf = new Map(chunks.map((k) => [k.piece, k]));
        // where each stored piece's kept frames start and end, in its own timeline
        const ranges: { start: number; end?: number }[] = [];
        await splitPieces(
          { ...deps, signal: stop.signal },
          source,
          dir,
          plan.chunks,
          format,
          demuxerOf(info.container),
          info.video.codec,
          packets,
          async (c, file, own) => {
            const kept = keptOf.get(c.index);
            const previous = keptOf.get(c.index - 1);
            // a piece outside the trim is stored only when the kept piece before reads on into it
            if (!kept && !(previous && readsNext(previous.piece))) return;
            await deps.store.upload(
              work,
              ref(c.index).key,
              file,
              format === "mpegts" ? "video/mp2t" : "video/x-matroska",
            );
            if (kept) {
              // a trim's ends, moved into this piece's timeline (the split shifts every piece alike)
              const cutHead = span && span.start > c.startTime;
              const cutTail = span?.cutsEnd && span.end < c.startTime + c.duration;
              const end = cutTail ? firstPts + span!.end + own.shift : own.end;
              ranges[c.index] = {
                start: cutHead ? firstPts + span!.start + own.shift : own.start,
                ...(end !== undefined ? { end } : {}),
              };
            }
            if (previous && readsNext(previous.piece)) {
              const { start, end = own.keyframe } = ranges[previous.piece]!;
              await announce(previous, { source: ref(previous.piece), next: ref(c.index), range: { start, end } });
            }
            if (kept && !readsNext(c.index)) await announce(kept, { source: ref(c.index), range: ranges[c.index]! });
          },
        );
      }
      await audio;
      await captions;
      // the H.264 chunks are the growing preview (output/preview.ts): its sound goes beside them, before it can play
      if (codecs[0] === "h264" && info.audio && tracks.includes("aac") && firstFrameAt !== undefined) {
        const m4a = join(dir, basename(keys.audio(jobId, "aac", 0)));
        await storePreviewAudio({ ...deps, signal: stop.signal }, m4a, dir, jobId, CHUNK_TS_OFFSET + firstFrameAt);
      }
    } catch (err) {
      stop.abort(err);
      await audio.catch(() => undefined);
      await captions.catch(() => undefined);
      // ffmpeg refusing this source will refuse it again: fail the job instead of retrying
      if (err instanceof FfmpegError || err instanceof BadSourceError)
        return failJob(deps, jobId, "chunking", `Splitting the video failed: ${firstLine(err)}`);
      if (err instanceof InvalidInputError)
        return failJob(deps, jobId, "chunking", `The source's subtitles could not be read: ${err.message}`);
      throw err;
    }
    return count;
  });
};

/** An audio-only job's chunking: probe the sound, encode it to the formats' kinds, store them; no chunks. */
const chunkAudioOnly: ChunkWork = (deps, event, job, _ladder, formats) =>
  withScratch(deps.cfg, async (dir) => {
    const { jobId } = event;
    const source = join(dir, "source");
    await deps.store.download(event.source.bucket, event.source.key, source);
    let info: AudioSourceInfo;
    try {
      info = await probeAudioSource(deps.ffmpeg, source, { caps: deps.cfg.limits });
      // no picture: only the running time and the size are limited
      checkLimits({ width: 0, height: 0, duration: info.duration, size: info.size }, deps.cfg.limits);
    } catch (err) {
      if (err instanceof BadSourceError) return failJob(deps, jobId, "chunking", err.message);
      throw err;
    }
    // charged like a video's encode, for the running time that was checked
    if (!(await chargeDailyWork(deps, job.owner, jobId, Math.ceil(info.duration) * AUDIO_WORK_PER_SECOND)))
      return failJob(deps, jobId, "chunking", dailyWorkUsedUp());
    await deps.jobs.recordChunking(jobId, { source: info, renditions: [] });
    try {
      await storeAudio(deps, source, dir, {
        jobId,
        tracks: audioTracksFor(formats),
        // audio.m4a and audio.mp3 are the first stream's
        streams: info.audioTracks.slice(0, 1),
        inputFormat: demuxerOf(info.container),
        loudness: job.loudness,
        // the running time checked and charged is the header's: the encode stops there, whatever the file holds
        range: { duration: info.duration },
      });
    } catch (err) {
      if (err instanceof FfmpegError)
        return failJob(deps, jobId, "chunking", `Encoding the audio failed: ${firstLine(err)}`);
      throw err;
    }
    return 0;
  });

/**
 * The source's text subtitle streams as WebVTT captions in the work bucket, one per language; a language
 * the user attached captions for keeps the attached file. A stream that does not parse fails the job.
 */
async function storeSourceCaptions(deps: Deps, source: string, dir: string, jobId: string, info: SourceInfo) {
  const text = info.subtitles.filter((s) => s.text);
  if (!text.length) return;
  const attached = new Set(
    (await deps.store.list(deps.cfg.buckets.work, keys.captionsDir(jobId))).map((o) => basename(o.key, ".vtt")),
  );
  const extracted = await extractCaptions(deps.ffmpeg, source, demuxerOf(info.container), text, dir, {
    timeoutMs: deps.cfg.ffmpegTimeoutMs,
    signal: deps.signal,
  });
  for (const c of extracted) {
    if (attached.has(c.language)) continue;
    await deps.store.upload(deps.cfg.buckets.work, keys.captions(jobId, c.language), c.file, "text/vtt");
  }
}

/**
 * Measure the source's loudness once (EBU R128; a trimmed job's range only) and return the filter that
 * brings it to `target` LUFS.
 */
async function loudnessFilter(
  deps: Deps,
  source: string,
  target: number,
  inputFormat?: string,
  range?: AudioRange,
  stream = 0,
): Promise<string> {
  const args = loudnessMeasureArgs(source, target, inputFormat, range, stream);
  const { stderr } = await deps.ffmpeg.exec("ffmpeg", args, {
    timeoutMs: deps.cfg.ffmpegTimeoutMs,
    signal: deps.signal,
  });
  const json = stderr.slice(stderr.lastIndexOf("{"), stderr.lastIndexOf("}") + 1);
  const measured = LoudnessMeasured.parse(JSON.parse(json));
  // silence measures -inf: there is nothing to bring up, so the track is left as it is
  if (!Number.isFinite(Number(measured.input_i))) return "anull";
  return loudnormFilter(target, measured);
}

const LoudnessMeasured = z.object({
  input_i: z.string(),
  input_tp: z.string(),
  input_lra: z.string(),
  input_thresh: z.string(),
  target_offset: z.string(),
});

/** A planned chunk as announced: a keyframe piece or a window, narrowed to the trim and numbered from 0. */
type PlanChunk = TrimmedChunk<PlannedChunk | PlannedWindow>;

/** Chunk `piece` of the job's `f`-th video format, out of `pieces` per format. */
export const chunkIndex = (f: number, piece: number, pieces: number) => f * pieces + piece;

const AUDIO_TYPES: Record<AudioTrack, string> = { aac: "audio/mp4", opus: "audio/webm", mp3: "audio/mpeg" };

/** What the audio of a job is made from and how. */
interface AudioWork {
  jobId: string;
  /** The kinds the formats need (the source's other audio streams get only those the video files carry). */
  tracks: readonly AudioTrack[];
  /** The source's audio streams, in order, with their language tags. */
  streams: readonly { language?: string }[];
  inputFormat?: string;
  loudness?: number;
  range?: AudioRange;
}

/** Decode the source once, encode every audio stream to every kind the formats need, store each. */
async function storeAudio(deps: Deps, source: string, dir: string, work: AudioWork): Promise<void> {
  const { jobId, inputFormat, loudness, range } = work;
  const outputs: (AudioOutputSpec & { key: string })[] = [];
  for (const [stream, s] of work.streams.entries()) {
    // each stream measured on its own: a commentary track is not as loud as the film's mix
    const filter =
      loudness === undefined ? undefined : await loudnessFilter(deps, source, loudness, inputFormat, range, stream);
    // audio.mp3 and audio.m4a are the first stream's; the others ride in the MP4s, WebMs and streams
    const kinds = stream === 0 ? work.tracks : work.tracks.filter((t) => t !== "mp3");
    for (const track of kinds) {
      const key = keys.audio(jobId, track, stream);
      outputs.push({ track, stream, key, file: join(dir, basename(key)), filter, language: s.language });
    }
  }
  await deps.ffmpeg.run(audioArgs(source, outputs, inputFormat, range), {
    timeoutMs: deps.cfg.ffmpegTimeoutMs,
    signal: deps.signal,
  });
  await Promise.all(outputs.map((o) => deps.store.upload(deps.cfg.buckets.work, o.key, o.file, AUDIO_TYPES[o.track])));
}

/** The preview's audio segments and playlist, stored before the job can be playable (output/preview.ts). */
async function storePreviewAudio(deps: Deps, m4a: string, dir: string, jobId: string, offset: number) {
  const local = join(dir, "preview-audio");
  await mkdir(local);
  await deps.ffmpeg.run(previewAudioArgs(m4a, offset, local, PREVIEW_PLAYLIST), {
    timeoutMs: deps.cfg.ffmpegTimeoutMs,
    signal: deps.signal,
  });
  const files = await readdir(local);
  const type = (f: string) => (f.endsWith(".ts") ? "video/mp2t" : "application/vnd.apple.mpegurl");
  await Promise.all(
    files.map((f) =>
      deps.store.upload(deps.cfg.buckets.work, `${keys.previewAudioDir(jobId)}/${f}`, join(local, f), type(f)),
    ),
  );
}

/**
 * Split by stream copy and hand over each piece as soon as ffmpeg has closed it (it closes
 * a piece before opening the next), verified to hold exactly its planned packets, with the
 * times of its frames in its own timeline (see pieceTimes).
 */
async function splitPieces(
  deps: Deps,
  source: string,
  dir: string,
  plan: PlannedChunk[],
  format: ChunkFormat,
  inputFormat: string | undefined,
  codec: string,
  sourcePackets: readonly Packet[],
  onPiece: (c: PlannedChunk, file: string, times: PieceTimes) => Promise<void>,
): Promise<void> {
  const pieceOf = (i: number) => join(dir, pieceName(i, format));
  let finished = false;
  // the split stops with the chunker: when a piece fails its check, or the caller aborts
  const stopSplit = new AbortController();
  deps.signal?.addEventListener("abort", () => stopSplit.abort(deps.signal?.reason), { once: true });
  const split = deps.ffmpeg
    .run(
      withParameterSets(
        splitArgs(source, cutPackets(plan), join(dir, pieceName("%05d", format)), format, inputFormat),
        codec,
        format,
      ),
      { timeoutMs: deps.cfg.ffmpegTimeoutMs, signal: stopSplit.signal },
    )
    .finally(() => {
      finished = true;
    });
  split.catch(() => undefined); // awaited in the loop
  try {
    let first = 0;
    for (const c of plan) {
      while (!finished && !(await exists(pieceOf(c.index + 1)))) await sleep(SPLIT_POLL_MS);
      if (finished) await split;
      const file = pieceOf(c.index);
      const packets = await videoPackets(deps.ffmpeg, file, { format });
      // anything else would surface as a wrong output later
      if (packets.length !== c.packets)
        throw new BadSourceError(
          "stream copy did not cut where planned " +
            `(chunk ${c.index}: planned ${c.packets} packets, got ${packets.length})`,
        );
      await onPiece(c, file, pieceTimes(packets, sourcePackets.slice(first, (first += c.packets))));
    }
  } catch (err) {
    stopSplit.abort(err);
    await split.catch(() => undefined);
    throw err;
  }
  await split;
}

/**
 * MPEG-TS pieces of H.264/HEVC carry their parameter sets (SPS/PPS) in-band, and ffmpeg's
 * automatic MP4-to-Annex-B conversion writes them only before IDR frames. An open-GOP source
 * cuts pieces at recovery-point I-frames, which are keyframes but not IDR: such a piece had no
 * SPS/PPS and nothing could decode it ("non-existing PPS", "could not find codec parameters").
 * So the conversion is made explicitly and the parameter sets are repeated on every keyframe.
 * (Matroska pieces keep them in the codec private data.) Belongs in `splitArgs` (ffmpeg/args.ts).
 */
export function withParameterSets(args: string[], codec: string, format: ChunkFormat): string[] {
  const annexB = codec === "h264" ? "h264_mp4toannexb" : codec === "hevc" ? "hevc_mp4toannexb" : null;
  if (format !== "mpegts" || !annexB) return args;
  const at = args.indexOf("-f", args.indexOf("-c"));
  if (at < 0) return args;
  return [...args.slice(0, at), "-bsf:v", `${annexB},dump_extra=freq=keyframe`, ...args.slice(at)];
}

/** A piece's times in its own timeline. */
interface PieceTimes {
  /** Its first packet: the keyframe it was cut at. */
  keyframe: number;
  /** Its first frame shown: the keyframe, unless the source's edit list hides the head of this GOP. */
  start: number;
  /** The first frame the edit list hides past the source's last shown one, when this piece holds it. */
  end?: number;
  /** This piece's timeline minus the source's: what the split added to every timestamp. */
  shift: number;
}

/**
 * Times of a piece's frames, from its packets and the same packets as the probe listed them
 * (in decode order, one for one): a piece has no edit list, so it would show the frames the
 * source's edit list hides. They are kept out by time: the first piece starts at the first
 * frame shown, the last ends before the hidden tail.
 */
export function pieceTimes(own: readonly Packet[], source: readonly Packet[]): PieceTimes {
  const keyframe = own[0]!.pts;
  const shift = keyframe - (source[0]?.pts ?? keyframe);
  if (!source.some((p) => p.discard)) return { keyframe, start: keyframe, shift };
  const shown = own.filter((_, i) => !source[i]?.discard).map((p) => p.pts);
  const last = shown.reduce((hi, t) => Math.max(hi, t), -Infinity);
  // leading pictures of an open GOP show before its keyframe but belong to the chunk before
  const start = shown.length
    ? Math.max(
        keyframe,
        shown.reduce((lo, t) => Math.min(lo, t), Infinity),
      )
    : keyframe;
  const end = own.filter((p, i) => source[i]?.discard && p.pts > last).reduce((lo, p) => Math.min(lo, p.pts), Infinity);
  return { keyframe, start, ...(Number.isFinite(end) ? { end } : {}), shift };
}

/** The first frame an edit list hides past the last one shown (source timeline), if any. */
function tailHiddenFrom(packets: readonly Packet[]): number | undefined {
  const last = shownPackets(packets).reduce((hi, p) => Math.max(hi, p.pts), -Infinity);
  const end = packets.filter((p) => p.discard && p.pts > last).reduce((lo, p) => Math.min(lo, p.pts), Infinity);
  return Number.isFinite(end) ? end : undefined;
}

const SPLIT_POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * The chunker's last write: chunk count, status ENCODING. The tracker completes the set
 * only once the count is there, so if every chunk was encoded before the audio was stored,
 * this write sees the set whole; ChunksEncoded is announced from the state after the write
 * (and again by a redelivery that finds the job ENCODING, see chunkSource).
 */
async function endChunking(deps: Deps, jobId: string, chunkCount: number): Promise<void> {
  const after = await deps.jobs.transition(jobId, "ENCODING", ["CHUNKING"], { set: { chunkCount } });
  if (!after) return deps.log.info("job moved on while chunking", { jobId });
  await announceIfPlayable(deps, after);
  await announceIfWhole(deps, after);
}

/** The planner's parameters as stored on the job at first chunking. */
export const StoredPlan = z.object({
  chunkSeconds: z.number().positive(),
  slots: z.number().int().positive().optional(),
  seekable: z.boolean(),
  /** A short first piece (media/plan.ts leadSecondsFor); absent on plans stored before it. */
  lead: z.boolean().optional(),
  /** Windows start at scene changes (media/plan.ts searchScenes); absent on plans stored before it. */
  scenes: z.boolean().optional(),
  chunks: z.number().int().optional(),
  /** The job's trim as resolved against the source's frames. */
  span: TrimSpan.optional(),
});

/**
 * The planner's parameters for a job: those stored at its first chunking, whatever the
 * configuration says now (a re-chunking must cut the chunks its rows describe), else the
 * configuration's.
 */
export function planParams(
  job: Pick<JobItem, "plan" | "source">,
  cfg: Pick<Deps["cfg"], "chunkSeconds" | "parallelTasks">,
  seekable: boolean,
): z.infer<typeof StoredPlan> {
  const stored = StoredPlan.safeParse(job.plan);
  if (stored.success) return stored.data;
  const slots = cfg.parallelTasks ? { slots: cfg.parallelTasks } : {};
  // a job chunked before plans were stored (its source is recorded) was cut without a lead
  return { chunkSeconds: cfg.chunkSeconds, ...slots, seekable, ...(job.source ? {} : { lead: true, scenes: true }) };
}

/** Decode-order packet index where each chunk after the first begins. */
function cutPackets(plan: PlannedChunk[]): number[] {
  let at = 0;
  return plan.slice(0, -1).map((c) => (at += c.packets));
}
