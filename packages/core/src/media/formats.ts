import {
  AUDIO_FORMATS,
  VIDEO_FORMATS,
  type AudioFormat,
  type Format,
  type VideoFormat,
} from "@videoforge/events/catalog";
import { InvalidInputError } from "../errors.ts";

export { AUDIO_FORMATS, VIDEO_FORMATS, type AudioFormat, type Format, type VideoFormat };

export const FORMATS: readonly Format[] = [...VIDEO_FORMATS, ...AUDIO_FORMATS];
export const DEFAULT_FORMATS: Format[] = ["h264"];

export const isVideoFormat = (f: string): f is VideoFormat => (VIDEO_FORMATS as readonly string[]).includes(f);
export const isAudioFormat = (f: string): f is AudioFormat => (AUDIO_FORMATS as readonly string[]).includes(f);

/**
 * Parse "h264,vp9,m4a" (or a list): known names only, each once, in the canonical order (H.264
 * first, so its chunks are scheduled first). Audio formats alone make an audio-only job (no chunks,
 * no streams, no poster). Throws with the reason a person can act on.
 */
export function parseFormats(input: string | readonly string[]): Format[] {
  const names = (typeof input === "string" ? input.split(",") : [...input]).map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidInputError("No format given; choose from " + FORMATS.join(", ") + ".");
  const unknown = names.filter((n) => !(FORMATS as readonly string[]).includes(n));
  if (unknown.length)
    throw new InvalidInputError(
      `Unknown format ${unknown.map((u) => `"${u}"`).join(", ")}; choose from ${FORMATS.join(", ")}.`,
    );
  return FORMATS.filter((f) => names.includes(f));
}

export const videoFormatsOf = (formats: readonly string[]): VideoFormat[] =>
  VIDEO_FORMATS.filter((f) => formats.includes(f));
export const audioFormatsOf = (formats: readonly string[]): AudioFormat[] =>
  AUDIO_FORMATS.filter((f) => formats.includes(f));

/** An audio-only job: no video format chosen. */
export const isAudioOnly = (formats: readonly string[]) => videoFormatsOf(formats).length === 0;

/** The choices that shape a picture, refused for an audio-only job (they would be ignored silently otherwise). */
export function checkAudioOnly(
  formats: readonly Format[],
  choices: {
    trim?: unknown;
    watermark?: unknown;
    captions?: readonly unknown[];
    posterAt?: number;
    packaging?: string;
    targetSsim?: number;
  },
): void {
  if (!isAudioOnly(formats)) return;
  const picture = [
    choices.trim && "trim",
    choices.watermark && "watermark",
    choices.captions?.length && "captions",
    choices.posterAt !== undefined && "posterAt",
    choices.packaging && "packaging",
    choices.targetSsim !== undefined && "targetSsim",
  ].filter(Boolean);
  if (picture.length)
    throw new InvalidInputError(
      `${picture.join(", ")} ${picture.length > 1 ? "need" : "needs"} a video format, and this job makes audio only ` +
        `(${formats.join(", ")}): add a video format (${VIDEO_FORMATS.join(", ")}) or leave ${picture.join(", ")} out.`,
    );
}

/** MPEG-TS segments carry H.264 and HEVC; a TS-HLS job with VP9 or AV1 cannot be made. */
export function checkPackaging(formats: readonly Format[], packaging: "cmaf" | "ts" | undefined): void {
  if (packaging !== "ts") return;
  const other = videoFormatsOf(formats).filter((f) => f !== "h264" && f !== "hevc");
  if (other.length)
    throw new InvalidInputError(
      `MPEG-TS segments (packaging "ts") carry H.264 and HEVC only, not ${other.join(" or ")}: ` +
        'choose packaging "cmaf" (the default, which also gives a DASH manifest) or drop those formats.',
    );
}

/** The formats stored on a job or upload (validated when it was made); H.264 for rows from before formats. */
export function storedFormats(list: readonly string[] | undefined): Format[] {
  const known = FORMATS.filter((f) => list?.includes(f));
  return known.length ? known : DEFAULT_FORMATS;
}

/** A rung in one format: `720p` (H.264, the name outputs always had), `720p-hevc`, `720p-vp9`, `720p-av1`. */
export function variantName(rung: string, format: VideoFormat): string {
  return format === "h264" ? rung : `${rung}-${format}`;
}

/** The container each video format is delivered in: VP9 in WebM with Opus; the others in MP4 with AAC. */
export function containerOf(format: VideoFormat): "mp4" | "webm" {
  return format === "vp9" ? "webm" : "mp4";
}

/** `<variant>.<ext>`, e.g. `720p.mp4`, `720p-vp9.webm`. */
export function outputFileName(rung: string, format: VideoFormat): string {
  return `${variantName(rung, format)}.${containerOf(format)}`;
}

/**
 * The intermediate audio each job needs: AAC for every job with video (the MP4s carry it, AV1's too:
 * AAC in MP4 plays in every browser and player, Opus in MP4 does not in older Safari; and it is the
 * audio rendition of the HLS and DASH streams, a VP9-only job's included) and for `audio.m4a`; Opus for
 * WebM; MP3 for `audio.mp3`. Each is encoded once from the source, never from another lossy encode.
 */
export type AudioTrack = "aac" | "opus" | "mp3";
export function audioTracksFor(formats: readonly string[]): AudioTrack[] {
  const video = videoFormatsOf(formats);
  const tracks: AudioTrack[] = [];
  if (video.length || formats.includes("m4a")) tracks.push("aac");
  if (video.includes("vp9")) tracks.push("opus");
  if (formats.includes("mp3")) tracks.push("mp3");
  return tracks;
}
