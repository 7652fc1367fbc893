import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultFfmpeg } from "../ffmpeg/locate.ts";
import { LOCAL_READ } from "../media/probe.ts";
import { type Cue, extractCaptions, parseCaptions, subtitleStreams, toWebVtt } from "./captions.ts";

/**
 * A source's subtitle streams, muxed by ffmpeg from SRT files, come back out as WebVTT with
 * the same cues: mov_text in MP4, ASS and SRT in Matroska; a DVD (picture) stream is skipped.
 */
const ENGLISH = `1
00:00:00,500 --> 00:00:01,234
Hello, world

2
00:00:01,737 --> 00:00:02,901
Tom & <i>Jerry</i>
second line

3
00:00:03,003 --> 00:00:03,999
a < b
`;
const FRENCH = `1
00:00:00,250 --> 00:00:01,111
Salut, ça va ?

2
00:00:02,222 --> 00:00:03,333
Au revoir
`;

const ff = defaultFfmpeg();
let dir: string;
let mp4: string;
let mkv: string;

/**
 * One DVD subtitle (a 2×2 picture shown at 1 s) in an MPEG program stream: ffmpeg cannot
 * encode DVD subtitles from text, so the packet is written by hand.
 */
function dvdSubtitleProgramStream(): Buffer {
  // subpicture unit: size, control offset, two 2-byte RLE lines, then "show" (palette, alpha,
  // area, line offsets) and, 90 ticks of 1024/90000 s later, "hide"
  const spu = [0, 38, 0, 8, 0, 0, 0, 0];
  spu.push(0, 0, 0, 32, 0x03, 0x32, 0x10, 0x04, 0xff, 0xf0, 0x05, 0, 0, 1, 0, 0, 1, 0x06, 0, 4, 0, 6, 0x01, 0xff);
  spu.push(0, 90, 0, 32, 0x02, 0xff);
  const pts = 90_000;
  const ptsBytes = [0x21 | ((pts / 2 ** 29) & 0x0e), (pts >> 22) & 0xff, ((pts >> 14) & 0xfe) | 1, (pts >> 7) & 0xff];
  ptsBytes.push(((pts << 1) & 0xfe) | 1);
  // private stream 1 PES, sub-stream 0x20 (the first DVD subtitle track)
  const body = [0x81, 0x80, 5, ...ptsBytes, 0x20, ...spu];
  const pes = [0, 0, 1, 0xbd, body.length >> 8, body.length & 0xff, ...body];
  const pack = [0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 0x01, 0x89, 0xc3, 0xf8];
  return Buffer.from([...pack, ...pes, 0, 0, 1, 0xb9]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-captions-"));
  const [en, fr, dvd] = [join(dir, "en.srt"), join(dir, "fr.srt"), join(dir, "dvd.mpg")];
  await Promise.all([writeFile(en, ENGLISH), writeFile(fr, FRENCH), writeFile(dvd, dvdSubtitleProgramStream())]);
  mp4 = join(dir, "source.mp4");
  mkv = join(dir, "source.mkv");
  const video = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=4"];
  const x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
  const languages = (a: string, b: string) => ["-metadata:s:s:0", `language=${a}`, "-metadata:s:s:1", `language=${b}`];
  await ff.run(
    [...video, "-i", en, "-i", fr, "-map", "0", "-map", "1", "-map", "2", ...x264, "-c:s", "mov_text"]
      .concat(languages("eng", "fra"))
      .concat(mp4),
    { timeoutMs: 30_000 },
  );
  await ff.run(
    ["-i", mp4, "-i", en, "-i", fr, "-f", "mpeg", "-i", dvd, "-map", "0:v", "-map", "1", "-map", "2", "-map", "3"]
      .concat(["-c:v", "copy", "-c:s:0", "ass", "-c:s:1", "srt", "-c:s:2", "copy"])
      .concat(languages("eng", "eng"), mkv),
    { timeoutMs: 30_000 },
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function probeStreams(file: string): Promise<unknown> {
  const out = await ff.probeJson([...LOCAL_READ, "-show_streams", file], { timeoutMs: 30_000 });
  return (out as { streams?: unknown }).streams;
}

/** Same texts, times within 1 ms. */
function expectSameCues(actual: readonly Cue[], expected: readonly Cue[]): void {
  expect(actual.map((c) => c.text)).toEqual(expected.map((c) => c.text));
  actual.forEach((c, i) => {
    expect(Math.abs(c.start - expected[i]!.start)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(c.end - expected[i]!.end)).toBeLessThanOrEqual(0.001);
  });
}

async function expectTrack(file: string, srt: string): Promise<void> {
  const published = await readFile(file, "utf8");
  expectSameCues(parseCaptions(published, "vtt"), parseCaptions(srt, "srt"));
  expect(published).toBe(toWebVtt(parseCaptions(srt, "srt")));
}

describe("extractCaptions", () => {
  it("writes an MP4's mov_text streams as captions/<language>.vtt with the muxed cues", async () => {
    const streams = subtitleStreams(await probeStreams(mp4));
    expect(streams.map((s) => [s.codec, s.language, s.text])).toEqual([
      ["mov_text", "en", true],
      ["mov_text", "fr", true],
    ]);
    const out = join(dir, "mp4-out");
    const tracks = await extractCaptions(ff, mp4, "mov", streams, out, { timeoutMs: 30_000 });
    expect(tracks.map((t) => [t.path, t.language, t.cues])).toEqual([
      ["captions/en.vtt", "en", 3],
      ["captions/fr.vtt", "fr", 2],
    ]);
    expect(tracks.map((t) => t.file)).toEqual([join(out, "captions/en.vtt"), join(out, "captions/fr.vtt")]);
    await expectTrack(tracks[0]!.file, ENGLISH);
    await expectTrack(tracks[1]!.file, FRENCH);
  });

  it("writes a Matroska's ASS and SRT streams, numbering a repeated language, and skips a DVD stream", async () => {
    const streams = subtitleStreams(await probeStreams(mkv));
    expect(streams.map((s) => [s.index, s.codec, s.text])).toEqual([
      [0, "ass", true],
      [1, "subrip", true],
      [2, "dvd_subtitle", false],
    ]);
    expect(streams[2]!.reason).toMatch(/DVD subtitles .* are pictures, not text/);
    const out = join(dir, "mkv-out");
    const tracks = await extractCaptions(ff, mkv, "matroska", streams, out, { timeoutMs: 30_000 });
    expect(tracks.map((t) => [t.stream.codec, t.path])).toEqual([
      ["ass", "captions/en.vtt"],
      ["subrip", "captions/en-2.vtt"],
    ]);
    await expectTrack(tracks[0]!.file, ENGLISH);
    await expectTrack(tracks[1]!.file, FRENCH);
  });
});
