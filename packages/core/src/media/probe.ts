import { stat } from "node:fs/promises";
import { z } from "zod";
import { LANGUAGE_TAG } from "@videoforge/events/ids";
import { subtitleStreams } from "../output/captions.ts";
import { FfmpegError, type Ffmpeg } from "../ffmpeg/run.ts";

export const SourceInfo = z.object({
  container: z.string(),
  size: z.number(),
  duration: z.number(),
  video: z.object({
    codec: z.string(),
    width: z.number(),
    height: z.number(),
    /** Size as shown, after rotation metadata is applied. */
    displayWidth: z.number(),
    displayHeight: z.number(),
    /** Clockwise degrees the player must turn the picture: 0, 90, 180 or 270. */
    rotation: z.number(),
    fps: z.number(),
    pixFmt: z.string(),
    frames: z.number(),
    /** How long the last frame is shown; the final MP4 needs it, MPEG-TS does not carry it. */
    lastFrameDuration: z.number(),
    /** First frame shown to the end of the last one, in seconds. */
    duration: z.number(),
    /** The colour the stream declares (ffmpeg's names), each only when known; sources probed before have none. */
    colour: z
      .object({
        primaries: z.string().optional(),
        transfer: z.string().optional(),
        matrix: z.string().optional(),
        range: z.string().optional(),
      })
      .default({}),
  }),
  audio: z.object({ codec: z.string(), channels: z.number(), sampleRate: z.number() }).nullable(),
  /**
   * Every audio stream, in order (the first is `audio`), each with its language tag and title when the file
   * names them; sources probed before audio tracks have none recorded (their one track is `audio`).
   */
  audioTracks: z
    .array(
      z.object({
        codec: z.string(),
        channels: z.number(),
        language: z.string().optional(),
        title: z.string().optional(),
      }),
    )
    .default([]),
  /** Subtitle streams (text ones become WebVTT captions); sources probed before captions have none recorded. */
  subtitles: z
    .array(
      z.object({
        index: z.number(),
        sourceIndex: z.number(),
        codec: z.string(),
        language: z.string(),
        title: z.string().optional(),
        text: z.boolean(),
        reason: z.string().optional(),
      }),
    )
    .default([]),
});
export type SourceInfo = z.infer<typeof SourceInfo>;

/** A source problem a person can fix; the job fails with this message. */
export class BadSourceError extends Error {
  override name = "BadSourceError";
}

const Stream = z.object({
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  pix_fmt: z.string().optional(),
  color_primaries: z.string().optional(),
  color_transfer: z.string().optional(),
  color_space: z.string().optional(),
  color_range: z.string().optional(),
  channels: z.number().optional(),
  sample_rate: z.string().optional(),
  duration: z.string().optional(),
  nb_frames: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z.array(z.object({ rotation: z.number().optional() }).loose()).optional(),
  disposition: z.object({ attached_pic: z.number().optional() }).loose().optional(),
});
const ProbeOutput = z.object({
  streams: z.array(Stream.loose()).default([]),
  format: z.object({ format_name: z.string().optional(), duration: z.string().optional() }).loose().optional(),
});

export interface Packet {
  pts: number;
  keyframe: boolean;
  /** Seconds, when the container says. */
  duration?: number;
  /**
   * Decoded but never shown: an MP4/MOV edit list hides it (a trimmed clip keeps the GOP head
   * before its cut). It stays in the list, since pieces are cut by packet index, but is no frame.
   */
  discard?: boolean;
}

/** Packets the source shows: all but those its edit list hides. */
export function shownPackets(packets: readonly Packet[]): Packet[] {
  return packets.filter((p) => !p.discard);
}

function rate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split("/").map(Number);
  return n && d ? n / d : 0;
}

