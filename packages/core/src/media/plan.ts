import type { Packet } from "./probe.ts";

export interface PlannedChunk {
  index: number;
  /** Index, in decode order, of the chunk's first packet (a keyframe). */
  startFrame: number;
  frames: number;
  startTime: number;
  duration: number;
}

/**
 * Cut the source into chunks that start on keyframes, each close to `targetSeconds`.
 * A cut is placed at the keyframe nearest each target; a short tail joins the chunk
 * before it so no worker gets a sliver. Sources with no usable keyframes become one chunk.
 */
export function planChunks(packets: readonly Packet[], targetSeconds: number): PlannedChunk[] {
  if (packets.length === 0) return [];
  const start = Math.min(...packets.map((p) => p.pts));
  const end = Math.max(...packets.map((p) => p.pts));
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
    }
    previous = k;
  }
  return cuts.map((c, n) => {
    const next = cuts[n + 1];
    const endFrame = next ? next.i : packets.length;
    const endTime = next ? next.t : total;
    return { index: n, startFrame: c.i, frames: endFrame - c.i, startTime: c.t, duration: endTime - c.t };
  });
}
