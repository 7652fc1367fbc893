import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FinalOutput, Rendition } from "@videoforge/events";
import {
  ladderFilter,
  masterPlaylist,
  passthroughTiming,
  rotateFilter,
  x264Args,
  type FfmpegCapabilities,
  type X264Settings,
} from "@videoforge/core";
import type { BenchSource } from "./source.ts";

/**
 * The plain-ffmpeg baseline: ONE ffmpeg command, all cores, that writes what the pipeline
 * writes — an MP4 per rung, the HLS ladder and a poster — with the same x264 settings.
 * Each rung is encoded once and the tee muxer writes it twice: faststart MP4, and HLS
 * packaged like the assembler does it (6 s MPEG-TS segments, VOD playlist).
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

export function baselineArgs(
  source: BenchSource,
  renditions: readonly Rendition[],
  settings: X264Settings,
  outDir: string,
  caps: FfmpegCapabilities,
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
  for (const [i, r] of renditions.entries()) {
    const hls = join(outDir, "hls", r.name);
    const audio = source.hasAudio ? ["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2"] : [];
    const slaves = [
      `[f=mp4:movflags=+faststart]${teePath(join(outDir, `${r.name}.mp4`))}`,
      `[f=hls:hls_time=${HLS_SEGMENT_SECONDS}:hls_playlist_type=vod` +
        `:hls_segment_filename=${teePath(join(hls, "seg_%05d.ts"))}]${teePath(join(hls, "index.m3u8"))}`,
    ];
    args.push(
      "-map",
      `[v${i}]`,
      ...audio,
      ...x264Args(r, settings, caps),
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
export async function prepareBaselineDir(outDir: string, renditions: readonly Rendition[]): Promise<void> {
  for (const r of renditions) await mkdir(join(outDir, "hls", r.name), { recursive: true });
}

/** The master playlist, written the same way as the pipeline's (it is text, not ffmpeg work). */
export async function writeBaselineMaster(
  outDir: string,
  renditions: readonly Rendition[],
  duration: number,
  hasAudio: boolean,
): Promise<void> {
  const outputs: FinalOutput[] = [];
  for (const r of renditions) {
    const bytes = (await stat(join(outDir, `${r.name}.mp4`))).size;
    outputs.push({
      rendition: r.name,
      key: `${r.name}.mp4`,
      width: r.width,
      height: r.height,
      frames: 0,
      duration,
      bytes,
      bitrate: Math.round((bytes * 8) / duration),
    });
  }
  await writeFile(join(outDir, "hls", "master.m3u8"), masterPlaylist(outputs, hasAudio));
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
