import { describe, expect, it } from "vitest";
import {
  makespan,
  planChunks,
  planSource,
  planWindows,
  searchScenes,
  SCENE_SEARCH_SECONDS,
  type PlannedChunk,
  type PlannedWindow,
} from "./plan.ts";
import type { Packet } from "./probe.ts";

/** Constant frame rate, no reordering: `frames` packets, a keyframe every `gop` frames. */
function cfr(frames: number, fps: number, gop: number, startPts = 0): Packet[] {
  return Array.from({ length: frames }, (_, i) => ({
    pts: startPts + i / fps,
    keyframe: i % gop === 0,
    duration: 1 / fps,
  }));
}

/** Packets of display frames 0..frames-1 at `fps`, keyframes at the given display indices. */
function withKeyframes(frames: number, fps: number, keys: number[]): Packet[] {
  const set = new Set(keys);
  return Array.from({ length: frames }, (_, i) => ({ pts: i / fps, keyframe: set.has(i) }));
}

/**
 * Open GOP with B-frames, in decode order: I0 P3 B1 B2 P6 B4 B5 … I30 B28 B29 P33 B31 B32 …
 * The two B-frames decoded after each keyframe (but the first) are shown before it.
 * `frames` must be 3m+1 so the last display frame is an anchor.
 */
function openGop(frames: number, fps: number, gop: number): { packets: Packet[]; display: number[] } {
  const display: number[] = [0];
  for (let a = 3; a < frames; a += 3) display.push(a, a - 2, a - 1);
  const packets = display.map((d) => ({ pts: d / fps, keyframe: d % gop === 0 }));
  return { packets, display };
}

/** The invariants every plan must keep, whatever the source. */
function expectCovers(plan: PlannedChunk[], packets: readonly Packet[]) {
  expect(plan.map((c) => c.index)).toEqual(plan.map((_, i) => i));
  expect(plan.reduce((n, c) => n + c.frames, 0)).toBe(packets.length);
  expect(plan.reduce((n, c) => n + c.packets, 0)).toBe(packets.length);
  let frame = 0;
  let time = 0;
  for (const c of plan) {
    expect(c.startFrame).toBe(frame);
    expect(c.startTime).toBeCloseTo(time, 9);
    expect(c.frames).toBeGreaterThan(0);
    expect(c.packets).toBeGreaterThan(0);
    expect(c.duration).toBeGreaterThan(0);
    frame += c.frames;
    time += c.duration;
  }
  // every chunk starts on a keyframe: the packet at its decode-order start is one
  let at = 0;
  for (const c of plan) {
    expect(packets[at]!.keyframe).toBe(true);
    at += c.packets;
  }
}

