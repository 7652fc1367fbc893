import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseM3u8 as m3u8 } from "../../../../test/helpers/m3u8.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputArgs } from "../ffmpeg/args.ts";
import { defaultFfmpeg } from "../ffmpeg/locate.ts";
import type { CmafVariant } from "./cmaf.ts";
import {
  packageTsHls,
  tsMasterPlaylist,
  tsPlaylistEntries,
  tsSegmentArgs,
  type TsHlsRepresentation,
  type TsHlsResult,
} from "./ts-hls.ts";

const SECONDS = 8;
const FPS = 30;
const FRAMES = SECONDS * FPS;
const FRAME = 1 / FPS;

describe("ffmpeg arguments", () => {
  it("reads each input hardened, copies the video and the muxed audio, cuts TS segments numbered from 1", () => {
    const args = tsSegmentArgs({ video: "/in/720p.mp4", audio: "/in/eng.m4a" }, "/out/hls/720p", {
      legacyMuxer: false,
    });
    expect(args.slice(0, 12)).toEqual([
      ...["-protocol_whitelist", "file", "-f", "mov", "-i", "/in/720p.mp4"],
      ...["-protocol_whitelist", "file", "-f", "mov", "-i", "/in/eng.m4a"],
    ]);
    const text = args.join(" ");
    expect(text).toContain("-map 0:v:0 -map 1:a:0 -c copy -avoid_negative_ts disabled");
    expect(text).toContain("-hls_segment_options avoid_negative_ts=disabled -f hls -hls_time 6");
    expect(text).toContain("-hls_playlist_type vod -hls_segment_type mpegts -start_number 1");
    expect(args.slice(-3)).toEqual(["-hls_segment_filename", "/out/hls/720p/seg_%05d.ts", "/out/hls/720p/index.m3u8"]);
    const alone = tsSegmentArgs({ audio: "/in/fra.m4a" }, "/o", { legacyMuxer: true }).join(" ");
    expect(alone).toContain("-f mov -i /in/fra.m4a -map 0:a:0 -c copy");
    expect(alone).toContain("-hls_ts_options avoid_negative_ts=disabled");
  });

  it("takes only seg_NNNNN.ts names and their EXTINF from ffmpeg's playlist", () => {
    const text = "#EXTM3U\n#EXTINF:6.000000,\nseg_00001.ts\n#EXTINF:2.000000,\nseg_00002.ts\n#EXT-X-ENDLIST\n";
    expect(tsPlaylistEntries(text)).toEqual([
      { name: "seg_00001.ts", duration: 6 },
      { name: "seg_00002.ts", duration: 2 },
    ]);
    expect(() => tsPlaylistEntries("#EXTM3U\n#EXTINF:6,\n../x.ts\n")).toThrow(/unexpected segment URI/);
    expect(() => tsPlaylistEntries("#EXTM3U\nseg_00001.ts\n")).toThrow(/EXTINF durations do not match/);
  });
});

// ---------------------------------------------------------------------------------------------
// Real ffmpeg: two H.264 rungs, English muxed in, French beside; one HEVC rung

const ff = defaultFfmpeg();
let dir: string;
let result: TsHlsResult;
let variants: CmafVariant[];
let hevc: CmafVariant;

const SIZES = [
  { id: "90p", width: 160, height: 90 },
  { id: "180p", width: 320, height: 180 },
] as const;
const GOP = ["-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-pix_fmt", "yuv420p"];

