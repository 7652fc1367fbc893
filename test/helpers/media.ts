import { writeFile } from "node:fs/promises";
import {
  config,
  defaultFfmpeg,
  ffmpeg,
  ffmpegBinaries,
  gopFor,
  ladderFilter,
  passthroughTiming,
  runProcess,
  videoCodecArgs,
} from "@videoforge/core";
import type { Rendition, VideoFormat } from "@videoforge/events";

/** Independent checks on outputs: these decode, where the pipeline itself only counts packets. */
export async function decodedVideo(
  file: string,
): Promise<{ frames: number; width: number; height: number; duration: number; rotation: number }> {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-count_frames",
    "-show_entries",
    "stream=nb_read_frames,width,height,duration:stream_side_data=rotation:stream_tags=rotate",
    "-of",
    "json",
    file,
  ]);
  const s = (
    JSON.parse(stdout) as {
      streams: {
        nb_read_frames: string;
        width: number;
        height: number;
        duration?: string;
        side_data_list?: { rotation?: number }[];
        tags?: { rotate?: string };
      }[];
    }
  ).streams[0]!;
  const rotation = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(s.tags?.rotate ?? 0);
  return {
    frames: Number(s.nb_read_frames),
    width: s.width,
    height: s.height,
    duration: Number(s.duration ?? 0),
    rotation,
  };
}

/**
 * Start and end (seconds) of the first video and audio streams, from their packets:
 * end = the last presentation time plus that packet's duration. MP4s remuxed from
 * MPEG-TS report no per-packet video duration; `lastFrame` (the source's) stands in.
 * Packets an edit list hides (flag `D`, e.g. the GOP head before a trim) are not shown: skipped.
 */
export async function streamSpans(
  file: string,
  lastFrame = 0,
): Promise<{
  video: { start: number; end: number; lastFrame: number };
  audio: { start: number; end: number; lastFrame: number } | null;
}> {
  const video = await packetSpan(file, "v:0", lastFrame);
  if (!video) throw new Error(`${file} has no video`);
  return { video, audio: await packetSpan(file, "a:0", 0) };
}

/** Start and end of one stream (`sel`, e.g. `a:0`) as streamSpans measures them; null without that stream. */
export async function packetSpan(file: string, sel: string, fallback: number) {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-select_streams",
    sel,
    "-show_entries",
    "packet=pts_time,duration_time,flags",
    "-of",
    "csv=p=0",
    file,
  ]);
  const fields = stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(","));
  const rows = fields.filter((f) => !f[2]?.includes("D")).map((f) => [Number(f[0]), Number(f[1])] as [number, number]);
  if (rows.length === 0) return null;
  const last = rows.reduce((a, b) => (b[0] > a[0] ? b : a));
  const lastDuration = Number.isFinite(last[1]) ? last[1] : fallback;
  return { start: Math.min(...rows.map((r) => r[0])), end: last[0] + lastDuration, lastFrame: lastDuration };
}

export { ssim } from "@videoforge/core";

export async function download(url: string, file: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  await writeFile(file, bytes);
  return bytes.length;
}

/** One plain ffmpeg pass of `source` to one rung with the pipeline's encoder settings: the quality baseline. */
export async function singlePassEncode(
  source: string,
  rung: Rendition,
  out: string,
  opts: { codec?: VideoFormat; fps?: number } = {},
): Promise<void> {
  const caps = defaultFfmpeg().capabilities;
  const settings = { ...config().x264, gop: gopFor(opts.fps ?? 30) };
  await ffmpeg([
    "-i",
    source,
    "-filter_complex",
    ladderFilter([rung], 0),
    "-map",
    "[v0]",
    ...videoCodecArgs(opts.codec ?? "h264", rung, settings, caps),
    ...passthroughTiming(caps),
    "-an",
    out,
  ]);
}
