import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { InvalidInputError } from "../errors.ts";
import { inputArgs } from "../ffmpeg/args.ts";
import type { Ffmpeg, RunOptions } from "../ffmpeg/run.ts";

/**
 * Captions: SRT/WebVTT files parsed into cues, cues written as WebVTT, and a source's own
 * subtitle streams extracted as WebVTT. Everything published goes through `parseCaptions` and
 * `toWebVtt`, so what players receive is one well-formed dialect with a fixed set of markup.
 *
 * Markup. `Cue.text` is WebVTT cue text reduced to `<i>`, `<b>` and `<u>` (no classes or
 * annotations); every other `&`, `<` and `>` is escaped as `&amp;`, `&lt;`, `&gt;`. Browsers
 * render WebVTT with their track renderer, not as HTML, so a `<script>` in a cue would not run
 * there; the reduction is for players that put cue text into the page themselves
 * (`innerHTML`): for them the text is inert, and `-->` can never appear in it. Other tags are
 * dropped with their content kept (SRT `<font>`, WebVTT `<v Name>`, `<c.x>`, `<ruby>`,
 * karaoke timestamps), as are SRT's `{\an8}`-style overrides; cue settings (position,
 * alignment) are not kept.
 */
export interface Cue {
  /** Seconds. */
  start: number;
  /** Seconds; never before `start`. */
  end: number;
  /** Lines joined by `\n`, none empty; markup as described above. */
  text: string;
}

export type CaptionKind = "srt" | "vtt";

/** Cues moved to a trimmed video's clock: `start` seconds earlier, cut to `duration`; cues outside are dropped. */
export function shiftCues(cues: readonly Cue[], range: { start: number; duration: number }): Cue[] {
  return cues
    .map((c) => ({
      ...c,
      start: Math.max(0, c.start - range.start),
      end: Math.min(range.duration, c.end - range.start),
    }))
    .filter((c) => c.end > c.start);
}

/** Largest caption file we read: a feature film's subtitles are ~100 KB. */
export const MAX_CAPTION_BYTES = 5 * 1024 * 1024;
/** Most cues in one file: a three-hour film has a few thousand. */
export const MAX_CUES = 50_000;
/** Where caption tracks are published, relative to a job's outputs. */
export const CAPTIONS_DIR = "captions";

const EXPECTED: Record<CaptionKind, string> = {
  srt: "expected HH:MM:SS,mmm --> HH:MM:SS,mmm",
  vtt: "expected HH:MM:SS.mmm --> HH:MM:SS.mmm, hours optional",
};

// SRT in the wild uses "." as often as ","; WebVTT allows only "." and makes hours optional
const SRT_TIME = /^(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})$/;
const VTT_TIME = /^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;

/** Control characters no text file holds (tab, LF and CR are line structure). */
const CONTROL = /[\u0000-\u0008\u000B-\u000C\u000E-\u001F\u007F]/;

/**
 * Parse an SRT or WebVTT file into cues, in file order (cues without text are left out).
 * Throws InvalidInputError naming the line and what is wrong when the file does not parse.
 */
export function parseCaptions(text: string, kind: CaptionKind): Cue[] {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CAPTION_BYTES) {
    const mb = `${MAX_CAPTION_BYTES / 1024 / 1024} MB`;
    throw new InvalidInputError(`the file is over ${mb} (${bytes} bytes); a caption file may be at most ${mb}`);
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  if (lines.every(isBlank)) throw new InvalidInputError(`line 1: the file is empty; ${EMPTY_HINT[kind]}`);
  lines.forEach(checkCharacters);
  const cues = new CueList();
  if (kind === "srt") parseSrt(new Lines(lines), cues);
  else parseVtt(new Lines(lines), cues);
  return cues.cues;
}

const EMPTY_HINT: Record<CaptionKind, string> = {
  srt: 'expected cues such as "1", "00:00:01,000 --> 00:00:02,500", "Hello"',
  vtt: 'expected "WEBVTT" on the first line, then cues',
};

