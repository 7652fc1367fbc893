import { BadSourceError, type SourceInfo } from "../media/probe.ts";

/** Sources beyond these are refused up front with a reason, not discovered hours later. */
export const LIMITS = {
  maxPixels: 4096 * 2304,
  maxDurationSeconds: 6 * 3600,
  maxFps: 240,
};

export function checkLimits(info: SourceInfo): void {
  const { width, height, fps } = info.video;
  if (width * height > LIMITS.maxPixels) throw new BadSourceError(`The video is ${width}x${height}; the largest supported picture is 4096x2304 (or the same number of pixels).`);
  if (info.duration > LIMITS.maxDurationSeconds) throw new BadSourceError(`The video lasts ${Math.round(info.duration / 60)} minutes; the limit is ${LIMITS.maxDurationSeconds / 3600} hours.`);
  if (fps > LIMITS.maxFps) throw new BadSourceError(`The video runs at ${fps.toFixed(1)} frames per second; the limit is ${LIMITS.maxFps}.`);
}
