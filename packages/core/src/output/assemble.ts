import { basename, join } from "node:path";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import {
  makeEvent,
  Rendition,
  type AudioFormat,
  type AudioOutput,
  type CaptionsOutput,
  type EventDetail,
  type FinalOutput,
  type Format,
  type VideoFormat,
} from "@videoforge/events";
import { z } from "zod";
import type { JobItem } from "../db/index.ts";
import { FfmpegError, firstLine } from "../ffmpeg/run.ts";
import {
  assembleArgs,
  chunkContainerOf,
  joinPiecesArgs,
  posterArgs,
  type AudioInput,
  type AudioTrack,
} from "../ffmpeg/args.ts";
import { packageCmaf } from "./cmaf.ts";
import { packageTsHls } from "./ts-hls.ts";
import { makeStoryboard } from "./storyboard.ts";
import { parseCaptions, shiftCues, toWebVtt } from "./captions.ts";
import {
  audioFormatsOf,
  audioTracksFor,
  containerOf,
  DEFAULT_FORMATS,
  isAudioOnly,
  outputFileName,
  parseFormats,
  variantName,
  videoFormatsOf,
} from "../media/formats.ts";
import { audioStreamsOf, mediaDuration, measureOutput, SourceInfo } from "../media/probe.ts";
import { outputFormatOf } from "../media/verify.ts";
import { storedSpan, trimmedSource } from "../media/trim.ts";
import { outputColour } from "../media/colour.ts";
import { failJob, getJob, isFinal, transition } from "../job/lifecycle.ts";
import { keys, withScratch, type Deps } from "../deps.ts";

/**
 * ChunksEncoded → per rung: join the encoded chunks by stream copy, mux the audio,
 * package HLS; then the master playlist and a poster. The outputs are recorded once
 * (`assembledAt`); VideoAssembled is announced from that record whenever it exists, so a
 * redelivery after a failed publish announces it instead of finding "nothing to assemble".
 * `work` is the media part (real ffmpeg by default; the fault matrix injects a stand-in).
 */
export async function assembleJob(
  deps: Deps,
  event: EventDetail<"ChunksEncoded">,
  work: AssembleWork = assembleMedia,
): Promise<void> {
  const { jobId } = event;
  const log = deps.log.child({ jobId });
  const job = await getJob(deps, jobId);
  if (!job || isFinal(job.status)) return log.info("nothing to assemble", { status: job?.status });
  if (job.assembledAt !== undefined) {
    log.info("already assembled; announcing it again");
    return void (await announceAssembled(deps, job));
  }
  if (job.status !== "ENCODING" && job.status !== "ASSEMBLING")
    return log.info("not ready to assemble", { status: job.status });
  await transition(deps, jobId, ["ENCODING", "ASSEMBLING"], "ASSEMBLING");
  const formats = parseFormats(job.formats ?? DEFAULT_FORMATS);
  const made = isAudioOnly(formats)
    ? assembleAudioOnly(deps, jobId, formats)
    : assemblyPlan(deps, job, formats, event.chunkCount).then((plan) => work(deps, plan));
  const result = await made.catch((err: unknown) => {
    // ffmpeg refusing these chunks will refuse them again: fail the job rather than retry
    if (err instanceof FfmpegError)
      return failJob(deps, jobId, "assembly", `Joining the encoded chunks failed: ${firstLine(err)}`).then(() => null);
    throw err;
  });
  if (!result) return;
  const after = await deps.jobs.recordAssembly(jobId, result);
  await announceAssembled(deps, after);
}

/** What a job's assembly works from: its rungs, its source (as trimmed), its chunks and the audio stored for it. */
async function assemblyPlan(deps: Deps, job: JobItem, formats: Format[], chunkCount: number): Promise<AssemblyPlan> {
  const { jobId } = job;
  const source = SourceInfo.parse(job.source);
  // every kind of every audio stream the chunker stored (none for a silent source)
  const wanted = audioStreamsOf(source).flatMap((s, stream) =>
    audioTracksFor(formats).map((track) => ({ track, stream, ...pick(s, ["language", "title"]) })),
  );
  const stored = await Promise.all(
    wanted.map(async (a) =>
      (await deps.store.head(deps.cfg.buckets.work, keys.audio(jobId, a.track, a.stream))) ? a : null,
    ),
  );
  const span = storedSpan(job.plan);
  return {
    jobId,
    renditions: z.array(Rendition).parse(job.renditions),
    // a trimmed job's outputs are the kept range: its frames, its last frame's length
    source: trimmedSource(source, span),
    ...(span ? { trimStart: span.start } : {}),
    chunkCount: job.chunkCount ?? chunkCount,
    formats,
    audio: stored.filter((a) => a !== null),
    ...(job.posterAt !== undefined ? { posterAt: job.posterAt } : {}),
    packaging: job.packaging ?? "cmaf",
  };
}

