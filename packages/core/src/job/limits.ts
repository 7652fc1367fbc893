import type { Limits } from "../config.ts";
import { BadSourceError } from "../media/probe.ts";

// what is accepted, its defaults and the parsing of VIDEOFORGE_MAX_* live with every other variable, in the config's
// schema
export { DEFAULT_LIMITS, loadLimits, type Limits } from "../config.ts";

/** "50 GiB", "1.5 MiB", "700 bytes": a size the way a person reads it. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) [value, i] = [value / 1024, i + 1];
  return i === 0 ? `${bytes} bytes` : `${Number(value.toFixed(value < 10 ? 1 : 0))} ${units[i]}`;
}

/** "8 h 20 min", "45 min", "12 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  const [h, min] = [Math.floor(minutes / 60), minutes % 60];
  if (h === 0) return `${min} min`;
  return min ? `${h} h ${min} min` : `${h} h`;
}

function pictureLimit(limits: Limits): string {
  const mp = (limits.maxPixels / 1e6).toFixed(1);
  const area = limits.maxResolution ? `${limits.maxResolution} (${mp} megapixels)` : `${mp} megapixels`;
  return `${area}, at most ${limits.maxSide} pixels on a side`;
}

/** What a source says about itself; each check runs only on what is known. */
export interface SourceShape {
  width: number;
  height: number;
  duration?: number;
  fps?: number;
  /** Frames measured, with `size` (bytes of the upload): for the work budget. */
  frames?: number;
  size?: number;
}

/** The rate window: `rateBurst` requests in `rateBurst / ratePerSecond` seconds, at least one second. */
export function rateWindowMs(limits: Limits): number {
  return Math.max(1000, Math.round((limits.rateBurst / limits.ratePerSecond) * 1000));
}

/** The work budget (frames × pixels) of a source of `size` bytes. */
export function workBudget(size: number, limits: Limits): number {
  return Math.max(limits.minWorkPixels, size * limits.workPixelsPerByte);
}

/**
 * Refuse a source beyond the limits with a BadSourceError a person can act on. Runs twice:
 * on what the header declares (before any packet is read) and on what the probe measured.
 */
export function checkLimits(source: SourceShape, limits: Limits): void {
  const { width, height, duration, fps } = source;
  if (width * height > limits.maxPixels || Math.max(width, height) > limits.maxSide) {
    throw new BadSourceError(
      `The video is ${width}x${height}; the largest picture we process is ${pictureLimit(limits)}. ` +
        "Scale it down and upload it again.",
    );
  }
  if (duration !== undefined && duration > limits.maxDurationSeconds) {
    const [lasts, limit] = [formatDuration(duration), formatDuration(limits.maxDurationSeconds)];
    // rounded, a source just past the limit reads the same as the limit: say by how much
    const over = lasts === limit ? ` (${Number((duration - limits.maxDurationSeconds).toFixed(2))} s over)` : "";
    throw new BadSourceError(
      `The video lasts ${lasts}${over}; the limit is ${limit}. Cut it into shorter parts and upload them one by one.`,
    );
  }
  if (fps !== undefined && fps > limits.maxFps) {
    throw new BadSourceError(
      `The video runs at ${fps.toFixed(1)} frames per second; the limit is ${limits.maxFps}. ` +
        "Convert it to a lower frame rate and upload it again.",
    );
  }
  if (
    source.frames !== undefined &&
    source.size !== undefined &&
    source.frames * width * height > workBudget(source.size, limits)
  ) {
    const gpx = (n: number) => `${(n / 1e9).toFixed(1)} gigapixels`;
    throw new BadSourceError(
      `The video is ${source.frames} frames of ${width}x${height} (${gpx(source.frames * width * height)}) ` +
        `in only ${formatBytes(source.size)}; ` +
        `the most we decode for a file of that size is ${gpx(workBudget(source.size, limits))}. ` +
        "Upload the original, less compressed video.",
    );
  }
}