describe("planChunks", () => {
  it("returns no chunks for no packets", () => {
    expect(planChunks([], 4)).toEqual([]);
  });

  it("cuts 4 s chunks from keyframes every second at 30 fps", () => {
    const packets = cfr(30 * 20, 30, 30);
    const plan = planChunks(packets, 4);
    expect(plan).toHaveLength(5);
    for (const [i, c] of plan.entries()) {
      expect(c.startFrame).toBe(i * 120);
      expect(c.frames).toBe(120);
      expect(c.packets).toBe(120);
      expect(c.startTime).toBeCloseTo(i * 4, 9);
      expect(c.duration).toBeCloseTo(4, 9);
    }
    expectCovers(plan, packets);
  });

  it("cuts a short lead piece first when asked (progressive publish), then chunks of the target", () => {
    // the bench's source: 30 s at 30 fps, a keyframe every 2 s; 8 s chunks with a 2 s lead
    const packets = cfr(30 * 30, 30, 60);
    const plan = planChunks(packets, 8, 2);
    expect(plan.map((c) => Math.round(c.duration))).toEqual([2, 8, 8, 8, 4]);
    expectCovers(plan, packets);
    // keyframes sparser than the lead: the lead ends at the first one (never an empty or split GOP)
    expect(planChunks(cfr(30 * 20, 30, 150), 8, 2).map((c) => Math.round(c.duration))).toEqual([5, 10, 5]);
    // planSource asks for it with `lead`, a quarter of the target
    const source = planSource(packets, 8, { lead: true });
    expect(source.chunks.map((c) => Math.round(c.duration))).toEqual([2, 8, 8, 8, 4]);
    // a lead as long as the target is no lead (2 s chunks: the lead would be 2 s too)
    expect(planSource(packets, 2, { lead: true }).chunks).toEqual(planSource(packets, 2).chunks);
  });

  it("covers every frame exactly once when the length is not a multiple of the target", () => {
    const packets = cfr(30 * 19 + 7, 30, 30);
    const plan = planChunks(packets, 4);
    expectCovers(plan, packets);
    expect(plan.reduce((s, c) => s + c.duration, 0)).toBeCloseTo(packets.length / 30, 9);
  });

  it("cuts at the keyframe nearest the target, before or after it", () => {
    // keyframes at 0, 3.9 s and 4.6 s: 3.9 is 0.1 s from the target, 4.6 is 0.6 s past it
    const before = planChunks(withKeyframes(30 * 10, 30, [0, 117, 138]), 4);
    expect(before.map((c) => c.startTime)).toEqual([0, expect.closeTo(3.9, 9)]);
    expect(before[0]!.frames).toBe(117);
    // keyframes at 0, 3.2 s and 4.1 s: the later one is nearer
    const after = planChunks(withKeyframes(30 * 10, 30, [0, 96, 123]), 4);
    expect(after.map((c) => c.startTime)).toEqual([0, expect.closeTo(4.1, 9)]);
    expect(after[0]!.frames).toBe(123);
  });

  it("still cuts at a keyframe a full target past a cut placed on the keyframe before it", () => {
    // keyframes at 0, 3.9 s and 8 s in a 12 s source: the cut at 3.9 is chosen while looking at 8,
    // and 8 is then itself a full target later
    const packets = withKeyframes(30 * 12, 30, [0, 117, 240]);
    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([0, expect.closeTo(3.9, 9), expect.closeTo(8, 9)]);
    expect(plan.map((c) => c.frames)).toEqual([117, 123, 120]);
    expectCovers(plan, packets);
  });

  it("takes the next keyframe when keyframes are further apart than the target", () => {
    const packets = cfr(30 * 40, 30, 300);
    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([
      0,
      expect.closeTo(10, 9),
      expect.closeTo(20, 9),
      expect.closeTo(30, 9),
    ]);
    expectCovers(plan, packets);
  });

  it("merges a tail shorter than half the target into the chunk before it", () => {
    // 9.5 s: a cut at 8 s would leave a 1.5 s tail (< 2 s)
    const packets = cfr(285, 30, 30);
    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([0, expect.closeTo(4, 9)]);
    expect(plan[1]!.frames).toBe(165);
    expect(plan[1]!.duration).toBeCloseTo(5.5, 9);
    expectCovers(plan, packets);
  });

  it("keeps a tail of at least half the target as its own chunk", () => {
    // 10.5 s: the cut at 8 s leaves 2.5 s
    const packets = cfr(315, 30, 30);
    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([0, expect.closeTo(4, 9), expect.closeTo(8, 9)]);
    expect(plan[2]!.frames).toBe(75);
    expectCovers(plan, packets);
  });

  it("makes one chunk of a source with a single keyframe", () => {
    const packets = withKeyframes(30 * 30, 30, [0]);
    const plan = planChunks(packets, 4);
    expect(plan).toEqual([
      { index: 0, startFrame: 0, frames: 900, packets: 900, startTime: 0, duration: expect.closeTo(30, 9) },
    ]);
  });

  it("makes one chunk of a single packet", () => {
    const plan = planChunks([{ pts: 1.5, keyframe: true }], 4);
    expect(plan).toEqual([{ index: 0, startFrame: 0, frames: 1, packets: 1, startTime: 0, duration: 0 }]);
  });

  it("makes one chunk of a source shorter than the target", () => {
    const packets = cfr(60, 30, 30);
    expect(planChunks(packets, 4)).toHaveLength(1);
  });

  it("measures time from the first frame when the source does not start at zero", () => {
    const packets = cfr(30 * 12, 30, 30, 1.4);
    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([0, expect.closeTo(4, 9), expect.closeTo(8, 9)]);
    expectCovers(plan, packets);
  });

  it("counts frames by display time and packets by decode order with open GOPs", () => {
    const fps = 30;
    const { packets, display } = openGop(30 * 12 + 1, fps, 30);
    // decode order really is out of display order, with leading frames after keyframes
    const k30 = display.indexOf(30);
    expect(display.slice(k30, k30 + 3)).toEqual([30, 28, 29]);

    const plan = planChunks(packets, 4);
    expect(plan.map((c) => c.startTime)).toEqual([0, expect.closeTo(4, 9), expect.closeTo(8, 9)]);
    const k120 = display.indexOf(120);
    const k240 = display.indexOf(240);
    // frames: everything shown before the keyframe's time belongs to the chunk before it,
    // including the two B-frames decoded after the keyframe
    expect(plan.map((c) => c.startFrame)).toEqual([0, 120, 240]);
    expect(plan.map((c) => c.frames)).toEqual([120, 120, 121]);
    // packets: the stream-copy split cuts at the keyframe's decode position
    expect(plan.map((c) => c.packets)).toEqual([k120, k240 - k120, packets.length - k240]);
    expect(plan[0]!.packets).toBe(118);
    expect(plan[0]!.frames - plan[0]!.packets).toBe(2);
    expectCovers(plan, packets);
  });

  it("handles variable frame rate timestamps", () => {
    // bursts of 60 fps and stretches of 10 fps; a keyframe roughly every second
    const packets: Packet[] = [];
    let t = 0;
    let sinceKey = 1;
    for (let i = 0; i < 2000; i++) {
      const key = i === 0 || sinceKey >= 1;
      if (key) sinceKey = 0;
      packets.push({ pts: t, keyframe: key });
      const step = Math.floor(i / 50) % 2 === 0 ? 1 / 60 : 1 / 10;
      t += step;
      sinceKey += step;
    }
    const sorted = packets.map((p) => p.pts);
    const keyTimes = packets.filter((p) => p.keyframe).map((p) => p.pts);
    const plan = planChunks(packets, 4);
    expect(plan.length).toBeGreaterThan(10);
    expectCovers(plan, packets);
    for (const [n, c] of plan.entries()) {
      expect(keyTimes).toContain(c.startTime);
      const end = plan[n + 1]?.startTime ?? Infinity;
      expect(c.frames).toBe(sorted.filter((p) => p >= c.startTime && p < end).length);
      // keyframes are at most ~1.1 s apart, so each cut is within ~0.6 s of its target
      if (n + 1 < plan.length) expect(Math.abs(c.duration - 4)).toBeLessThan(0.6);
    }
  });

  it("plans a 200k-packet source quickly", () => {
    const { packets } = openGop(199_999, 30, 60);
    expect(packets.length).toBeGreaterThan(199_990);
    const started = performance.now();
    const plan = planChunks(packets, 4);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2000);
    // 6666.6 s: a cut every 4 s up to 6664 s, the 2.6 s tail kept as its own chunk
    expect(plan).toHaveLength(1667);
    expect(plan.slice(0, -1).every((c) => c.frames === 120)).toBe(true);
    expect(plan.at(-1)!.frames).toBe(79);
    expectCovers(plan, packets);
  });
});

