import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inputArgs } from "../ffmpeg/args.ts";
import type { Ffmpeg, RunOptions } from "../ffmpeg/run.ts";

/**
 * Storyboard: thumbnails for seek previews, packed into JPEG sprite sheets and indexed by a
 * WebVTT file whose cues name a sheet and a rectangle in it (`sheet_000.jpg#xywh=x,y,w,h`),
 * the form players (video.js, Shaka, JW Player) read for thumbnail tracks.
 */
export interface StoryboardPlan {
  /** Seconds between tiles: tile i shows the frame on screen at i × interval. */
  interval: number;
  tileWidth: number;
  tileHeight: number;
  /** Grid of one sheet; a sheet shrinks to fit when the whole video needs fewer tiles. */
  columns: number;
  rows: number;
  tiles: number;
  sheets: number;
}

export const STORYBOARD_TILE_WIDTH = 160;
/** Long videos are sampled more sparsely so that the sheets stay a few hundred KB in all. */
export const STORYBOARD_MAX_TILES = 200;
/** Round intervals (seconds); past the last one, whole multiples of it. */
const INTERVALS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
const GRID = 10;
/**
 * A last tile shorter than this part of an interval is folded into the one before: the
 * caller's duration and ffmpeg's end of stream may differ by a hair, and a tile ffmpeg does not
 * produce would leave an empty cell behind a cue.
 */
const SLIVER = 0.01;
/** Moderate JPEG quality (2 best, 31 worst): thumbnails are small and shown briefly. */
const JPEG_QUALITY = 5;

/** Tile layout for a video of `duration` seconds shown at `width`×`height`. */
export function storyboardPlan(duration: number, width: number, height: number): StoryboardPlan {
  if (!(duration > 0) || !Number.isFinite(duration)) throw new RangeError(`bad storyboard duration: ${duration}`);
  if (!(width > 0 && height > 0)) throw new RangeError(`bad storyboard size: ${width}x${height}`);
  const interval = intervalFor(duration);
  const tiles = Math.max(1, Math.ceil(duration / interval - SLIVER));
  const columns = Math.min(GRID, tiles);
  const rows = Math.min(GRID, Math.ceil(tiles / columns));
  const tileWidth = STORYBOARD_TILE_WIDTH;
  // even, because chroma is subsampled; at least 2 for extreme panoramas
  const tileHeight = Math.max(2, 2 * Math.round((tileWidth * height) / width / 2));
  return { interval, tileWidth, tileHeight, columns, rows, tiles, sheets: Math.ceil(tiles / (columns * rows)) };
}

/** The smallest round interval that keeps the tile count within the limit. */
function intervalFor(duration: number): number {
  const fits = INTERVALS.find((s) => duration / s - SLIVER <= STORYBOARD_MAX_TILES);
  if (fits !== undefined) return fits;
  const step = INTERVALS.at(-1)!;
  return step * Math.ceil(duration / STORYBOARD_MAX_TILES / step);
}

/**
 * One ffmpeg run: decode `input` (one of our MP4s) once and write every sheet to `outPattern`
 * (an image2 pattern such as `sheet_%03d.jpg`, numbered from 0).
 * - `fps` with `start_time=0` puts the grid on the timeline's zero, and `round=up` makes slot
 *   i take the last frame at or before i × interval (the frame on screen then); the default
 *   rounding would show the frame half an interval later.
 * - `trim` stops at the planned tile count, so a stream a hair longer than the caller's
 *   duration adds no sheet; at the end `tile` flushes the last, partly filled sheet (its empty
 *   cells black), so every sheet has the full grid size.
 */
export function storyboardArgs(
  input: string,
  plan: StoryboardPlan,
  outPattern: string,
  format: "mov" | "matroska" = "mov",
): string[] {
  const filters = [
    `fps=fps=1/${plan.interval}:start_time=0:round=up`,
    `trim=end_frame=${plan.tiles}`,
    // area averaging: the tiles are a tenth of a 1080p picture or less
    `scale=${plan.tileWidth}:${plan.tileHeight}:flags=area`,
    "setsar=1",
    `tile=${plan.columns}x${plan.rows}`,
  ];
  return [
    ...inputArgs(input, format),
    "-map",
    "0:v:0",
    "-vf",
    filters.join(","),
    "-c:v",
    "mjpeg",
    "-q:v",
    String(JPEG_QUALITY),
    "-f",
    "image2",
    "-start_number",
    "0",
    outPattern,
  ];
}

