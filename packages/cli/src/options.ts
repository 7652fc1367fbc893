import { InvalidArgumentError } from "commander";
// the ladder module alone: the whole core (AWS SDK and all) must not load to parse a flag
import { parseLadder, type RungName } from "@videoforge/core/ladder";
import { LANGUAGE_TAG } from "@videoforge/events/ids";
import {
  isAudioFormat,
  isVideoFormat,
  parseFormats,
  VIDEO_FORMATS,
  type Format,
  type VideoFormat,
} from "@videoforge/core/formats";

/**
 * Parsers for option values. Commander calls them while it reads the command line, so a
 * bad value stops the command before any work starts, with an error naming the option:
 * `error: option '--reps <n>' argument 'abc' is invalid. Expected a whole number ≥ 1.`
 */

/** A whole number ≥ `min`. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`Expected a whole number ≥ ${min}.`);
    return n;
  };
}

/** A finite number > 0 (seconds, which may be fractional). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("Expected a number > 0.");
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("Expected a number ≥ 0.");
  return n;
}

/** `en=subs.srt`: a captions file and its language, repeatable; read when the upload starts. */
export function captionsFile(value: string, previous: CaptionsFile[] = []): CaptionsFile[] {
  const m = /^([^=]+)=(.+\.(srt|vtt))$/i.exec(value.trim());
  if (!m || !LANGUAGE_TAG.test(m[1]!))
    throw new InvalidArgumentError("Expected LANG=FILE.srt or LANG=FILE.vtt, e.g. en=subtitles.srt.");
  return [...previous, { language: m[1]!, file: m[2]!, format: m[3]!.toLowerCase() as "srt" | "vtt" }];
}
export interface CaptionsFile {
  language: string;
  file: string;
  format: "srt" | "vtt";
}

/** An integrated loudness target in LUFS, as the API takes it. */
export function lufs(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < -70 || n > -5)
    throw new InvalidArgumentError("Expected a loudness from -70 to -5 LUFS, e.g. -23.");
  return n;
}

/** A target mean SSIM per chunk and rung, as the API takes it. */
export function ssimTarget(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0.8 || n > 0.995)
    throw new InvalidArgumentError("Expected an SSIM from 0.8 to 0.995, e.g. 0.97.");
  return n;
}

/** `12`, `1:30` or `1:02:03.5`: seconds, or minutes and seconds, or hours, minutes and seconds. */
function clockSeconds(text: string): number | undefined {
  if (!/^\d+(:[0-5]?\d){0,2}(\.\d+)?$/.test(text)) return undefined;
  return text.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

/** `START-END`, either side optional (`10-`, `-1:30`, `5.5-12`): the range of the source to keep. */
export function trimRange(value: string): { start?: number; end?: number } {
  const m = /^([^-]*)-([^-]*)$/.exec(value.trim());
  const start = m?.[1] ? clockSeconds(m[1]) : 0;
  const end = m?.[2] ? clockSeconds(m[2]) : undefined;
  if (!m || start === undefined || (m[2] && end === undefined) || (!m[1] && !m[2]))
    throw new InvalidArgumentError("Expected START-END in seconds or [h:]m:s, either side optional: 5-12, 1:30-, -45.");
  if (end !== undefined && end <= start) throw new InvalidArgumentError("The end of --trim must be after its start.");
  return { ...(start ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

/** A TCP port; 0 lets the system choose a free one. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535)
    throw new InvalidArgumentError("Expected a port number from 0 to 65535.");
  return n;
}

/** An http(s) URL. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("Expected a URL such as http://127.0.0.1:8080.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError("Expected an http:// or https:// URL.");
  return value;
}

/** A comma-separated list of known rungs. */
export function ladder(value: string): RungName[] {
  try {
    return parseLadder(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A comma-separated list of output formats. */
export function formats(value: string): Format[] {
  try {
    return parseFormats(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A comma-separated list of video formats only (`bench --codecs`): each is compared on its own. */
export function videoFormats(value: string): VideoFormat[] {
  // said before parsing: parseFormats would offer m4a and mp3, or ask for "a video format beside m4a"
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const audio = names.filter(isAudioFormat);
  const choose = `choose video codecs from ${VIDEO_FORMATS.join(", ")}.`;
  if (audio.length)
    throw new InvalidArgumentError(`${audio.join(", ")} ${audio.length > 1 ? "are" : "is"} audio-only; ${choose}`);
  if (names.length === 0) throw new InvalidArgumentError(`No codec given; ${choose}`);
  const unknown = names.filter((n) => !isVideoFormat(n));
  if (unknown.length)
    throw new InvalidArgumentError(`Unknown codec ${unknown.map((u) => `"${u}"`).join(", ")}; ${choose}`);
  return formats(value).filter(isVideoFormat);
}

/** One of a fixed set of words; the message lists them. */
export function oneOf<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`${name} must be one of ${choices.join(", ")}, got "${value}".`);
    return value as T;
  };
}
