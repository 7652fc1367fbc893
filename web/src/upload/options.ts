import type { CreateUploadInput } from "@videoforge/core/contract";
import type { Format } from "@videoforge/core/formats";
import { LANGUAGE_TAG } from "@videoforge/events/ids";
import { parseTime, type Checked } from "../timecode.ts";

export { parseTime, type Checked };

/**
 * The per-job choices of `POST /uploads` beside the file itself, and the checks the upload form
 * makes before sending them. Types come from the contract; the checks repeat a few of its rules
 * so a person sees the problem next to the field instead of after a round trip (the API still
 * decides: its 400 message is shown as it is).
 */

/** The body of `POST /uploads` without what the file itself says (name, size, type). */
export type UploadChoices = Omit<CreateUploadInput, "name" | "size" | "contentType">;
export type CaptionsFile = NonNullable<UploadChoices["captions"]>[number];
export type Watermark = NonNullable<UploadChoices["watermark"]>;
export type WatermarkPosition = NonNullable<Watermark["position"]>;
export type Packaging = NonNullable<UploadChoices["packaging"]>;

export const WATERMARK_POSITIONS: readonly WatermarkPosition[] = [
  "top-left",
  "top-right",
  "bottom-left",
  "bottom-right",
  "center",
];

// the contract's captions language pattern, from the module that imports nothing (zod stays out of the bundle)
export { LANGUAGE_TAG };
export const MAX_CAPTIONS = 8;
export const MAX_WATERMARK_BYTES = 256 * 1024;
/** The API reads at most 1 MiB of request body, and captions and the watermark travel inside it. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const LOUDNESS = { min: -70, max: -5 } as const;

/** MPEG-TS segments carry H.264 and HEVC only (the API refuses VP9 and AV1 with `packaging: "ts"`). */
export const allowedWithPackaging = (format: Format, packaging: Packaging) =>
  packaging === "cmaf" || !["vp9", "av1"].includes(format);

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/** The trim range from the two fields; null for the whole video. */
export function parseTrim(startText: string, endText: string): Checked<UploadChoices["trim"] | null> {
  const start = parseTime(startText, "Trim start");
  if (!start.ok) return start;
  const end = parseTime(endText, "Trim end");
  if (!end.ok) return end;
  const from = start.value ?? 0;
  if (end.value !== null && end.value <= from) return fail("Trim end must be after trim start.");
  if (from === 0 && end.value === null) return { ok: true, value: null };
  return { ok: true, value: end.value === null ? { start: from } : { start: from, end: end.value } };
}

/** An optional number field: empty is null, anything outside [min, max] is `message`. */
function optionalNumber(text: string, min: number, max: number, message: string): Checked<number | null> {
  const s = text.trim();
  if (s === "") return { ok: true, value: null };
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max) return fail(message);
  return { ok: true, value: n };
}

export const parseLoudness = (text: string) =>
  optionalNumber(
    text,
    LOUDNESS.min,
    LOUDNESS.max,
    `Loudness must be a number from ${LOUDNESS.min} to ${LOUDNESS.max} LUFS (−23 is broadcast).`,
  );

/** The target SSIM field: empty is one CRF for the whole video. */
export const parseTargetSsim = (text: string) =>
  optionalNumber(text, 0.8, 0.995, "Target SSIM must be a number from 0.8 to 0.995.");

/** A number field with bounds, e.g. the watermark's opacity. */
export function parseBounded(text: string, what: string, min: number, max: number): Checked<number> {
  const n = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max)
    return fail(`${what} must be a number from ${min} to ${max}.`);
  return { ok: true, value: n };
}

/** A captions file as picked: its text, and the language a person typed for it. */
export interface PickedCaptions {
  name: string;
  format: CaptionsFile["format"] | null;
  text: string;
  language: string;
}

/** `.srt` or `.vtt` by the file's name; null for anything else. */
export const captionsFormat = (name: string): CaptionsFile["format"] | null =>
  /\.srt$/i.test(name) ? "srt" : /\.vtt$/i.test(name) ? "vtt" : null;

/** A language tag from a name such as `talk.pt-BR.srt`, or "" when it names none. */
export function languageFromName(name: string): string {
  const m = /\.([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\.(?:srt|vtt)$/i.exec(name);
  return m?.[1] ?? "";
}

/** The message beside the `index`th captions file's language field, or null when it is fine. */
export function captionsProblem(all: readonly PickedCaptions[], index: number): string | null {
  const c = all[index];
  if (!c) return null;
  if (!c.format) return `${c.name}: only .srt and .vtt files can be attached.`;
  if (c.text.trim() === "") return `${c.name} is empty.`;
  if (!LANGUAGE_TAG.test(c.language.trim())) return "Language must be a tag such as en, pt-BR or eng.";
  // the API folds case and "_" the same way before it refuses a second file for one language
  const key = (l: string) => l.trim().toLowerCase().replace(/_/g, "-");
  if (all.findIndex((o) => key(o.language) === key(c.language)) !== index)
    return `A second file for "${c.language.trim()}".`;
  return null;
}

/** A picked file's bytes as base64, without a data URL's prefix. */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/** The body's size as the API counts it, so an oversized request is refused here with a reason. */
export const bodyBytes = (body: object) => new Blob([JSON.stringify(body)]).size;