/** An audio-only job's assembly: the audio the chunker made, stored as `audio.m4a` / `audio.mp3`. */
function assembleAudioOnly(deps: Deps, jobId: string, formats: readonly Format[]): Promise<AssemblyResult> {
  return withScratch(deps.cfg, async (dir) => {
    const files = new Map<AudioTrack, string>();
    for (const track of audioTracksFor(formats)) {
      const file = join(dir, basename(keys.audio(jobId, track)));
      await deps.store.download(deps.cfg.buckets.work, keys.audio(jobId, track), file);
      files.set(track, file);
    }
    const audioOutputs = await storeAudioOutputs(deps, jobId, formats, files);
    return { outputs: [], audioOutputs, captions: [], hls: null, poster: null };
  });
}

/** VideoAssembled from the stored record, while the job is ASSEMBLING (the finisher has not ended it). */
export async function announceAssembled(deps: Pick<Deps, "events" | "cfg">, job: JobItem): Promise<boolean> {
  if (job.status !== "ASSEMBLING" || job.assembledAt === undefined) return false;
  // the record was written from a validated result; makeEvent validates it again on publish
  const outputs = job.outputs as FinalOutput[];
  await deps.events.publish(
    makeEvent("VideoAssembled", {
      jobId: job.jobId,
      bucket: deps.cfg.buckets.outputs,
      outputs,
      audio: (job.audioOutputs as AudioOutput[] | undefined) ?? [],
      captions: (job.captions as CaptionsOutput[] | undefined) ?? [],
      hls: job.hls ?? null,
      poster: job.poster ?? null,
    }),
  );
  return true;
}

export type AssemblyResult = {
  outputs: FinalOutput[];
  audioOutputs: AudioOutput[];
  captions: CaptionsOutput[];
  /** Null for an audio-only job, as is the poster. */
  hls: string | null;
  poster: string | null;
};
/** The media part of assembly: every output made and stored. */
export type AssembleWork = (deps: Deps, plan: AssemblyPlan) => Promise<AssemblyResult>;

/** Real assembly in a scratch folder that is removed afterwards. */
export const assembleMedia: AssembleWork = (deps, plan) => withScratch(deps.cfg, (dir) => assembleIn(deps, dir, plan));

/** One intermediate audio file: a kind (AAC, Opus, MP3) of one of the source's audio streams, in its order. */
export interface StoredAudio {
  track: AudioTrack;
  stream: number;
  language?: string;
  title?: string;
}

export interface AssemblyPlan {
  jobId: string;
  renditions: Rendition[];
  source: SourceInfo;
  /** Chunks over every video format: `pieces × video formats`. */
  chunkCount: number;
  formats: Format[];
  /** The intermediate audio files that exist (none for a silent source): each kind of each source stream. */
  audio: StoredAudio[];
  /** Where the user asked for the poster (seconds). */
  posterAt?: number;
  /** HLS in CMAF segments with a DASH manifest over them, or in MPEG-TS segments (no DASH). */
  packaging: "cmaf" | "ts";
  /** A trimmed job's: seconds of the source cut before the first kept frame (captions move back by as much). */
  trimStart?: number;
}

