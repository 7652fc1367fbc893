import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultFfmpeg } from "../ffmpeg/locate.ts";
import {
  makeStoryboard,
  storyboardArgs,
  storyboardPlan,
  storyboardVtt,
  type Storyboard,
  type StoryboardPlan,
} from "./storyboard.ts";

const ff = defaultFfmpeg();
let dir: string;

/** A testsrc2 MP4 (moving pattern and a running clock, so every second looks different). */
async function clip(name: string, size: string, rate: number, seconds: number): Promise<string> {
  const file = join(dir, `${name}.mp4`);
  const src = `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`;
  const x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
  await ff.run(["-f", "lavfi", "-i", src, ...x264, file], { timeoutMs: 60_000 });
  return file;
}

async function pixelSize(file: string): Promise<{ width: number; height: number }> {
  const out = (await ff.probeJson(["-show_entries", "stream=width,height", file])) as {
    streams: { width: number; height: number }[];
  };
  return out.streams[0]!;
}

interface Cue {
  start: number;
  end: number;
  sheet: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const ms = (t: string) => {
  const [h, m, s] = t.split(":").map(Number);
  return Math.round(((h! * 60 + m!) * 60 + s!) * 1000);
};

function parseVtt(text: string): Cue[] {
  const [head, ...blocks] = text.trim().split(/\n\n+/);
  expect(head).toBe("WEBVTT");
  return blocks.map((b) => {
    const m = /^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(b);
    expect(m, b).not.toBeNull();
    const [, start, end, sheet, x, y, w, h] = m!;
    return { start: ms(start!), end: ms(end!), sheet: sheet!, x: +x!, y: +y!, w: +w!, h: +h! };
  });
}

/** SSIM (all planes) of one tile against the source frame on screen at `at` s, scaled the same way. */
async function tileSsim(video: string, at: number, sheet: string, c: Cue): Promise<number> {
  const graph =
    `[0:v]crop=${c.w}:${c.h}:${c.x}:${c.y},format=yuvj420p[a];` +
    `[1:v]scale=${c.w}:${c.h}:flags=area,format=yuvj420p[b];[a][b]ssim=stats_file=-`;
  const args = ["-v", "error", "-i", sheet, "-ss", at.toFixed(3), "-i", video, "-filter_complex", graph];
  const { stdout } = await ff.exec("ffmpeg", [...args, "-frames:v", "1", "-f", "null", "-"]);
  const all = /All:([\d.]+)/.exec(stdout)?.[1];
  expect(all, stdout).toBeDefined();
  return Number(all);
}

/** The largest luma value in a rectangle of an image. */
function maxLuma(image: string, x: number, y: number, w: number, h: number): number {
  const crop = ["-v", "error", "-i", image, "-vf", `crop=${w}:${h}:${x}:${y},format=gray`, "-f", "rawvideo", "-"];
  const pixels = execFileSync(ff.binaries.ffmpeg, crop, { maxBuffer: 64 << 20 });
  expect(pixels.length).toBe(w * h);
  return pixels.reduce((a, b) => Math.max(a, b), 0);
}

/** What every storyboard must satisfy, whatever its video. */
async function checkStoryboard(sb: Storyboard, duration: number): Promise<Cue[]> {
  const { plan } = sb;
  expect(sb.sheets).toEqual(Array.from({ length: plan.sheets }, (_, i) => `storyboard/sheet_00${i}.jpg`));
  // every sheet has the full grid size: the last one's unused cells are padded, not cut off
  for (const s of sb.sheets) {
    expect(await pixelSize(join(dir, s))).toEqual({
      width: plan.columns * plan.tileWidth,
      height: plan.rows * plan.tileHeight,
    });
  }
  expect(sb.vtt).toBe("storyboard/storyboard.vtt");
  const cues = parseVtt(await readFile(join(dir, sb.vtt), "utf8"));
  expect(cues).toHaveLength(plan.tiles);
  expect(cues[0]!.start).toBe(0);
  cues.forEach((c, i) => {
    expect(c.end).toBeGreaterThan(c.start);
    if (i > 0) expect(c.start).toBe(cues[i - 1]!.end);
    expect(c.start).toBe(i * plan.interval * 1000);
    expect(`storyboard/${c.sheet}`).toBe(sb.sheets[Math.floor(i / (plan.columns * plan.rows))]);
    expect([c.w, c.h]).toEqual([plan.tileWidth, plan.tileHeight]);
    expect(c.x + c.w).toBeLessThanOrEqual(plan.columns * plan.tileWidth);
    expect(c.y + c.h).toBeLessThanOrEqual(plan.rows * plan.tileHeight);
  });
  expect(cues.at(-1)!.end).toBe(Math.round(duration * 1000));
  return cues;
}

/**
 * Tile i is the frame on screen at its cue's start: it matches that frame (SSIM ≥ 0.9) better
 * than the frames half an interval either side (default `fps` rounding would show t + 0.5) or
 * a whole interval later.
 */
async function expectTileAt(video: string, sb: Storyboard, cues: Cue[], i: number): Promise<void> {
  const cue = cues[i]!;
  const sheet = join(dir, "storyboard", cue.sheet);
  const t = cue.start / 1000;
  const half = sb.plan.interval / 2;
  const end = cues.at(-1)!.end / 1000;
  // neighbours outside the video have no frame to compare with
  const times = [t, t - half, t + half, t + sb.plan.interval].filter((at) => at >= 0 && at < end);
  const [exact, ...others] = await Promise.all(times.map((at) => tileSsim(video, at, sheet, cue)));
  expect(exact).toBeGreaterThanOrEqual(0.9);
  for (const other of others) expect(exact).toBeGreaterThan(other! + 0.1);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-storyboard-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("storyboardPlan", () => {
  it("samples a 5 s clip every second on one small sheet", () => {
    expect(storyboardPlan(5, 1920, 1080)).toEqual({
      interval: 1,
      tileWidth: 160,
      tileHeight: 90,
      columns: 5,
      rows: 1,
      tiles: 5,
      sheets: 1,
    });
  });

  it("samples 10 min every 5 s on two 10x10 sheets", () => {
    expect(storyboardPlan(600, 1280, 720)).toEqual({
      interval: 5,
      tileWidth: 160,
      tileHeight: 90,
      columns: 10,
      rows: 10,
      tiles: 120,
      sheets: 2,
    });
  });

  it("samples 3 h every minute", () => {
    expect(storyboardPlan(3 * 3600, 3840, 2160)).toMatchObject({ interval: 60, tiles: 180, sheets: 2 });
  });

  it("keeps the tile count bounded and the interval round for any length", () => {
    for (const d of [0.04, 1, 59.9, 200, 200.5, 1000, 7200, 40 * 3600, 1000 * 3600]) {
      const p = storyboardPlan(d, 640, 360);
      expect(p.tiles, `${d} s`).toBeLessThanOrEqual(200);
      expect(p.tiles, `${d} s`).toBeGreaterThanOrEqual(1);
      expect(p.tiles * p.interval, `${d} s`).toBeGreaterThanOrEqual(d * 0.99);
      expect([1, 2, 5, 10, 15, 30, 60, 120, 300].includes(p.interval) || p.interval % 600 === 0).toBe(true);
    }
  });

  it("gives portrait and odd sizes an even tile height from the aspect ratio", () => {
    expect(storyboardPlan(10, 1080, 1920)).toMatchObject({ tileWidth: 160, tileHeight: 284 });
    expect(storyboardPlan(10, 720, 480)).toMatchObject({ tileHeight: 106 });
    expect(storyboardPlan(10, 10000, 10)).toMatchObject({ tileHeight: 2 });
  });

  it("folds a final sliver of a tile into the one before", () => {
    expect(storyboardPlan(25.004, 320, 180).tiles).toBe(25);
    expect(storyboardPlan(25.5, 320, 180).tiles).toBe(26);
  });

  it("refuses a duration or size that is not positive", () => {
    expect(() => storyboardPlan(0, 320, 180)).toThrow(RangeError);
    expect(() => storyboardPlan(Number.NaN, 320, 180)).toThrow(RangeError);
    expect(() => storyboardPlan(5, 0, 180)).toThrow(RangeError);
  });
});

describe("storyboardVtt and storyboardArgs", () => {
  it("writes back-to-back cues, the last one ending at the duration", () => {
    const plan: StoryboardPlan = { ...storyboardPlan(2.5, 320, 180), columns: 2, rows: 1, sheets: 2 };
    expect(storyboardVtt(plan, 2.5, (i) => `s${i}.jpg`)).toBe(
      [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:01.000",
        "s0.jpg#xywh=0,0,160,90",
        "",
        "00:00:01.000 --> 00:00:02.000",
        "s0.jpg#xywh=160,0,160,90",
        "",
        "00:00:02.000 --> 00:00:02.500",
        "s1.jpg#xywh=0,0,160,90",
        "",
      ].join("\n"),
    );
    expect(storyboardVtt(storyboardPlan(3 * 3600 + 0.25, 16, 9), 3 * 3600 + 0.25, String)).toMatch(
      /\n02:59:00\.000 --> 03:00:00\.250\n1#xywh=1440,630,160,90\n$/,
    );
  });

  it("reads the input as an MP4 from a local file only", () => {
    expect(storyboardArgs("/tmp/a.mp4", storyboardPlan(5, 320, 180), "/tmp/s_%03d.jpg").slice(0, 6)).toEqual([
      "-protocol_whitelist",
      "file",
      "-f",
      "mov",
      "-i",
      "/tmp/a.mp4",
    ]);
  });
});

describe("makeStoryboard", () => {
  it("makes one sheet for a 25 s clip, each tile the frame at its time", async () => {
    const video = await clip("landscape", "320x180", 25, 25);
    const sb = await makeStoryboard(ff, video, 25, 320, 180, dir);
    expect(sb.plan).toMatchObject({ interval: 1, tiles: 25, columns: 10, rows: 3, sheets: 1, tileHeight: 90 });
    const cues = await checkStoryboard(sb, 25);
    await expectTileAt(video, sb, cues, 7);
    await expectTileAt(video, sb, cues, 23);
    // the 5 cells after the last tile are padding
    expect(maxLuma(join(dir, sb.sheets[0]!), 5 * 160 + 8, 2 * 90 + 8, 5 * 160 - 16, 90 - 16)).toBeLessThan(40);
  });

  it("keeps a portrait clip's aspect ratio", async () => {
    const video = await clip("portrait", "180x320", 25, 12);
    const sb = await makeStoryboard(ff, video, 12, 180, 320, dir);
    expect(sb.plan).toMatchObject({ tileWidth: 160, tileHeight: 284, columns: 10, rows: 2, tiles: 12 });
    const cues = await checkStoryboard(sb, 12);
    await expectTileAt(video, sb, cues, 11);
  });

  it("writes the last, partly filled sheet of a longer video", async () => {
    const video = await clip("long", "128x72", 5, 150);
    const sb = await makeStoryboard(ff, video, 150, 128, 72, dir);
    expect(sb.plan).toMatchObject({ interval: 1, tiles: 150, columns: 10, rows: 10, sheets: 2 });
    const cues = await checkStoryboard(sb, 150);
    expect(cues[149]!.sheet).toBe("sheet_001.jpg");
    await expectTileAt(video, sb, cues, 149);
    // rows 5-9 of the second sheet are padding
    expect(maxLuma(join(dir, sb.sheets[1]!), 8, 5 * 90 + 8, 1600 - 16, 5 * 90 - 16)).toBeLessThan(40);
  });

  it("says so when ffmpeg writes fewer sheets than planned", async () => {
    const video = await clip("short", "64x36", 5, 5);
    // 150 s plans 150 tiles on two sheets; the 5 s video fills only part of one
    await expect(makeStoryboard(ff, video, 150, 64, 36, dir)).rejects.toThrow(
      /ffmpeg wrote 1 of 2 storyboard sheets \(missing sheet_001\.jpg\)/,
    );
  });
});
