import { z } from "zod";
import { BadSourceError, shownPackets, type Packet, type SourceInfo } from "./probe.ts";
import type { PlannedChunk } from "./plan.ts";
import { Trim } from "../contract.ts";

/** A job's stored trim (validated when the job was made), or null. */
export function storedTrim(raw: unknown): Trim | null {
  const parsed = Trim.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * A job's trim resolved against the source's frames: the range snapped to the frames it keeps, so
 * every chunk, the audio and the checks agree on the same first and last frame. Times are seconds
 * from the source's first frame shown (the planner's clock).
 */
export const TrimSpan = z.object({
  /** The first kept frame's time. */
  start: z.number(),
  /** The first frame not kept, or the end of the source's last frame when the range runs to the end. */
  end: z.number(),
  /** Whether frames after the range were cut off (otherwise the range runs to the source's end). */
  cutsEnd: z.boolean(),
  /** Display index of the first kept frame. */
  firstFrame: z.number().int(),
  frames: z.number().int().positive(),
  /** How long the last kept frame is shown. */
  lastFrameDuration: z.number(),
});
export type TrimSpan = z.infer<typeof TrimSpan>;

/**
 * The frames of `packets` shown in [start, end): the first kept is the first at or after `start`, the
 * first cut is the first at or after `end`. Refused with the reason when the range holds no frame.
 */
export function resolveTrim(
  packets: readonly Packet[],
  video: Pick<SourceInfo["video"], "duration" | "lastFrameDuration">,
  trim: { start: number; end?: number },
): TrimSpan {
  const shown = shownPackets(packets)
    .map((p) => p.pts)
    .sort((a, b) => a - b);
  const first = shown[0] ?? 0;
  const times = shown.map((t) => t - first);
  // the first index whose time is at or after `at` (1 µs of slack for times read back as decimals)
  const from = (at: number) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < at - 1e-6) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const a = from(trim.start);
  const b = trim.end === undefined ? times.length : from(trim.end);
  const length = `${video.duration.toFixed(3)} s`;
  if (a >= times.length)
    throw new BadSourceError(
      `The trim starts at ${trim.start} s, but the video is ${length} long: choose a start inside the video.`,
    );
  if (b <= a)
    throw new BadSourceError(
      `The trim from ${trim.start} s to ${trim.end} s holds no frame of this video (${length}): widen the range.`,
    );
  const cutsEnd = b < times.length;
  return {
    start: times[a]!,
    end: cutsEnd ? times[b]! : video.duration,
    cutsEnd,
    firstFrame: a,
    frames: b - a,
    lastFrameDuration: cutsEnd ? times[b]! - times[b - 1]! : video.lastFrameDuration,
  };
}

/** A planned chunk kept by a trim: renumbered from 0, with `piece` the planned chunk it is cut from. */
export type TrimmedChunk<C extends PlannedChunk> = C & { piece: number };

/**
 * The planned chunks narrowed to the span: chunks without a kept frame are dropped, the first and last
 * are cut at the span's ends, and the rest keep their frames. Frames and times count from the span's
 * first frame, so the chunks describe the outputs (whose first frame is the span's).
 */
export function trimChunks<C extends PlannedChunk>(
  chunks: readonly C[],
  span: TrimSpan,
  framesBefore: (seconds: number) => number,
): TrimmedChunk<C>[] {
  const kept: TrimmedChunk<C>[] = [];
  for (const c of chunks) {
    const from = Math.max(c.startTime, span.start);
    const to = Math.min(c.startTime + c.duration, span.end);
    const frames = framesBefore(to) - framesBefore(from);
    if (frames <= 0 || to <= from) continue;
    kept.push({
      ...c,
      piece: c.index,
      index: kept.length,
      startFrame: framesBefore(from) - span.firstFrame,
      frames,
      startTime: from - span.start,
      duration: to - from,
    });
  }
  return kept;
}

/** What the outputs of a trimmed job are checked against: the source as if it were only the kept range. */
export function trimmedSource(source: SourceInfo, span: TrimSpan | undefined): SourceInfo {
  if (!span) return source;
  const duration = span.end - span.start;
  return {
    ...source,
    // the audio runs on past the last frame only when the range runs to the end of the source
    duration: span.cutsEnd ? duration : Math.max(duration, source.duration - span.start),
    video: { ...source.video, frames: span.frames, duration, lastFrameDuration: span.lastFrameDuration },
  };
}

/** The span a job's chunking resolved (stored with its plan), if it was trimmed. */
export function storedSpan(plan: unknown): TrimSpan | undefined {
  const parsed = z.object({ span: TrimSpan }).safeParse(plan);
  return parsed.success ? parsed.data.span : undefined;
}