/** The assembly's work in one scratch folder: every video and audio output, HLS, master playlist, poster, stored. */
async function assembleIn(deps: Deps, dir: string, plan: AssemblyPlan): Promise<AssemblyResult> {
  const { jobId, renditions, source } = plan;
  const work = deps.cfg.buckets.work;
  const out = deps.cfg.buckets.outputs;
  const codecs = videoFormatsOf(plan.formats);
  const pieces = plan.chunkCount / codecs.length;
  if (!Number.isInteger(pieces))
    throw new Error(`${plan.chunkCount} chunks do not divide into ${codecs.length} formats`);
  const audio = await mapLimit(plan.audio, TRANSFERS_AT_ONCE, async (a) => {
    const key = keys.audio(jobId, a.track, a.stream);
    const file = join(dir, basename(key));
    await deps.store.download(work, key, file);
    return { ...a, file };
  });
  // a video file carries every stream in its container's kind, in the source's order
  const audioIn = (track: AudioTrack): AudioInput[] =>
    audio.filter((a) => a.track === track).map((a) => ({ file: a.file, ...pick(a, ["language"]) }));
  // pieces joined by the concat demuxer are placed by their planned durations (exact for VFR too)
  const durations = codecs.some((c) => chunkContainerOf(c) === "nut") ? await pieceDurations(deps, jobId, pieces) : [];

  const variants = codecs.flatMap((codec) => renditions.map((r) => ({ codec, r })));
  // the containers are tagged too: NUT chunks carry no colour, and VP9 keeps only the matrix in its bitstream
  const colour = outputColour(source.video);
  // rungs side by side: each step is a remux or a transfer, bound by I/O more than CPU
  const outputs = await mapLimit(variants, RUNGS_AT_ONCE, async ({ codec, r }): Promise<FinalOutput> => {
    const name = variantName(r.name, codec);
    const fileName = outputFileName(r.name, codec);
    const container = chunkContainerOf(codec);
    const parts = Array.from({ length: pieces }, (_, i) =>
      join(dir, `${name}_${String(i).padStart(5, "0")}.${container}`),
    );
    await mapLimit(parts, TRANSFERS_AT_ONCE, (file, i) =>
      deps.store.download(work, keys.encoded(keys.encodedPrefix(jobId), name, i, container), file),
    );
    const file = join(dir, fileName);
    const track = audioIn(containerOf(codec) === "webm" ? "opus" : "aac");
    if (container === "mpegts") {
      // MPEG-TS concatenates byte-wise; the chunks carry source timestamps so none are rewritten
      const args = assembleArgs(
        `concat:${parts.join("|")}`,
        track,
        file,
        source.video.lastFrameDuration,
        deps.ffmpeg.capabilities,
        codec === "hevc" ? "hvc1" : undefined,
        colour,
      );
      await deps.ffmpeg.run(args, { timeoutMs: deps.cfg.ffmpegTimeoutMs });
    } else {
      const list = join(dir, `${name}.concat`);
      await writeFile(list, concatList(parts, durations));
      await deps.ffmpeg.run(joinPiecesArgs(list, track, file, containerOf(codec), colour), {
        timeoutMs: deps.cfg.ffmpegTimeoutMs,
      });
    }
    await Promise.all(parts.map((f) => rm(f, { force: true })));
    const key = keys.output(jobId, fileName);
    const [m, { bytes }] = await Promise.all([
      measureOutput(deps.ffmpeg, file),
      deps.store.upload(out, key, file, containerOf(codec) === "webm" ? "video/webm" : "video/mp4"),
    ]);
    const duration = m.span + source.video.lastFrameDuration;
    return {
      rendition: name,
      format: codec,
      key,
      width: r.width,
      height: r.height,
      frames: m.frames,
      duration,
      bytes,
      bitrate: Math.round((bytes * 8) / duration),
    };
  });
  // what is made from the finished files reads them only: streams, poster, storyboard side by side
  const [captions, audioOutputs] = await Promise.all([
    fetchCaptions(
      deps,
      dir,
      jobId,
      plan.trimStart === undefined ? undefined : { start: plan.trimStart, duration: source.video.duration },
    ),
    storeAudioOutputs(
      deps,
      jobId,
      plan.formats,
      new Map(audio.filter((a) => a.stream === 0).map((a) => [a.track, a.file])),
    ),
  ]);
  const [hls] = await Promise.all([
    packageStreams(
      deps,
      dir,
      jobId,
      plan.packaging,
      outputs,
      audio.filter((a) => a.track === "aac"),
      captions,
    ),
    storePoster(
      deps,
      dir,
      jobId,
      outputs[0]!,
      posterTime(outputs[0]!.duration, source.video.lastFrameDuration, plan.posterAt),
    ),
    storeStoryboard(deps, dir, jobId, outputs, source),
  ]);
  return { outputs, audioOutputs, captions: captions.map((c) => c.output), hls, poster: keys.poster(jobId) };
}

