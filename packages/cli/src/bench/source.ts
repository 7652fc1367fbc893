import { stat } from "node:fs/promises";
import { join } from "node:path";
import { defaultFfmpeg, ffmpeg, probeSource } from "@videoforge/core";

/** What the bench needs to know about its source. */
export interface BenchSource {
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  duration: number;
  hasAudio: boolean;
  rotation: number;
  bytes: number;
}

export { SIZES, type SizeName } from "./sizes.ts";

export interface SourceSpec {
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
  /** x264 settings of the source itself: `veryfast` at its default CRF unless a bitrate is asked for. */
  preset?: string;
  bitrate?: string;
  /** Grain added so a high bitrate is really spent (the memory mode's big upload). */
  noise?: boolean;
  /** Three kinds of picture in turn, a third each: test patterns, a grainy zooming fractal, still colour bars. */
  scenes?: boolean;
  name?: string;
}

/** A synthetic 1080p30 clip with moving test patterns and a tone, keyframe every 2 s. */
export async function generateSource(dir: string, spec: SourceSpec): Promise<string> {
  const { seconds, width = 1920, height = 1080, fps = 30 } = spec;
  const file = join(dir, spec.name ?? `source-${seconds}s-${height}p${spec.scenes ? "-scenes" : ""}.mp4`);
  const filters = spec.noise ? ["-vf", "noise=alls=40:allf=t"] : [];
  const third = seconds / 3;
  const size = `size=${width}x${height}:rate=${fps}`;
  // easy, hard and trivial pictures: what a target quality is for (one CRF over-spends on some, under on others)
  const scenes = [
    `testsrc2=${size}:duration=${third}[a]`,
    `mandelbrot=${size},trim=duration=${third},noise=alls=8:allf=t+u[b]`,
    `smptehdbars=${size}:duration=${third}[c]`,
    "[a][b][c]concat=n=3:v=1,format=yuv420p[v]",
  ].join(";");
  const picture = spec.scenes
    ? ["-filter_complex", scenes, "-map", "[v]", "-map", "0:a"]
    : ["-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`];
  const rate = spec.bitrate ? ["-b:v", spec.bitrate, "-maxrate", spec.bitrate, "-bufsize", spec.bitrate] : [];
  await ffmpeg([
    ...(spec.scenes ? [] : picture),
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    ...(spec.scenes ? picture : []),
    ...filters,
    "-c:v",
    "libx264",
    "-preset",
    spec.preset ?? "veryfast",
    ...rate,
    "-g",
    String(fps * 2),
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-movflags",
    "+faststart",
    file,
  ]);
  return file;
}

export async function describeSource(file: string): Promise<BenchSource> {
  const { info } = await probeSource(defaultFfmpeg(), file);
  return {
    file,
    width: info.video.displayWidth,
    height: info.video.displayHeight,
    fps: info.video.fps,
    frames: info.video.frames,
    duration: info.video.duration,
    hasAudio: info.audio !== null,
    rotation: info.video.rotation,
    bytes: (await stat(file)).size,
  };
}
