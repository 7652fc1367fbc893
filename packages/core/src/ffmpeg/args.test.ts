import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Rendition } from "@videoforge/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitLadder } from "../media/ladder.ts";
import {
  assembleArgs,
  audioArgs,
  CHUNK_TS_OFFSET,
  encodeChunkArgs,
  ladderFilter,
  passthroughTiming,
  posterArgs,
  rotateFilter,
  seekArgs,
  splitArgs,
  x264Args,
  type FrameRange,
  type X264Settings,
} from "./args.ts";
import { ffmpegBinaries, type FfmpegCapabilities } from "./locate.ts";

const ladder: Rendition[] = fitLadder(["1080p", "720p", "360p"], 1920, 1080);
const settings: X264Settings = { preset: "veryfast", crf: 23, gop: 60 };
/** What the builders are told about the ffmpeg in use: a current build, and the 2018 npm one. */
const modern: FfmpegCapabilities = { fpsModeFlag: "-fps_mode", legacyMuxer: false };
const legacy: FfmpegCapabilities = { fpsModeFlag: "-vsync", legacyMuxer: true };

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

/** Index of `part` as a contiguous run inside `args`, or -1. */
function indexOfRun(args: readonly string[], part: readonly string[]): number {
  for (let i = 0; i + part.length <= args.length; i++) if (part.every((p, j) => args[i + j] === p)) return i;
  return -1;
}

