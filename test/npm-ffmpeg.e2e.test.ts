import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decodeCheck, defaultFfmpeg, ffmpegBinaries } from "@videoforge/core";
import { makeFixture, type FixtureName } from "./fixtures.ts";
import { decodedVideo, streamSpans } from "./helpers/media.ts";

/**
 * The npm fallback: the pipeline forced onto the ffmpeg and ffprobe shipped in the
 * @ffmpeg-installer / @ffprobe-installer packages (what a machine without ffmpeg runs), on
 * sources made by the system ffmpeg. Every check here uses the system ffmpeg (provisioned by
 * scripts/provision.sh), never the npm one: frame counts decoded, duration within one frame,
 * audio ending with the video, the HLS ladder decoded too.
 */
const BIN = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));
const require = createRequire(import.meta.url);
const NPM = {
  FFMPEG_PATH: (require("@ffmpeg-installer/ffmpeg") as { path: string }).path,
  FFPROBE_PATH: (require("@ffprobe-installer/ffprobe") as { path: string }).path,
};
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-npm-ffmpeg-"));
  // the references must not be the npm build themselves
  expect(ffmpegBinaries().ffmpeg).not.toBe(NPM.FFMPEG_PATH);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function encode(source: string, out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...NPM, VIDEOFORGE_CHUNK_SECONDS: "1" };
    const child = spawn(process.execPath, [BIN, "encode", source, "--out", out, "--ladder", "240p", "--json"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The muxer that wrote an MP4 (`Lavf58.…` is the npm 4.1 build, `Lavf59.…` and later a system one). */
async function writtenBy(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-show_entries",
    "format_tags=encoder",
    "-of",
    "csv=p=0",
    file,
  ]);
  return stdout.trim();
}

describe("the pipeline on the npm-shipped ffmpeg", () => {
  // VFR; sparse keyframes with B-frames (frame windows decoded from the source); VP8/Vorbis in WebM (Matroska pieces);
  // a trim whose edit list hides the head of the first GOP
  const cases: FixtureName[] = ["h264-vfr", "sparse-keyframes", "vp8-vorbis-webm", "h264-trimmed"];

  it.each(cases)(
    "%s → frame-exact MP4 and HLS",
    async (fixture) => {
      // arrange
      const source = await makeFixture(fixture, dir);
      const src = await decodedVideo(source);
      const srcSpans = await streamSpans(source);
      const frameTime = Math.max(srcSpans.video.lastFrame, (srcSpans.video.end - srcSpans.video.start) / src.frames);
      const out = join(dir, `out-${fixture}`);

      // act
      const { code, stdout, stderr } = await encode(source, out);

      // assert
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout) as {
        status: string;
        outputs: { rendition: string; path: string; frames: number }[];
        hls: string;
      };
      expect(summary.status).toBe("COMPLETED");
      const [mp4] = summary.outputs;
      expect(mp4!.rendition).toBe("240p");
      expect(await writtenBy(mp4!.path), "assembled by the npm ffmpeg").toMatch(/^Lavf58\./);
      expect((await decodedVideo(mp4!.path)).frames, "MP4 frames").toBe(src.frames);
      const spans = await streamSpans(mp4!.path, srcSpans.video.lastFrame);
      expect(
        Math.abs(spans.video.end - spans.video.start - (srcSpans.video.end - srcSpans.video.start)),
        "duration",
      ).toBeLessThanOrEqual(frameTime + 1e-3);
      if (srcSpans.audio)
        expect(Math.abs(spans.audio!.end - spans.video.end), "audio end vs video end").toBeLessThanOrEqual(0.05);
      else expect(spans.audio).toBeNull();
      const hls = await decodeCheck(defaultFfmpeg(), join(out, "hls", "240p", "index.m3u8"), 120_000);
      expect(hls).toEqual({ ok: true, frames: src.frames });
    },
    240_000,
  );

  it("refuses a codec it cannot decode, naming it and the command that installs a full ffmpeg", async () => {
    // H.264 with DFPWM audio (ffmpeg 5.1 and later): the npm ffprobe knows the codec, the npm ffmpeg cannot decode it
    const source = join(dir, "dfpwm.mkv");
    await promisify(execFile)(ffmpegBinaries().ffmpeg, [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=10:duration=1",
      "-f",
      "lavfi",
      "-i",
      "sine=duration=1:sample_rate=48000",
      "-c:v",
      "libx264",
      "-c:a",
      "dfpwm",
      "-ac",
      "1",
      source,
    ]);
    const { code, stderr } = await encode(source, join(dir, "out-dfpwm"));
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        "FAILED: The audio is dfpwm, and the ffmpeg shipped in the npm package .* has no dfpwm decoder\\. " +
          "Install a full ffmpeg \\(sudo apt-get install -y ffmpeg, or set FFMPEG_PATH to one\\)",
      ),
    );
  }, 120_000);
});
