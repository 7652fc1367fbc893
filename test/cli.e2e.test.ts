import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { access, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeFixture } from "./fixtures.ts";
import { decodedVideo } from "./helpers/media.ts";

/** The product as a user runs it: the `videoforge` command in a separate process. */
const BIN = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));
let dir: string;

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done, out: () => stdout };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Summary {
  jobId: string;
  status: string;
  source: { frames: number; duration: number; width: number; height: number; fps: number };
  outputs: { rendition: string; path: string; width: number; height: number; frames: number; duration: number; bytes: number }[];
  hls: string;
  timings: { total: number; chunking: number; encoding: number; assembly: number };
}

describe("videoforge encode", () => {
  it("writes every rendition, the HLS ladder and a poster, and prints a JSON summary", async () => {
    const source = await makeFixture("h264-1080p-bframes-audio", dir);
    const out = join(dir, "out");
    const { code, stdout, stderr } = await cli(["encode", source, "--out", out, "--ladder", "720p,360p", "--json"], { VIDEOFORGE_CHUNK_SECONDS: "2" }).done;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.status).toBe("COMPLETED");
    expect(summary.source).toMatchObject({ frames: 180, width: 1920, height: 1080, fps: 30 });
    expect(summary.outputs.map((o) => `${o.rendition} ${o.width}x${o.height}`)).toEqual(["720p 1280x720", "360p 640x360"]);
    for (const o of summary.outputs) {
      expect(o.frames).toBe(180);
      expect((await stat(o.path)).size).toBe(o.bytes);
      expect((await decodedVideo(o.path)).frames).toBe(180);
    }
    const master = await readFile(summary.hls, "utf8");
    expect(master).toMatch(/^#EXTM3U/);
    expect(master).toContain("720p/index.m3u8");
    await access(join(out, "hls", "360p", "index.m3u8"));
    expect((await stat(join(out, "poster.jpg"))).size).toBeGreaterThan(1000);
    for (const t of ["total", "chunking", "encoding", "assembly"] as const) expect(summary.timings[t]).toBeGreaterThan(0);
  }, 180_000);

  it("exits non-zero with the reason when the job fails", async () => {
    const bad = await makeFixture("bad-text", dir);
    const { code, stderr } = await cli(["encode", bad, "--out", join(dir, "bad-out")]).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/FAILED: The file is not a video format we can read/);
  }, 60_000);

  it("refuses an unknown rung before doing any work", async () => {
    const { code, stderr } = await cli(["encode", await makeFixture("tiny-2s", dir), "--ladder", "999p"]).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/Unknown rung "999p"; choose from .*1080p/);
  });

  it("works with the ffmpeg that ships in the npm package (no system ffmpeg needed)", async () => {
    const require = createRequire(import.meta.url);
    const FFMPEG_PATH = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
    const FFPROBE_PATH = (require("@ffprobe-installer/ffprobe") as { path: string }).path;
    const source = await makeFixture("tiny-2s", dir);
    const { code, stdout, stderr } = await cli(["encode", source, "--out", join(dir, "npm-ffmpeg"), "--ladder", "240p", "--json"], { FFMPEG_PATH, FFPROBE_PATH, VIDEOFORGE_CHUNK_SECONDS: "1" }).done;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.outputs[0]!.frames).toBe(summary.source.frames);
    expect((await decodedVideo(summary.outputs[0]!.path)).frames).toBe(summary.source.frames);
  }, 120_000);
});

describe("videoforge up / submit / jobs / events", () => {
  it("serves the API behind a token, takes a submission and shows its timeline", async () => {
    const data = join(dir, "data");
    const up = cli(["up", "--port", "0", "--data-dir", data]);
    try {
      const deadline = Date.now() + 30_000;
      while (!/dashboard: (http\S+)/.test(up.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const api = /is up: (http\S+)/.exec(up.out())?.[1];
      expect(api, up.out()).toBeTruthy();
      // the token is printed once and kept in the data directory, readable only by its owner
      const token = (await readFile(join(data, "token"), "utf8")).trim();
      expect(up.out()).toContain(`dashboard: ${api}/?token=${token}`);
      expect((await stat(join(data, "token"))).mode & 0o077).toBe(0);
      expect(await (await fetch(`${api}/`)).text()).toContain("videoforge");
      const anonymous = await fetch(`${api}/jobs`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("unauthorized");

      // the CLI finds the token through --data-dir (or VIDEOFORGE_TOKEN / --token)
      const submitted = await cli(["submit", await makeFixture("tiny-2s", dir), "--api", api!, "--data-dir", data, "--wait"]).done;
      expect(submitted.code, submitted.stderr).toBe(0);
      const jobId = submitted.stdout.trim();

      const jobs = await cli(["jobs", "--api", api!, "--token", token]).done;
      expect(jobs.stdout).toMatch(new RegExp(`${jobId}\\s+COMPLETED`));
      const events = await cli(["events", jobId, "--api", api!, "--data-dir", data]).done;
      for (const type of ["VideoUploaded", "ChunkReady", "ChunkEncoded", "ChunksEncoded", "VideoAssembled", "JobCompleted"]) expect(events.stdout).toContain(type);
      const refused = await cli(["jobs", "--api", api!, "--token", "vf_wrong"]).done;
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/401/);
    } finally {
      up.child.kill("SIGINT");
      expect((await up.done).code).toBe(0);
    }
  }, 120_000);

  it("refuses to listen beyond loopback without tokens", async () => {
    const up = await cli(["up", "--port", "0", "--host", "0.0.0.0", "--no-auth", "--data-dir", join(dir, "open")]).done;
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without API tokens/);
  }, 60_000);
});
