import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { FfmpegBinaries } from "./locate.ts";

/** The command that installs a full ffmpeg on Debian and Ubuntu (what scripts/provision.sh runs as root). */
export const INSTALL_FULL_FFMPEG = "sudo apt-get install -y ffmpeg";

const codecsByBinary = new Map<string, Promise<Set<string> | undefined>>();

/**
 * Codec names the ffmpeg can decode (`ffmpeg -codecs`, flag D), read once per binary;
 * undefined when the list cannot be read (nothing is refused on a guess).
 */
export function decodableCodecs(bin: Pick<FfmpegBinaries, "ffmpeg">): Promise<Set<string> | undefined> {
  let codecs = codecsByBinary.get(bin.ffmpeg);
  if (!codecs) {
    codecs = promisify(execFile)(bin.ffmpeg, ["-hide_banner", "-codecs"], {
      timeout: 30_000,
      maxBuffer: 4 * 1024 * 1024,
    }).then(
      // the table follows the legend's " -------" line; flag 1 is D when the codec decodes
      ({ stdout }) =>
        new Set([...stdout.slice(stdout.search(/^ -+$/m) + 1).matchAll(/^ D\S{5} (\S+)/gm)].map((m) => m[1]!)),
      () => undefined,
    );
    codecsByBinary.set(bin.ffmpeg, codecs);
  }
  return codecs;
}

/**
 * Why the ffmpeg in use cannot decode `codec`, as a sentence naming the missing decoder, the
 * build and the command that installs a full ffmpeg; undefined when it can. The npm-shipped
 * fallback (a 2018 build, used when no system ffmpeg 5 or newer exists) lacks newer decoders,
 * while the npm ffprobe beside it (a 2023 build) recognises them: without this check such a
 * source would be planned and fail later in every encoder.
 */
export async function missingDecoder(
  kind: "video" | "audio",
  codec: string | undefined,
  bin: Pick<FfmpegBinaries, "ffmpeg" | "origin">,
): Promise<string | undefined> {
  if (!codec || codec === "unknown" || codec === "none") return undefined;
  const codecs = await decodableCodecs(bin);
  if (!codecs || codecs.has(codec)) return undefined;
  const which =
    bin.origin === "npm" || bin.ffmpeg.includes("@ffmpeg-installer")
      ? `the ffmpeg shipped in the npm package (a 2018 build, used because no system ffmpeg 5 or newer was found)`
      : `the ffmpeg in use (${bin.ffmpeg})`;
  return (
    `The ${kind} is ${codec}, and ${which} has no ${codec} decoder. ` +
    `Install a full ffmpeg (${INSTALL_FULL_FFMPEG}, or set FFMPEG_PATH to one) and try again.`
  );
}
