import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { BadSourceError } from "../media/probe.ts";
import { checkLimits, DEFAULT_LIMITS, formatBytes, formatDuration, loadLimits, rateWindowMs } from "./limits.ts";

describe("loadLimits", () => {
  it("defaults to 50 GiB, 6 h, 4096x2304 pixels with 8192 a side, 240 fps, 20 active jobs", () => {
    expect(loadLimits({})).toEqual({
      maxUploadBytes: 53_687_091_200,
      maxDurationSeconds: 21_600,
      maxPixels: 9_437_184,
      maxSide: 8192,
      maxResolution: "4096x2304",
      maxFps: 240,
      maxActiveJobsPerUser: 20,
      maxStreams: 32,
      workPixelsPerByte: 100_000,
      minWorkPixels: 223_948_800_000,
      maxDailyWork: 5_374_771_200_000,
      ratePerSecond: 20,
      rateBurst: 200,
    });
    expect(loadConfig({}).limits).toEqual(DEFAULT_LIMITS);
  });

  it("reads every VIDEOFORGE_MAX_* variable through the config", () => {
    const { limits } = loadConfig({
      VIDEOFORGE_MAX_UPLOAD_BYTES: "1073741824",
      VIDEOFORGE_MAX_DURATION_SECONDS: "600",
      VIDEOFORGE_MAX_RESOLUTION: "1920x1080",
      VIDEOFORGE_MAX_SIDE: "2000",
      VIDEOFORGE_MAX_FPS: "60",
      VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER: "3",
    });
    expect(limits).toMatchObject({
      maxUploadBytes: 1_073_741_824,
      maxDurationSeconds: 600,
      maxPixels: 2_073_600,
      maxSide: 2000,
      maxResolution: "1920x1080",
      maxFps: 60,
      maxActiveJobsPerUser: 3,
    });
  });

  it("takes upload sizes with decimal and binary units", () => {
    expect(loadLimits({ VIDEOFORGE_MAX_UPLOAD_BYTES: "50GiB" }).maxUploadBytes).toBe(50 * 1024 ** 3);
    expect(loadLimits({ VIDEOFORGE_MAX_UPLOAD_BYTES: "500 MB" }).maxUploadBytes).toBe(500_000_000);
    expect(loadLimits({ VIDEOFORGE_MAX_UPLOAD_BYTES: "1.5kib" }).maxUploadBytes).toBe(1536);
  });

  it("takes a pixel count instead of a resolution, and a resolution wider than 8192 raises the side limit", () => {
    const pixels = loadLimits({ VIDEOFORGE_MAX_PIXELS: "8294400" });
    expect(pixels).toMatchObject({ maxPixels: 8_294_400, maxSide: 8192 });
    expect(pixels.maxResolution).toBeUndefined();
    expect(loadLimits({ VIDEOFORGE_MAX_RESOLUTION: "15360x8640" })).toMatchObject({
      maxPixels: 15360 * 8640,
      maxSide: 15360,
    });
    expect(loadLimits({ VIDEOFORGE_MAX_RESOLUTION: " 7680 X 4320 " })).toMatchObject({
      maxPixels: 7680 * 4320,
      maxSide: 8192,
      maxResolution: "7680x4320",
    });
  });

  it("treats empty variables as unset", () => {
    expect(loadLimits({ VIDEOFORGE_MAX_FPS: "", VIDEOFORGE_MAX_UPLOAD_BYTES: " " })).toEqual(DEFAULT_LIMITS);
  });

  it.each([
    ["VIDEOFORGE_MAX_UPLOAD_BYTES", "lots", /VIDEOFORGE_MAX_UPLOAD_BYTES must be a byte count .* got "lots"/],
    ["VIDEOFORGE_MAX_UPLOAD_BYTES", "10 parsecs", /VIDEOFORGE_MAX_UPLOAD_BYTES must be a byte count/],
    ["VIDEOFORGE_MAX_UPLOAD_BYTES", "0", /VIDEOFORGE_MAX_UPLOAD_BYTES must be a positive whole number, got "0"/],
    ["VIDEOFORGE_MAX_DURATION_SECONDS", "-5", /VIDEOFORGE_MAX_DURATION_SECONDS must be a positive number, got "-5"/],
    ["VIDEOFORGE_MAX_RESOLUTION", "4k", /VIDEOFORGE_MAX_RESOLUTION must look like 4096x2304, got "4k"/],
    ["VIDEOFORGE_MAX_RESOLUTION", "0x1080", /VIDEOFORGE_MAX_RESOLUTION must look like 4096x2304/],
    ["VIDEOFORGE_MAX_PIXELS", "1e3.5", /VIDEOFORGE_MAX_PIXELS must be a positive whole number/],
    ["VIDEOFORGE_MAX_FPS", "fast", /VIDEOFORGE_MAX_FPS must be a positive number, got "fast"/],
    [
      "VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER",
      "2.5",
      /VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER must be a positive whole number, got "2.5"/,
    ],
  ])("refuses %s=%s, naming the variable", (name, value, message) => {
    expect(() => loadLimits({ [name]: value })).toThrow(message);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it("refuses a resolution and a pixel count set together", () => {
    expect(() => loadLimits({ VIDEOFORGE_MAX_RESOLUTION: "1920x1080", VIDEOFORGE_MAX_PIXELS: "100" })).toThrow(
      /not both/,
    );
  });
});

describe("checkLimits", () => {
  const refused = (shape: Parameters<typeof checkLimits>[0], limits = DEFAULT_LIMITS): string => {
    try {
      checkLimits(shape, limits);
    } catch (err) {
      expect(err).toBeInstanceOf(BadSourceError);
      return (err as Error).message;
    }
    throw new Error(`${JSON.stringify(shape)} was accepted`);
  };

  it("accepts a source at every limit", () => {
    expect(() =>
      checkLimits({ width: 4096, height: 2304, duration: 6 * 3600, fps: 240 }, DEFAULT_LIMITS),
    ).not.toThrow();
    expect(() => checkLimits({ width: 8192, height: 1152 }, DEFAULT_LIMITS)).not.toThrow();
  });

  it("refuses too many pixels or too long a side, saying the limit", () => {
    expect(refused({ width: 16384, height: 16384 })).toBe(
      "The video is 16384x16384; the largest picture we process is 4096x2304 (9.4 megapixels), " +
        "at most 8192 pixels on a side. Scale it down and upload it again.",
    );
    expect(refused({ width: 8194, height: 2 })).toMatch(/^The video is 8194x2; .* at most 8192 pixels on a side/);
    expect(refused({ width: 2000, height: 2000 }, loadLimits({ VIDEOFORGE_MAX_PIXELS: "2000000" }))).toMatch(
      /largest picture we process is 2\.0 megapixels,/,
    );
  });

  it("refuses too long a duration and too high a frame rate in words", () => {
    expect(refused({ width: 64, height: 64, duration: 30_000 })).toBe(
      "The video lasts 8 h 20 min; the limit is 6 h. Cut it into shorter parts and upload them one by one.",
    );
    // one 60 fps frame past 6 h rounds to "6 h": the message says by how much instead of contradicting itself
    expect(refused({ width: 64, height: 64, duration: 21_600.0167 })).toBe(
      "The video lasts 6 h (0.02 s over); the limit is 6 h. Cut it into shorter parts and upload them one by one.",
    );
    expect(refused({ width: 64, height: 64, fps: 1000 })).toBe(
      "The video runs at 1000.0 frames per second; the limit is 240. " +
        "Convert it to a lower frame rate and upload it again.",
    );
  });
});

describe("formatting", () => {
  it("says sizes and durations the way a person reads them", () => {
    expect([formatBytes(700), formatBytes(1536), formatBytes(50 * 1024 ** 3), formatBytes(60 * 1024 ** 3 + 1)]).toEqual(
      ["700 bytes", "1.5 KiB", "50 GiB", "60 GiB"],
    );
    expect([formatDuration(12), formatDuration(45 * 60), formatDuration(6 * 3600), formatDuration(30_000)]).toEqual([
      "12 s",
      "45 min",
      "6 h",
      "8 h 20 min",
    ]);
  });
});

describe("stream count, work budget and rate (issue 12)", () => {
  it("reads VIDEOFORGE_MAX_STREAMS, the work budget and the API rate", () => {
    const limits = loadLimits({
      VIDEOFORGE_MAX_STREAMS: "4",
      VIDEOFORGE_WORK_PIXELS_PER_BYTE: "10",
      VIDEOFORGE_MIN_WORK_PIXELS: "1000",
      VIDEOFORGE_RATE_PER_SECOND: "2",
      VIDEOFORGE_RATE_BURST: "5",
      VIDEOFORGE_MAX_DAILY_WORK: "1000000",
    });
    expect(limits).toMatchObject({
      maxStreams: 4,
      workPixelsPerByte: 10,
      minWorkPixels: 1000,
      ratePerSecond: 2,
      rateBurst: 5,
      maxDailyWork: 1_000_000,
    });
    expect(rateWindowMs(limits)).toBe(2500);
    expect(() => loadLimits({ VIDEOFORGE_MAX_STREAMS: "2.5" })).toThrow(
      /VIDEOFORGE_MAX_STREAMS must be a positive whole number/,
    );
  });

  it("refuses frames × pixels beyond the budget a file's size earns, with both numbers", () => {
    // 140 KB of 13-byte 4096x2304 frames: about 10,000 frames, 94 gigapixels
    const crafted = { width: 4096, height: 2304, duration: 60, fps: 30, frames: 10_000, size: 140_000 };
    const limits = { ...DEFAULT_LIMITS, minWorkPixels: 1e9 };
    expect(() => checkLimits(crafted, limits)).toThrow(BadSourceError);
    const tooDense = new RegExp(
      "^The video is 10000 frames of 4096x2304 \\(94\\.4 gigapixels\\) in only 137 KiB; " +
        "the most we decode for a file of that size is 14\\.0 gigapixels\\.",
    );
    expect(() => checkLimits(crafted, limits)).toThrow(tooDense);
    // the same frames from a file of ordinary size pass
    expect(() => checkLimits({ ...crafted, size: 200_000_000 }, limits)).not.toThrow();
  });
});
