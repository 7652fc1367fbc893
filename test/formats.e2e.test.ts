import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFile, writeFile } from "node:fs/promises";
import { ffmpeg, ffmpegBinaries, parseCaptions, runProcess } from "@videoforge/core";
import type { FormatName, RungName } from "@videoforge/core/contract";
import { makeFixture, type FixtureName } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, download, streamSpans } from "./helpers/media.ts";
import { parseM3u8 } from "./helpers/m3u8.ts";
import { parse as parseMpd } from "mpd-parser";

/**
 * Every codec besides H.264 (whose source matrix is in pipeline.e2e) is chunk-parallel and frame-exact on
 * the three source kinds that break naive chunking: B-frames with audio, variable frame rate, 10-bit HEVC.
 * One job per source makes every format at once; each output is downloaded and decoded independently.
 */
const env = useTestCloud({ chunkSeconds: 2 });

const FORMATS: FormatName[] = ["hevc", "vp9", "av1", "m4a", "mp3"];

/** Each output's colour tags: the source's when it declares SDR colour, BT.709 when an HDR source is tone-mapped. */
const BT709 = "bt709/bt709/bt709";
const cases: { fixture: FixtureName; ladder: RungName[]; size: string; colour: string | null }[] = [
  { fixture: "h264-bframes-audio-360p", ladder: ["240p"], size: "426x240", colour: BT709 },
  { fixture: "h264-vfr", ladder: ["240p"], size: "426x240", colour: null },
  // HDR10 (BT.2020, PQ): tone-mapped to SDR, with a note on the job saying so
  { fixture: "hevc-10bit-360p", ladder: ["240p"], size: "426x240", colour: BT709 },
];

/** Shown frames' presentation times, from the first, sorted (packets an edit list hides left out). */
async function frameTimes(file: string): Promise<number[]> {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "packet=pts_time,flags",
    "-of",
    "csv=p=0",
    file,
  ]);
  const pts = stdout
    .trim()
    .split("\n")
    .map((l) => l.split(","))
    .filter((f) => !f[1]?.includes("D"))
    .map((f) => Number(f[0]))
    .sort((a, b) => a - b);
  return pts.map((t) => t - pts[0]!);
}