/** Where tile `i` sits: its sheet and its rectangle there. */
export function tilePlace(plan: StoryboardPlan, i: number): { sheet: number; x: number; y: number } {
  const perSheet = plan.columns * plan.rows;
  const k = i % perSheet;
  return {
    sheet: Math.floor(i / perSheet),
    x: (k % plan.columns) * plan.tileWidth,
    y: Math.floor(k / plan.columns) * plan.tileHeight,
  };
}

/**
 * The WebVTT index: one cue per tile, back to back from 0 to `duration` (the last cue ends at
 * the video's end, whatever its length). `sheetName(i)` is how the VTT refers to sheet i.
 */
export function storyboardVtt(plan: StoryboardPlan, duration: number, sheetName: (i: number) => string): string {
  const lines = ["WEBVTT", ""];
  for (let i = 0; i < plan.tiles; i++) {
    // whole milliseconds from integers, so one cue's end is exactly the next one's start
    const start = i * plan.interval * 1000;
    const end = i === plan.tiles - 1 ? Math.max(start + 1, Math.round(duration * 1000)) : start + plan.interval * 1000;
    const { sheet, x, y } = tilePlace(plan, i);
    lines.push(
      `${vttTime(start)} --> ${vttTime(end)}`,
      `${sheetName(sheet)}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`,
      "",
    );
  }
  return lines.join("\n");
}

/** Milliseconds as `HH:MM:SS.mmm` (hours always written: some players require them). */
function vttTime(ms: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const s = Math.floor(ms / 1000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(ms % 1000, 3)}`;
}

export const STORYBOARD_DIR = "storyboard";
export const STORYBOARD_VTT = "storyboard.vtt";
/** Sheet file names, relative to the VTT (they sit beside it). */
export const sheetFile = (i: number): string => `sheet_${String(i).padStart(3, "0")}.jpg`;

export interface Storyboard {
  /** Paths relative to the `dir` given to `makeStoryboard`. */
  vtt: string;
  sheets: string[];
  plan: StoryboardPlan;
}

/**
 * Sheets and VTT for `input` (one of our MP4s, `duration` seconds, `width`×`height`) in
 * `dir/storyboard/`, which is emptied first so no sheet of an earlier attempt is counted.
 */
export async function makeStoryboard(
  ff: Ffmpeg,
  input: string,
  duration: number,
  width: number,
  height: number,
  dir: string,
  opts: RunOptions & { format?: "mov" | "matroska" } = {},
): Promise<Storyboard> {
  const plan = storyboardPlan(duration, width, height);
  const out = join(dir, STORYBOARD_DIR);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const { format, ...run } = opts;
  await ff.run(storyboardArgs(input, plan, join(out, "sheet_%03d.jpg"), format), run);
  await expectSheets(out, plan, duration);
  await writeFile(join(out, STORYBOARD_VTT), storyboardVtt(plan, duration, sheetFile));
  const sheets = Array.from({ length: plan.sheets }, (_, i) => `${STORYBOARD_DIR}/${sheetFile(i)}`);
  return { vtt: `${STORYBOARD_DIR}/${STORYBOARD_VTT}`, sheets, plan };
}

/** ffmpeg exits 0 having written fewer sheets when the video ends early: say so, not ENOENT at upload. */
async function expectSheets(out: string, plan: StoryboardPlan, duration: number): Promise<void> {
  const written = new Set(await readdir(out));
  const missing = Array.from({ length: plan.sheets }, (_, i) => sheetFile(i)).filter((f) => !written.has(f));
  if (missing.length > 0)
    throw new Error(
      `ffmpeg wrote ${plan.sheets - missing.length} of ${plan.sheets} storyboard sheets ` +
        `(missing ${missing.join(", ")}); does the video really last ${duration} s?`,
    );
}