describe("planWindows", () => {
  it("puts a lead window first and lengthens the other worker's first window by it, so both finish together", () => {
    const packets = cfr(30 * 30, 30, 60);
    const windows = planWindows(packets, 8, 4, { seconds: 2, slots: 2 });
    expect(windows.map((w) => w.duration)).toEqual([2, 8.5, 6.5, 6.5, 6.5].map((d) => expect.closeTo(d, 1)));
    expect(windows.reduce((n, w) => n + w.frames, 0)).toBe(900);
    // worker A: the lead and then every other window; worker B: the long one first: the same work each
    expect(
      makespan(
        windows.map((w) => w.frames),
        2,
      ),
    ).toBe(450);
  });

  it("splits a single-keyframe source into equal runs that all decode from its start", () => {
    const packets = withKeyframes(30 * 10, 30, [0]);
    const plan = planWindows(packets, 2);
    // 5 windows waste 0+2+4+6+8 = 20 s of decoding: just within 2 × the 10 s source
    expect(plan.map((w) => w.frames)).toEqual([60, 60, 60, 60, 60]);
    expect(plan.map((w) => w.startFrame)).toEqual([0, 60, 120, 180, 240]);
    expect(plan.every((w) => w.seekTime === 0)).toBe(true);
    expect(plan.reduce((n, w) => n + w.frames, 0)).toBe(packets.length);
    expect(plan.reduce((t, w) => t + w.duration, 0)).toBeCloseTo(10, 9);
  });

  it("makes fewer, longer windows when decoding from one keyframe would cost too much", () => {
    // 6 windows of a 12 s source would waste 30 s (> 24 s); 5 waste 24 s
    const plan = planWindows(withKeyframes(30 * 12, 30, [0]), 2);
    expect(plan.map((w) => w.frames)).toEqual([72, 72, 72, 72, 72]);
  });

  it("seeks each window to the last keyframe at or before its first frame", () => {
    const packets = withKeyframes(30 * 10, 30, [0, 195]);
    const plan = planWindows(packets, 2);
    expect(plan.map((w) => w.startTime)).toEqual([0, 2, 4, 6, 8]);
    expect(plan.map((w) => w.seekTime)).toEqual([0, 0, 0, 0, 6.5]);
  });

  it("counts frames by display order when B-frames reorder packets", () => {
    const { packets } = openGop(301, 30, 1000);
    const plan = planWindows(packets, 2, 3);
    expect(plan.map((w) => w.frames)).toEqual([100, 100, 101]);
    expect(plan.map((w) => w.startTime)).toEqual([0, 100 / 30, 200 / 30]);
  });
});

