import { BadSourceError } from "../media/probe.ts";

/**
 * What videoforge accepts. Sources beyond these are refused up front with a reason a person
 * can act on, not discovered hours into an encode. Read once from the environment by
 * `loadConfig` (see docs/limits.md).
 */
export interface Limits {
  /** Largest upload announced at POST /uploads. */
  maxUploadBytes: number;
  maxDurationSeconds: number;
  /** Largest picture area (width × height) of the source, as coded. */
  maxPixels: number;
  /** Longest side of the source, as coded: a 16384x512 strip is few pixels but no encoder's friend. */
  maxSide: number;
  /** As given in VIDEOFORGE_MAX_RESOLUTION, to say the limit the way it was set. */
  maxResolution?: string;
  maxFps: number;
  /** Jobs not yet COMPLETED, FAILED or CANCELLED (uploads in progress count) per user. */
  maxActiveJobsPerUser: number;
  /** Streams of any kind in one source (a real video has a handful). */
  maxStreams: number;
  /**
   * Work budget of one source, frames × pixels: at most `workPixelsPerByte` per byte of the
   * upload, and never less than `minWorkPixels`. Tiny frames of a huge picture cost decode
   * time out of all proportion to the bytes a user sent.
   */
  workPixelsPerByte: number;
  minWorkPixels: number;
  /**
   * Encode work per user per UTC day, frames × output pixels summed over the ladder's
   * renditions: what x264 is paid for. Charged when the chunker has probed and planned a job.
   */
  maxDailyWork: number;
  /**
   * API requests per user: at most `rateBurst` in each window of `rateBurst / ratePerSecond`
   * seconds (200 per 10 s), counted in the table so every process shares it.
   */
  ratePerSecond: number;
  rateBurst: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 50 * 1024 ** 3,
  maxDurationSeconds: 6 * 3600,
  maxPixels: 4096 * 2304,
  maxSide: 8192,
  maxResolution: "4096x2304",
  maxFps: 240,
  maxActiveJobsPerUser: 20,
  maxStreams: 32,
  // a still screen recording at 1080p30 compresses to about 1,000 pixels per byte; 100x that is generous
  workPixelsPerByte: 100_000,
  // one hour of 1080p at 30 fps
  minWorkPixels: 3600 * 30 * 1920 * 1080,
  // 24 hours of 1080p at 30 fps, encoded once
  maxDailyWork: 24 * 3600 * 30 * 1920 * 1080,
  ratePerSecond: 20,
  rateBurst: 200,
};

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

