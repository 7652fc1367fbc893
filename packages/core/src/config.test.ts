import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { LAMBDA_CHUNK_CPU_SECONDS } from "@videoforge/events";
import { childEnv, EnvSchema, loadClientSettings, loadConfig, loadProcessSettings } from "./config.ts";

describe("the environment schema", () => {
  it("gives every setting its default when nothing is set", () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({
      region: "us-east-1",
      table: "videoforge",
      buckets: { uploads: "videoforge-uploads", work: "videoforge-work", outputs: "videoforge-outputs" },
      busName: "videoforge",
      chunkSeconds: 8,
      x264: { preset: "veryfast", crf: 23 },
      encoderThreads: Math.max(1, cpus().length),
      tmpDir: "/tmp",
      ffmpegTimeoutMs: 1_800_000,
      ffmpegStallMs: 120_000,
      ffmpeg: { path: undefined, probePath: undefined },
      urlSeconds: { download: 300, upload: 3600, playbackMargin: 3600, playbackMax: 604_800 },
      logLevel: "info",
    });
    expect(cfg.parallelTasks).toBeUndefined();
    expect(cfg.credentials).toBeUndefined();
    expect(loadClientSettings({})).toEqual({ port: 8080, chromiumPath: "/usr/bin/chromium" });
    expect(loadProcessSettings({}).task).toEqual({ attempts: 1 });
  });

  it("coerces strings, trims them, and treats blank as unset", () => {
    const cfg = loadConfig({
      VIDEOFORGE_CHUNK_SECONDS: " 4.5 ",
      VIDEOFORGE_PARALLEL_TASKS: "4",
      VIDEOFORGE_X264_CRF: "",
      VIDEOFORGE_LOG_LEVEL: "debug",
      TMPDIR: "/var/tmp",
      FFMPEG_PATH: "/opt/ffmpeg/bin/ffmpeg",
    });
    expect(cfg).toMatchObject({
      chunkSeconds: 4.5,
      parallelTasks: 4,
      x264: { crf: 23 },
      logLevel: "debug",
      tmpDir: "/var/tmp",
    });
    expect(cfg.ffmpeg).toEqual({ path: "/opt/ffmpeg/bin/ffmpeg", probePath: undefined });
    // the cores are shared out among the tasks that run at once, unless the threads are set
    expect(cfg.encoderThreads).toBe(Math.max(1, Math.floor(cpus().length / 4)));
    expect(cfg.encoderThreadsFixed).toBe(false);
    expect(loadConfig({ VIDEOFORGE_PARALLEL_TASKS: "4", VIDEOFORGE_ENCODER_THREADS: "3" })).toMatchObject({
      encoderThreads: 3,
      encoderThreadsFixed: true,
    });
    expect(loadClientSettings({ PORT: "9000", VIDEOFORGE_TOKEN: " " })).toEqual({
      port: 9000,
      chromiumPath: "/usr/bin/chromium",
    });
    expect(loadProcessSettings({ VIDEOFORGE_TASK_ATTEMPTS: "3", VIDEOFORGE_TASK_RULE: "encode-chunk" })).toMatchObject({
      task: { attempts: 3 },
      launcher: { rule: "encode-chunk" },
    });
  });

  it("uses the local gates' key pair only in local mode", () => {
    const keys = { VIDEOFORGE_LOCAL_ACCESS_KEY_ID: "id", VIDEOFORGE_LOCAL_SECRET_ACCESS_KEY: "secret" };
    expect(loadConfig(keys).credentials).toBeUndefined();
    expect(loadConfig({ ...keys, VIDEOFORGE_LOCAL: "1" }).credentials).toEqual({
      accessKeyId: "id",
      secretAccessKey: "secret",
    });
  });

  it.each([
    ["VIDEOFORGE_CHUNK_SECONDS", "x", /^VIDEOFORGE_CHUNK_SECONDS must be a positive number, got "x"$/],
    ["VIDEOFORGE_CHUNK_SECONDS", "-8", /^VIDEOFORGE_CHUNK_SECONDS must be a positive number, got "-8"$/],
    ["VIDEOFORGE_FFMPEG_TIMEOUT_MS", "Infinity", /^VIDEOFORGE_FFMPEG_TIMEOUT_MS must be a positive number/],
    ["VIDEOFORGE_ENCODER_THREADS", "2.5", /^VIDEOFORGE_ENCODER_THREADS must be a positive whole number, got "2.5"$/],
    [
      "VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS",
      "-1",
      /^VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS must be a number, 0 or more, got "-1"$/,
    ],
    [
      "VIDEOFORGE_LOG_LEVEL",
      "verbose",
      /^VIDEOFORGE_LOG_LEVEL must be one of debug\|info\|warn\|error, got "verbose"$/,
    ],
    ["VIDEOFORGE_LOG_LEVEL", "INFO", /^VIDEOFORGE_LOG_LEVEL must be one of/],
  ])("refuses %s=%s with an error naming the variable, never NaN", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it("routes chunks up to the price break-even to Lambda unless the operator moves it; 0 keeps them on tasks", () => {
    expect(loadConfig({}).lambdaChunkCpuSeconds).toBe(LAMBDA_CHUNK_CPU_SECONDS);
    expect(loadConfig({ VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: "0" }).lambdaChunkCpuSeconds).toBe(0);
    expect(loadConfig({ VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: "120.5" }).lambdaChunkCpuSeconds).toBe(120.5);
  });

  it("reports every malformed variable at once", () => {
    expect(() => loadConfig({ VIDEOFORGE_CHUNK_SECONDS: "soon", VIDEOFORGE_MAX_FPS: "fast" })).toThrow(
      'VIDEOFORGE_CHUNK_SECONDS must be a positive number, got "soon"; ' +
        'VIDEOFORGE_MAX_FPS must be a positive number, got "fast"',
    );
  });

  it("checks the client and process sections the same way", () => {
    expect(() => loadClientSettings({ PORT: "http" })).toThrow(/^PORT must be a positive whole number, got "http"$/);
    expect(() => loadProcessSettings({ VIDEOFORGE_TASK_ATTEMPTS: "11" })).toThrow(
      /^VIDEOFORGE_TASK_ATTEMPTS must be an integer from 1 to 10, got "11"$/,
    );
  });

  it("names every section's variables in the one schema", () => {
    const names = Object.keys(EnvSchema.shape);
    for (const name of [
      "VIDEOFORGE_CHUNK_SECONDS",
      "VIDEOFORGE_MAX_UPLOAD_BYTES",
      "VIDEOFORGE_API",
      "VIDEOFORGE_EVENT",
      "VIDEOFORGE_TASK_QUEUE_URL",
      "AWS_LAMBDA_RUNTIME_API",
    ]) {
      expect(names).toContain(name);
    }
  });
});

