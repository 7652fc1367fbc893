/**
 * Test media generated on demand from ffmpeg's lavfi sources (testsrc2 picture + sine tone).
 *
 *   const file = await makeFixture("h264-noaudio", dir); // cached: generated once per dir
 *
 * Works with the system ffmpeg 5.1 and the 2018 static build shipped by @ffmpeg-installer.
 */
import { execFile } from "node:child_process";
import { access, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { ffmpegBinaries } from "@videoforge/core";

// the same binaries the product uses: system ffmpeg when recent, else the npm-shipped build
export const ffmpegBin = process.env.FFMPEG_PATH ?? ffmpegBinaries().ffmpeg;
export const ffprobeBin = process.env.FFPROBE_PATH ?? ffmpegBinaries().ffprobe;

export const fixtureNames = [
  "tiny-2s",
  "h264-1080p-bframes-audio",
  "h264-noaudio",
  "h264-single-keyframe",
  "sparse-keyframes",
  "h264-vfr",
  "h264-trimmed",
  "h264-odd-1918x1078",
  "h264-rotated",
  "hevc-10bit",
  "h264-bframes-audio-360p",
  "hevc-10bit-360p",
  "vp8-vorbis-webm",
  "bad-zero-byte",
  "bad-text",
  "bad-truncated",
] as const;
export type FixtureName = (typeof fixtureNames)[number];

const execFileAsync = promisify(execFile);

async function run(bin: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(bin, args, { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const tail = (e.stderr || e.message).trim().split("\n").slice(-8).join("\n");
    throw new Error(`${path.basename(bin)} ${args.join(" ")} failed:\n${tail}`);
  }
}

const ffmpeg = (args: string[]) => run(ffmpegBin, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args]);

/** testsrc2 video (+ optional stereo 48 kHz sine) inputs of the same length. */
function sources(w: number, h: number, fps: number, secs: number, audio = true): string[] {
  const args = ["-f", "lavfi", "-i", `testsrc2=size=${w}x${h}:rate=${fps}:duration=${secs}`];
  if (audio) args.push("-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${secs}`);
  return args;
}
const x264 = (gop: number) => ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", String(gop)];
const aac = ["-c:a", "aac", "-ac", "2", "-ar", "48000"];
/** SDR HD colour, declared: the outputs must carry it. */
const bt709 = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"];

/** `-fps_mode` arrived in ffmpeg 5.1; older builds only know `-vsync`. */
async function ffmpegVfr(build: (fpsMode: string[]) => string[]): Promise<void> {
  try {
    await ffmpeg(build(["-fps_mode", "vfr"]));
  } catch (err) {
    if (!/Unrecognized option 'fps_mode'/.test(String(err))) throw err;
    await ffmpeg(build(["-vsync", "vfr"]));
  }
}

/**
 * Stream-copy `src` to `out` so that it displays turned 90° clockwise (ffprobe: display matrix rotation -90).
 * ffmpeg 4.x–6.x turn `-metadata rotate=N` into a matrix of the opposite sense (rotate=90 displays
 * counter-clockwise), ffmpeg >= 7 dropped it for `-display_rotation`; so try each and keep the first that probes right.
 */
async function remuxRotated(src: string, out: string): Promise<void> {
  const attempts = [
    ["-i", src, "-metadata:s:v:0", "rotate=270"],
    ["-i", src, "-metadata:s:v:0", "rotate=90"],
    ["-display_rotation", "-90", "-i", src],
    ["-display_rotation", "90", "-i", src],
  ];
  let why = "";
  for (const input of attempts) {
    try {
      await ffmpeg([...input, "-map", "0", "-c", "copy", out]);
      const { rotation } = await probeSummary(out);
      if (rotation === 90) return;
      why = `${input.join(" ")} gave rotation ${rotation}`;
    } catch (err) {
      why = String(err); // option unknown to this ffmpeg: try the next way
    }
  }
  throw new Error(`${ffmpegBin} could not write 90° rotation metadata (last: ${why})`);
}

/** 10-bit HEVC with audio, open GOPs (CRA) as x265 makes them by default. */
/** `hdr`: tagged as HDR10 (BT.2020 primaries and matrix, PQ transfer), as a phone or a grading suite writes it. */
function hevc10bit(width: number, height: number, out: string, hdr = false) {
  const tags = hdr ? ["-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc"] : [];
  return ffmpeg([
    ...sources(width, height, 25, 4),
    // keyint via x265-params: the 2018 static ffmpeg ignores -g for libx265; open GOP (CRA) left on
    "-c:v",
    "libx265",
    "-preset",
    "veryfast",
    "-pix_fmt",
    "yuv420p10le",
    "-x265-params",
    "log-level=error:keyint=25",
    ...tags,
    "-tag:v",
    "hvc1",
    ...aac,
    out,
  ]);
}

type Recipe = (out: string, dir: string) => Promise<unknown>;

const recipes: Record<FixtureName, Recipe> = {
  "tiny-2s": (out) => ffmpeg([...sources(320, 240, 25, 2), ...x264(25), ...aac, out]),
  "h264-1080p-bframes-audio": (out) => ffmpeg([...sources(1920, 1080, 30, 4), ...x264(30), "-bf", "3", ...aac, out]),
  "h264-noaudio": (out) => ffmpeg([...sources(1280, 720, 25, 5, false), ...x264(25), out]),
  "h264-single-keyframe": (out) =>
    ffmpeg([...sources(640, 360, 30, 6), ...x264(100000), "-keyint_min", "100000", "-sc_threshold", "0", ...aac, out]),
  // a screen recording's GOP: keyframes only at 0 s and 6.5 s over 10 s, B-frames, audio; the picture cuts from
  // test patterns to colour bars at 3.7 s (a scene change where a window may start)
  "sparse-keyframes": (out) =>
    ffmpeg([
      ...sources(640, 360, 30, 10),
      ...["-f", "lavfi", "-i", "smptehdbars=size=640x360:rate=30:duration=6.3"],
      ...["-filter_complex", "[0:v]trim=duration=3.7[a];[a][2:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "1:a"],
      ...x264(100000),
      "-bf",
      "3",
      "-x264-params",
      "keyint=100000:min-keyint=100000:scenecut=0",
      "-force_key_frames",
      "0,6.5",
      ...aac,
      out,
    ]),
  // 30 fps for 2.5 s, then every other frame dropped (15 fps); timestamps kept, keyframe each second
  "h264-vfr": (out) =>
    ffmpegVfr((fpsMode) => [
      ...sources(640, 360, 30, 5),
      "-vf",
      "select='lt(t,2.5)+not(mod(n,2))'",
      ...fpsMode,
      ...x264(30),
      "-force_key_frames",
      "expr:gte(t,n_forced)",
      ...aac,
      out,
    ]),
  // trimmed by stream copy (as QuickTime does): 4 s shown of 4.5 s, B-frames, audio; the edit list
  // starts mid-GOP, so the first 0.5 s of packets are still there, hidden (discarded) by the demuxer
  "h264-trimmed": async (out) => {
    const src = out.replace(/\.mp4$/, ".untrimmed.mp4");
    await ffmpeg([...sources(320, 240, 25, 4.5), ...x264(25), "-bf", "3", ...aac, src]);
    try {
      await ffmpeg(["-ss", "0.5", "-i", src, "-map", "0", "-c", "copy", out]);
    } finally {
      await rm(src, { force: true });
    }
  },
  // both dimensions are even, so plain 4:2:0 works; x264 signals the crop from the 1920x1088 macroblock grid
  "h264-odd-1918x1078": (out) => ffmpeg([...sources(1918, 1078, 25, 4), ...x264(25), ...aac, out]),
  "h264-rotated": async (out) => {
    const src = out.replace(/\.mp4$/, ".unrotated.mp4");
    await ffmpeg([...sources(1280, 720, 30, 4), ...x264(30), ...aac, src]);
    try {
      await remuxRotated(src, out);
    } finally {
      await rm(src, { force: true });
    }
  },
  // the same kinds at 640x360, for tests that run every codec on them (decoding is most of their cost)
  "h264-bframes-audio-360p": (out) =>
    ffmpeg([...sources(640, 360, 30, 4), ...x264(30), "-bf", "3", ...bt709, ...aac, out]),
  "hevc-10bit-360p": (out) => hevc10bit(640, 360, out, true),
  "hevc-10bit": (out) => hevc10bit(1280, 720, out),
  "vp8-vorbis-webm": (out) =>
    ffmpeg([
      ...sources(640, 360, 30, 4),
      "-c:v",
      "libvpx",
      "-deadline",
      "realtime",
      "-cpu-used",
      "8",
      "-b:v",
      "1M",
      "-g",
      "30",
      "-c:a",
      "libvorbis",
      "-ac",
      "2",
      out,
    ]),
  "bad-zero-byte": (out) => writeFile(out, ""),
  "bad-text": (out) => writeFile(out, "This is a text file, not a video.\n".repeat(20)),
  // tiny-2s has its moov atom at the end (no faststart), so 40% of it has no index at all
  "bad-truncated": async (out, dir) => {
    const whole = await readFile(await makeFixture("tiny-2s", dir));
    await writeFile(out, whole.subarray(0, Math.floor(whole.length * 0.4)));
  },
};

const pending = new Map<string, Promise<string>>();

/** Path of fixture `name` in `dir`, generating it first unless it is already there. */
export function makeFixture(name: FixtureName, dir: string): Promise<string> {
  const file = path.join(dir, name + (name === "vp8-vorbis-webm" ? ".webm" : ".mp4"));
  let job = pending.get(file);
  if (!job) {
    job = (async () => {
      if (
        await access(file).then(
          () => true,
          () => false,
        )
      )
        return file;
      // write under a temporary name (same extension, for the muxer) so a killed run never leaves a half file
      const partial = file.replace(/(\.\w+)$/, `.partial-${process.pid}$1`);
      try {
        await recipes[name](partial, dir);
        await rename(partial, file);
      } finally {
        await rm(partial, { force: true });
      }
      return file;
    })();
    job.catch(() => pending.delete(file));
    pending.set(file, job);
  }
  return job;
}

export interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  nb_read_packets?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  [key: string]: unknown;
}
export interface ProbeResult {
  streams?: ProbeStream[];
  packets?: { pts_time?: string; flags?: string; [key: string]: unknown }[];
  format?: { duration?: string; format_name?: string; [key: string]: unknown };
}

/** Raw `ffprobe -of json` output; `args` choose what to show (e.g. `-show_streams`). */
export async function probeJson(file: string, args: string[]): Promise<ProbeResult> {
  return JSON.parse(await run(ffprobeBin, ["-v", "error", "-of", "json", ...args, file])) as ProbeResult;
}

export interface ProbeSummary {
  /** Packets of the first video stream (= frames). */
  frames: number;
  /** Seconds: the video stream's duration, else the container's. */
  duration: number;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  hasAudio: boolean;
  audioDuration?: number;
  /** Clockwise display rotation, 0/90/180/270 (as core's probe reports it). */
  rotation: number;
}

const num = (s: string | undefined) => (s === undefined || s === "N/A" || s === "" ? undefined : Number(s));
/** Matroska keeps stream durations in a "00:00:04.003000000" tag. */
const tagSeconds = (t: string | undefined) => t?.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
const seconds = (s: ProbeStream) => num(s.duration) ?? tagSeconds(s.tags?.DURATION ?? s.tags?.duration);

export async function probeSummary(file: string): Promise<ProbeSummary> {
  const j = await probeJson(file, ["-count_packets", "-show_streams", "-show_format"]);
  const video = j.streams?.find((s) => s.codec_type === "video");
  if (!video) throw new Error(`${file}: no video stream`);
  const audio = j.streams?.find((s) => s.codec_type === "audio");
  // display matrix rotation is counter-clockwise, the legacy tag clockwise
  const matrix = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const degrees = matrix !== undefined ? -matrix : Number(video.tags?.rotate ?? 0);
  return {
    frames: Number(video.nb_read_packets ?? 0),
    duration: seconds(video) ?? num(j.format?.duration) ?? 0,
    width: video.width ?? 0,
    height: video.height ?? 0,
    hasAudio: audio !== undefined,
    audioDuration: audio && seconds(audio),
    rotation: (((Math.round(degrees / 90) * 90) % 360) + 360) % 360,
  };
}
