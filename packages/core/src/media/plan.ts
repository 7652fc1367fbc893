import type { Packet } from "./probe.ts";

export interface PlannedChunk {
  index: number;
  /** Display index of the chunk's first frame (its keyframe). */
  startFrame: number;
  /** Frames shown from this chunk's keyframe up to the next chunk's keyframe. */
  frames: number;
  /** Packets, in decode order, that the stream-copy split puts in this chunk's piece. */
  packets: number;
  /** Seconds from the first frame of the source. */
  startTime: number;
  duration: number;
}

/**
 * Cut the source into chunks that start on keyframes, each close to `targetSeconds`.
 * A cut is placed at the keyframe nearest each target; a short tail joins the chunk
 * before it so no worker gets a sliver. Sources with no usable keyframes become one chunk.
 *
 * Frames are counted by display time, not by decode order: with open GOPs the leading
 * pictures after a keyframe belong to the chunk before it.
 */
export function planChunks(packets: readonly Packet[], targetSeconds: number): PlannedChunk[] {
  if (packets.length === 0) return [];
  const times = packets.map((p) => p.pts).sort((a, b) => a - b);
  const start = times[0]!;
  const end = times[times.length - 1]!;
  const frameTime = packets.length > 1 ? (end - start) / (packets.length - 1) : 0;
  const total = end - start + frameTime;
  const keyframes = packets.flatMap((p, i) => (p.keyframe && i > 0 ? [{ i, t: p.pts - start }] : []));

  const cuts: { i: number; t: number }[] = [{ i: 0, t: 0 }];
  let previous: { i: number; t: number } | undefined;
  for (const k of keyframes) {
    const last = cuts[cuts.length - 1]!;
    const want = last.t + targetSeconds;
    if (k.t >= want) {
      // the first keyframe past the target, or the one before it if that is nearer
      const pick = previous && previous.t > last.t && want - previous.t < k.t - want ? previous : k;
      if (total - pick.t >= targetSeconds / 2) cuts.push(pick);
      // cutting at the earlier keyframe may leave this one a full target past the new cut
      if (pick !== k && cuts[cuts.length - 1] === pick && k.t >= pick.t + targetSeconds && total - k.t >= targetSeconds / 2) cuts.push(k);
    }
    previous = k;
  }
  // frames shown before `at` seconds: binary search over the sorted display times
  const before = (at: number) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! - start < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const shown = (from: number, to: number) => before(to) - before(from);
  return cuts.map((c, n) => {
    const next = cuts[n + 1];
    const endTime = next ? next.t : Infinity;
    return {
      index: n,
      startFrame: shown(0, c.t),
      frames: shown(c.t, endTime),
      packets: (next ? next.i : packets.length) - c.i,
      startTime: c.t,
      duration: (next ? next.t : total) - c.t,
    };
  });
}
