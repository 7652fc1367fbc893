import type { Rendition } from "@videoforge/events";
import { InvalidInputError } from "../errors.ts";

/** Named rungs: the short side in pixels and the bitrate ceiling for capped-CRF H.264. */
export const RUNGS = {
  "2160p": { short: 2160, maxrate: 16_000_000 },
  "1440p": { short: 1440, maxrate: 10_000_000 },
  "1080p": { short: 1080, maxrate: 6_000_000 },
  "720p": { short: 720, maxrate: 3_500_000 },
  "480p": { short: 480, maxrate: 1_600_000 },
  "360p": { short: 360, maxrate: 900_000 },
  "240p": { short: 240, maxrate: 500_000 },
} as const;
export type RungName = keyof typeof RUNGS;
/** The rungs a ladder may name, tallest first. */
export const RUNG_NAMES = Object.keys(RUNGS) as [RungName, ...RungName[]];

export const DEFAULT_LADDER: RungName[] = ["1080p", "720p", "480p", "360p"];

export function isRungName(name: string): name is RungName {
  return Object.hasOwn(RUNGS, name);
}

/** Parse "720p,360p"; throws with the list of valid names for anything unknown. */
export function parseLadder(input: string | readonly string[]): RungName[] {
  const names = (typeof input === "string" ? input.split(",") : [...input]).map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidInputError("The ladder is empty; name at least one rung.");
  const unknown = names.filter((n) => !isRungName(n));
  if (unknown.length)
    throw new InvalidInputError(
      `Unknown rung ${unknown.map((u) => `"${u}"`).join(", ")}; choose from ${Object.keys(RUNGS).join(", ")}.`,
    );
  return [...new Set(names as RungName[])].sort((a, b) => RUNGS[b].short - RUNGS[a].short);
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
/** Even and not above `n`: rounding an odd source size up would upscale it. */
const evenBelow = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/**
 * Fit the rungs to a source shown at `width`x`height`: never upscale, keep the aspect
 * ratio, round to even sizes. A rung taller than the source is clamped to the source
 * and renamed for its size; rungs that end up the same size collapse into one.
 */
export function fitLadder(names: readonly RungName[], width: number, height: number): Rendition[] {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const portrait = height > width;
  const bySize = new Map<number, Rendition>();
  for (const name of [...names].sort((a, b) => RUNGS[b].short - RUNGS[a].short)) {
    const rung = RUNGS[name];
    const s = evenBelow(Math.min(rung.short, short));
    const l = Math.min(even((long * s) / short), evenBelow(long));
    const maxrate = Math.round(rung.maxrate * Math.min(1, (s * l) / (rung.short * ((rung.short * 16) / 9))));
    bySize.set(s, {
      // a rung clamped to a smaller source is named for what it is (1078p, not 1080p)
      name: s === rung.short ? name : `${s}p`,
      width: portrait ? s : l,
      height: portrait ? l : s,
      videoBitrate: maxrate,
      maxrate: Math.max(200_000, maxrate),
    });
  }
  return [...bySize.values()];
}