function checkCharacters(line: string, i: number): void {
  const bad = CONTROL.exec(line)?.[0];
  if (bad === "\u0000")
    throw new InvalidInputError(`line ${i + 1}: contains a NUL byte; this looks like a binary file, not text`);
  if (bad !== undefined) {
    const code = `U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw new InvalidInputError(`line ${i + 1}: contains the control character ${code}; this is not a text file`);
  }
  // what a decoder puts where bytes were not UTF-8: the file is in another encoding
  if (line.includes("\uFFFD"))
    throw new InvalidInputError(`line ${i + 1}: is not valid UTF-8 text; save the file as UTF-8 and upload it again`);
}

/** Only spaces and tabs: real files put them on the lines between cues. */
function isBlank(line: string | undefined): boolean {
  return line === undefined || /^[ \t]*$/.test(line);
}

/** A cursor over the file's lines; `n` is the current line's 1-based number. */
class Lines {
  i = 0;
  constructor(readonly all: readonly string[]) {}
  get line(): string | undefined {
    return this.all[this.i];
  }
  get n(): number {
    return this.i + 1;
  }
  done(): boolean {
    return this.i >= this.all.length;
  }
  skipBlank(): void {
    while (!this.done() && isBlank(this.line)) this.i++;
  }
  skipBlock(): void {
    while (!this.done() && !isBlank(this.line)) this.i++;
  }
}

/** Collects cues, enforcing the cap. */
class CueList {
  readonly cues: Cue[] = [];
  add(cue: Cue | undefined, n: number): void {
    if (!cue) return;
    if (this.cues.length >= MAX_CUES)
      throw new InvalidInputError(`line ${n}: more than ${MAX_CUES} cues; a caption file may have at most that many`);
    this.cues.push(cue);
  }
}

/** A line quoted for an error message, cut short when long. */
function quote(line: string): string {
  const trimmed = line.trim();
  return JSON.stringify(trimmed.length > 80 ? `${trimmed.slice(0, 80)}…` : trimmed);
}

function timeOf(s: string, kind: CaptionKind): number | undefined {
  const m = (kind === "srt" ? SRT_TIME : VTT_TIME).exec(s);
  if (!m) return undefined;
  const [h, min, sec, ms] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  // whole milliseconds first, so 1.234 s is the same double however it was written
  return (((h * 60 + min) * 60 + sec) * 1000 + ms) / 1000;
}

/** `start --> end [settings]`, or undefined when the line is not one. */
function rangeOf(line: string, kind: CaptionKind): { start: number; end: number } | undefined {
  const arrow = line.indexOf("-->");
  if (arrow < 0) return undefined;
  // whatever follows the end time (SRT coordinates, WebVTT cue settings) is not kept
  const [endText = ""] = line
    .slice(arrow + 3)
    .trim()
    .split(/[ \t]+/);
  const start = timeOf(line.slice(0, arrow).trim(), kind);
  const end = timeOf(endText, kind);
  return start === undefined || end === undefined ? undefined : { start, end };
}

/** The time range on the cursor's line, or an error naming the line. */
function readRange(lines: Lines, kind: CaptionKind): { start: number; end: number } {
  const line = lines.line;
  if (isBlank(line)) {
    const previous = quote(lines.all[lines.i - 1] ?? "");
    throw new InvalidInputError(`line ${lines.n}: ${previous} is not followed by a time range (${EXPECTED[kind]})`);
  }
  const range = rangeOf(line!, kind);
  if (!range) throw new InvalidInputError(`line ${lines.n}: ${quote(line!)} is not a time range (${EXPECTED[kind]})`);
  if (range.end < range.start) throw new InvalidInputError(`line ${lines.n}: ${quote(line!)} ends before it starts`);
  lines.i++;
  return range;
}

function parseSrt(lines: Lines, cues: CueList): void {
  for (lines.skipBlank(); !lines.done(); lines.skipBlank()) {
    const first = lines.line!;
    const n = lines.n;
    if (/^[ \t]*\d+[ \t]*$/.test(first)) lines.i++;
    else if (!first.includes("-->"))
      throw new InvalidInputError(`line ${n}: ${quote(first)} is not a cue number or time range (${EXPECTED.srt})`);
    const range = readRange(lines, "srt");
    cues.add(cueOf(range, readSrtText(lines), "srt"), n);
  }
}

/**
 * A cue's text lines, up to a blank line. A time range right after text starts the next cue
 * (files whose blank line is missing), taking along the cue number just before it.
 */
function readSrtText(lines: Lines): string[] {
  const text: string[] = [];
  for (; !lines.done() && !isBlank(lines.line); lines.i++) {
    if (rangeOf(lines.line!, "srt")) {
      if (/^[ \t]*\d+[ \t]*$/.test(text.at(-1) ?? "")) {
        text.pop();
        lines.i--;
      }
      break;
    }
    text.push(lines.line!);
  }
  return text;
}

function parseVtt(lines: Lines, cues: CueList): void {
  readVttHeader(lines);
  for (lines.skipBlank(); !lines.done(); lines.skipBlank()) {
    const first = lines.line!;
    const n = lines.n;
    // comments, style sheets and regions carry nothing we publish
    if (/^[ \t]*(NOTE|STYLE|REGION)([ \t]|$)/.test(first)) {
      lines.skipBlock();
      continue;
    }
    if (!first.includes("-->")) lines.i++; // a cue identifier
    const range = readRange(lines, "vtt");
    cues.add(cueOf(range, readVttText(lines), "vtt"), n);
  }
}

function readVttHeader(lines: Lines): void {
  const first = lines.line ?? "";
  if (!/^WEBVTT([ \t]|$)/.test(first)) {
    const srt = /^[ \t]*\d+[ \t]*$/.test(first) ? "; it looks like SRT" : "";
    throw new InvalidInputError(`line 1: ${quote(first)} is not a WebVTT header (expected "WEBVTT")${srt}`);
  }
  // header metadata ("Kind: captions") runs to the first blank line; a cue there would be lost by players
  for (lines.i++; !lines.done() && !isBlank(lines.line); lines.i++) {
    if (lines.line!.includes("-->"))
      throw new InvalidInputError(`line ${lines.n}: a blank line must separate the "WEBVTT" header from the first cue`);
  }
}

/** Text lines up to a blank line; as in browsers, a line with `-->` ends the cue (it must be the next one). */
function readVttText(lines: Lines): string[] {
  const text: string[] = [];
  for (; !lines.done() && !isBlank(lines.line); lines.i++) {
    const line = lines.line!;
    if (line.includes("-->")) {
      if (rangeOf(line, "vtt")) break;
      throw new InvalidInputError(`line ${lines.n}: ${quote(line)}: cue text may not contain "-->"`);
    }
    text.push(line);
  }
  return text;
}

function cueOf(range: { start: number; end: number }, lines: string[], kind: CaptionKind): Cue | undefined {
  const text = lines
    .map((l) => markup(l.replace(/^[ \t]+|[ \t]+$/g, ""), kind))
    .filter((l) => l !== "")
    .join("\n");
  return text ? { ...range, text } : undefined;
}

const ALLOWED_TAGS = new Set(["i", "b", "u"]);
/** Anything tag-shaped: `<` (or `</`), a letter or digit, then up to the next `>`. */
const TAG = /<\/?[A-Za-z0-9][^<>]*>/g;

/**
 * One line of cue text in our markup: allowed tags kept bare, other tags dropped, the rest
 * escaped. SRT text is literal (its `&amp;` shows as written; tags are matched in any case);
 * WebVTT text has its character references decoded first (tags are lower case there).
 */
function markup(line: string, kind: CaptionKind): string {
  const source = kind === "srt" ? line.replace(/\{\\[^{}]*\}/g, "") : line;
  const literal = kind === "srt" ? (s: string) => s : decodeReferences;
  let out = "";
  let at = 0;
  for (const m of source.matchAll(TAG)) {
    out += escapeText(literal(source.slice(at, m.index)));
    out += allowedTag(m[0], kind);
    at = m.index + m[0].length;
  }
  return out + escapeText(literal(source.slice(at)));
}

function allowedTag(tag: string, kind: CaptionKind): string {
  const [, slash = "", name = ""] = /^<(\/?)([A-Za-z0-9]+)/.exec(tag) ?? [];
  const bare = kind === "srt" ? name.toLowerCase() : name;
  return ALLOWED_TAGS.has(bare) ? `<${slash}${bare}>` : "";
}

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00A0",
  lrm: "\u200E",
  rlm: "\u200F",
};

/** WebVTT's character references: the common names and numeric ones; anything else stays as written. */
function decodeReferences(s: string): string {
  return s.replace(
    /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([a-z]+));/g,
    (whole: string, dec?: string, hex?: string, name?: string) => {
      if (name !== undefined) return NAMED[name] ?? whole;
      return printable(dec !== undefined ? Number(dec) : Number.parseInt(hex ?? "", 16));
    },
  );
}

/** A referenced code point, or nothing for controls, surrogates and U+FFFD (which the parser refuses). */
function printable(code: number): string {
  const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
  const invalid = code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffd;
  return control || invalid ? "" : String.fromCodePoint(code);
}

/**
 * WebVTT for `cues`, ordered by start time as WebVTT requires (stable for equal starts). Text
 * is brought to our markup again, so any text is safe to pass; cues left without text are
 * omitted, and no line of text can end a cue early or read as a time range.
 */
export function toWebVtt(cues: readonly Cue[]): string {
  const blocks = [...cues].sort((a, b) => a.start - b.start).flatMap(cueBlock);
  return ["WEBVTT", "", ...blocks].join("\n");
}

function cueBlock(cue: Cue): string[] {
  const { start, end } = cue;
  if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end < start)
    throw new RangeError(`cue times ${start} --> ${end} are not a time range`);
  const text = cueOf({ start, end }, cue.text.split(/\r\n|\r|\n/), "vtt")?.text;
  return text ? [`${vttTime(start)} --> ${vttTime(end)}`, text, ""] : [];
}

function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const h = Math.floor(ms / 3_600_000);
  return `${pad(h)}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** ISO 639-2 codes (terminology and bibliographic) with a two-letter ISO 639-1 equivalent. */
const ISO_639_1: Record<string, string> = Object.fromEntries(
  `
  afr:af amh:am ara:ar aze:az bel:be ben:bn bos:bs bre:br bul:bg cat:ca ces:cs cze:cs cym:cy wel:cy
  dan:da deu:de ger:de ell:el gre:el eng:en epo:eo est:et eus:eu baq:eu fao:fo fas:fa per:fa fin:fi
  fra:fr fre:fr gle:ga glg:gl guj:gu hau:ha heb:he hin:hi hrv:hr hun:hu hye:hy arm:hy ibo:ig ind:id
  isl:is ice:is ita:it jpn:ja kan:kn kat:ka geo:ka kaz:kk khm:km kor:ko kur:ku lao:lo lat:la lav:lv
  lit:lt ltz:lb mal:ml mar:mr mkd:mk mac:mk mlt:mt mon:mn msa:ms may:ms mya:my bur:my nep:ne nld:nl
  dut:nl nno:nn nob:nb nor:no pan:pa pol:pl por:pt pus:ps ron:ro rum:ro rus:ru sin:si slk:sk slo:sk
  slv:sl som:so spa:es sqi:sq alb:sq srp:sr swa:sw swe:sv tam:ta tat:tt tel:te tgl:tl tha:th tur:tr
  ukr:uk urd:ur uzb:uz vie:vi yid:yi yor:yo zho:zh chi:zh zul:zu
  `
    .trim()
    .split(/\s+/)
    .map((pair) => [pair.slice(0, 3), pair.slice(4)] as const),
);

/** A BCP 47-shaped tag: a 2–3 letter language, then subtags (region, script, variant). */
const LANGUAGE_TAG = /^([A-Za-z]{2,3})((?:-[A-Za-z0-9]{1,8})*)$/;

/**
 * A language tag as a BCP 47 tag that is also a safe file stem: `eng` → `en`, `pt_br` →
 * `pt-BR`, `zh-hant-tw` → `zh-Hant-TW`; anything else (empty, a name like "English", a path)
 * is `und`. Only letters, digits and `-` survive, so the stem cannot leave its folder.
 */
export function captionLanguage(tag: string | undefined): string {
  const m = LANGUAGE_TAG.exec((tag ?? "").trim().replace(/_/g, "-"));
  if (!m || m[0].length > 35) return "und";
  const primary = m[1]!.toLowerCase();
  const subtags = m[2]!.split("-").slice(1).map(subtagCase);
  return [ISO_639_1[primary] ?? primary, ...subtags].join("-");
}

/** BCP 47's conventional case: regions upper (`BR`), scripts title (`Hant`), the rest lower. */
function subtagCase(s: string): string {
  if (/^[A-Za-z]{2}$/.test(s)) return s.toUpperCase();
  if (/^[A-Za-z]{4}$/.test(s)) return s[0]!.toUpperCase() + s.slice(1).toLowerCase();
  return s.toLowerCase();
}

/** Where each track is published, `captions/<language>.vtt`, in order; repeats become `en-2`, `en-3`. */
export function captionPaths(tags: readonly (string | undefined)[]): { language: string; path: string }[] {
  const used = new Set<string>();
  return tags.map((tag) => {
    const language = captionLanguage(tag);
    let stem = language;
    for (let n = 2; used.has(stem); n++) stem = `${language}-${n}`;
    used.add(stem);
    return { language, path: `${CAPTIONS_DIR}/${stem}.vtt` };
  });
}

/** A subtitle stream of a source, as ffprobe describes it. */
export interface SubtitleStream {
  /** N in `-map 0:s:N`: the stream's place among the file's subtitle streams. */
  index: number;
  /** ffprobe's index over all the file's streams (for logs). */
  sourceIndex: number;
  codec: string;
  /** `captionLanguage` of the stream's language tag (`und` when it has none). */
  language: string;
  title?: string;
  /** Text subtitles, which we convert to WebVTT. */
  text: boolean;
  /** Why the stream is not converted, when it is not. */
  reason?: string;
}

const TEXT_CODECS = new Set(["mov_text", "subrip", "ass", "ssa", "webvtt", "text"]);
const BITMAP_CODECS: Record<string, string> = {
  dvd_subtitle: "DVD",
  hdmv_pgs_subtitle: "Blu-ray PGS",
  dvb_subtitle: "DVB",
  xsub: "DivX XSUB",
};

const ProbeStream = z
  .object({
    index: z.number().optional(),
    codec_type: z.string().optional(),
    codec_name: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** The subtitle streams among ffprobe's `streams` (`-show_streams` JSON), in file order. */
export function subtitleStreams(ffprobeStreams: unknown): SubtitleStream[] {
  const streams = z.array(ProbeStream).parse(ffprobeStreams);
  return streams
    .map((s, i) => ({ s, sourceIndex: s.index ?? i }))
    .sort((a, b) => a.sourceIndex - b.sourceIndex)
    .filter(({ s }) => s.codec_type === "subtitle")
    .map(({ s, sourceIndex }, index) => {
      const codec = s.codec_name ?? "unknown";
      const title = s.tags?.title;
      const reason = unconvertible(codec);
      const described = { index, sourceIndex, codec, language: captionLanguage(s.tags?.language) };
      return { ...described, ...(title ? { title } : {}), text: !reason, ...(reason ? { reason } : {}) };
    });
}

function unconvertible(codec: string): string | undefined {
  if (TEXT_CODECS.has(codec)) return undefined;
  const bitmap = BITMAP_CODECS[codec];
  if (bitmap) return `${bitmap} subtitles (${codec}) are pictures, not text; they cannot be converted to WebVTT`;
  return `${codec} subtitles are not a text format we convert to WebVTT`;
}

/** The output half of an extraction: one subtitle stream, as WebVTT, at most just past the size cap. */
function subtitleOutputArgs(streamIndex: number, output: string): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0)
    throw new RangeError(`subtitle stream index ${streamIndex} is not a whole number`);
  // past the cap ffmpeg stops writing; the parse then refuses the file rather than publishing a cut one
  const fileSize = ["-fs", String(MAX_CAPTION_BYTES + 1)];
  return ["-map", `0:s:${streamIndex}`, "-c:s", "webvtt", ...fileSize, "-f", "webvtt", output];
}

/** ffmpeg arguments writing subtitle stream N (`SubtitleStream.index`) of `input` as WebVTT. */
export function extractSubtitleArgs(
  input: string,
  format: string | undefined,
  streamIndex: number,
  output: string,
): string[] {
  return [...inputArgs(input, format), ...subtitleOutputArgs(streamIndex, output)];
}

/** A source subtitle stream written as a caption track. */
export interface ExtractedCaptions {
  stream: SubtitleStream;
  language: string;
  /** Where to publish it, relative to the job's outputs: `captions/<language>.vtt`. */
  path: string;
  /** The file written: `<dir>/<path>`. */
  file: string;
  /** Cues in it; a stream may have none. */
  cues: number;
}

/**
 * Write every text stream of `streams` as WebVTT under `<dir>/captions/` in one ffmpeg run
 * (the source is demuxed once), then re-parse each and write it again with `toWebVtt`: what
 * we publish has parsed and carries only our markup. Streams that are not text are skipped
 * (their `reason` says why). A stream that does not parse fails with InvalidInputError.
 */
export async function extractCaptions(
  ff: Ffmpeg,
  input: string,
  format: string | undefined,
  streams: readonly SubtitleStream[],
  dir: string,
  opts: RunOptions = {},
): Promise<ExtractedCaptions[]> {
  const text = streams.filter((s) => s.text);
  if (text.length === 0) return [];
  const tracks = captionPaths(text.map((s) => s.language)).map((p, i) => ({
    ...p,
    stream: text[i]!,
    file: join(dir, p.path),
  }));
  await mkdir(join(dir, CAPTIONS_DIR), { recursive: true });
  const outputs = tracks.flatMap((t) => subtitleOutputArgs(t.stream.index, t.file));
  await ff.run([...inputArgs(input, format), ...outputs], opts);
  return Promise.all(tracks.map(rewrite));
}

async function rewrite(track: Omit<ExtractedCaptions, "cues">): Promise<ExtractedCaptions> {
  const { stream } = track;
  try {
    const cues = parseCaptions(await readFile(track.file, "utf8"), "vtt");
    const vtt = toWebVtt(cues);
    parseCaptions(vtt, "vtt");
    await writeFile(track.file, vtt);
    return { ...track, cues: cues.length };
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    const which = `subtitle stream ${stream.index} (${stream.codec}, ${stream.language})`;
    throw new InvalidInputError(`${which}: ${err.message}`, { cause: err });
  }
}