describe("planSource", () => {
  it("keeps keyframe pieces when keyframes are dense and nothing is known of the workers", () => {
    const plan = planSource(cfr(900, 30, 60), 8);
    expect(plan.mode).toBe("pieces");
    expect(plan.chunks.map((c) => c.frames)).toEqual([240, 240, 240, 180]);
  });

  it("plans windows when keyframes are too sparse for the target", () => {
    const plan = planSource(withKeyframes(30 * 10, 30, [0, 195]), 2);
    expect(plan.mode).toBe("windows");
    expect(plan.chunks.length).toBeGreaterThan(1);
  });

  it("balances two workers with windows when whole GOPs cannot be shared evenly", () => {
    // 15 two-second GOPs: pieces give one worker 16 s, the other 14 s; four windows give 7.5 s each
    const plan = planSource(cfr(900, 30, 60), 8, { slots: 2, seekable: true });
    expect(plan.mode).toBe("windows");
    expect(plan.chunks.map((c) => c.frames)).toEqual([225, 225, 225, 225]);
    expect(plan.chunks.map((c) => (c as PlannedWindow).seekTime)).toEqual([0, 6, 14, 22]);
  });

  it("splits a short source that is one keyframe piece into a window per worker", () => {
    // 12 s at 30 fps, keyframes at 0, 4.2 and 8.4 s: one 12 s piece for an 8 s target, one worker idle
    const plan = planSource(withKeyframes(360, 30, [0, 126, 252]), 8, { slots: 2, seekable: true });
    expect(planChunks(withKeyframes(360, 30, [0, 126, 252]), 8)).toHaveLength(1);
    expect(plan.mode).toBe("windows");
    expect(plan.chunks.map((c) => c.frames)).toEqual([180, 180]);
    expect(plan.chunks.map((c) => (c as PlannedWindow).seekTime)).toEqual([0, 4.2]);
    // one worker: nothing to share; a 3 s clip: two 1.5 s windows would cost more than they save
    expect(planSource(withKeyframes(360, 30, [0, 126, 252]), 8, { slots: 1, seekable: true }).mode).toBe("pieces");
    expect(planSource(withKeyframes(90, 30, [0]), 8, { slots: 2, seekable: true }).mode).toBe("pieces");
    expect(planSource(withKeyframes(120, 30, [0]), 8, { slots: 2, seekable: true }).mode).toBe("windows");
  });

  it("keeps pieces when they already share the work evenly, or the container cannot seek exactly", () => {
    expect(planSource(cfr(960, 30, 60), 8, { slots: 2, seekable: true }).mode).toBe("pieces");
    expect(planSource(cfr(900, 30, 60), 8, { slots: 2, seekable: false }).mode).toBe("pieces");
  });
});

describe("searchScenes", () => {
  it("lets each window after the first start up to 2 s early, and seeks two frames before that", () => {
    // 30 s at 30 fps, a keyframe every 2 s: three 10 s windows
    const packets = cfr(900, 30, 60);
    const windows = searchScenes(packets, planWindows(packets, 10, 3));
    expect(windows[0]!.sceneFrom).toBeUndefined();
    expect(windows.slice(1).map((w) => w.sceneFrom)).toEqual([8, 18].map((t) => expect.closeTo(t, 9)));
    expect(windows.slice(1).map((w) => w.startTime - w.sceneFrom!)).toEqual([
      expect.closeTo(SCENE_SEARCH_SECONDS, 9),
      expect.closeTo(SCENE_SEARCH_SECONDS, 9),
    ]);
    // the stretch from 8 s is scored against the frames at 7.933 and 7.967 s: decoded from the keyframe at 6 s
    expect(windows.map((w) => w.seekTime)).toEqual([0, 6, 16].map((t) => expect.closeTo(t, 9)));
    // the windows themselves are unchanged: the search only says where an encoder may cut earlier
    expect(windows.map((w) => w.frames)).toEqual([300, 300, 300]);
  });

  it("searches at most a quarter of the shorter neighbour, and not at all when that is under two frames", () => {
    const packets = cfr(300, 30, 30);
    const windows = searchScenes(packets, planWindows(packets, 2, undefined, { seconds: 2 }));
    // a 2 s lead: the next window searches its last 0.5 s
    expect(windows[1]!.startTime - windows[1]!.sceneFrom!).toBeCloseTo(0.5, 9);
    const tiny = searchScenes(withKeyframes(6, 30, [0]), planWindows(withKeyframes(6, 30, [0]), 0.1, 2));
    expect(tiny.map((w) => w.sceneFrom)).toEqual([undefined, undefined]);
  });

  it("is asked for by planSource only when the plan says so", () => {
    const plan = planSource(cfr(900, 30, 60), 8, { slots: 2, seekable: true, scenes: true });
    expect(plan.mode).toBe("windows");
    if (plan.mode === "windows")
      expect(plan.chunks.map((w) => w.sceneFrom !== undefined)).toEqual([false, true, true, true]);
    const without = planSource(cfr(900, 30, 60), 8, { slots: 2, seekable: true });
    expect(without.chunks.some((w) => "sceneFrom" in w)).toBe(false);
  });
});

