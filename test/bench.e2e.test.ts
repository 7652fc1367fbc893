import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** `videoforge bench` in its reduced CI form, through the real CLI binary. */
const BIN = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The cells of the Markdown row whose first cell starts with `label`. */
function row(table: string, label: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`| ${label}`));
  if (!line) throw new Error(`no row "${label}" in:\n${table}`);
  return line
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());
}

describe("videoforge bench", () => {
  it("runs the pipeline and the plain ffmpeg command, checks every rendition frame-exact and prints the table", {
    timeout: 420_000,
  }, async () => {
    const { code, stdout, stderr } = await cli(["bench", "--seconds", "3", "--reps", "1"]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("frame-exact: PASS");

    // 3 s at 30 fps, 4 rungs × (MP4 + HLS), each decoded and counted, on both sides
    expect(row(stdout, "decoded frames").slice(1)).toEqual(["all 8 = 90", "all 8 = 90"]);
    for (const label of ["wall time", "CPU user+sys", "peak RSS"]) {
      const [, pipeline, plain] = row(stdout, label);
      expect(Number.parseFloat(pipeline!), label).toBeGreaterThan(0);
      expect(Number.parseFloat(plain!), label).toBeGreaterThan(0);
    }
    const [, ratio] = row(stdout, "ratio pipeline / ffmpeg");
    expect(Number(ratio)).toBeGreaterThan(0);
    // same x264 settings on both sides: the chunked top rung is as good as the single pass
    const [, pipeSsim, plainSsim] = row(stdout, "SSIM 1080p vs source").map(Number);
    expect(pipeSsim).toBeGreaterThan(0.98);
    expect(Math.abs(pipeSsim! - plainSsim!)).toBeLessThan(0.002);
    const sizes = row(stdout, "MP4 MB 1080p/720p/480p/360p")
      .slice(1)
      .map((c) => c.split(" / ").map(Number));
    for (const s of sizes) {
      expect(s).toHaveLength(4);
      // rungs shrink down the ladder on both sides
      expect([...s].sort((a, b) => b - a)).toEqual(s);
    }
    expect(Number(row(stdout, "HLS ladder MB")[1])).toBeGreaterThan(0);
    expect(Number(row(stdout, "poster KB")[2])).toBeGreaterThan(0);
  });

  it("checks frames on the npm-shipped ffmpeg too (its ffprobe crashes on the HLS segments' MPEG-TS)", {
    timeout: 420_000,
  }, async () => {
    const require = createRequire(import.meta.url);
    const FFMPEG_PATH = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
    const FFPROBE_PATH = (require("@ffprobe-installer/ffprobe") as { path: string }).path;
    const { code, stdout, stderr } = await cli(["bench", "--seconds", "2", "--reps", "1"], {
      FFMPEG_PATH,
      FFPROBE_PATH,
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("frame-exact: PASS");
    expect(row(stdout, "decoded frames").slice(1)).toEqual(["all 8 = 60", "all 8 = 60"]);
  });

  it("refuses a size it does not know before doing any work", async () => {
    const { code, stderr } = await cli(["bench", "--size", "huge"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--size must be one of quick, full/);
  });

  it("refuses audio-only and unknown codecs before doing any work", async () => {
    const audio = await cli(["bench", "--codecs", "h264,m4a"]);
    expect(audio.code).toBe(1);
    expect(audio.stderr).toMatch(/'--codecs <list>' argument 'h264,m4a' is invalid\. m4a is audio-only/);
    const unknown = await cli(["bench", "--codecs", "x265"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown codec "x265"; choose video codecs from h264, hevc, vp9, av1/);
  });
});
