import type { Colour } from "@videoforge/events";
import type { SourceInfo } from "./probe.ts";

/** Transfer functions of HDR video: PQ (HDR10, Dolby Vision's base) and HLG. */
const HDR_TRANSFERS = new Set(["smpte2084", "arib-std-b67"]);

/** What the job page says when an HDR source is made SDR. */
export const TONE_MAPPED_NOTE =
  "The source is HDR; every format videoforge makes is 8-bit SDR, so its pictures were tone-mapped to " +
  "BT.709 (Hable curve): highlights and saturated colours look different from the HDR original.";

/**
 * The colour the outputs carry: the source's primaries, transfer and matrix (every output is made in its colour
 * space, so the tags stay true), or BT.709 SDR when the source is HDR and is tone-mapped, since every output is
 * 8-bit SDR.
 */
export function outputColour(source: Pick<SourceInfo["video"], "colour">): Colour {
  const c = source.colour;
  if (c.transfer && HDR_TRANSFERS.has(c.transfer))
    return { primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv", toneMap: true };
  return {
    ...(c.primaries ? { primaries: c.primaries } : {}),
    ...(c.transfer ? { transfer: c.transfer } : {}),
    ...(c.matrix ? { matrix: c.matrix } : {}),
    // not the range: a full-range source (yuvj420p) is made limited-range on its way to yuv420p, so the
    // encoder takes the range the frames have
  };
}

/** The filters tone-mapping needs, which the npm-shipped ffmpeg lacks. */
export const TONE_MAP_NEEDS = ["zscale", "tonemap"] as const;
