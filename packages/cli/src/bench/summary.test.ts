import { describe, expect, it } from "vitest";
import { videoCodecArgs } from "@videoforge/core";
import { fitLadder } from "@videoforge/core/ladder";
import { containerLabel, encoderLabel, summaryTable } from "./summary.ts";

describe("bench summary", () => {
  it("labels each codec's encoder from the arguments both sides use", () => {
    const [r] = fitLadder(["1080p"], 1920, 1080);
    const s = { preset: "veryfast", crf: 23, gop: 60 };
    const caps = { fpsModeFlag: "-fps_mode", legacyMuxer: false } as const;
    const label = (f: "h264" | "hevc" | "vp9" | "av1") => encoderLabel(videoCodecArgs(f, r!, s, caps));
    expect(label("h264")).toBe("libx264 preset veryfast crf 23");
    expect(label("hevc")).toMatch(/^libx265 preset veryfast crf \d+$/);
    expect(label("vp9")).toMatch(/^libvpx-vp9 cpu-used \d+ crf \d+$/);
    expect(label("av1")).toMatch(/^libsvtav1 preset \d+ crf \d+$/);
    expect(containerLabel("hevc")).toBe("MP4 (hvc1)");
    expect(containerLabel("vp9")).toBe("WebM");
  });

  it("has one row per codec: medians, ratios, SSIM and top-rung size of both sides, the verdict", () => {
    const runs = (...xs: [number, number][]) => xs.map(([wall, cpu]) => ({ wall, cpu }));
    const table = summaryTable([
      {
        codec: "h264",
        hasAudio: true,
        pipeline: runs([24, 46], [26, 50], [25, 48]),
        plain: runs([20, 40], [21, 40], [19, 36]),
        ssim: { pipeline: 0.995641, plain: 0.996 },
        topBytes: { pipeline: 17_830_000, plain: 17_950_000 },
        frameExact: true,
      },
      {
        codec: "vp9",
        hasAudio: true,
        pipeline: runs([90, Number.NaN]),
        plain: runs([60, Number.NaN]),
        ssim: { pipeline: 0.99, plain: 0.991 },
        topBytes: { pipeline: 9_000_000, plain: 9_100_000 },
        frameExact: false,
      },
    ]);
    const cells = (line: string) =>
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
    const lines = table.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(cells(lines[0]!)[0]).toBe("codec");
    expect(cells(lines[2]!)).toEqual([
      "h264",
      "MP4",
      "AAC 128k",
      "25.00",
      "20.00",
      "1.25",
      "1.20",
      "0.99564 / 0.99600",
      "17.83 / 17.95",
      "PASS",
    ]);
    // no GNU time: CPU unknown, said so rather than NaN
    expect(cells(lines[3]!)).toEqual([
      "vp9",
      "WebM",
      "Opus 128k",
      "90.00",
      "60.00",
      "1.50",
      "n/a",
      "0.99000 / 0.99100",
      "9.00 / 9.10",
      "FAIL",
    ]);
  });
});
