import { describe, expect, it } from "vitest";
import { chunkMeans, equalSsimBytes, frameScores, meanSsim } from "./quality.ts";

const rung = (rendition: string, ssim: number, bytes = 1000) => ({
  rendition,
  crf: 30,
  ssim,
  probes: 3,
  met: true,
  bytes,
  kbps: 100,
});

describe("the quality bench's sums", () => {
  it("weights each rung's chunks by how long they play, then averages the rungs", () => {
    const mean = meanSsim({
      target: 0.97,
      chunks: [
        {
          ...{ index: 0, codec: "h264", start: 0, duration: 2, startFrame: 0, frames: 60 },
          rungs: [rung("720p", 0.98), rung("360p", 0.97)],
        },
        {
          ...{ index: 1, codec: "h264", start: 2, duration: 6, startFrame: 60, frames: 180 },
          rungs: [rung("720p", 0.97), rung("360p", 0.99)],
        },
      ],
      minSsim: 0.97,
      bytes: 4000,
      probes: 12,
    });
    // 720p: (0.98·2 + 0.97·6) / 8 = 0.9725; 360p: (0.97·2 + 0.99·6) / 8 = 0.985
    expect(mean).toBeCloseTo((0.9725 + 0.985) / 2, 10);
  });

  it("interpolates a fixed CRF's bytes at a mean SSIM between the two points that bracket it", () => {
    const points = [
      { crf: 23, ssim: 0.99, bytes: 8e6 },
      { crf: 27, ssim: 0.98, bytes: 4e6 },
      { crf: 31, ssim: 0.96, bytes: 2e6 },
    ];
    // exactly on a point
    expect(equalSsimBytes(points, 0.98)).toEqual({ crf: 27, bytes: expect.closeTo(4e6, 0) });
    // between 27 and 31, in SSIM decibels: 0.97 is 15.23 dB, between 16.99 and 13.98 dB
    const mid = equalSsimBytes(points, 0.97)!;
    const f = (16.9897 - 15.2288) / (16.9897 - 13.9794);
    expect(mid.crf).toBeCloseTo(27 + 4 * f, 2);
    expect(mid.bytes).toBeCloseTo(Math.exp(Math.log(4e6) + f * Math.log(0.5)), -2);
    // outside every bracket
    expect(equalSsimBytes(points, 0.995)).toBeNull();
    expect(equalSsimBytes(points, 0.95)).toBeNull();
  });

  it("averages a fixed encode's per-frame scores over the targeted job's chunks", () => {
    const stats = [0.99, 0.98, 0.9, 0.92, 0.94]
      .map((all, i) => `n:${i + 1} Y:0.9 U:0.9 V:0.9 All:${all} (20.0)`)
      .join("\n");
    const frames = frameScores(stats);
    expect(frames).toEqual([0.99, 0.98, 0.9, 0.92, 0.94]);
    const means = chunkMeans(frames, [
      { startFrame: 0, frames: 2 },
      { startFrame: 2, frames: 3 },
    ]);
    expect(means[0]).toBeCloseTo(0.985, 10);
    expect(means[1]).toBeCloseTo(0.92, 10);
    // a chunk past the scored frames is an error, not a short mean
    expect(() => chunkMeans(frames, [{ startFrame: 3, frames: 3 }])).toThrow(/2 scored frames/);
  });
});