describe("formats: HEVC, VP9, AV1, M4A, MP3 on the hard source kinds", () => {
  it.each(cases)(
    "$fixture → every format frame-exact",
    async (c) => {
      const { cloud, dir } = env;
      const source = await makeFixture(c.fixture, dir);
      const src = await decodedVideo(source);
      const srcTimes = await frameTimes(source);
      const srcSpans = await streamSpans(source);

      const view = await cloud.process(source, c.ladder, FORMATS);

      expect(view.job.error).toBeNull();
      expect(view.job.status).toBe("COMPLETED");
      expect(view.job.formats).toEqual(FORMATS);
      expect(view.job.notes.some((n) => /HDR.*tone-mapped/.test(n))).toBe(c.fixture === "hevc-10bit-360p");
      // each video format is its own set of chunks over the same pieces, and the timeline says which
      const chunks = view.chunks ?? [];
      const codecs = [...new Set(chunks.map((ch) => ch.codec))].sort();
      expect(codecs).toEqual(["av1", "hevc", "vp9"]);
      for (const codec of codecs) {
        const own = chunks.filter((ch) => ch.codec === codec);
        expect(own.length).toBeGreaterThanOrEqual(2);
        expect(own.reduce((n, ch) => n + ch.frames, 0)).toBe(src.frames);
      }
      const encoded = view.timeline.filter((t) => t.type === "ChunkEncoded");
      expect(new Set(encoded.map((t) => (t.detail.chunk as { codec?: string }).codec))).toEqual(
        new Set(["hevc", "vp9", "av1"]),
      );

      const links = await cloud.client.outputs(view.job.jobId);
      expect(links.outputs.map((o) => `${o.key.split("/").at(-1)} ${o.width}x${o.height}`)).toEqual([
        `240p-hevc.mp4 ${c.size}`,
        `240p-vp9.webm ${c.size}`,
        `240p-av1.mp4 ${c.size}`,
      ]);
      const expected = { hevc: ["hevc", "hvc1", "aac"], vp9: ["vp9", null, "opus"], av1: ["av1", "av01", "aac"] };
      for (const o of links.outputs) {
        const file = join(dir, `${view.job.jobId}-${o.key.split("/").at(-1)}`);
        expect(await download(o.url, file)).toBe(o.bytes);
        const out = await decodedVideo(file);
        expect(out.frames, `${o.rendition} frames`).toBe(src.frames);
        // frame-exact in time too: every frame where the source shows it (WebM keeps milliseconds)
        const times = await frameTimes(file);
        expect(times).toHaveLength(srcTimes.length);
        const worst = Math.max(...times.map((t, i) => Math.abs(t - srcTimes[i]!)));
        expect(worst, `${o.rendition} worst frame time error`).toBeLessThanOrEqual(0.0015);
        const streams = await streamCodecs(file);
        const [video, tag, audio] = expected[o.format as keyof typeof expected];
        expect(streams.video).toBe(video);
        if (tag) expect(streams.tag, `${o.rendition} sample entry`).toBe(tag);
        expect(streams.audio).toBe(audio);
        if (c.colour) expect(streams.colour, `${o.rendition} colour`).toBe(c.colour);
        const spans = await streamSpans(file, srcSpans.video.lastFrame);
        const gap = srcSpans.audio!.end - srcSpans.video.end;
        expect(Math.abs(spans.audio!.end - spans.video.end - gap), `${o.rendition} audio end`).toBeLessThanOrEqual(
          0.05,
        );
      }
      // streaming: one set of CMAF segments per rendition, named by both the HLS master and the DASH manifest
      const { hls, dash } = await streamingSegments(cloud, view.job.jobId);
      expect(hls.variants.map((v) => v.codecs.split(".")[0])).toEqual(["hvc1", "vp09", "av01"]);
      for (const v of hls.variants) {
        expect(v.codecs).toMatch(/,mp4a\.40\.2$/);
        expect(v.resolution).toBe(c.size);
      }
      expect([...dash.keys()].sort()).toEqual([...hls.segments.keys()].sort());
      for (const [rep, files] of dash) expect(files, `${rep} segments`).toEqual(hls.segments.get(rep));
      const total = (hls.durations.get("240p-av1") ?? []).reduce((a, b) => a + b, 0);
      expect(Math.abs(total - (srcSpans.video.end - srcSpans.video.start))).toBeLessThanOrEqual(0.05);

      // the audio-only files: the source's sound, its length, nothing else
      expect(links.audio.map((a) => a.key.split("/").at(-1))).toEqual(["audio.m4a", "audio.mp3"]);
      for (const a of links.audio) {
        const file = join(dir, `${view.job.jobId}-${a.format}`);
        expect(await download(a.url, file)).toBe(a.bytes);
        const streams = await streamCodecs(file);
        expect(streams.video).toBeNull();
        expect(streams.audio).toBe(a.format === "m4a" ? "aac" : "mp3");
        expect(Math.abs(a.duration - (srcSpans.audio!.end - srcSpans.audio!.start))).toBeLessThanOrEqual(0.15);
      }
    },
    300_000,
  );
});

async function streamCodecs(
  file: string,
): Promise<{ video: string | null; tag: string | null; audio: string | null; colour: string }> {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-show_entries",
    "stream=codec_type,codec_name,codec_tag_string,color_primaries,color_transfer,color_space",
    "-of",
    "json",
    file,
  ]);
  type Stream = { codec_type: string; codec_name: string; codec_tag_string: string } & Record<string, string>;
  const streams = (JSON.parse(stdout) as { streams: Stream[] }).streams;
  const video = streams.find((s) => s.codec_type === "video");
  return {
    video: video?.codec_name ?? null,
    tag: video?.codec_tag_string ?? null,
    audio: streams.find((s) => s.codec_type === "audio")?.codec_name ?? null,
    // primaries/transfer/matrix, "?" where unknown
    colour: ["color_primaries", "color_transfer", "color_space"].map((k) => video?.[k] ?? "?").join("/"),
  };
}

/** Integrated loudness (EBU R128, LUFS) of a file's first audio track, as ffmpeg's ebur128 filter measures it. */
async function integratedLoudness(file: string): Promise<number> {
  const { stderr } = await runProcess(ffmpegBinaries().ffmpeg, [
    "-hide_banner",
    "-nostats",
    "-i",
    file,
    "-map",
    "0:a:0",
    "-af",
    "ebur128",
    "-f",
    "null",
    "-",
  ]);
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]);
}

