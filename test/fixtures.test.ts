import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureNames, makeFixture, probeJson, probeSummary, type FixtureName } from "./fixtures.ts";

let dir: string;
const files = {} as Record<FixtureName, string>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vf-fixtures-"));
  const started = Date.now();
  const timings: string[] = [];
  for (const name of fixtureNames) {
    const t = Date.now();
    files[name] = await makeFixture(name, dir);
    timings.push(`${name} ${((Date.now() - t) / 1000).toFixed(2)}s`);
  }
  console.log(`fixtures generated in ${((Date.now() - started) / 1000).toFixed(1)}s: ${timings.join(", ")}`);
}, 300_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

async function videoStream(file: string) {
  const j = await probeJson(file, ["-select_streams", "v:0", "-show_streams"]);
  return j.streams![0]!;
}
async function codecs(file: string) {
  return (await probeJson(file, ["-show_streams"])).streams!.map((s) => `${s.codec_type}:${s.codec_name}`);
}
/** Video packets in presentation order. */
async function packets(file: string) {
  const j = await probeJson(file, ["-select_streams", "v:0", "-show_entries", "packet=pts_time,flags"]);
  return j
    .packets!.map((p) => ({ pts: Number(p.pts_time), key: p.flags!.includes("K") }))
    .sort((a, b) => a.pts - b.pts);
}
/** Keyframe times in seconds from the first frame (webm starts video a few ms late, after Vorbis priming). */
async function keyframeTimes(file: string) {
  const all = await packets(file);
  return all.filter((p) => p.key).map((p) => Math.round((p.pts - all[0]!.pts) * 1000) / 1000);
}

describe("fixtures", () => {
  it("caches: a second call returns the same file without regenerating", async () => {
    const again = await makeFixture("tiny-2s", dir);
    expect(again).toBe(files["tiny-2s"]);
  });

  it("tiny-2s", async () => {
    const s = await probeSummary(files["tiny-2s"]);
    expect(s).toMatchObject({ frames: 50, width: 320, height: 240, hasAudio: true, rotation: 0 });
    expect(s.duration).toBeCloseTo(2, 1);
    expect(s.audioDuration).toBeCloseTo(2, 1);
  });

  it("h264-1080p-bframes-audio: B-frames, 1 s GOP, stereo 48 kHz AAC", async () => {
    const f = files["h264-1080p-bframes-audio"];
    const s = await probeSummary(f);
    expect(s).toMatchObject({ frames: 120, width: 1920, height: 1080, hasAudio: true });
    expect(s.duration).toBeCloseTo(4, 1);
    expect(s.audioDuration).toBeCloseTo(4, 1);
    expect(Number((await videoStream(f)).has_b_frames)).toBeGreaterThan(0);
    expect(await keyframeTimes(f)).toEqual([0, 1, 2, 3]);
    const audio = (await probeJson(f, ["-select_streams", "a:0", "-show_streams"])).streams![0]!;
    expect(audio).toMatchObject({ codec_name: "aac", channels: 2, sample_rate: "48000" });
  });

  it("h264-noaudio", async () => {
    const f = files["h264-noaudio"];
    expect(await probeSummary(f)).toMatchObject({ frames: 125, width: 1280, height: 720, hasAudio: false });
    expect(await codecs(f)).toEqual(["video:h264"]);
    expect(await keyframeTimes(f)).toEqual([0, 1, 2, 3, 4]);
  });

  it("h264-single-keyframe", async () => {
    const f = files["h264-single-keyframe"];
    expect(await probeSummary(f)).toMatchObject({ frames: 180, width: 640, height: 360, hasAudio: true });
    expect(await keyframeTimes(f)).toEqual([0]);
  });

  it("h264-vfr: frame intervals differ (30 fps then 15 fps)", async () => {
    const f = files["h264-vfr"];
    const s = await probeSummary(f);
    expect(s).toMatchObject({ frames: 75 + 37, width: 640, height: 360, hasAudio: true });
    const pts = (await packets(f)).map((p) => p.pts);
    const intervals = new Set(pts.slice(1).map((t, i) => Math.round((t - pts[i]!) * 1000)));
    expect([...intervals].sort()).toEqual([33, 67]);
    expect((await keyframeTimes(f)).length).toBeGreaterThanOrEqual(5);
  });

  it("h264-odd-1918x1078", async () => {
    const f = files["h264-odd-1918x1078"];
    expect(await probeSummary(f)).toMatchObject({ frames: 100, width: 1918, height: 1078, hasAudio: true });
    expect(await videoStream(f)).toMatchObject({ codec_name: "h264", coded_width: 1918, coded_height: 1078 });
  });

  it("h264-rotated: 1280x720 coded, displays turned 90° clockwise", async () => {
    const f = files["h264-rotated"];
    expect(await probeSummary(f)).toMatchObject({
      frames: 120,
      width: 1280,
      height: 720,
      hasAudio: true,
      rotation: 90,
    });
    const v = await videoStream(f);
    const matrix = v.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
    expect(matrix === -90 || v.tags?.rotate === "90").toBe(true);
  });

  it("hevc-10bit: Main 10, hvc1, 1 s keyframes", async () => {
    const f = files["hevc-10bit"];
    expect(await probeSummary(f)).toMatchObject({ frames: 100, width: 1280, height: 720, hasAudio: true });
    expect(await videoStream(f)).toMatchObject({
      codec_name: "hevc",
      profile: "Main 10",
      pix_fmt: "yuv420p10le",
      codec_tag_string: "hvc1",
    });
    expect(await keyframeTimes(f)).toEqual([0, 1, 2, 3]);
  });

  it("vp8-vorbis-webm", async () => {
    const f = files["vp8-vorbis-webm"];
    expect(f.endsWith(".webm")).toBe(true);
    const s = await probeSummary(f);
    expect(s).toMatchObject({ frames: 120, width: 640, height: 360, hasAudio: true });
    expect(s.duration).toBeCloseTo(4, 1);
    expect(s.audioDuration).toBeCloseTo(4, 1);
    expect(await codecs(f)).toEqual(["video:vp8", "audio:vorbis"]);
    expect(await keyframeTimes(f)).toEqual([0, 1, 2, 3]);
  });

  it("bad-truncated comes from an mp4 whose moov atom is at the end", async () => {
    const whole = await readFile(files["tiny-2s"]);
    expect(whole.indexOf("moov")).toBeGreaterThan(whole.indexOf("mdat"));
    const cut = await readFile(files["bad-truncated"]);
    expect(cut.length).toBe(Math.floor(whole.length * 0.4));
  });

  it.each([
    ["bad-zero-byte", /Invalid data|End of file/],
    ["bad-text", /Invalid data|moov atom not found/],
    ["bad-truncated", /moov atom not found|Invalid data/],
  ] as const)("%s fails ffprobe with stderr in the error", async (name, message) => {
    await expect(probeSummary(files[name])).rejects.toThrow(message);
  });
});
