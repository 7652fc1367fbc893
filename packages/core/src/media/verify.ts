import { ffmpeg, firstLine } from "../ffmpeg/run.ts";
import { ffmpegBinaries } from "../ffmpeg/locate.ts";

/**
 * Decode a whole output (a file or a presigned URL) and count its video frames. Counting
 * packets would pass a file whose bytes are corrupt; decoding with -xerror does not.
 */
export async function decodeCheck(input: string, timeoutMs: number): Promise<{ ok: true; frames: number } | { ok: false; reason: string }> {
  let frames = 0;
  try {
    // the loop filter only smooths pictures: skipping it keeps every syntax check and saves ~10% of the decode
    await ffmpeg(["-err_detect", "explode", "-xerror", "-skip_loop_filter", "all", "-i", input, "-map", "0:v:0", ffmpegBinaries().fpsModeFlag, "passthrough", "-f", "null", "-"], {
      timeoutMs,
      stallMs: 60_000,
      onProgress: (p) => (frames = p.frame),
    });
    return { ok: true, frames };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}