/** A DASH text adaptation set as mpd-parser reports it. */
type TextGroup = { language: string; playlists: { resolvedUri: string }[] };

/** Mean luma (0–255) of a w×h box at x,y of the frame shown at `t` seconds. */
async function boxLuma(file: string, t: number, box: [number, number, number, number]): Promise<number> {
  const [x, y, w, h] = box;
  const { stderr } = await runProcess(ffmpegBinaries().ffmpeg, [
    "-hide_banner",
    "-ss",
    String(t),
    "-i",
    file,
    "-frames:v",
    "1",
    "-vf",
    `crop=${w}:${h}:${x}:${y},signalstats,metadata=print:key=lavfi.signalstats.YAVG`,
    "-f",
    "null",
    "-",
  ]);
  return Number(/lavfi\.signalstats\.YAVG=([\d.]+)/.exec(stderr)![1]);
}

const srt = (text: string) => `1\n00:00:00,200 --> 00:00:01,000\n${text}\n\n2\n00:00:01,000 --> 00:00:01,800\nsecond\n`;

/** POST /uploads with a body the API must refuse; its message. */
async function refused(cloud: import("./helpers/cloud.ts").TestCloud, extra: Record<string, unknown>) {
  const res = await fetch(new URL("/uploads", cloud.api.url), {
    method: "POST",
    headers: { authorization: `Bearer ${cloud.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "x.mp4", size: 100, ...extra }),
  });
  expect(res.status).toBe(400);
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe("per-job options: captions, loudness, watermark (one job, every option)", () => {
  it("a source subtitle stream and an attached SRT, -16 LUFS, a PNG over every frame", async () => {
    const { cloud, dir } = env;
    // arrange: a clip with an English mov_text stream, a French SRT to attach, a white 64x32 logo
    const tiny = await makeFixture("tiny-2s", dir);
    const enSrt = join(dir, "en.srt");
    await writeFile(enSrt, srt("hello from the source"));
    const source = join(dir, "with-subs.mp4");
    await ffmpeg(
      ["-i", tiny, "-i", enSrt, "-map", "0", "-map", "1", "-c", "copy", "-c:s", "mov_text"].concat([
        "-metadata:s:s:0",
        "language=eng",
        source,
      ]),
    );
    const logo = join(dir, "logo.png");
    await ffmpeg(["-f", "lavfi", "-i", "color=white:s=64x32", "-frames:v", "1", logo]);
    const image = (await readFile(logo)).toString("base64");

    // what does not parse or is not an image is refused before any upload, saying why
    expect(
      await refused(cloud, {
        captions: [{ language: "fr", format: "srt", text: "1\n00:00:00,200 -> 00:00:01,000\nbonjour\n" }],
      }),
    ).toMatch(/captions\[0\] \(fr, srt\): line 2/);
    expect(await refused(cloud, { watermark: { image: Buffer.from("<svg/>").toString("base64") } })).toMatch(
      /not a PNG or JPEG/,
    );

    // act
    const before = await integratedLoudness(source);
    const { jobId } = await cloud.client.upload(source, ["240p"], {
      formats: ["h264", "vp9", "m4a"],
      captions: [{ language: "fr", format: "srt", text: srt("bonjour") }],
      loudness: -16,
      watermark: { image, position: "top-left", opacity: 1, width: 0.25 },
    });
    const view = await cloud.waitForEnd(jobId);
    expect(view.job.error).toBeNull();
    const links = await cloud.client.outputs(jobId);
    const files = new Map<string, string>();
    for (const o of [...links.outputs, ...links.audio]) {
      const file = join(dir, `${jobId}-${o.key.split("/").at(-1)}`);
      await download(o.url, file);
      files.set(o.key.split("/").at(-1)!, file);
    }

    // loudness: every audio output at the target; the source was far from it, so this proves a change
    expect(Math.abs(before - -16)).toBeGreaterThan(3);
    for (const [name, file] of files) {
      const after = await integratedLoudness(file);
      expect(Math.abs(after - -16), `${name} measures ${after} LUFS (source ${before})`).toBeLessThanOrEqual(1);
    }

    // watermark: 320x240, the logo 80x40 at (6, 6): white on every frame checked, the picture outside it
    const mp4 = files.get("240p.mp4")!;
    expect((await decodedVideo(mp4)).frames).toBe((await decodedVideo(source)).frames);
    for (const t of [0, 0.9, 1.9]) {
      expect(await boxLuma(mp4, t, [12, 12, 60, 24]), `t=${t} inside`).toBeGreaterThan(230);
      expect(await boxLuma(source, t, [12, 12, 60, 24]), `t=${t} source`).toBeLessThan(200);
    }
    const outside = [160, 120, 80, 60] as [number, number, number, number];
    expect(Math.abs((await boxLuma(mp4, 1, outside)) - (await boxLuma(source, 1, outside)))).toBeLessThan(8);

    // captions: the sidecars parse and say what was muxed and attached
    expect(view.job.captions.map((c) => c.language).sort()).toEqual(["en", "fr"]);
    for (const [language, first] of [
      ["en", "hello from the source"],
      ["fr", "bonjour"],
    ] as const) {
      const link = links.captions.find((c) => c.language === language)!;
      expect(link.key).toBe(`jobs/${jobId}/captions/${language}.vtt`);
      const cues = parseCaptions(await (await fetch(link.url)).text(), "vtt");
      expect(cues.map((c) => c.text)).toEqual([first, "second"]);
      expect(cues[0]!.start).toBeCloseTo(0.2, 3);
    }
    // the HLS master's subtitles group and the MPD's text sets name the same WebVTT files
    const get = async (path: string) =>
      (await fetch(new URL(path, cloud.api.url), { headers: { authorization: `Bearer ${cloud.token}` } })).text();
    const master = parseM3u8(await get(`/jobs/${jobId}/hls/master.m3u8`));
    const group =
      (
        master as {
          mediaGroups?: { SUBTITLES?: Record<string, Record<string, { uri?: string; language?: string }>> };
        }
      ).mediaGroups?.SUBTITLES?.subs ?? {};
    expect(
      Object.values(group)
        .map((g) => g.language)
        .sort(),
    ).toEqual(["en", "fr"]);
    for (const g of Object.values(group)) {
      const [segment] = parseM3u8(await get(`/jobs/${jobId}/hls/${g.uri}`)).segments;
      expect(objectPath(segment!.uri, jobId)).toBe(`hls/captions-${g.language}/captions.vtt`);
      expect(await (await fetch(segment!.uri)).text()).toMatch(/^WEBVTT/);
    }
    const mpd = parseMpd(await get(`/jobs/${jobId}/dash/manifest.mpd`), { manifestUri: String(cloud.api.url) });
    const texts = Object.values(
      (mpd as unknown as { mediaGroups: { SUBTITLES?: Record<string, Record<string, TextGroup>> } }).mediaGroups
        .SUBTITLES?.subs ?? {},
    );
    expect(texts.map((t) => t.language).sort()).toEqual(["en", "fr"]);
    for (const t of texts) {
      const url = t.playlists[0]!.resolvedUri;
      expect(objectPath(url, jobId)).toBe(`hls/captions-${t.language}/captions.vtt`);
      expect(await (await fetch(url)).text()).toMatch(/^WEBVTT/);
    }
  }, 120_000);
});

/** Path of a presigned URL inside the job's folder (`hls/240p-av1/seg_00001.m4s`). */
const objectPath = (url: string, jobId: string) => {
  const path = decodeURIComponent(new URL(url).pathname);
  return path.slice(path.indexOf(`jobs/${jobId}/`) + `jobs/${jobId}/`.length);
};

/**
 * The API's HLS master, every media playlist and the DASH manifest, parsed with real players' parsers
 * (m3u8-parser, mpd-parser): per representation, the init and media segment files each one names.
 */
async function streamingSegments(cloud: import("./helpers/cloud.ts").TestCloud, jobId: string) {
  const get = async (path: string) => {
    const res = await fetch(new URL(path, cloud.api.url), { headers: { authorization: `Bearer ${cloud.token}` } });
    expect(res.status, path).toBe(200);
    return res.text();
  };
  const master = parseM3u8(await get(`/jobs/${jobId}/hls/master.m3u8`));
  const media = [
    ...(master.playlists ?? []).map((v) => v.uri),
    ...Object.values(master.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values(g).map((r) => r.uri!)),
  ];
  const segments = new Map<string, string[]>();
  const durations = new Map<string, number[]>();
  for (const uri of media) {
    const rep = uri.split("/")[0]!;
    const list = parseM3u8(await get(`/jobs/${jobId}/hls/${uri}`));
    expect(list.endList, `${uri} is a finished VOD playlist`).toBe(true);
    const init = list.segments[0]?.map?.uri;
    expect(init, `${uri} has an init segment`).toBeTruthy();
    segments.set(rep, [objectPath(init!, jobId), ...list.segments.map((seg) => objectPath(seg.uri, jobId))]);
    durations.set(
      rep,
      list.segments.map((seg) => seg.duration),
    );
  }
  const mpd = parseMpd(await get(`/jobs/${jobId}/dash/manifest.mpd`), { manifestUri: String(cloud.api.url) });
  const dash = new Map<string, string[]>();
  const reps = [
    ...mpd.playlists,
    ...Object.values(mpd.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values(g).flatMap((r) => r.playlists)),
  ];
  for (const p of reps) {
    const [first] = p.segments;
    expect(first?.map?.resolvedUri).toBeTruthy();
    const files = [first!.map!.resolvedUri, ...p.segments.map((seg) => seg.resolvedUri)].map((u) =>
      objectPath(u, jobId),
    );
    dash.set(files[0]!.split("/")[1]!, files);
    // the manifest's presigned URLs work: its first media segment downloads
    expect((await fetch(first!.resolvedUri)).status).toBe(200);
  }
  const variants = (master.playlists ?? []).map((v) => ({
    codecs: v.attributes.CODECS ?? "",
    resolution: `${v.attributes.RESOLUTION?.width}x${v.attributes.RESOLUTION?.height}`,
  }));
  return { hls: { variants, segments, durations }, dash };
}

/** Each audio stream's language tag and default flag, in order. */
async function audioLanguages(file: string): Promise<{ language: string; default: number }[]> {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, [
    "-v",
    "error",
    "-select_streams",
    "a",
    "-show_entries",
    "stream_tags=language:stream_disposition=default",
    "-of",
    "json",
    file,
  ]);
  const streams = (
    JSON.parse(stdout) as { streams: { tags?: { language?: string }; disposition: { default: number } }[] }
  ).streams;
  return streams.map((s) => ({ language: s.tags?.language ?? "und", default: s.disposition.default }));
}

/** PSNR (dB) between frame `i` of `source`, scaled to `size`, and frame `j` of `output`: which source frame this is. */
async function framePsnr(source: string, i: number, output: string, j: number, size: string): Promise<number> {
  const { stderr } = await runProcess(ffmpegBinaries().ffmpeg, [
    "-hide_banner",
    "-i",
    source,
    "-i",
    output,
    "-filter_complex",
    `[0:v]select=eq(n\\,${i}),scale=${size.replace("x", ":")}:flags=bicubic,setpts=0[a];` +
      `[1:v]select=eq(n\\,${j}),setpts=0[b];[a][b]psnr`,
    "-f",
    "null",
    "-",
  ]);
  const m = /average:([\d.]+|inf)/.exec(stderr);
  return m![1] === "inf" ? 100 : Number(m![1]);
}

describe("trim and audio tracks: frame-exact across chunks, every language carried", () => {
  it("keeps [1.1 s, 2.9 s) of a B-frames source in H.264 and VP9, both audio tracks, moved captions", async () => {
    const { cloud, dir } = env;
    // 4 s at 30 fps, keyframes every second, chunks of 2 s: the trim cuts into the first and the last chunk;
    // a second audio stream, in French, beside the English one
    const clip = await makeFixture("h264-bframes-audio-360p", dir);
    const source = join(dir, "two-languages.mp4");
    await ffmpeg(
      ["-i", clip, "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=4"].concat(
        ["-map", "0:v", "-map", "0:a", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-ac", "2"],
        ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"],
        [source],
      ),
    );
    expect(await refused(cloud, { trim: { start: 3, end: 2 } })).toMatch(/trim end must be after trim start/);
    expect(await refused(cloud, { formats: ["h264", "vp9"], packaging: "ts" })).toMatch(
      /MPEG-TS segments \(packaging "ts"\) carry H\.264 and HEVC only, not vp9/,
    );

    const { jobId } = await cloud.client.upload(source, ["240p"], {
      formats: ["h264", "vp9"],
      trim: { start: 1.1, end: 2.9 },
      captions: [{ language: "en", format: "srt", text: srt("before the trim") }],
    });
    const view = await cloud.waitForEnd(jobId);
    expect(view.job.error).toBeNull();
    expect(view.job.trim).toEqual({ start: 1.1, end: 2.9 });
    // what the outputs are checked against, on the job page too
    expect(view.job.kept).toEqual({
      start: expect.closeTo(1.1, 6),
      end: expect.closeTo(2.9, 6),
      frames: 54,
      duration: expect.closeTo(1.8, 6),
    });
    // frames 33 (1.1 s) to 86: 54 frames, in two chunks per format
    const chunks = view.chunks ?? [];
    for (const codec of ["h264", "vp9"]) {
      const own = chunks.filter((ch) => ch.codec === codec);
      expect(
        own.map((ch) => ch.frames).reduce((a, b) => a + b, 0),
        codec,
      ).toBe(54);
      expect(own.length, codec).toBe(2);
    }
    const links = await cloud.client.outputs(jobId);
    for (const o of links.outputs) {
      const file = join(dir, `${jobId}-${o.key.split("/").at(-1)}`);
      await download(o.url, file);
      expect((await decodedVideo(file)).frames, o.rendition).toBe(54);
      // the first and the last frame kept are the source's 33rd and 86th, not a neighbour
      for (const [j, i] of [
        [0, 33],
        [53, 86],
      ] as const) {
        const [before, at, after] = await Promise.all(
          [i - 1, i, i + 1].map((k) => framePsnr(source, k, file, j, "426x240")),
        );
        expect(at, `${o.rendition} frame ${j} is source frame ${i}`).toBeGreaterThan(Math.max(before!, after!) + 1);
      }
      const spans = await streamSpans(file, 1 / 30);
      expect(Math.abs(spans.video.end - spans.video.start - 1.8), `${o.rendition} video`).toBeLessThanOrEqual(0.002);
      expect(Math.abs(spans.audio!.end - spans.audio!.start - 1.8), `${o.rendition} audio`).toBeLessThanOrEqual(0.03);
      // both languages, in the source's order, English the default
      expect(await audioLanguages(file), o.rendition).toEqual([
        { language: "eng", default: 1 },
        { language: "fra", default: 0 },
      ]);
    }
    // the streams offer both: two renditions in the HLS audio group, two audio sets in the MPD
    const get = async (path: string) =>
      (await fetch(new URL(path, cloud.api.url), { headers: { authorization: `Bearer ${cloud.token}` } })).text();
    const master = parseM3u8(await get(`/jobs/${jobId}/hls/master.m3u8`));
    const group = Object.values(master.mediaGroups?.AUDIO ?? {})[0] ?? {};
    expect(
      Object.entries(group)
        .map(([name, r]) => `${name} ${r.language} ${r.default}`)
        .sort(),
    ).toEqual(["English en true", "Français fr false"]);
    const mpd = parseMpd(await get(`/jobs/${jobId}/dash/manifest.mpd`), { manifestUri: String(cloud.api.url) });
    const sets = Object.values(mpd.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values(g));
    expect(sets.map((s) => (s as { language?: string }).language).sort()).toEqual(["en", "fr"]);
    // captions follow the picture: the cue at 1.0–1.8 s of the source is at 0–0.7 s, the one before is gone
    const vtt = await (await fetch(links.captions[0]!.url)).text();
    expect(parseCaptions(vtt, "vtt")).toEqual([{ start: 0, end: expect.closeTo(0.7, 3), text: "second" }]);

    // a trim that starts past the end fails the job at chunking, saying so
    const late = await cloud.client.upload(source, ["240p"], { trim: { start: 10 } });
    const failed = await cloud.waitForEnd(late.jobId);
    expect(failed.job.status).toBe("FAILED");
    expect(failed.job.error?.reason).toMatch(/trim starts at 10 s, but the video is 4\.0\d+ s long/);
  }, 120_000);
});