async function rung(id: string, width: number, height: number, codec: "h264" | "hevc"): Promise<CmafVariant> {
  const file = join(dir, `${id}.mp4`);
  const encoder =
    codec === "h264"
      ? ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high"]
      : [
          ...["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"],
          ...["-x265-params", "keyint=60:min-keyint=60:scenecut=0:open-gop=0:log-level=error"],
        ];
  // the 180p rung carries the source's audio too, as its own first track: only its video is packaged
  const withAudio = id === "180p";
  await ff.run(
    [
      ...["-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${FPS}:duration=${SECONDS}`],
      ...(withAudio ? ["-f", "lavfi", "-i", `sine=frequency=220:duration=${SECONDS}`] : []),
      ...(withAudio ? ["-map", "1:a", "-c:a", "aac"] : []),
      ...["-map", "0:v", ...encoder, ...GOP, file],
    ],
    { timeoutMs: 60_000 },
  );
  const bitrate = Math.round(((await stat(file)).size * 8) / SECONDS);
  return { id, file, width, height, codec, bitrate };
}

/** A tone as AAC in .m4a, tagged with a language as a source's stream would be. */
function tone(file: string, hz: number, rate: number, channels: number, language: string) {
  return ff.run(
    [
      ...["-f", "lavfi", "-i", `sine=frequency=${hz}:sample_rate=${rate}:duration=${SECONDS}`],
      ...["-c:a", "aac", "-b:a", "64k", "-ac", String(channels), "-metadata:s:a:0", `language=${language}`],
      join(dir, file),
    ],
    { timeoutMs: 30_000 },
  );
}

interface Probed {
  format: { format_name: string };
  streams: { codec_type: string; codec_name: string; nb_read_frames?: string; duration?: string }[];
  packets?: { stream_index: number; pts_time?: string }[];
}

/** ffprobe of a file: its format and streams, and either the frames decoded or the first few packets. */
async function probe(input: string, format: string, read: "count" | "head"): Promise<Probed> {
  const entries = "format=format_name:stream=codec_type,codec_name,nb_read_frames,duration";
  return (await ff.probeJson(
    [
      ...(read === "count"
        ? ["-count_frames", "-show_entries", entries]
        : ["-read_intervals", "%+#20", "-show_entries", `${entries}:packet=stream_index,pts_time`]),
      ...inputArgs(input, format),
    ],
    { timeoutMs: 60_000 },
  )) as Probed;
}

/** Frames decoded (video) or packets read (audio) of a file's first stream of `kind`, through to its end. */
async function countOf(input: string, format: string, kind: "v" | "a"): Promise<number> {
  const json = (await ff.probeJson(
    [
      ...(kind === "v" ? ["-count_frames"] : ["-count_packets"]),
      ...["-select_streams", `${kind}:0`, "-show_entries", "stream=nb_read_frames,nb_read_packets"],
      ...inputArgs(input, format),
    ],
    { timeoutMs: 60_000 },
  )) as { streams: { nb_read_frames?: string; nb_read_packets?: string }[] };
  const s = json.streams[0];
  return Number(kind === "v" ? s?.nb_read_frames : s?.nb_read_packets);
}

/** The first packet time of each kind of stream in a file. */
async function firstTimes(file: string, format: string): Promise<{ video?: number; audio?: number }> {
  const p = await probe(file, format, "head");
  const first = (kind: string) => {
    const index = p.streams.findIndex((s) => s.codec_type === kind);
    const pts = (p.packets ?? []).filter((k) => k.stream_index === index).map((k) => Number(k.pts_time));
    return pts.length ? Math.min(...pts) : undefined;
  };
  return { video: first("video"), audio: first("audio") };
}

const byId = (id: string): TsHlsRepresentation => result.representations.find((r) => r.id === id)!;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-ts-hls-"));
  await writeFile(join(dir, "en.vtt"), "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello\n");
  const [encoded, hevcRung] = await Promise.all([
    Promise.all(SIZES.map((s) => rung(s.id, s.width, s.height, "h264"))),
    rung("90p-hevc", 160, 90, "hevc"),
    tone("eng.m4a", 440, 44100, 2, "eng"),
    tone("fra.m4a", 660, 48000, 1, "fra"),
  ]);
  variants = encoded;
  hevc = hevcRung;
  const audio = [
    { file: join(dir, "eng.m4a"), language: "eng" },
    { file: join(dir, "fra.m4a"), language: "fra" },
  ];
  result = await packageTsHls(ff, join(dir, "out"), variants, audio, {
    timeoutMs: 60_000,
    subtitles: [{ language: "en", file: join(dir, "en.vtt") }],
  });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("packageTsHls", () => {
  it("writes exactly the files it lists: a folder per variant, the French track, captions, the master", async () => {
    const out = join(dir, "out");
    const entries = await readdir(out, { recursive: true, withFileTypes: true });
    const written = entries.filter((e) => e.isFile()).map((e) => relative(out, join(e.parentPath, e.name)));
    expect(new Set(result.files)).toEqual(new Set(written));
    expect(result.files.length).toBe(written.length);
    for (const f of result.files) expect((await stat(join(out, f))).size).toBeGreaterThan(0);
    expect(result.master).toBe("hls/master.m3u8");
    expect(result.representations.map((r) => [r.id, r.kind, r.playlist, r.segments.length])).toEqual([
      ["180p", "video", "hls/180p/index.m3u8", 2],
      ["90p", "video", "hls/90p/index.m3u8", 2],
      ["audio-2", "audio", "hls/audio-2/index.m3u8", 2],
    ]);
    for (const r of result.representations)
      expect(r.segments).toEqual(r.segments.map((_, i) => `hls/${r.id}/seg_${String(i + 1).padStart(5, "0")}.ts`));
  });

  it("the master lists the variants largest first, the English muxed audio and the French rendition", async () => {
    const master = m3u8(await readFile(join(dir, "out", result.master), "utf8"));
    expect(master.playlists?.map((p) => p.uri)).toEqual(["180p/index.m3u8", "90p/index.m3u8"]);
    // the default has no URI: its audio is in the variants' own segments
    expect(master.mediaGroups?.AUDIO.audio).toEqual({
      English: { language: "en", default: true, autoselect: true },
      Français: { language: "fr", default: false, autoselect: true, uri: "audio-2/index.m3u8" },
    });
    expect(master.mediaGroups?.SUBTITLES.subs?.en).toMatchObject({ language: "en", uri: "captions-en/index.m3u8" });
    const french = result.presentation.audio[1]!.stream!;
    for (const p of master.playlists ?? []) {
      const v = result.presentation.video.find((x) => `${x.id}/index.m3u8` === p.uri)!;
      const { CODECS, RESOLUTION, BANDWIDTH, "FRAME-RATE": rate, AUDIO, SUBTITLES } = p.attributes;
      expect([RESOLUTION, rate, AUDIO, SUBTITLES]).toEqual([{ width: v.width, height: v.height }, 30, "audio", "subs"]);
      expect(CODECS).toMatch(/^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
      // measured: the variant's peak segment rate (video and English) plus the French track's
      const bytes = v.segments.reduce((n, s) => n + s.bytes, 0);
      expect(BANDWIDTH).toBe(v.bandwidth + french.bandwidth);
      expect(v.bandwidth).toBeGreaterThanOrEqual(Math.floor((bytes * 8) / SECONDS));
    }
  });

  it("each media playlist lists its .ts segments, timed to the input's duration within a frame", async () => {
    for (const r of result.representations) {
      const media = m3u8(await readFile(join(dir, "out", r.playlist), "utf8"));
      expect([media.version, media.endList, media.playlistType]).toEqual([3, true, "VOD"]);
      expect(media.segments.map((s) => `hls/${r.id}/${s.uri}`)).toEqual(r.segments);
      for (const s of media.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(media.targetDuration!);
      const total = media.segments.reduce((n, s) => n + s.duration, 0);
      const source = r.kind === "video" ? variants.find((v) => v.id === r.id)!.file : join(dir, "fra.m4a");
      const streams = (await probe(source, "mov", "head")).streams;
      const length = Number(streams.find((s) => s.codec_type === (r.kind === "video" ? "video" : "audio"))?.duration);
      expect(Math.abs(total - length)).toBeLessThan(r.kind === "video" ? FRAME : 0.05);
    }
  });

  it("every segment is MPEG-TS with H.264 and AAC that decodes on its own", async () => {
    for (const r of result.representations) {
      let frames = 0;
      for (const seg of r.segments) {
        const p = await probe(join(dir, "out", seg), "mpegts", "count");
        expect(p.format.format_name).toBe("mpegts");
        const kinds = p.streams.map((s) => `${s.codec_type}:${s.codec_name}`);
        expect(kinds).toEqual(r.kind === "video" ? ["video:h264", "audio:aac"] : ["audio:aac"]);
        frames += Number(p.streams[0]?.nb_read_frames);
      }
      // parameter sets before every keyframe: no segment needs the one before it
      if (r.kind === "video") expect([r.id, frames]).toEqual([r.id, FRAMES]);
    }
  });

  it("each rendition playlist decodes through ffmpeg's HLS demuxer to every frame of its input", async () => {
    const eng = await countOf(join(dir, "eng.m4a"), "mov", "a");
    for (const r of result.representations) {
      const playlist = join(dir, "out", r.playlist);
      if (r.kind === "video") {
        const [frames, audio] = await Promise.all([countOf(playlist, "hls", "v"), countOf(playlist, "hls", "a")]);
        expect([r.id, frames, audio]).toEqual([r.id, FRAMES, eng]);
      } else {
        const [packets, source] = await Promise.all([
          countOf(playlist, "hls", "a"),
          countOf(join(dir, "fra.m4a"), "mov", "a"),
        ]);
        expect(packets).toBe(source);
      }
    }
  });

  it("the French rendition keeps the timeline of the audio muxed into the variants", async () => {
    // each source's start (B-frame delay, AAC priming) is kept, so both audios sit where their sources put them
    const [variant, french, video, eng, fra] = await Promise.all([
      firstTimes(join(dir, "out", byId("180p").segments[0]!), "mpegts"),
      firstTimes(join(dir, "out", byId("audio-2").segments[0]!), "mpegts"),
      firstTimes(variants.find((v) => v.id === "180p")!.file, "mov"),
      firstTimes(join(dir, "eng.m4a"), "mov"),
      firstTimes(join(dir, "fra.m4a"), "mov"),
    ]);
    expect(variant.audio! - variant.video!).toBeCloseTo(eng.audio! - video.video!, 3);
    expect(french.audio! - variant.video!).toBeCloseTo(fra.audio! - video.video!, 3);
  });

  it("the captions carry the segments' clock in X-TIMESTAMP-MAP: cue time 0 is the first frame", async () => {
    const vtt = await readFile(join(dir, "out", "hls/captions-en/captions.vtt"), "utf8");
    const map = /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:(\d+),LOCAL:00:00:00\.000\n\n00:00:01\.000 --> /.exec(vtt);
    expect(map).not.toBeNull();
    const [segment, source] = await Promise.all([
      firstTimes(join(dir, "out", byId("180p").segments[0]!), "mpegts"),
      firstTimes(variants.find((v) => v.id === "180p")!.file, "mov"),
    ]);
    expect(Number(map![1]) / 90_000).toBeCloseTo(segment.video! - source.video!, 4);
    const media = m3u8(await readFile(join(dir, "out", "hls/captions-en/index.m3u8"), "utf8"));
    expect([media.version, media.segments.map((s) => s.uri)]).toEqual([3, ["captions.vtt"]]);
  });

  it("with one audio track the variants carry it and the master has no audio group", () => {
    const text = tsMasterPlaylist({ ...result.presentation, audio: result.presentation.audio.slice(0, 1) });
    const master = m3u8(text);
    expect(text).not.toMatch(/TYPE=AUDIO|AUDIO="/);
    const v = result.presentation.video[0]!;
    expect(master.playlists?.[0]?.attributes).toMatchObject({
      BANDWIDTH: v.bandwidth,
      CODECS: `${v.videoCodecs},mp4a.40.2`,
    });
  });

  it("packages HEVC too, tagged hvc1 in CODECS as in CMAF, decodable to every frame", async () => {
    const out = join(dir, "hevc");
    const hevcResult = await packageTsHls(ff, out, [hevc], [], { timeoutMs: 60_000 });
    const master = m3u8(await readFile(join(out, hevcResult.master), "utf8"));
    expect(master.playlists?.map((p) => p.attributes.CODECS)).toEqual([
      expect.stringMatching(/^hvc1\.1\.6\.L\d+\.[0-9A-F]{2}$/),
    ]);
    const segment = await probe(join(out, hevcResult.representations[0]!.segments[1]!), "mpegts", "count");
    expect(segment.streams.map((s) => [s.codec_name, Number(s.nb_read_frames)])).toEqual([["hevc", 2 * FPS]]);
    expect(await countOf(join(out, hevcResult.representations[0]!.playlist), "hls", "v")).toBe(FRAMES);
  });

  it("refuses a VP9 variant before any work, saying why", async () => {
    const vp9: CmafVariant = { ...variants[0]!, id: "180p-vp9", codec: "vp9", file: join(dir, "180p.webm") };
    await expect(packageTsHls(ff, join(dir, "vp9"), [variants[0]!, vp9])).rejects.toThrow(
      "MPEG-TS HLS carries H.264 and HEVC only: variant 180p-vp9 is vp9 (package it as CMAF)",
    );
    await expect(stat(join(dir, "vp9"))).rejects.toThrow(/ENOENT/);
  });
});
