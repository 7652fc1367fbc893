import { describe, expect, it } from "vitest";
import { fitLadder } from "@videoforge/core/ladder";
import { baselineArgs, baselineMaster, deliveryOf } from "./baseline.ts";
import type { BenchSource } from "./source.ts";

const source: BenchSource = {
  file: "/w/source.mp4",
  width: 1920,
  height: 1080,
  fps: 30,
  frames: 900,
  duration: 30,
  hasAudio: true,
  rotation: 0,
  bytes: 1,
};
const renditions = fitLadder(["1080p", "720p"], 1920, 1080);
const settings = { preset: "veryfast", crf: 23, gop: 60 };
const caps = { fpsModeFlag: "-fps_mode", legacyMuxer: false } as const;

/** The tee output of each rung: the arguments between its `-map [vN]` and its slaves. */
function rungs(args: string[]): { opts: string[]; slaves: string[] }[] {
  return args.flatMap((a, i) => {
    if (!/^\[v\d\]$/.test(a)) return [];
    const tee = args.indexOf("tee", i);
    return [{ opts: args.slice(i + 1, tee), slaves: args[tee + 1]!.split("|") }];
  });
}

/** The value after `flag` in one rung's options. */
const opt = (opts: string[], flag: string) => opts[opts.indexOf(flag) + 1];

describe("baselineArgs", () => {
  it("keeps H.264 as it was: x264 in a faststart MP4 with AAC, HLS in fMP4 segments under the rung's name", () => {
    const [top, second] = rungs(baselineArgs(source, renditions, settings, "/out", caps, "h264"));
    expect(opt(top!.opts, "-c:v")).toBe("libx264");
    expect(opt(top!.opts, "-c:a")).toBe("aac");
    expect(top!.opts).not.toContain("-tag:v");
    expect(top!.slaves[0]).toBe("[f=mp4:movflags=+faststart]/out/1080p.mp4");
    expect(second!.slaves[1]).toMatch(/^\[f=hls:.*hls_segment_type=fmp4.*\/out\/hls\/720p\/seg_%05d\.m4s\]/);
    expect(second!.slaves[1]).toMatch(/\]\/out\/hls\/720p\/index\.m3u8$/);
  });

  it("writes VP9 into WebM with Opus, the HLS ladder under the variant's name", () => {
    const [top, second] = rungs(baselineArgs(source, renditions, settings, "/out", caps, "vp9"));
    expect(opt(top!.opts, "-c:v")).toBe("libvpx-vp9");
    expect(opt(top!.opts, "-b:v")).toBe("0");
    expect(opt(top!.opts, "-c:a")).toBe("libopus");
    expect(opt(top!.opts, "-b:a")).toBe("128k");
    expect(top!.slaves[0]).toBe("[f=webm]/out/1080p-vp9.webm");
    expect(second!.slaves[1]).toContain("/out/hls/720p-vp9/seg_%05d.m4s");
    expect(second!.slaves[1]).toMatch(/hls_segment_type=fmp4/);
  });

  it("tags HEVC hvc1 in MP4 (as the assembler does) and uses x265; AV1 goes in MP4 with AAC", () => {
    const [hevc] = rungs(baselineArgs(source, renditions, settings, "/out", caps, "hevc"));
    expect(opt(hevc!.opts, "-c:v")).toBe("libx265");
    expect(opt(hevc!.opts, "-tag:v")).toBe("hvc1");
    expect(opt(hevc!.opts, "-c:a")).toBe("aac");
    expect(hevc!.slaves[0]).toBe("[f=mp4:movflags=+faststart]/out/1080p-hevc.mp4");

    const [av1] = rungs(baselineArgs(source, renditions, settings, "/out", caps, "av1"));
    expect(opt(av1!.opts, "-c:v")).toBe("libsvtav1");
    expect(av1!.opts).not.toContain("-tag:v");
    expect(av1!.slaves[0]).toBe("[f=mp4:movflags=+faststart]/out/1080p-av1.mp4");
  });

  it("leaves audio out for a silent source, and the one decode and the poster whatever the codec", () => {
    const args = baselineArgs({ ...source, hasAudio: false }, renditions, settings, "/out", caps, "vp9");
    expect(args).not.toContain("0:a:0");
    expect(args.filter((a) => a === "-i")).toHaveLength(1);
    expect(args.at(-1)).toBe("/out/poster.jpg");
  });
});

describe("baseline delivery", () => {
  it("names the container, sample entry and audio of each codec", () => {
    expect(deliveryOf("h264")).toMatchObject({ container: "MP4", audio: { label: "AAC 128k" } });
    expect(deliveryOf("hevc").tag).toBe("hvc1");
    expect(deliveryOf("vp9")).toMatchObject({ container: "WebM", audio: { encoder: "libopus" } });
    expect(deliveryOf("av1")).toMatchObject({ container: "MP4", audio: { encoder: "aac" } });
  });

  it("writes a master playlist pointing at the variants with the codec's strings", () => {
    const output = {
      rendition: "720p-vp9",
      format: "vp9" as const,
      key: "720p-vp9.webm",
      width: 1280,
      height: 720,
      frames: 0,
      duration: 30,
      bytes: 1,
      bitrate: 1_000_000,
    };
    const text = baselineMaster([output], true, "vp9");
    expect(text).toContain('BANDWIDTH=1200000,RESOLUTION=1280x720,CODECS="vp09.00.40.08,Opus"\n720p-vp9/index.m3u8\n');
    expect(baselineMaster([output], false, "vp9")).toContain('CODECS="vp09.00.40.08"');
  });
});
