import { describe, expect, it } from "vitest";
import { frameVerdict } from "./verdict.ts";

describe("frameVerdict", () => {
  it("passes when every rendition has the source's frames", () => {
    const v = frameVerdict([
      { output: "1080p.mp4", frames: 900, expected: 900 },
      { output: "hls/1080p/index.m3u8", frames: 900, expected: 900 },
    ]);
    expect(v).toEqual({ exact: true, problems: [] });
  });

  it("fails on one missing frame, an undecodable output, or nothing checked", () => {
    const v = frameVerdict([
      { output: "1080p.mp4", frames: 900, expected: 900 },
      { output: "720p.mp4", frames: 899, expected: 900 },
      { output: "hls/720p/index.m3u8", frames: -1, expected: 900 },
    ]);
    expect(v.exact).toBe(false);
    expect(v.problems).toEqual([
      "720p.mp4 has 899 frames, source 900",
      "hls/720p/index.m3u8 has no decodable frames, source 900",
    ]);
    expect(frameVerdict([]).exact).toBe(false);
  });
});