describe("childEnv", () => {
  it("passes this process's environment on, with the extra variables winning", () => {
    const env = childEnv({ VIDEOFORGE_CHUNK_SECONDS: "2", PATH: "/only/here", GONE: undefined });
    expect(env.VIDEOFORGE_CHUNK_SECONDS).toBe("2");
    expect(env.PATH).toBe("/only/here");
    expect("GONE" in env).toBe(false);
    expect(env.HOME).toBe(process.env.HOME);
  });
});

/** Source files (not tests) under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

describe("one door", () => {
  const root = join(import.meta.dirname, "../../..");

  it("no runtime source but config.ts reads process.env", () => {
    const dirs = [
      "packages/core/src",
      "packages/functions/src",
      "packages/worker/src",
      "packages/local/src",
      "packages/cli/src",
      "events/src",
    ];
    const readers = dirs
      .flatMap((d) => sources(join(root, d)))
      .filter((file) => /process\.env\b/.test(readFileSync(file, "utf8").replace(/^\s*(\/\/|\*).*$/gm, "")))
      .map((file) => relative(root, file));
    expect(readers).toEqual(["packages/core/src/config.ts"]);
  });

  it("the argument builders import no code that could do I/O (types only)", () => {
    const args = readFileSync(join(root, "packages/core/src/ffmpeg/args.ts"), "utf8");
    const valueImports = [...args.matchAll(/^import (?!type )[^;]*from "([^"]+)"/gm)].map((m) => m[1]);
    expect(valueImports).toEqual([]);
  });
});
