import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FinalOutput, Rendition } from "@videoforge/events";
import {
  ladderFilter,
  passthroughTiming,
  rotateFilter,
  videoCodecArgs,
  type FfmpegCapabilities,
  type X264Settings,
} from "@videoforge/core";
import { containerOf, outputFileName, variantName, type VideoFormat } from "@videoforge/core/formats";
import type { BenchSource } from "./source.ts";

/**
 * The plain-ffmpeg baseline: ONE ffmpeg command, all cores, that writes what the pipeline
 * writes for one codec — a file per rung, the HLS ladder and a poster — with the same encoder
 * settings (`videoCodecArgs`). Each rung is encoded once and the tee muxer writes it twice: the
 * codec's delivery file (faststart MP4, or WebM for VP9), and HLS in CMAF segments like the
 * assembler's packaging (6 s fragmented-MP4 segments, VOD playlist).
 */

/** Mirrors the assembler's HLS packaging (packages/core/src/output/assemble.ts). */
export const HLS_SEGMENT_SECONDS = 6;

/** Where the assembler takes its poster: 10 % in, at most 3 s. */
export function posterTime(duration: number): number {
  return Math.min(duration * 0.1, 3);
}

/** tee's slave options are `key=value` separated by `:`; escape what would break that syntax. */
function teePath(path: string): string {
  return path.replace(/([\\:|[\]])/g, "\\$1");
}

/** What the pipeline delivers for one codec, which the baseline writes the same way. */
export interface Delivery {
  container: "MP4" | "WebM";
  /** The tee slave's muxer options for the delivery file. */
  slave: string;
  /** The sample entry forced on the video, as the assembler does (`hvc1` for HEVC). */
  tag?: "hvc1";
  /** Audio as the pipeline encodes it (core's audioArgs): Opus in WebM, AAC in MP4, 128k stereo. */
  audio: { encoder: "aac" | "libopus"; label: string };
}

export function deliveryOf(codec: VideoFormat): Delivery {
  if (containerOf(codec) === "webm")
    return { container: "WebM", slave: "f=webm", audio: { encoder: "libopus", label: "Opus 128k" } };
  return {
    container: "MP4",
    slave: "f=mp4:movflags=+faststart",
    // hvc1: parameter sets in the sample entry, which Safari requires
    ...(codec === "hevc" ? { tag: "hvc1" as const } : {}),
    audio: { encoder: "aac", label: "AAC 128k" },
  };
}

export function baselineArgs(
  source: BenchSource,
  renditions: readonly Rendition[],
  settings: X264Settings,
  outDir: string,
  caps: FfmpegCapabilities,
  codec: VideoFormat,
): string[] {
  const t = posterTime(source.duration).toFixed(3);
  // the poster: its own branch of the same decode, cut to one frame so it ends at once
  const scale = `scale=${renditions[0]!.width}:${renditions[0]!.height}:flags=bicubic`;
  const posterChain = [...rotateFilter(source.rotation), `trim=start=${t}`, "trim=end_frame=1", scale].join(",");
  const poster = `[0:v:0]${posterChain}[poster]`;
  const args = [
    "-noautorotate",
    "-i",
    source.file,
    "-filter_complex",
    `${ladderFilter(renditions, source.rotation)};${poster}`,
  ];
  const delivery = deliveryOf(codec);
  const tag = delivery.tag ? ["-tag:v", delivery.tag] : [];
  for (const [i, r] of renditions.entries()) {
    const hls = join(outDir, "hls", variantName(r.name, codec));
    const audio = source.hasAudio ? ["-map", "0:a:0", "-c:a", delivery.audio.encoder, "-b:a", "128k", "-ac", "2"] : [];
    const slaves = [
      `[${delivery.slave}]${teePath(join(outDir, outputFileName(r.name, codec)))}`,
      `[f=hls:hls_time=${HLS_SEGMENT_SECONDS}:hls_playlist_type=vod:hls_segment_type=fmp4` +
        `:hls_fmp4_init_filename=init.mp4` +
        `:hls_segment_filename=${teePath(join(hls, "seg_%05d.m4s"))}]${teePath(join(hls, "index.m3u8"))}`,
    ];
    args.push(
      "-map",
      `[v${i}]`,
      ...audio,
      ...videoCodecArgs(codec, r, settings, caps),
      ...tag,
      ...passthroughTiming(caps),
      "-flags",
      "+global_header",
      "-f",
      "tee",
      slaves.join("|"),
    );
  }
  args.push("-map", "[poster]", "-frames:v", "1", "-q:v", "3", join(outDir, "poster.jpg"));
  return args;
}

/** Folders the command writes into must exist beforehand (the hls muxer does not create them). */
export async function prepareBaselineDir(
  outDir: string,
  renditions: readonly Rendition[],
  codec: VideoFormat,
): Promise<void> {
  for (const r of renditions) await mkdir(join(outDir, "hls", variantName(r.name, codec)), { recursive: true });
}

/** The master playlist, written the same way as the pipeline's (it is text, not ffmpeg work). */
export async function writeBaselineMaster(
  outDir: string,
  renditions: readonly Rendition[],
  duration: number,
  hasAudio: boolean,
  codec: VideoFormat,
): Promise<void> {
  const outputs: FinalOutput[] = [];
  for (const r of renditions) {
    const key = outputFileName(r.name, codec);
    const bytes = (await stat(join(outDir, key))).size;
    outputs.push({
      rendition: variantName(r.name, codec),
      format: codec,
      key,
      width: r.width,
      height: r.height,
      frames: 0,
      duration,
      bytes,
      bitrate: Math.round((bytes * 8) / duration),
    });
  }
  await writeFile(join(outDir, "hls", "master.m3u8"), baselineMaster(outputs, hasAudio, codec));
}

/**
 * Typical RFC 6381 strings for the top rung of each codec (the pipeline reads its own from each init
 * segment): the baseline's master is written for the same work, not played, so fixed ones do.
 */
const CODEC_STRINGS: Record<VideoFormat, string> = {
  h264: "avc1.640028",
  hevc: "hvc1.1.6.L120.90",
  vp9: "vp09.00.40.08",
  av1: "av01.0.08M.08",
};

/** The baseline's master playlist: every rung with its measured bandwidth (text, not ffmpeg work). */
export function baselineMaster(outputs: readonly FinalOutput[], hasAudio: boolean, codec: VideoFormat): string {
  const audio = containerOf(codec) === "webm" ? "Opus" : "mp4a.40.2";
  const codecs = hasAudio ? `${CODEC_STRINGS[codec]},${audio}` : CODEC_STRINGS[codec];
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const o of outputs)
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(o.bitrate * 1.2)},RESOLUTION=${o.width}x${o.height},CODECS="${codecs}"`,
      `${o.rendition}/index.m3u8`,
    );
  return lines.join("\n") + "\n";
}

/** Bytes under a folder (the HLS ladder: playlists and segments). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const rel of await readdir(dir, { recursive: true })) {
    const s = await stat(join(dir, rel));
    if (s.isFile()) total += s.size;
  }
  return total;
}