/** The poster: one frame of the top rendition at `at` seconds, stored as JPEG. */
async function storePoster(deps: Deps, dir: string, jobId: string, top: FinalOutput, at: number): Promise<void> {
  const poster = join(dir, "poster.jpg");
  await deps.ffmpeg.run(posterArgs(join(dir, basename(top.key)), at, poster, outputFormatOf(top.key)));
  // ffmpeg exits 0 having written nothing when the seek passes the last frame: say so, not ENOENT
  if (!(await stat(poster).catch(() => null))?.size)
    throw new Error(`the poster frame at ${at} s of a ${top.duration} s video could not be extracted`);
  await deps.store.upload(deps.cfg.buckets.outputs, keys.poster(jobId), poster, "image/jpeg");
}

/**
 * The job's captions (attached, extracted from the source) from the work bucket, each stored as a sidecar output;
 * a trimmed job's moved to the kept range (`range`, seconds of the source's timeline).
 */
async function fetchCaptions(deps: Deps, dir: string, jobId: string, range?: { start: number; duration: number }) {
  const stored = await deps.store.list(deps.cfg.buckets.work, keys.captionsDir(jobId));
  await mkdir(join(dir, "captions"), { recursive: true });
  return mapLimit(stored, TRANSFERS_AT_ONCE, async (o) => {
    const language = basename(o.key, ".vtt");
    const file = join(dir, "captions", `${language}.vtt`);
    await deps.store.download(deps.cfg.buckets.work, o.key, file);
    if (range) await writeFile(file, toWebVtt(shiftCues(parseCaptions(await readFile(file, "utf8"), "vtt"), range)));
    const key = keys.captions(jobId, language);
    const { bytes } = await deps.store.upload(deps.cfg.buckets.outputs, key, file, "text/vtt");
    return { language, file, output: { language, key, bytes } };
  });
}

/**
 * Seek previews: JPEG sprite sheets and a WebVTT track of `#xywh=` cues (`storyboard/`), made from the
 * smallest rendition of the job's first format (the cheapest decode; tiles are 160 px wide anyway).
 */
async function storeStoryboard(
  deps: Deps,
  dir: string,
  jobId: string,
  outputs: readonly FinalOutput[],
  source: SourceInfo,
): Promise<void> {
  const first = outputs.filter((o) => o.format === outputs[0]!.format);
  const smallest = first.reduce((a, b) => (b.width * b.height < a.width * a.height ? b : a));
  const input = join(dir, basename(smallest.key));
  const board = await makeStoryboard(
    deps.ffmpeg,
    input,
    smallest.duration,
    source.video.displayWidth,
    source.video.displayHeight,
    dir,
    { timeoutMs: deps.cfg.ffmpegTimeoutMs, format: outputFormatOf(input) === "matroska" ? "matroska" : "mov" },
  );
  await mapLimit([...board.sheets, board.vtt], TRANSFERS_AT_ONCE, (rel) =>
    deps.store.upload(
      deps.cfg.buckets.outputs,
      `jobs/${jobId}/${rel}`,
      join(dir, rel),
      rel.endsWith(".vtt") ? "text/vtt" : "image/jpeg",
    ),
  );
}

const STREAM_TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  mpd: "application/dash+xml",
  mp4: "video/mp4",
  m4s: "video/iso.segment",
  ts: "video/mp2t",
  vtt: "text/vtt",
};

/**
 * Adaptive streaming: every rendition of every format cut into CMAF segments (stream copy, no
 * re-encode), described by an HLS master (`hls/master.m3u8`) and a DASH manifest (`dash/manifest.mpd`)
 * over the same files, with the AAC track as the audio of every family. Returns the master's key.
 */