describe("makespan", () => {
  it("lets each worker take the next chunk as soon as it is free", () => {
    expect(makespan([240, 240, 240, 180], 2)).toBe(480);
    expect(makespan([4, 1, 1, 1, 1], 2)).toBe(4);
    expect(makespan([3, 3, 3], 1)).toBe(9);
  });
});

describe("keyframes exactly one chunk length apart (issue 11: 1-frame pieces)", () => {
  it.each([24, 25, 30, 30000 / 1001, 60])("at %d fps, every piece is a whole GOP, never a sliver", (fps) => {
    for (const seconds of [8, 8.04, 16, 16.04, 17, 24, 24.5]) {
      const frames = Math.round(seconds * fps);
      const packets = cfr(frames, fps, Math.round(8 * fps));
      const plan = planSource(packets, 8);
      expect(plan.mode, `${seconds} s`).toBe("pieces");
      expectCovers(plan.chunks, packets);
      // cut only at keyframes, a tail under half the target joined to the piece before it: no slivers
      for (const c of plan.chunks)
        expect(c.frames, `${seconds} s at ${fps} fps`).toBeGreaterThanOrEqual(Math.floor(4 * fps));
    }
  });
});

describe("edit lists that hide frames", () => {
  /**
   * A clip trimmed by stream copy: 25 fps, a keyframe every second, the first `head` packets
   * (the GOP before the cut) and the last `tail` ones hidden by the edit list.
   */
  function trimmed(frames: number, head: number, tail: number): Packet[] {
    return cfr(frames, 25, 25, -head / 25).map((p, i) =>
      i < head || i >= frames - tail ? { ...p, discard: true } : p,
    );
  }

  it("counts only shown frames and times chunks from the first one", () => {
    const packets = trimmed(113, 13, 0);
    const plan = planChunks(packets, 2);
    expect(plan.reduce((n, c) => n + c.frames, 0)).toBe(100);
    expect(plan.reduce((n, c) => n + c.packets, 0)).toBe(113);
    expect(plan[0]).toMatchObject({ startFrame: 0, startTime: 0 });
    // keyframes 0.48 s, 1.48 s, 2.48 s… after the first shown frame: the one nearest 2 s
    expect(plan[1]!.startTime).toBeCloseTo(2.48, 9);
    expect(plan[1]!.startFrame).toBe(62);
    expect(plan[plan.length - 1]!.startTime + plan[plan.length - 1]!.duration).toBeCloseTo(4, 9);
  });

  it("never cuts at a hidden keyframe, nor counts a hidden tail", () => {
    // 2 s shown, then a whole hidden GOP: its keyframe must not become a chunk of no frames
    const packets = trimmed(100, 13, 37);
    const plan = planChunks(packets, 1);
    expect(plan.every((c) => c.frames > 0)).toBe(true);
    expect(plan.reduce((n, c) => n + c.frames, 0)).toBe(50);
    expect(plan.reduce((n, c) => n + c.packets, 0)).toBe(100);
  });

  it("windows cover the shown frames, seeking to a hidden keyframe when it decodes the first", () => {
    const packets = trimmed(113, 13, 0).map((p, i) => ({ ...p, keyframe: i === 0 }));
    const windows = planWindows(packets, 1, 4);
    expect(windows.reduce((n, w) => n + w.frames, 0)).toBe(100);
    expect(windows[0]).toMatchObject({ startFrame: 0, startTime: 0 });
    expect(windows[0]!.seekTime).toBeCloseTo(-13 / 25, 9);
  });
});