function set(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function positive(name: string, raw: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? "whole " : ""}number, got "${raw}"`);
  }
  return value;
}

function numberVar(env: Env, name: string, fallback: number, integer = false): number {
  const raw = set(env, name);
  return raw === undefined ? fallback : positive(name, raw, Number(raw), integer);
}

/** "53687091200", "50GiB", "500 MB": bytes, with an optional decimal or binary unit. */
export function parseBytes(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = UNITS[m?.[2]?.toLowerCase() ?? "?"];
  if (!m || unit === undefined) throw new Error(`${name} must be a byte count such as 53687091200, 50GiB or 500MB, got "${raw}"`);
  return positive(name, raw, Math.floor(Number(m[1]) * unit), true);
}

/** Limits from VIDEOFORGE_MAX_* variables; anything unset keeps its default, anything malformed throws naming the variable. */
export function loadLimits(env: Env): Limits {
  const uploadRaw = set(env, "VIDEOFORGE_MAX_UPLOAD_BYTES");
  const resolution = set(env, "VIDEOFORGE_MAX_RESOLUTION");
  const pixelsRaw = set(env, "VIDEOFORGE_MAX_PIXELS");
  if (resolution && pixelsRaw) throw new Error("set VIDEOFORGE_MAX_RESOLUTION or VIDEOFORGE_MAX_PIXELS, not both");

  let maxPixels = DEFAULT_LIMITS.maxPixels;
  let maxResolution = DEFAULT_LIMITS.maxResolution;
  let longest = 0;
  if (resolution) {
    const m = /^(\d+)\s*x\s*(\d+)$/i.exec(resolution);
    const [w, h] = [Number(m?.[1]), Number(m?.[2])];
    if (!m || !(w > 0) || !(h > 0)) throw new Error(`VIDEOFORGE_MAX_RESOLUTION must look like 4096x2304, got "${resolution}"`);
    maxPixels = w * h;
    maxResolution = `${w}x${h}`;
    longest = Math.max(w, h);
  } else if (pixelsRaw) {
    maxPixels = positive("VIDEOFORGE_MAX_PIXELS", pixelsRaw, Number(pixelsRaw), true);
    maxResolution = undefined;
  }
  // a configured resolution wider than the default side limit raises the side limit with it
  const maxSide = numberVar(env, "VIDEOFORGE_MAX_SIDE", Math.max(DEFAULT_LIMITS.maxSide, longest), true);

  return {
    maxUploadBytes: uploadRaw === undefined ? DEFAULT_LIMITS.maxUploadBytes : parseBytes("VIDEOFORGE_MAX_UPLOAD_BYTES", uploadRaw),
    maxDurationSeconds: numberVar(env, "VIDEOFORGE_MAX_DURATION_SECONDS", DEFAULT_LIMITS.maxDurationSeconds),
    maxPixels,
    maxSide,
    ...(maxResolution ? { maxResolution } : {}),
    maxFps: numberVar(env, "VIDEOFORGE_MAX_FPS", DEFAULT_LIMITS.maxFps),
    maxActiveJobsPerUser: numberVar(env, "VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER", DEFAULT_LIMITS.maxActiveJobsPerUser, true),
    maxStreams: numberVar(env, "VIDEOFORGE_MAX_STREAMS", DEFAULT_LIMITS.maxStreams, true),
    workPixelsPerByte: numberVar(env, "VIDEOFORGE_WORK_PIXELS_PER_BYTE", DEFAULT_LIMITS.workPixelsPerByte),
    minWorkPixels: numberVar(env, "VIDEOFORGE_MIN_WORK_PIXELS", DEFAULT_LIMITS.minWorkPixels),
    maxDailyWork: numberVar(env, "VIDEOFORGE_MAX_DAILY_WORK", DEFAULT_LIMITS.maxDailyWork, true),
    ratePerSecond: numberVar(env, "VIDEOFORGE_RATE_PER_SECOND", DEFAULT_LIMITS.ratePerSecond),
    rateBurst: numberVar(env, "VIDEOFORGE_RATE_BURST", DEFAULT_LIMITS.rateBurst, true),
  };
}

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
    throw new BadSourceError(`The video is ${width}x${height}; the largest picture we process is ${pictureLimit(limits)}. Scale it down and upload it again.`);
  }
  if (duration !== undefined && duration > limits.maxDurationSeconds) {
    const [lasts, limit] = [formatDuration(duration), formatDuration(limits.maxDurationSeconds)];
    // rounded, a source just past the limit reads the same as the limit: say by how much
    const over = lasts === limit ? ` (${Number((duration - limits.maxDurationSeconds).toFixed(2))} s over)` : "";
    throw new BadSourceError(`The video lasts ${lasts}${over}; the limit is ${limit}. Cut it into shorter parts and upload them one by one.`);
  }
  if (fps !== undefined && fps > limits.maxFps) {
    throw new BadSourceError(`The video runs at ${fps.toFixed(1)} frames per second; the limit is ${limits.maxFps}. Convert it to a lower frame rate and upload it again.`);
  }
  if (source.frames !== undefined && source.size !== undefined && source.frames * width * height > workBudget(source.size, limits)) {
    const gpx = (n: number) => `${(n / 1e9).toFixed(1)} gigapixels`;
    throw new BadSourceError(
      `The video is ${source.frames} frames of ${width}x${height} (${gpx(source.frames * width * height)}) in only ${formatBytes(source.size)}; the most we decode for a file of that size is ${gpx(workBudget(source.size, limits))}. Upload the original, less compressed video.`,
    );
  }
}
