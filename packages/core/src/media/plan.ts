import { shownPackets, type Packet } from "./probe.ts";

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
 * Cut the source into chunks that start on keyframes, each close to `targetSeconds` (the first close to
 * `leadSeconds`, when given: a short first chunk is encoded soon, and the job plays from it). A cut is placed
 * at the keyframe nearest each target; a short tail joins the chunk before it so no worker gets a sliver.
 * Sources with no usable keyframes become one chunk.
 *
 * Frames are counted by display time, not by decode order: with open GOPs the leading
 * pictures after a keyframe belong to the chunk before it. Packets an edit list hides are
 * cut with their chunk but are no frames: times count from the first frame shown.
 */
export function planChunks(packets: readonly Packet[], targetSeconds: number, leadSeconds?: number): PlannedChunk[] {
  const times = shownPackets(packets)
    .map((p) => p.pts)
    .sort((a, b) => a - b);
  if (times.length === 0) return [];
  const start = times[0]!;
  const end = times[times.length - 1]!;
  const frameTime = times.length > 1 ? (end - start) / (times.length - 1) : 0;
  const total = end - start + frameTime;
  // a loop, not flatMap: one small array per packet is a million allocations on a long source
  const keyframes: { i: number; t: number }[] = [];
  // a hidden keyframe is no cut: its chunk could hold no frame at all
  for (let i = 1; i < packets.length; i++)
    if (packets[i]!.keyframe && !packets[i]!.discard) keyframes.push({ i, t: packets[i]!.pts - start });

  const cuts: { i: number; t: number }[] = [{ i: 0, t: 0 }];
  let previous: { i: number; t: number } | undefined;
  for (const k of keyframes) {
    const last = cuts[cuts.length - 1]!;
    const want =
      last.t + (cuts.length === 1 && leads(total, targetSeconds, leadSeconds) ? leadSeconds! : targetSeconds);
    if (k.t >= want) {
      // the first keyframe past the target, or the one before it if that is nearer
      const pick = previous && previous.t > last.t && want - previous.t < k.t - want ? previous : k;
      if (total - pick.t >= targetSeconds / 2) cuts.push(pick);
      // cutting at the earlier keyframe may leave this one a full target past the new cut
      if (
        pick !== k &&
        cuts[cuts.length - 1] === pick &&
        k.t >= pick.t + targetSeconds &&
        total - k.t >= targetSeconds / 2
      )
        cuts.push(k);
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

/** A chunk decoded straight from the source: from the keyframe at `seekTime` on, keeping frames from `startTime`. */
export interface PlannedWindow extends PlannedChunk {
  /**
   * Seconds from the first frame of the source: the last keyframe at or before `startTime`
   * (negative when it is one the source's edit list hides).
   */
  seekTime: number;
}

/** The longest stretch before a window's planned start that is searched for a scene change to cut at instead. */
export const SCENE_SEARCH_SECONDS = 2;

/** A window whose start may move back to a scene change: see ChunkReady's `window.startSearch`. */
export interface SearchedWindow extends PlannedWindow {
  /** Seconds from the source's first frame where the search for this window's start begins. */
  sceneFrom?: number;
}

export type SourcePlan = { mode: "pieces"; chunks: PlannedChunk[] } | { mode: "windows"; chunks: SearchedWindow[] };

/**
 * Frames decoded only to be dropped (keyframe to window start), at most this many times the
 * source's frame count. Decoding 1080p H.264 costs ~3 ms a frame here against ~33 ms to
 * encode a frame to the 4-rung ladder, so 2× the source adds at most ~18% CPU.
 */
export const MAX_WASTED_DECODE = 2;

/** The shortest window a single-piece source is split into: below it a chunk costs more than it saves. */
export const MIN_WINDOW_SECONDS = 2;

/** Decoding a frame costs about a tenth of encoding it to the ladder (measured above). */
const DECODE_COST = 0.1;

/**
 * The first chunk's target (progressive publish): a quarter of the others', at least MIN_WINDOW_SECONDS and at
 * most the others'. The job is then playable after a quarter of a chunk's encode instead of a whole one; the one
 * more chunk costs its fixed overhead once.
 */
export const leadSecondsFor = (targetSeconds: number) =>
  Math.min(targetSeconds, Math.max(MIN_WINDOW_SECONDS, targetSeconds / 4));

/** Whether a source of `total` seconds gets its lead: one shorter than the others, in two chunks or more anyway. */
const leads = (total: number, targetSeconds: number, leadSeconds?: number) =>
  leadSeconds !== undefined && leadSeconds < targetSeconds && total >= 2 * targetSeconds;

export interface PlanOptions {
  /** Make the first keyframe piece short (leadSecondsFor); plans stored before it existed have none. */
  lead?: boolean;
  /** Encoders running at once, when fixed (locally): chunks are then sized so each gets equal work. */
  slots?: number;
  /** The container has a seek index (MP4/MOV, Matroska/WebM), so a window's seek lands on its keyframe. */
  seekable?: boolean;
  /** Windows after the first may start at a scene change shortly before their planned start (searchScenes). */
  scenes?: boolean;
}

/**
 * Keyframe pieces when the keyframes allow chunks near `targetSeconds`; otherwise (screen
 * recordings, a single keyframe) windows: equal runs of frames that every encoder decodes
 * from the source itself, starting at the last keyframe before its window. With a fixed
 * number of encoder slots and a seekable container, windows are also chosen when pieces
 * (whole GOPs) cannot share the work evenly and windows finish clearly sooner.
 */
export function planSource(packets: readonly Packet[], targetSeconds: number, opts: PlanOptions = {}): SourcePlan {
  const lead = opts.lead ? leadSecondsFor(targetSeconds) : undefined;
  const pieces = planChunks(packets, targetSeconds, lead);
  const sparse = pieces.some((c) => c.duration > 2 * targetSeconds);
  const searched = (w: PlannedWindow[]) => (opts.scenes ? searchScenes(packets, w) : w);
  if (sparse)
    return {
      mode: "windows",
      chunks: searched(planWindows(packets, targetSeconds, undefined, lead ? { seconds: lead } : undefined)),
    };
  const slots = opts.slots ?? 0;
  // a short source that is one piece still fills every worker with windows (a 12 s clip on two cores), unless
  // each window would be so short that a chunk's fixed costs outweigh what the second worker saves
  const tooShort = pieces.length === 1 && pieces[0]!.duration < MIN_WINDOW_SECONDS * slots;
  if (slots < 2 || !opts.seekable || tooShort) return { mode: "pieces", chunks: pieces };
  // as many windows as fill every slot the same number of times, each near the target length
  const total = pieces.reduce((t, c) => t + c.duration, 0);
  const count = slots * Math.max(1, Math.ceil(total / (slots * targetSeconds)));
  const windows = planWindows(packets, targetSeconds, count, lead ? { seconds: lead, slots } : undefined);
  const frameAt = frameIndexer(packets);
  const cost = (w: PlannedWindow) => w.frames + DECODE_COST * (w.startFrame - frameAt(w.seekTime));
  const faster =
    makespan(windows.map(cost), slots) <
    0.97 *
      makespan(
        pieces.map((c) => c.frames),
        slots,
      );
  // chosen without the scene search: it decodes up to SCENE_SEARCH_SECONDS more per window, a quality choice
  return faster ? { mode: "windows", chunks: searched(windows) } : { mode: "pieces", chunks: pieces };
}

/** When the last of `costs` finishes, taken in order by `slots` workers that each take the next as they free up. */
export function makespan(costs: readonly number[], slots: number): number {
  const free = new Array<number>(Math.max(1, slots)).fill(0);
  for (const c of costs) {
    const i = free.indexOf(Math.min(...free));
    free[i]! += c;
  }
  return Math.max(...free);
}

/**
 * Display index of the frame shown at `seconds` from the source's first frame: the display
 * times sorted once, then a binary search per question (linear planning: one call per
 * window used to filter every packet, O(packets × windows), 8 minutes for 6 h at 60 fps).
 */
export function frameIndexer(packets: readonly Packet[]): (seconds: number) => number {
  const times = Float64Array.from(shownPackets(packets), (p) => p.pts).sort();
  const start = times[0] ?? 0;
  return (seconds) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! - start < seconds - 1e-9) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * Split the display order into `count` runs of (nearly) equal frame counts (by default
 * length / target), fewer while the decoding wasted before the windows' starts would
 * exceed MAX_WASTED_DECODE.
 */
export function planWindows(
  packets: readonly Packet[],
  targetSeconds: number,
  count?: number,
  /**
   * A lead window of `seconds` first (progressive publish). With `slots` workers, the windows the other workers
   * start with are longer by the lead, so all of them still finish together: [L, w+L, w, w, …] on two.
   */
  lead?: { seconds: number; slots?: number },
): PlannedWindow[] {
  const times = shownPackets(packets)
    .map((p) => p.pts)
    .sort((a, b) => a - b);
  if (times.length === 0) return [];
  // hidden keyframes included: a window's first shown frames may decode from one
  const keyTimes = packets
    .filter((p) => p.keyframe)
    .map((p) => p.pts)
    .sort((a, b) => a - b);
  const start = times[0]!;
  const frames = times.length;
  const frameTime = frames > 1 ? (times[frames - 1]! - start) / (frames - 1) : 0;
  const total = times[frames - 1]! - start + frameTime;
  // the last keyframe shown at or before display frame `f` (the source starts with one)
  const seekFrame = (f: number) => {
    const k = firstAtOrAfter(keyTimes, times[f]! + 1e-9) - 1;
    const time = k >= 0 ? keyTimes[k]! : start;
    return { time, frame: firstAtOrAfter(times, time) };
  };
  const leadFrames = leads(total, targetSeconds, lead?.seconds) ? firstAtOrAfter(times, start + lead!.seconds) : 0;
  const others = Math.max(0, (lead?.slots ?? 1) - 1);
  const startsFor = (n: number) => {
    // the lead, then n runs: the first `others` of them a lead longer than the rest
    const longer = Math.min(others, n - 1);
    const run = (frames - leadFrames - longer * leadFrames) / n;
    if (leadFrames === 0 || run < 1) return Array.from({ length: n }, (_, i) => Math.floor((i * frames) / n));
    let at = leadFrames;
    const starts = [0];
    for (let b = 0; b < n; b++) {
      starts.push(Math.floor(at));
      at += run + (b < longer ? leadFrames : 0);
    }
    return starts;
  };
  const leadSeconds = leadFrames ? lead!.seconds : 0;
  let n = Math.max(1, Math.min(frames, count ?? Math.round((total - leadSeconds) / targetSeconds)));
  for (; n > 1; n--) {
    const wasted = startsFor(n).reduce((sum, f) => sum + f - seekFrame(f).frame, 0);
    if (wasted <= MAX_WASTED_DECODE * frames) break;
  }
  const starts = startsFor(n);
  return starts.map((f, i) => {
    const next = starts[i + 1];
    const endTime = next === undefined ? total : times[next]! - start;
    const startTime = times[f]! - start;
    return {
      index: i,
      startFrame: f,
      frames: (next ?? frames) - f,
      // a window is read from the source, not cut from it
      packets: 0,
      startTime,
      duration: endTime - startTime,
      seekTime: seekFrame(f).time - start,
    };
  });
}

/**
 * Scene-aware cuts where the pipeline decodes anyway: each window after the first may start at the first scene
 * change in the stretch before its planned start (SCENE_SEARCH_SECONDS, at most a quarter of either neighbour), so
 * the keyframe every chunk must begin with lands where the picture changes rather than mid-shot. No pass is added
 * to find them: both neighbouring encoders score the stretch as they decode it (the select filter's scene score
 * of each frame against the two before it) and apply the same rule. The window's seek moves back so that its
 * decode begins two frames before the stretch: the scores it computes are then its neighbour's.
 */
export function searchScenes(packets: readonly Packet[], windows: readonly PlannedWindow[]): SearchedWindow[] {
  const times = Float64Array.from(shownPackets(packets), (p) => p.pts).sort();
  const keyTimes = Float64Array.from(
    packets.filter((p) => p.keyframe),
    (p) => p.pts,
  ).sort();
  const start = times[0] ?? 0;
  return windows.map((w, i) => {
    const previous = windows[i - 1];
    if (!previous) return w;
    const reach = Math.min(SCENE_SEARCH_SECONDS, previous.duration / 4, w.duration / 4);
    const from = firstAtOrAfter(times, start + w.startTime - reach);
    // the window before keeps two frames at least, and the stretch is two frames or more
    if (from < previous.startFrame + 2 || w.startFrame - from < 2) return w;
    const k = firstAtOrAfter(keyTimes, times[from - 2]! + 1e-9) - 1;
    const seekTime = (k >= 0 ? keyTimes[k]! : start) - start;
    return { ...w, sceneFrom: times[from]! - start, seekTime: Math.min(w.seekTime, seekTime) };
  });
}

/** The first index of a sorted array whose value is at least `x`. */
function firstAtOrAfter(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
