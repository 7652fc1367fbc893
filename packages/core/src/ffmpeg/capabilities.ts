import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { FfmpegBinaries } from "./locate.ts";

/** The command that installs a full ffmpeg on Debian and Ubuntu (what scripts/provision.sh runs as root). */
export const INSTALL_FULL_FFMPEG = "sudo apt-get install -y ffmpeg";

const tables = new Map<string, Promise<Set<string> | undefined>>();

/**
 * Names from one of ffmpeg's tables (`-codecs`, `-encoders`): the rows after the legend's " ------"
 * line whose flags match `row` (its group is the name), read once per binary and table; undefined
 * when the table cannot be read (nothing is refused on a guess).
 */
function ffmpegTable(bin: Pick<FfmpegBinaries, "ffmpeg">, flag: string, row: RegExp) {
  const id = `${bin.ffmpeg}\0${flag}`;
  let names = tables.get(id);
  if (!names) {
    names = promisify(execFile)(bin.ffmpeg, ["-hide_banner", flag], {
      timeout: 30_000,
      maxBuffer: 4 * 1024 * 1024,
    }).then(
      ({ stdout }) => new Set([...stdout.slice(stdout.search(/^ -+$/m) + 1).matchAll(row)].map((m) => m[1]!)),
      () => undefined,
    );
    tables.set(id, names);
  }
  return names;
}

/** Codec names the ffmpeg can decode (`ffmpeg -codecs`: flag 1 is D when the codec decodes). */
export function decodableCodecs(bin: Pick<FfmpegBinaries, "ffmpeg">): Promise<Set<string> | undefined> {
  return ffmpegTable(bin, "-codecs", /^ D\S{5} (\S+)/gm);
}

/** Encoder names the ffmpeg has (`ffmpeg -encoders`: six flag characters, then the name). */
export function availableEncoders(bin: Pick<FfmpegBinaries, "ffmpeg">): Promise<Set<string> | undefined> {
  return ffmpegTable(bin, "-encoders", /^ \S{6} (\S+)/gm);
}

/** The encoder each output format needs. */
export const ENCODER_OF = {
  h264: "libx264",
  hevc: "libx265",
  vp9: "libvpx-vp9",
  av1: "libsvtav1",
  aac: "aac",
  opus: "libopus",
  mp3: "libmp3lame",
} as const;

/**
 * Why the ffmpeg in use cannot make these outputs (the formats whose encoder it lacks, the build and
 * the command that installs a full one); undefined when it can, or when its list cannot be read.
 */
export async function missingEncoders(
  needs: readonly (keyof typeof ENCODER_OF)[],
  bin: Pick<FfmpegBinaries, "ffmpeg" | "origin">,
): Promise<string | undefined> {
  const encoders = await availableEncoders(bin);
  if (!encoders) return undefined;
  const missing = needs.filter((n) => !encoders.has(ENCODER_OF[n]));
  if (!missing.length) return undefined;
  const which = bin.origin === "npm" ? "the ffmpeg shipped in the npm package" : `the ffmpeg in use (${bin.ffmpeg})`;
  return (
    `${missing.map((m) => `${m} needs the ${ENCODER_OF[m]} encoder`).join("; ")}, and ${which} has none. ` +
    `Install a full ffmpeg (${INSTALL_FULL_FFMPEG}, or set FFMPEG_PATH to one), or choose other formats.`
  );
}

/** Filter names the ffmpeg has (`ffmpeg -filters`: three flag characters, the name, its pads `V->V`). */
export function availableFilters(bin: Pick<FfmpegBinaries, "ffmpeg">): Promise<Set<string> | undefined> {
  return ffmpegTable(bin, "-filters", /^ [.A-Z]{3} (\S+)\s+\S*->/gm);
}

/** Why the ffmpeg in use cannot run these filters for `what`; undefined when it can or its list cannot be read. */
export async function missingFilters(
  needs: readonly string[],
  what: string,
  bin: Pick<FfmpegBinaries, "ffmpeg" | "origin">,
): Promise<string | undefined> {
  const filters = await availableFilters(bin);
  const missing = filters ? needs.filter((n) => !filters.has(n)) : [];
  if (!missing.length) return undefined;
  const which = bin.origin === "npm" ? "the ffmpeg shipped in the npm package" : `the ffmpeg in use (${bin.ffmpeg})`;
  return (
    `${what} needs the ${missing.join(" and ")} filter${missing.length > 1 ? "s" : ""}, and ${which} lacks ` +
    `${missing.length > 1 ? "them" : "it"}. Install a full ffmpeg (${INSTALL_FULL_FFMPEG}, or set FFMPEG_PATH to one).`
  );
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
