import { decodeCheckArgs, inputArgs, type OutputFormat } from "../ffmpeg/args.ts";
import { firstLine, type Ffmpeg } from "../ffmpeg/run.ts";

/** The demuxer of one of our outputs, from its name (a file or a presigned URL's path). */
export function outputFormatOf(input: string): OutputFormat {
  const path = /^https?:\/\//.test(input) ? new URL(input).pathname : input;
  if (/\.(mp4|m4v|mov|m4a)$/i.test(path)) return "mov";
  if (/\.webm$/i.test(path)) return "matroska";
  if (/\.m3u8$/i.test(path)) return "hls";
  if (/\.ts$/i.test(path)) return "mpegts";
  throw new Error(`not an output videoforge writes: ${path}`);
}

/** Decode an audio-only output in full, failing at the first error. */
export async function decodeAudioCheck(
  ff: Ffmpeg,
  input: string,
  timeoutMs: number,
  format: "mov" | "mp3",
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await ff.run(
      ["-err_detect", "explode", "-xerror", ...inputArgs(input, format), "-map", "0:a:0", "-f", "null", "-"],
      {
        timeoutMs,
        stallMs: 60_000,
      },
    );
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

/**
 * Decode a whole output (a file or a presigned URL) and count its video frames. Counting
 * packets would pass a file whose bytes are corrupt; decoding with -xerror does not. `format`
 * is the demuxer the output is read with (never guessed from its bytes).
 */
export async function decodeCheck(
  ff: Ffmpeg,
  input: string,
  timeoutMs: number,
  format: OutputFormat = outputFormatOf(input),
): Promise<{ ok: true; frames: number } | { ok: false; reason: string }> {
  let frames = 0;
  try {
    await ff.run(decodeCheckArgs(input, format, ff.capabilities.fpsModeFlag), {
      timeoutMs,
      stallMs: 60_000,
      onProgress: (p) => (frames = p.frame),
    });
    return { ok: true, frames };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}
