import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.ts";
import { DEFAULT_LADDER, fitLadder, parseLadder, RUNGS, type RungName } from "./ladder.ts";

const sizes = (names: readonly RungName[], w: number, h: number) =>
  fitLadder(names, w, h).map((r) => `${r.name}:${r.width}x${r.height}`);

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("parseLadder", () => {
  it("parses a comma-separated list", () => {
    expect(parseLadder("720p,360p")).toEqual(["720p", "360p"]);
  });

  it("ignores whitespace and empty items", () => {
    expect(parseLadder(" 720p , 360p ,, ")).toEqual(["720p", "360p"]);
    expect(parseLadder([" 1080p", "480p "])).toEqual(["1080p", "480p"]);
  });

  it("drops duplicates", () => {
    expect(parseLadder("360p,720p,360p,720p")).toEqual(["720p", "360p"]);
  });

  it("orders rungs from largest to smallest", () => {
    expect(parseLadder("240p,1080p,480p,2160p")).toEqual(["2160p", "1080p", "480p", "240p"]);
    expect(parseLadder(["360p", "1440p", "720p"])).toEqual(["1440p", "720p", "360p"]);
  });

  it("rejects an unknown rung, naming it and every valid one", () => {
    const err = catchError(() => parseLadder("720p,999p,foo"));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('"999p"');
    expect(err.message).toContain('"foo"');
    expect(err.message).not.toContain('"720p"');
    for (const name of Object.keys(RUNGS)) expect(err.message).toContain(name);
  });

  it("is case-sensitive about names", () => {
    expect(() => parseLadder("720P")).toThrow(InvalidInputError);
  });

  it("rejects an empty ladder", () => {
    expect(() => parseLadder("")).toThrow(InvalidInputError);
    expect(() => parseLadder(" , ,")).toThrow(InvalidInputError);
    expect(() => parseLadder([])).toThrow(/empty/);
  });

  it("does not take inherited object keys for rung names", () => {
    expect(() => parseLadder("toString,constructor")).toThrow(InvalidInputError);
  });
});

describe("fitLadder", () => {
  it("fits the default ladder to a 1080p source", () => {
    expect(sizes(DEFAULT_LADDER, 1920, 1080)).toEqual([
      "1080p:1920x1080",
      "720p:1280x720",
      "480p:854x480",
      "360p:640x360",
    ]);
  });

  it("keeps the named bitrates for 16:9 sources", () => {
    const ladder = fitLadder(DEFAULT_LADDER, 1920, 1080);
    expect(ladder.map((r) => r.maxrate)).toEqual([6_000_000, 3_500_000, 1_600_000, 900_000]);
  });

  it("orders renditions from largest to smallest whatever order they come in", () => {
    expect(sizes(["360p", "1080p", "720p"], 1920, 1080)).toEqual(["1080p:1920x1080", "720p:1280x720", "360p:640x360"]);
  });

  it("never upscales: a 360p source with the default ladder gives one 360p rung", () => {
    expect(sizes(DEFAULT_LADDER, 640, 360)).toEqual(["360p:640x360"]);
  });

  it("clamps rungs above the source to the source size and names them for their size", () => {
    expect(sizes(DEFAULT_LADDER, 1280, 720)).toEqual(["720p:1280x720", "480p:854x480", "360p:640x360"]);
    expect(sizes(["1080p", "2160p"], 1280, 720)).toEqual(["720p:1280x720"]);
  });

  it("keeps an even source's size for its top rung and rounds the others to even", () => {
    const ladder = fitLadder(DEFAULT_LADDER, 1918, 1078);
    expect(ladder[0]).toMatchObject({ name: "1078p", width: 1918, height: 1078 });
    expect(ladder.map((r) => r.height)).toEqual([1078, 720, 480, 360]);
    for (const r of ladder) expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
  });

  it.each([
    [1919, 1079],
    [1919, 1078],
    [641, 361],
    [853, 481],
    [361, 641],
  ])("never upscales an odd-sized %ix%i source by rounding up", (w, h) => {
    const ladder = fitLadder(DEFAULT_LADDER, w, h);
    expect(ladder.length).toBeGreaterThan(0);
    for (const r of ladder) {
      expect(r.width).toBeLessThanOrEqual(w);
      expect(r.height).toBeLessThanOrEqual(h);
      expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
    }
  });

  it("uses the short side for portrait sources", () => {
    expect(sizes(DEFAULT_LADDER, 1080, 1920)).toEqual([
      "1080p:1080x1920",
      "720p:720x1280",
      "480p:480x854",
      "360p:360x640",
    ]);
  });

  it("keeps the aspect ratio of non-16:9 sources", () => {
    const ladder = fitLadder(["720p", "360p"], 1440, 1080);
    expect(sizes(["720p", "360p"], 1440, 1080)).toEqual(["720p:960x720", "360p:480x360"]);
    // fewer pixels than the 16:9 rung: the bitrate ceiling shrinks with them
    expect(ladder[0]!.maxrate).toBeLessThan(RUNGS["720p"].maxrate);
  });

  it.each([
    [1920, 1080],
    [1080, 1920],
    [1918, 1078],
    [640, 360],
    [3840, 2160],
    [720, 576],
    [320, 240],
    [100, 50],
    [2, 2],
    [1, 1],
  ])("gives every rendition of %ix%i an even size and a positive bitrate", (w, h) => {
    const ladder = fitLadder(Object.keys(RUNGS) as RungName[], w, h);
    expect(ladder.length).toBeGreaterThan(0);
    expect(new Set(ladder.map((r) => r.name)).size).toBe(ladder.length);
    expect(new Set(ladder.map((r) => `${r.width}x${r.height}`)).size).toBe(ladder.length);
    for (const r of ladder) {
      expect(r.maxrate).toBeGreaterThan(0);
      expect(r.videoBitrate).toBeGreaterThan(0);
      expect(r.videoBitrate).toBeLessThanOrEqual(r.maxrate);
      expect(Number.isInteger(r.maxrate) && Number.isInteger(r.videoBitrate)).toBe(true);
      expect(r.width).toBeGreaterThanOrEqual(2);
      expect(r.height).toBeGreaterThanOrEqual(2);
      expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
    }
  });
});