async function packageStreams(
  deps: Deps,
  dir: string,
  jobId: string,
  packaging: "cmaf" | "ts",
  outputs: readonly FinalOutput[],
  aac: readonly (StoredAudio & { file: string })[],
  captions: readonly { language: string; file: string }[],
): Promise<string> {
  const root = join(dir, "streams");
  const variants = outputs.map((o) => ({
    id: o.rendition,
    file: join(dir, basename(o.key)),
    width: o.width,
    height: o.height,
    codec: o.format,
    bitrate: o.bitrate,
  }));
  const tracks = aac.map((a) => ({
    file: a.file,
    ...pick(a, ["language"]),
    ...(a.title ? { name: a.title } : {}),
    default: a.stream === 0,
  }));
  const opts = { timeoutMs: deps.cfg.ffmpegTimeoutMs, subtitles: captions };
  const packaged =
    packaging === "ts"
      ? await packageTsHls(deps.ffmpeg, root, variants, tracks, opts)
      : await packageCmaf(deps.ffmpeg, root, variants, tracks, opts);
  const prefix = `jobs/${jobId}`;
  await mapLimit(packaged.files, TRANSFERS_AT_ONCE, (rel) =>
    deps.store.upload(
      deps.cfg.buckets.outputs,
      `${prefix}/${rel}`,
      join(root, rel),
      STREAM_TYPES[rel.slice(rel.lastIndexOf(".") + 1)] ?? "application/octet-stream",
    ),
  );
  return `${prefix}/${packaged.master}`;
}

/** Each piece's planned duration (its chunk row's, the same for every format: read from the first's). */
async function pieceDurations(deps: Deps, jobId: string, pieces: number): Promise<number[]> {
  return mapLimit(
    Array.from({ length: pieces }, (_, i) => i),
    TRANSFERS_AT_ONCE,
    async (i) => {
      const row = await deps.jobs.getChunk(jobId, i);
      if (!row) throw new Error(`chunk ${i} of job ${jobId} has no row`);
      return row.duration;
    },
  );
}

/**
 * The concat demuxer's list: every piece with its planned duration, so each one starts where the
 * previous ended in the source (file names are ours, quoted as the demuxer's syntax wants).
 */
export function concatList(files: readonly string[], durations: readonly number[]): string {
  return (
    files.map((f, i) => `file '${f.replace(/'/g, "'\\''")}'\nduration ${durations[i]!.toFixed(6)}`).join("\n") + "\n"
  );
}

const AUDIO_OUTPUT_TRACK: Record<AudioFormat, AudioTrack> = { m4a: "aac", mp3: "mp3" };
const AUDIO_OUTPUT_TYPE: Record<AudioFormat, string> = { m4a: "audio/mp4", mp3: "audio/mpeg" };

/** `audio.m4a` and `audio.mp3`: the job's audio tracks as they were encoded from the source, stored as outputs. */
async function storeAudioOutputs(
  deps: Deps,
  jobId: string,
  formats: readonly Format[],
  audio: ReadonlyMap<AudioTrack, string>,
): Promise<AudioOutput[]> {
  const wanted = audioFormatsOf(formats);
  const missing = wanted.filter((f) => !audio.has(AUDIO_OUTPUT_TRACK[f]));
  if (missing.length) throw new Error(`the source has no audio to make ${missing.join(" and ")} from`);
  return Promise.all(
    wanted.map(async (format) => {
      const file = audio.get(AUDIO_OUTPUT_TRACK[format])!;
      const key = keys.output(jobId, `audio.${format}`);
      const [duration, { bytes }] = await Promise.all([
        mediaDuration(deps.ffmpeg, file),
        deps.store.upload(deps.cfg.buckets.outputs, key, file, AUDIO_OUTPUT_TYPE[format]),
      ]);
      return { format, key, duration, bytes, bitrate: duration > 0 ? Math.round((bytes * 8) / duration) : 0 };
    }),
  );
}

/**
 * Where the poster is taken: where the user chose, else a tenth into the video, at most 3 s; never past the start of
 * its last frame (a one-frame video's poster is its only frame; a seek past it yields nothing).
 */
export function posterTime(duration: number, lastFrameDuration: number, chosen?: number): number {
  const wanted = chosen ?? Math.min(duration * 0.1, 3);
  return Math.max(0, Math.min(wanted, duration - lastFrameDuration - 1e-3));
}

/** The `names` of `o` that are set: optional fields passed on without writing `undefined` into them. */
function pick<T extends object, K extends keyof T>(o: T, names: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const n of names) if (o[n] !== undefined) out[n] = o[n];
  return out;
}

const RUNGS_AT_ONCE = 2;
const TRANSFERS_AT_ONCE = 8;

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