/** The value following `flag`, for every occurrence. */
function valuesOf(args: readonly string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe("ladderFilter", () => {
  it("decodes once and splits to one scale per rung", () => {
    const f = ladderFilter(ladder, 0);
    expect(count(f, "split=")).toBe(1);
    expect(f).toContain("split=3[s0][s1][s2]");
    expect(count(f, "scale=")).toBe(3);
    expect(f).toContain("[s0]scale=1920:1080:flags=bicubic,setsar=1[v0]");
    expect(f).toContain("[s1]scale=1280:720:flags=bicubic,setsar=1[v1]");
    expect(f).toContain("[s2]scale=640:360:flags=bicubic,setsar=1[v2]");
    expect(f.startsWith("[0:v:0]")).toBe(true);
    expect(f).toContain("format=yuv420p");
    expect(f).not.toContain("select");
    expect(f).not.toMatch(/transpose|flip/);
  });

  it("handles a single rung", () => {
    const f = ladderFilter(ladder.slice(0, 1), 0);
    expect(f).toBe("[0:v:0]format=yuv420p,split=1[s0];[s0]scale=1920:1080:flags=bicubic,setsar=1[v0]");
  });

  it.each([
    [90, ["transpose=clock"]],
    [180, ["hflip", "vflip"]],
    [270, ["transpose=cclock"]],
    [0, []],
  ])("turns the picture for rotation %i", (rotation, filters) => {
    expect(rotateFilter(rotation)).toEqual(filters);
    const f = ladderFilter(ladder, rotation);
    const head = f.split(";")[0]!;
    expect(head).toBe(`[0:v:0]${[...filters, "format=yuv420p", "split=3"].join(",")}[s0][s1][s2]`);
  });

  it("selects a range with an end, a millisecond before each bound", () => {
    const f = ladderFilter(ladder, 90, { start: 4, end: 8 });
    expect(f).toContain("select='gte(t,3.999000)*lt(t,7.999000)'");
    // select first, then turn, then convert, then split
    const head = f.split(";")[0]!;
    expect(head.indexOf("select")).toBeLessThan(head.indexOf("transpose"));
    expect(head.indexOf("transpose")).toBeLessThan(head.indexOf("format"));
    expect(head.indexOf("format")).toBeLessThan(head.indexOf("split"));
  });

  it("selects a range without an end", () => {
    const f = ladderFilter(ladder, 0, { start: 12.5 });
    expect(f).toContain("select='gte(t,12.499000)'");
    expect(f).not.toContain("lt(t");
  });

  it("is a graph ffmpeg accepts and the range picks the frames in [start, end)", () => {
    // a 640x360 picture turned a quarter is shown 360x640
    const small = fitLadder(["360p", "240p"], 360, 640);
    expect(small.map((r) => `${r.width}x${r.height}`)).toEqual(["360x640", "240x426"]);
    const f = ladderFilter(small, 90, { start: 0.2, end: 0.5 });
    const out = execFileSync(
      ffmpegBinaries().ffmpeg,
      [
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=640x360:rate=30:duration=1",
        "-filter_complex",
        f,
        "-map",
        "[v0]",
        "-f",
        "framecrc",
        "-",
        "-map",
        "[v1]",
        "-f",
        "framecrc",
        "-",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    // frames 6 (0.2 s) to 14 (0.467 s) for each of the two outputs, written to the same pipe
    const frames = out.split("\n").filter((l) => /^\d+,/.test(l));
    expect(frames).toHaveLength(18);
    expect(out).toContain("#dimensions 0: 360x640");
    expect(out).toContain("#dimensions 0: 240x426");
  });
});

describe("scene-aware window cuts", () => {
  const small = fitLadder(["240p"], 426, 240);
  let clip: string;
  beforeAll(() => {
    // two shots, the cut at 3.7 s, keyframes every second: the second window's search runs from 3.0 s to 4.0 s
    clip = join(mkdtempSync(join(tmpdir(), "vf-scenes-")), "two-shots.mp4");
    const shots = "testsrc2=size=426x240:rate=30:duration=3.7[a];smptehdbars=size=426x240:rate=30:duration=4.3[b]";
    execFileSync(ffmpegBinaries().ffmpeg, [
      ...["-hide_banner", "-loglevel", "error", "-filter_complex", `${shots};[a][b]concat=n=2:v=1,format=yuv420p[v]`],
      ...["-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", clip],
    ]);
  });
  afterAll(() => rmSync(dirname(clip), { recursive: true, force: true }));

  /** Each kept frame's time, as the window's encoder would select it (decoded from `seek`, source timestamps). */
  const keptTimes = (seek: number, range: FrameRange) => {
    const out = execFileSync(
      ffmpegBinaries().ffmpeg,
      [
        ...["-hide_banner", "-nostdin", "-loglevel", "error", ...seekArgs(seek), "-i", clip],
        ...["-filter_complex", ladderFilter(small, 0, range), "-copyts", "-map", "[v0]", "-f", "framecrc", "-"],
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    return out
      .split("\n")
      .filter((l) => /^\d+,/.test(l))
      .map((l) => Number(l.split(",")[2]) / 30);
  };

  it("both windows cut at the scene change in the stretch and keep every frame exactly once", () => {
    const first = keptTimes(0, { start: 0, end: 4, endSearch: 3 });
    const second = keptTimes(2, { start: 4, end: 8, startSearch: 3 });
    expect(first.at(-1)).toBeCloseTo(3.7 - 1 / 30, 6);
    expect(second[0]).toBeCloseTo(3.7, 6);
    expect(first.length + second.length).toBe(240);
    // without a scene change in the stretch, the planned cut holds
    const plain = keptTimes(0, { start: 0, end: 2.5, endSearch: 1.5 });
    expect(plain).toHaveLength(75);
  });

  it("ends the decode at the range's end: trim, since the frame count is not known before", () => {
    const f = ladderFilter(small, 0, { start: 4, end: 8, startSearch: 3, endSearch: 7 });
    expect(f).toContain("trim=end=7.999000,select='st(0,gt(ld(0)+gte(t,2.999000)*gte(scene,0.3)+gte(t,3.999000),0))");
    expect(f).toContain("*not(st(1,gt(ld(1)+gte(t,6.999000)*gte(scene,0.3)+gte(t,7.999000),0)))'");
    const args = encodeChunkArgs(
      "in.mp4",
      [{ rendition: small[0]!, file: "o.ts" }],
      settings,
      { rotation: 0, threads: 1, range: { start: 4, end: 8, startSearch: 3 } },
      modern,
    );
    expect(args).not.toContain("-frames:v");
  });
});

describe("x264Args", () => {
  it("caps CRF with the rung's maxrate and a fixed GOP", () => {
    const a = x264Args(ladder[1]!, settings, modern);
    expect(valuesOf(a, "-c:v")).toEqual(["libx264"]);
    expect(valuesOf(a, "-preset")).toEqual(["veryfast"]);
    expect(valuesOf(a, "-crf")).toEqual(["23"]);
    expect(valuesOf(a, "-maxrate")).toEqual([String(ladder[1]!.maxrate)]);
    expect(valuesOf(a, "-bufsize")).toEqual([String(ladder[1]!.maxrate * 2)]);
    expect(valuesOf(a, "-g")).toEqual(["60"]);
    expect(valuesOf(a, "-keyint_min")).toEqual(["60"]);
    expect(valuesOf(a, "-sc_threshold")).toEqual(["0"]);
    expect(valuesOf(a, "-pix_fmt")).toEqual(["yuv420p"]);
  });
});

describe("encodeChunkArgs", () => {
  const outputs = ladder.map((rendition, i) => ({ rendition, file: `/tmp/out_${i}.ts` }));
  const args = encodeChunkArgs(
    "/tmp/piece.ts",
    outputs,
    settings,
    { rotation: 270, threads: 2, range: { start: 4, end: 8 }, frames: 120 },
    modern,
  );

  it("reads one input through one ladder filter, keeping timestamps", () => {
    expect(valuesOf(args, "-i")).toEqual(["/tmp/piece.ts"]);
    expect(args).toContain("-noautorotate");
    expect(args.indexOf("-noautorotate")).toBeLessThan(args.indexOf("-i"));
    expect(valuesOf(args, "-filter_complex")).toEqual([ladderFilter(ladder, 270, { start: 4, end: 8 })]);
    expect(args.filter((a) => a === "-copyts")).toHaveLength(1);
    expect(args.indexOf("-copyts")).toBeLessThan(args.indexOf("-map"));
  });

  it("maps every rung to its own MPEG-TS output with the frame count", () => {
    const maps = args.flatMap((a, i) => (a === "-map" ? [i] : []));
    expect(maps).toHaveLength(ladder.length);
    maps.forEach((start, i) => {
      const end = maps[i + 1] ?? args.length;
      const own = args.slice(start, end);
      expect(own[1]).toBe(`[v${i}]`);
      expect(own.at(-1)).toBe(`/tmp/out_${i}.ts`);
      expect(valuesOf(own, "-frames:v")).toEqual(["120"]);
      expect(valuesOf(own, "-f")).toEqual(["mpegts"]);
      expect(valuesOf(own, "-output_ts_offset")).toEqual([String(CHUNK_TS_OFFSET)]);
      expect(own).toContain("-an");
      // the same encoder settings the single-pass baseline uses
      expect(indexOfRun(own, x264Args(ladder[i]!, settings, modern))).toBeGreaterThan(0);
      expect(indexOfRun(own, passthroughTiming(modern))).toBeGreaterThan(0);
    });
  });

  it("uses the requested thread count", () => {
    expect(new Set(valuesOf(args, "-threads"))).toEqual(new Set(["2"]));
  });

  it("reads a plain input without seeking, as a local file only", () => {
    expect(args).not.toContain("-ss");
    expect(valuesOf(args, "-protocol_whitelist")).toEqual(["file"]);
  });

  it("gives every read a protocol whitelist and the validated demuxer, and the decoder a pixel cap (issue 12)", () => {
    const a = encodeChunkArgs(
      "http://s3/src.mp4?sig=1",
      outputs,
      settings,
      { rotation: 0, threads: 1, range: { start: 0 }, frames: 10, format: "mov", maxPixels: 9_437_184 },
      modern,
    );
    const input = a.indexOf("-i");
    expect(valuesOf(a, "-protocol_whitelist")).toEqual(["http,https,tcp,tls"]);
    expect(a.slice(0, input)).toEqual(expect.arrayContaining(["-f", "mov", "-max_pixels", "9437184"]));
    expect(a.indexOf("-f")).toBe(input - 2);
    for (const built of [
      audioArgs("/s", [{ track: "aac", file: "/a.m4a" }], "matroska"),
      splitArgs("/s", [], "/p_%05d.ts", "mpegts", "avi"),
      posterArgs("/r.mp4", 1, "/p.jpg"),
    ]) {
      const at = built.indexOf("-i");
      expect(built.slice(at - 4, at)).toEqual([
        "-protocol_whitelist",
        "file",
        "-f",
        expect.stringMatching(/^(matroska|avi|mov)$/),
      ]);
    }
  });

  it("seeks a window by the source's own timestamps, before the input, leaving the trim to the range", () => {
    const a = encodeChunkArgs(
      "http://s3/src.mp4?sig=1",
      outputs,
      settings,
      { rotation: 0, threads: 1, range: { start: 7.5, end: 15 }, frames: 225, seek: 6 },
      modern,
    );
    const input = a.indexOf("-i");
    expect(indexOfRun(a, seekArgs(6))).toBeGreaterThan(-1);
    expect(indexOfRun(a, seekArgs(6))).toBeLessThan(input);
    expect(seekArgs(6)).toEqual(["-seek_timestamp", "1", "-noaccurate_seek", "-ss", "6.000000"]);
    expect(valuesOf(a, "-filter_complex")).toEqual([ladderFilter(ladder, 0, { start: 7.5, end: 15 })]);
  });

  it("lets a concat of URLs read over HTTP, and only then", () => {
    const remote = encodeChunkArgs(
      "concat:http://s3/a.ts?x=1|http://s3/b.ts?x=2",
      outputs,
      settings,
      { rotation: 0, threads: 1, range: { start: 1 }, frames: 10 },
      modern,
    );
    expect(valuesOf(remote, "-protocol_whitelist")[0]?.split(",")).toEqual(
      expect.arrayContaining(["concat", "http", "https", "tcp"]),
    );
    expect(remote.indexOf("-protocol_whitelist")).toBeLessThan(remote.indexOf("-i"));
    const local = encodeChunkArgs(
      "concat:/tmp/a.ts|/tmp/b.ts",
      outputs,
      settings,
      { rotation: 0, threads: 1, range: { start: 1 }, frames: 10 },
      modern,
    );
    expect(valuesOf(local, "-protocol_whitelist")).toEqual(["concat,file"]);
  });
});

describe("splitArgs", () => {
  it("cuts at the listed decode-order packets", () => {
    const a = splitArgs("/in.mp4", [118, 238, 358], "/tmp/chunk_%05d.ts", "mpegts");
    expect(valuesOf(a, "-segment_frames")).toEqual(["118,238,358"]);
    expect(a).not.toContain("-segment_time");
    expect(valuesOf(a, "-segment_format")).toEqual(["mpegts"]);
    expect(valuesOf(a, "-c")).toEqual(["copy"]);
    expect(valuesOf(a, "-map")).toEqual(["0:v:0"]);
    expect(valuesOf(a, "-reset_timestamps")).toEqual(["0"]);
    expect(a.at(-1)).toBe("/tmp/chunk_%05d.ts");
  });

  it("writes one segment when there are no cuts", () => {
    const a = splitArgs("/in.mkv", [], "/tmp/chunk_%05d.mkv", "matroska");
    expect(a).not.toContain("-segment_frames");
    expect(Number(valuesOf(a, "-segment_time")[0])).toBeGreaterThan(1e8);
    expect(valuesOf(a, "-segment_format")).toEqual(["matroska"]);
  });
});

describe("assembleArgs", () => {
  it("maps the audio when given", () => {
    const a = assembleArgs("concat:a.ts|b.ts", [{ file: "/tmp/audio.m4a" }], "/tmp/out.mp4", 1 / 30, modern);
    expect(valuesOf(a, "-i")).toEqual(["concat:a.ts|b.ts", "/tmp/audio.m4a"]);
    expect(valuesOf(a, "-map")).toEqual(["0:v:0", "1:a:0"]);
    expect(a.indexOf("-f")).toBeLessThan(a.indexOf("-i"));
    expect(valuesOf(a, "-f")).toEqual(["mpegts", "mov"]);
    expect(valuesOf(a, "-c")).toEqual(["copy"]);
    expect(a.at(-1)).toBe("/tmp/out.mp4");
  });

  it("maps every audio track in order with its language, the first the default", () => {
    const audio = [
      { file: "/a.m4a", language: "eng" },
      { file: "/a-2.m4a", language: "fra" },
    ];
    const a = assembleArgs("concat:a.ts", audio, "/tmp/out.mp4", 1 / 30, modern);
    expect(valuesOf(a, "-map")).toEqual(["0:v:0", "1:a:0", "2:a:0"]);
    expect(valuesOf(a, "-metadata:s:a:1")).toEqual(["language=fra"]);
    expect([...valuesOf(a, "-disposition:a:0"), ...valuesOf(a, "-disposition:a:1")]).toEqual(["default", "0"]);
  });

  it("maps no audio when there is none", () => {
    const a = assembleArgs("concat:a.ts", [], "/tmp/out.mp4", 1 / 30, modern);
    expect(valuesOf(a, "-i")).toEqual(["concat:a.ts"]);
    expect(valuesOf(a, "-map")).toEqual(["0:v:0"]);
    expect(a.join(" ")).not.toContain(":a:");
  });

  it("sets the last frame's duration in 90 kHz ticks when ffmpeg has setts", () => {
    const a = assembleArgs("concat:a.ts", [], "/tmp/out.mp4", 1 / 25, modern);
    expect(valuesOf(a, "-bsf:v")).toEqual(["setts=pts=PTS:dts=DTS:duration=3600"]);
    expect(a).not.toContain("-use_editlist");
  });

  it("works around the legacy muxer: no setts, no edit list, and x264 without B-frames", () => {
    const a = assembleArgs("concat:a.ts", [], "/tmp/out.mp4", 1 / 25, legacy);
    expect(a).not.toContain("-bsf:v");
    expect(valuesOf(a, "-use_editlist")).toEqual(["0"]);
    expect(valuesOf(x264Args(ladder[1]!, settings, legacy), "-bf")).toEqual(["0"]);
    expect(x264Args(ladder[1]!, settings, modern)).not.toContain("-bf");
    expect(passthroughTiming(legacy)[0]).toBe("-vsync");
  });
});

describe("other builders", () => {
  it("decodes the source once and encodes each audio stream to every track asked for, in stereo", () => {
    const a = audioArgs("/in.mp4", [
      { track: "aac", file: "/tmp/audio.m4a" },
      { track: "opus", file: "/tmp/audio.webm" },
      { track: "mp3", file: "/tmp/audio.mp3", stream: 1, language: "fra", filter: "anull" },
    ]);
    expect(a.filter((x) => x === "-i")).toHaveLength(1);
    expect(valuesOf(a, "-map")).toEqual(["0:a:0", "0:a:0", "0:a:1"]);
    expect(valuesOf(a, "-af")).toEqual(["anull"]);
    expect(valuesOf(a, "-metadata:s:a:0")).toEqual(["language=fra"]);
    expect(valuesOf(a, "-c:a")).toEqual(["aac", "libopus", "libmp3lame"]);
    expect(valuesOf(a, "-f")).toEqual(["mp4", "webm", "mp3"]);
    expect(valuesOf(a, "-ac")).toEqual(["2", "2", "2"]);
  });
});