function rotationOf(s: z.infer<typeof Stream>): number {
  // display matrix rotation is counter-clockwise (ffmpeg >= 5), the legacy tag clockwise
  const matrix = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const degrees = matrix !== undefined ? -matrix : Number(s.tags?.rotate ?? 0);
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

/** What a header declares, before any packet is read; see ProbeOptions.precheck. */
export interface DeclaredSource {
  width: number;
  height: number;
  duration?: number;
}

/** Bounds on what the probe reads, from the limits (docs/limits.md). */
export interface ProbeCaps {
  maxFps: number;
  maxDurationSeconds: number;
  /** Streams of any kind in the container. */
  maxStreams: number;
}

export interface ProbeOptions {
  /**
   * Called with the declared size (and duration) as soon as the header is read, before any
   * packet is listed: throw a BadSourceError to refuse a source too big to touch.
   */
  precheck?: (declared: DeclaredSource) => void;
  /** Without caps only the stream count default and the 64 MiB output cap apply. */
  caps?: ProbeCaps;
}

/**
 * Containers we read, by ffmpeg demuxer name. Everything else is refused before a packet is
 * read, and every later ffmpeg run on the source is told this demuxer with `-f`: playlists
 * (HLS, ffconcat), `data:`/`subfile:` tricks and the like never reach a demuxer that follows
 * references to other files or addresses.
 */
export const VIDEO_DEMUXERS = ["mov", "matroska", "avi", "mpegts", "mpeg", "flv", "ogg", "yuv4mpegpipe"] as const;
export type VideoDemuxer = (typeof VIDEO_DEMUXERS)[number];
/** Still-image demuxers the probe may open too, only to say "this is a picture" precisely. */
const IMAGE_DEMUXERS = ["image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif", "apng"];
const PROBE_DEMUXERS = [...VIDEO_DEMUXERS, ...IMAGE_DEMUXERS].join(",");
/** Local copies are read as files only: no network, no nested protocols. */
export const LOCAL_READ = ["-protocol_whitelist", "file"];

/** The demuxer of an allowed container (`format_name` as ffprobe reports it), or undefined. */
export function demuxerOf(container: string): VideoDemuxer | undefined {
  const names = container.split(",");
  return VIDEO_DEMUXERS.find((d) => names.includes(d));
}

/** Default stream cap when the caller gives no limits: a real video has a handful. */
const DEFAULT_MAX_STREAMS = 32;
const NOT_VIDEO = "The file is not a video format we can read. Upload a video file (MP4, MOV, MKV, WebM…).";

/** Image demuxers: each holds one picture (the `*_pipe` family, image2 for JPEG and friends). */
const IMAGE_FORMATS = /^(image2|image2pipe|\w+_pipe)$/;
const IMAGE_NAMES: Record<string, string> = {
  png: "PNG",
  mjpeg: "JPEG",
  jpegls: "JPEG",
  webp: "WebP",
  gif: "GIF",
  bmp: "BMP",
  tiff: "TIFF",
  apng: "PNG",
};

/** A still picture rather than a video: an image format, or a GIF of one frame. */
function stillImage(format: string | undefined, video: z.infer<typeof Stream>): string | undefined {
  const isImage =
    IMAGE_FORMATS.test(format ?? "") || ((format === "gif" || format === "apng") && Number(video.nb_frames ?? 0) <= 1);
  return isImage ? pictureKind(video.codec_name) : undefined;
}

const pictureKind = (codec = "image") => IMAGE_NAMES[codec] ?? codec.toUpperCase();
const stillImageError = (kind: string) =>
  new BadSourceError(`This is a still image (${kind}), not a video. Upload a video file (MP4, MOV, MKV, WebM…).`);

/** Turn ffprobe's complaint into a sentence a person can act on. */
function explain(err: unknown, opts: ProbeOptions = {}): string {
  const tail = err instanceof FfmpegError ? err.stderrTail : String(err);
  // ffmpeg refuses pictures past its own size checks; say it the way the limits do when they apply
  const huge = /Picture size (\d+)x(\d+) is invalid/.exec(tail);
  if (huge) {
    opts.precheck?.({ width: Number(huge[1]), height: Number(huge[2]) });
    return (
      `The video declares a ${huge[1]}x${huge[2]} picture, too large to decode. ` + "Scale it down and upload it again."
    );
  }
  if (/moov atom not found/i.test(tail))
    return "The file looks truncated or incomplete (its MP4 index is missing). Upload the complete file.";
  if (/Invalid data found|not on (the format )?whitelist|Invalid argument/i.test(tail)) return NOT_VIDEO;
  if (/too many packets|output too large/i.test(tail)) return TOO_MANY_PACKETS;
  // ffmpeg's own words name server paths: they stay in the logs, the person gets the cause
  const cause = err instanceof FfmpegError ? err.knownCause : undefined;
  const notRead = `The file could not be read as a video${cause ? ` (${cause})` : ""}.`;
  return `${notRead} Upload a video file (MP4, MOV, MKV, WebM…).`;
}

const TOO_MANY_PACKETS =
  "The file holds far more frames than its running time allows; it is damaged or crafted. Upload the original video.";

/** Thrown by the packet listing when a cap is passed; ffmpeg is killed at once. */
class TooManyPackets extends Error {}

/** The container and streams of a local file, read only through the whitelisted demuxers, at most the stream cap. */
async function probeHeader(ff: Ffmpeg, file: string, opts: ProbeOptions) {
  const size = (await stat(file)).size;
  if (size === 0) throw new BadSourceError("The file is empty (0 bytes). Upload the video again.");
  let raw: unknown;
  try {
    raw = await ff.probeJson(
      [...LOCAL_READ, "-format_whitelist", PROBE_DEMUXERS, "-show_format", "-show_streams", file],
      { timeoutMs: 60_000, maxStdoutBytes: 8 * 1024 * 1024 },
    );
  } catch (err) {
    throw new BadSourceError(explain(err, opts), { cause: err });
  }
  const probe = ProbeOutput.parse(raw);
  const maxStreams = opts.caps?.maxStreams ?? DEFAULT_MAX_STREAMS;
  if (probe.streams.length > maxStreams) {
    throw new BadSourceError(
      `The file has ${probe.streams.length} streams; we accept at most ${maxStreams}. ` +
        "Keep the video and the audio you need, and upload it again.",
    );
  }
  return { size, probe };
}

/**
 * The source's audio streams with their language and title, in order: those the probe recorded, or for a source
 * probed before audio tracks were, its one `audio` stream (none for a silent source).
 */
export function audioStreamsOf(
  info: Pick<SourceInfo, "audio" | "audioTracks">,
): { language?: string; title?: string }[] {
  if (info.audioTracks.length) return info.audioTracks;
  return info.audio ? [{}] : [];
}

/** What an audio-only job knows of its source: the container, its length and its audio streams. */
export const AudioSourceInfo = SourceInfo.pick({
  container: true,
  size: true,
  duration: true,
  audioTracks: true,
}).extend({ audio: SourceInfo.shape.audio.unwrap() });
export type AudioSourceInfo = z.infer<typeof AudioSourceInfo>;

/**
 * Probe a local source for an audio-only job (only audio formats chosen): any picture is ignored, the first
 * audio stream is what the outputs are made from; every audio stream must be one this ffmpeg decodes.
 */
export async function probeAudioSource(ff: Ffmpeg, file: string, opts: ProbeOptions = {}): Promise<AudioSourceInfo> {
  const { size, probe } = await probeHeader(ff, file, opts);
  const audios = probe.streams.filter((s) => s.codec_type === "audio");
  if (!audios.length) throw new BadSourceError(NO_AUDIO);
  if (!demuxerOf(probe.format?.format_name ?? "")) throw new BadSourceError(NOT_VIDEO);
  for (const a of audios) {
    const missing = await ff.missingDecoder("audio", a.codec_name);
    if (missing) throw new BadSourceError(missing);
  }
  const duration = Number(probe.format?.duration ?? audios[0]!.duration ?? 0);
  if (!(duration > 0)) throw new BadSourceError("The audio has no running time; the file is damaged or empty.");
  const first = audios[0]!;
  return {
    container: probe.format?.format_name ?? "unknown",
    size,
    duration,
    audio: {
      codec: first.codec_name ?? "unknown",
      channels: first.channels ?? 0,
      sampleRate: Number(first.sample_rate ?? 0),
    },
    audioTracks: audioTracksOf(audios),
  };
}

/** What an audio-only job refuses a source without sound with. */
export const NO_AUDIO =
  "The file has no audio track, so no audio-only output (m4a, mp3) can be made from it; upload a file with sound.";

/** Probe a local source: container, streams, every video packet (for planning) and the frame count. */
export async function probeSource(
  ff: Ffmpeg,
  file: string,
  opts: ProbeOptions = {},
): Promise<{ info: SourceInfo; packets: Packet[] }> {
  const { size, probe } = await probeHeader(ff, file, opts);
  const video = probe.streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  if (!video || !video.width || !video.height) {
    const what = probe.streams.some((s) => s.codec_type === "audio") ? "audio but no video stream" : "no video stream";
    const instead = what.startsWith("audio") ? ", or choose only audio formats (m4a, mp3) for its sound" : "";
    throw new BadSourceError(`The file has ${what}; upload a file with a video track${instead}.`);
  }
  const still = stillImage(probe.format?.format_name, video);
  if (still) throw stillImageError(still);
  const demuxer = demuxerOf(probe.format?.format_name ?? "");
  if (!demuxer) throw new BadSourceError(NOT_VIDEO);
  const declaredDuration = Number(probe.format?.duration ?? video.duration ?? NaN);
  opts.precheck?.({
    width: video.width,
    height: video.height,
    ...(declaredDuration > 0 ? { duration: declaredDuration } : {}),
  });
  const audios = probe.streams.filter((s) => s.codec_type === "audio");
  const audio = audios[0];
  // what ffprobe recognises the ffmpeg in use must decode (the npm fallback is older than its ffprobe)
  const undecodable =
    (await ff.missingDecoder("video", video.codec_name)) ??
    (audio ? await ff.missingDecoder("audio", audio.codec_name) : undefined);
  if (undecodable) throw new BadSourceError(undecodable);
  for (const a of audios.slice(1)) {
    const other = await ff.missingDecoder("audio", a.codec_name);
    if (other) throw new BadSourceError(other);
  }
  // a header can claim anything: the listing stops at what its running time can hold
  const caps = opts.caps;
  const seconds = caps
    ? Math.min(declaredDuration > 0 ? declaredDuration + 1 : Infinity, caps.maxDurationSeconds)
    : undefined;
  const maxPackets = caps && seconds ? Math.ceil(seconds * caps.maxFps) + 1 : undefined;
  const packets = await videoPackets(ff, file, { format: demuxer, maxPackets });
  if (packets.length === 0) throw new BadSourceError("The video track has no frames.");
  // one picture and no running time: a still in a video container (e.g. a lone MJPEG frame)
  if (packets.length === 1 && !(declaredDuration > 0)) throw stillImageError(pictureKind(video.codec_name));
  if (!packets[0]?.keyframe)
    throw new BadSourceError("The video does not start with a keyframe; it is probably cut or damaged.");
  const shown = shownPackets(packets);
  if (shown.length === 0)
    throw new BadSourceError("The video shows no frames: its edit list hides every one. Export it again.");
  const rotation = rotationOf(video);
  const turned = rotation === 90 || rotation === 270;
  const sorted = shown.map((p) => p.pts).sort((a, b) => a - b);
  const span = sorted.length > 1 ? sorted[sorted.length - 1]! - sorted[0]! : 0;
  const fps = rate(video.avg_frame_rate) || rate(video.r_frame_rate) || (span > 0 ? (sorted.length - 1) / span : 25);
  const duration = Number(probe.format?.duration ?? video.duration ?? 0) || span + 1 / fps;
  const lastFrameDuration = lastShown(shown)?.duration ?? 1 / fps;
  return {
    packets,
    info: {
      container: probe.format?.format_name ?? "unknown",
      size,
      duration,
      video: {
        codec: video.codec_name ?? "unknown",
        width: video.width,
        height: video.height,
        displayWidth: turned ? video.height : video.width,
        displayHeight: turned ? video.width : video.height,
        rotation,
        fps,
        pixFmt: video.pix_fmt ?? "unknown",
        colour: declaredColour(video),
        frames: shown.length,
        lastFrameDuration,
        duration: span + lastFrameDuration,
      },
      audio: audio
        ? {
            codec: audio.codec_name ?? "unknown",
            channels: audio.channels ?? 0,
            sampleRate: Number(audio.sample_rate ?? 0),
          }
        : null,
      audioTracks: audioTracksOf(audios),
      subtitles: subtitleStreams(probe.streams),
    },
  };
}

/** The colour properties a video stream declares; ffprobe's `unknown`, `unspecified` and oddities left out. */
function declaredColour(s: z.infer<typeof Stream>): SourceInfo["video"]["colour"] {
  const known = (v: string | undefined) =>
    v && /^[a-z0-9-]{1,24}$/.test(v) && !/^(unknown|unspecified|reserved)/.test(v) ? v : undefined;
  const out: SourceInfo["video"]["colour"] = {};
  const set = (k: keyof typeof out, v: string | undefined) => {
    if (known(v)) out[k] = v;
  };
  set("primaries", s.color_primaries);
  set("transfer", s.color_transfer);
  set("matrix", s.color_space);
  set("range", s.color_range);
  return out;
}

/** Every audio stream with its language and title, as the job records them. */
function audioTracksOf(audios: readonly z.infer<typeof Stream>[]): SourceInfo["audioTracks"] {
  return audios.map((a) => ({
    codec: a.codec_name ?? "unknown",
    channels: a.channels ?? 0,
    ...(languageTag(a.tags?.language) ? { language: languageTag(a.tags?.language) } : {}),
    ...(a.tags?.title ? { title: a.tags.title.slice(0, 64) } : {}),
  }));
}

/** A stream's language tag as files carry it (`eng`, `fr`), or nothing when absent, undetermined or not a tag. */
function languageTag(tag: string | undefined): string | undefined {
  return tag && tag !== "und" && LANGUAGE_TAG.test(tag) ? tag : undefined;
}

function lastShown(packets: readonly Packet[]): Packet | undefined {
  return packets.reduce<Packet | undefined>((last, p) => (!last || p.pts > last.pts ? p : last), undefined);
}

const NOPTS = -9223372036854775808n;
/** framecrc's packet flags (libavcodec AV_PKT_FLAG_*). */
const PKT_FLAG_KEY = 0x1;
const PKT_FLAG_DISCARD = 0x4;

/**
 * Every packet of the first video stream in decode order, read by remuxing to ffmpeg's
 * `framecrc` listing: no decoding, and it works where the static npm ffprobe cannot read
 * MPEG-TS. `-copyts` keeps the file's own timestamps.
 */
export async function videoPackets(
  ff: Ffmpeg,
  file: string,
  opts: { first?: boolean; format?: string; maxPackets?: number } = {},
): Promise<Packet[]> {
  let timeBase = 0;
  const packets: Packet[] = [];
  const max = opts.maxPackets ?? Infinity;
  // streamed line by line, never held whole: a crafted file lists millions of packets
  const onStdoutLine = (line: string) => {
    const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
    if (tb) timeBase = Number(tb[1]) / Number(tb[2]);
    if (!line.startsWith("0,")) return;
    if (packets.length >= max) throw new TooManyPackets(`too many packets: over ${max}`);
    const [, dts, pts, duration] = line.split(",").map((f) => f.trim());
    const flagText = /F=0x([0-9A-Fa-f]+)/.exec(line)?.[1];
    const flags = flagText === undefined ? undefined : parseInt(flagText, 16);
    const t = BigInt(pts!) === NOPTS ? BigInt(dts!) : BigInt(pts!);
    const d = Number(duration) * timeBase;
    const discard = flags !== undefined && (flags & PKT_FLAG_DISCARD) !== 0;
    packets.push({
      pts: Number(t) * timeBase,
      keyframe: flags === undefined || (flags & PKT_FLAG_KEY) !== 0,
      ...(d > 0 ? { duration: d } : {}),
      ...(discard ? { discard } : {}),
    });
  };
  const format = opts.format ? ["-f", opts.format] : [];
  const args = [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    ...LOCAL_READ,
    "-copyts",
    ...format,
    "-i",
    file,
    "-map",
    "0:v:0",
    "-c",
    "copy",
    ...(opts.first ? ["-frames:v", "1"] : []),
    "-f",
    "framecrc",
    "-",
  ];
  try {
    await ff.exec("ffmpeg", args, {
      timeoutMs: 10 * 60_000,
      collectStdout: false,
      maxStdoutBytes: Number.isFinite(max) ? 4096 + max * 200 : undefined,
      onStdoutLine,
    });
  } catch (err) {
    if (err instanceof TooManyPackets) throw new BadSourceError(TOO_MANY_PACKETS, { cause: err });
    throw new BadSourceError(explain(err), { cause: err });
  }
  return packets;
}

/** Frame count and presentation span (first to last frame start) of a file's video, for verification. */
export async function measureOutput(ff: Ffmpeg, file: string): Promise<{ frames: number; span: number }> {
  const pts = shownPackets(await videoPackets(ff, file)).map((p) => p.pts);
  if (pts.length === 0) return { frames: 0, span: 0 };
  // a loop, not Math.max(...pts): hours of video are more arguments than a call may take
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of pts) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
  return { frames: pts.length, span: hi - lo };
}

/** A media file's duration as its container states it (seconds; 0 when it states none). */
export async function mediaDuration(ff: Ffmpeg, file: string): Promise<number> {
  const raw = (await ff.probeJson(["-show_entries", "format=duration", file])) as { format?: { duration?: string } };
  const d = Number(raw.format?.duration);
  return Number.isFinite(d) ? d : 0;
}

/** Presentation time of a file's first video packet (a piece's keyframe), in its own timeline. */
export async function firstPacketTime(ff: Ffmpeg, file: string): Promise<number> {
  const [first] = await videoPackets(ff, file, { first: true });
  if (!first) throw new Error(`${file} has no video packet`);
  return first.pts;
}
