import { describe, expect, it } from "vitest";
import { audioTracksFor, outputFileName, parseFormats, storedFormats, variantName } from "./formats.ts";

describe("parseFormats", () => {
  it("keeps known names once, in the canonical order (H.264 first, so its chunks are scheduled first)", () => {
    expect(parseFormats("mp3, av1,h264,vp9,av1")).toEqual(["h264", "vp9", "av1", "mp3"]);
    expect(parseFormats(["hevc"])).toEqual(["hevc"]);
  });

  it("refuses an unknown name with the choices; audio alone is an audio-only job", () => {
    expect(() => parseFormats("h264,h266")).toThrow(
      'Unknown format "h266"; choose from h264, hevc, vp9, av1, m4a, mp3.',
    );
    expect(parseFormats("mp3,m4a")).toEqual(["m4a", "mp3"]);
    expect(() => parseFormats(" , ")).toThrow(/No format given/);
  });

  it("reads what a job stored, H.264 for rows from before formats", () => {
    expect(storedFormats(undefined)).toEqual(["h264"]);
    expect(storedFormats(["vp9", "m4a"])).toEqual(["vp9", "m4a"]);
  });
});

describe("names and audio", () => {
  it("names each rung's file by its format; H.264 keeps the names outputs always had", () => {
    expect(["h264", "hevc", "vp9", "av1"].map((f) => outputFileName("720p", f as "h264"))).toEqual([
      "720p.mp4",
      "720p-hevc.mp4",
      "720p-vp9.webm",
      "720p-av1.mp4",
    ]);
    expect(variantName("1078p", "av1")).toBe("1078p-av1");
  });

  it("encodes each audio kind once, only when a format needs it", () => {
    expect(audioTracksFor(["h264"])).toEqual(["aac"]);
    // the streams' audio rendition is AAC whatever the files carry
    expect(audioTracksFor(["vp9"])).toEqual(["aac", "opus"]);
    expect(audioTracksFor(["vp9", "m4a"])).toEqual(["aac", "opus"]);
    expect(audioTracksFor(["av1", "hevc", "mp3"])).toEqual(["aac", "mp3"]);
  });
});
