import { describe, expect, it } from "vitest";
import { frameIndexer, planChunks, planWindows } from "./plan.ts";
import type { Packet } from "./probe.ts";
import { resolveTrim, trimChunks, trimmedSource } from "./trim.ts";

/** 30 fps, a keyframe every second, starting at `startPts` (an MPEG-TS source starts near 1.4 s). */
const cfr = (frames: number, startPts = 0): Packet[] =>
  Array.from({ length: frames }, (_, i) => ({ pts: startPts + i / 30, keyframe: i % 30 === 0, duration: 1 / 30 }));
const video = { duration: 10, lastFrameDuration: 1 / 30 };

describe("resolveTrim", () => {
  it("snaps the range to the frames it keeps: the first at or after each end", () => {
    const span = resolveTrim(cfr(300, 1.4), video, { start: 1.01, end: 2.9 });
    expect(span.firstFrame).toBe(31);
    expect(span.frames).toBe(87 - 31);
    expect(span.start).toBeCloseTo(31 / 30, 9);
    expect(span.end).toBeCloseTo(87 / 30, 9);
    expect(span.cutsEnd).toBe(true);
  });

  it("runs to the source's end when the end is past it, keeping the last frame's own length", () => {
    const span = resolveTrim(cfr(300), { duration: 10, lastFrameDuration: 0.05 }, { start: 9.5, end: 60 });
    expect(span).toMatchObject({ firstFrame: 285, frames: 15, end: 10, cutsEnd: false, lastFrameDuration: 0.05 });
  });

  it("refuses a range that holds no frame, saying why", () => {
    expect(() => resolveTrim(cfr(300), video, { start: 12 })).toThrow(/starts at 12 s, but the video is 10\.000 s/);
    expect(() => resolveTrim(cfr(300), video, { start: 1.001, end: 1.02 })).toThrow(/holds no frame/);
  });
});

describe("trimChunks", () => {
  it("drops the chunks outside, cuts the ends, renumbers from 0 and counts from the first kept frame", () => {
    const packets = cfr(300);
    const span = resolveTrim(packets, video, { start: 2.5, end: 7.2 });
    const kept = trimChunks(planChunks(packets, 2), span, frameIndexer(packets));
    expect(kept.map((c) => [c.index, c.piece, c.startFrame, c.frames])).toEqual([
      [0, 1, 0, 45],
      [1, 2, 45, 60],
      [2, 3, 105, 36],
    ]);
    expect(kept.reduce((n, c) => n + c.frames, 0)).toBe(span.frames);
    expect(kept[0]!.startTime).toBe(0);
    expect(kept.reduce((t, c) => t + c.duration, 0)).toBeCloseTo(span.end - span.start, 9);
  });

  it("keeps a window's seek to the keyframe before its original start", () => {
    const packets = cfr(300).map((p, i) => ({ ...p, keyframe: i === 0 }));
    const span = resolveTrim(packets, video, { start: 4 });
    const kept = trimChunks(planWindows(packets, 3), span, frameIndexer(packets));
    expect(kept.every((w) => w.seekTime === 0)).toBe(true);
    expect(kept.reduce((n, c) => n + c.frames, 0)).toBe(180);
  });
});

it("trimmedSource: the outputs are checked against the kept range", () => {
  const source = {
    container: "mov,mp4",
    size: 1,
    duration: 10.02,
    video: { ...video, codec: "h264", width: 2, height: 2, displayWidth: 2, displayHeight: 2, rotation: 0 },
    audio: null,
    audioTracks: [],
    subtitles: [],
  };
  const full = { ...source, video: { ...source.video, fps: 30, pixFmt: "yuv420p", frames: 300, colour: {} } };
  const cut = trimmedSource(full, resolveTrim(cfr(300), video, { start: 1, end: 2 }));
  expect(cut.video).toMatchObject({ frames: 30, duration: expect.closeTo(1, 9) });
  expect(cut.duration).toBeCloseTo(1, 9);
  const tail = trimmedSource(full, resolveTrim(cfr(300), video, { start: 9 }));
  expect(tail.duration).toBeCloseTo(1.02, 9);
});
