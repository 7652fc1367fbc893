import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseM3u8 as m3u8 } from "../../../../test/helpers/m3u8.ts";
import { parse as parseMpd, stringToMpdXml } from "mpd-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputArgs } from "../ffmpeg/args.ts";
import { defaultFfmpeg } from "../ffmpeg/locate.ts";
import {
  aacCodecString,
  av1CodecString,
  avcCodecString,
  cmafDashManifest,
  cmafMasterPlaylist,
  cmafMediaPlaylist,
  cmafSegmentArgs,
  containerOf,
  hevcCodecString,
  labelAudio,
  orderVariants,
  packageCmaf,
  playlistSegments,
  segmentBandwidth,
  segmentTimeline,
  vp9CodecString,
  type CmafAudioTrack,
  type CmafPresentation,
  type CmafResult,
  type CmafVariant,
  type CmafVideoTrack,
} from "./cmaf.ts";

const SECONDS = 7;
const FPS = 30;
const FRAMES = SECONDS * FPS;
const FRAME = 1 / FPS;

describe("codec strings", () => {
  it("H.264 from profile_idc, constraint flags, level_idc", () => {
    expect(avcCodecString(100, 0, 40)).toBe("avc1.640028"); // High@4.0
    expect(avcCodecString(77, 0x40, 31)).toBe("avc1.4d401f"); // Main@3.1, constraint_set1
    expect(avcCodecString(66, 0xc0, 30)).toBe("avc1.42c01e"); // Constrained Baseline@3.0
  });

  it("HEVC with reversed compatibility flags and trailing zero constraint bytes dropped", () => {
    const main = { profileSpace: 0, tier: 0, profileIdc: 1, compatibilityFlags: 0x60000000, levelIdc: 93 };
    expect(hevcCodecString({ ...main, constraintBytes: [0xb0, 0, 0, 0, 0, 0] })).toBe("hvc1.1.6.L93.B0");
    const main10 = { profileSpace: 0, tier: 1, profileIdc: 2, compatibilityFlags: 0x20000000, levelIdc: 150 };
    expect(hevcCodecString({ ...main10, constraintBytes: [0x90, 0, 0x01, 0, 0, 0] })).toBe("hvc1.2.4.H150.90.00.01");
    expect(hevcCodecString({ ...main, profileSpace: 1, constraintBytes: [0, 0, 0, 0, 0, 0] }, "hev1")).toBe(
      "hev1.A1.6.L93.00",
    );
  });

  it("VP9, AV1 and AAC", () => {
    expect(vp9CodecString(0, 31, 8)).toBe("vp09.00.31.08");
    expect(vp9CodecString(2, 40, 10)).toBe("vp09.02.40.10");
    expect(av1CodecString(0, 8, 0, 8)).toBe("av01.0.08M.08");
    expect(av1CodecString(0, 13, 1, 10)).toBe("av01.0.13H.10");
    expect(aacCodecString(0x40, 2)).toBe("mp4a.40.2");
    expect(aacCodecString(0x40, 5)).toBe("mp4a.40.5");
  });
});

/** A 6 s segment and a 1 s tail at 15360 Hz, starting 2 frames in (B-frame delay, undone by the edit list). */
const segs = (rel: string, bytes: readonly number[] = [0, 0]) =>
  segmentTimeline([
    // B-frames: the first segment's last frame in decode order is not its last shown
    { earliest: 1024, end: 93184, samples: 180 },
    { earliest: 93184, end: 108544, samples: 30 },
  ]).map((t, i) => ({ ...t, path: `hls/${rel}/seg_0000${i + 1}.m4s`, bytes: bytes[i]! }));

function videoTrack(id: string, family: CmafVideoTrack["family"], codecs: string, height: number): CmafVideoTrack {
  const segments = segs(id, [600_000, 150_000]);
  return {
    kind: "video",
    id,
    family,
    codecs,
    width: (height * 16) / 9,
    height,
    frameRate: { num: 30, den: 1 },
    timescale: 15360,
    presentationTimeOffset: 1024,
    init: `hls/${id}/init.mp4`,
    playlist: `hls/${id}/index.m3u8`,
    segments,
    ...segmentBandwidth(segments, 15360),
  };
}

const described: CmafPresentation = {
  video: [
    videoTrack("720p", "h264", "avc1.64001f", 720),
    videoTrack("360p", "h264", "avc1.64001e", 360),
    videoTrack("720p-av1", "av1", "av01.0.05M.08", 720),
  ],
  audio: [
    {
      kind: "audio",
      id: "audio",
      name: "Audio",
      default: true,
      codecs: "mp4a.40.2",
      channels: 2,
      sampleRate: 48000,
      timescale: 48000,
      presentationTimeOffset: 1024,
      init: "hls/audio/init.mp4",
      playlist: "hls/audio/index.m3u8",
      segments: [
        { path: "hls/audio/seg_00001.m4s", start: 0, duration: 289792, bytes: 96_000 },
        { path: "hls/audio/seg_00002.m4s", start: 289792, duration: 47104, bytes: 16_000 },
      ],
      bandwidth: 128_000,
      averageBandwidth: 127_000,
    },
  ],
};

/** Two languages: English (the single track above, with a language) and French, HE-AAC at a higher peak rate. */
const english: CmafAudioTrack = { ...described.audio[0]!, language: "en", name: "English" };
const french: CmafAudioTrack = {
  ...english,
  id: "audio-2",
  language: "fr",
  name: "Français",
  default: false,
  codecs: "mp4a.40.5",
  channels: 1,
  init: "hls/audio-2/init.mp4",
  playlist: "hls/audio-2/index.m3u8",
  segments: english.segments.map((s) => ({ ...s, path: s.path.replace("hls/audio/", "hls/audio-2/") })),
  bandwidth: 160_000,
  averageBandwidth: 150_000,
};

describe("audio tracks", () => {
  it("labels each track: its folder, a name in its own language, exactly one default", () => {
    expect(labelAudio([{}])).toEqual([{ id: "audio", name: "Audio", default: true }]);
    const labels = labelAudio([
      { language: "eng" },
      { language: "fr", default: true },
      { language: "und" },
      { language: "English", name: ' Director\'s "cut"\n' },
    ]);
    expect(labels).toEqual([
      { id: "audio", language: "en", name: "English", default: false },
      { id: "audio-2", language: "fr", name: "Français", default: true },
      { id: "audio-3", name: "Audio 3", default: false },
      { id: "audio-4", name: "Director's 'cut'", default: false },
    ]);
    // names stay unique within the group, even by case
    const names = labelAudio([{ language: "en" }, { language: "eng-GB", name: "English" }, { name: "english" }]);
    expect(names.map((l) => l.name)).toEqual(["English", "English (2)", "english (3)"]);
    expect(() => labelAudio([{ default: true }, {}, { default: true }])).toThrow(/2 audio tracks are marked default/);
  });

  it("puts every track in the master's audio group: the peak track in BANDWIDTH, every codec in CODECS", () => {
    const text = cmafMasterPlaylist({ ...described, audio: [english, french] });
    const master = m3u8(text);
    expect(master.mediaGroups?.AUDIO.audio).toEqual({
      English: { language: "en", default: true, autoselect: true, uri: "audio/index.m3u8" },
      Français: { language: "fr", default: false, autoselect: true, uri: "audio-2/index.m3u8" },
    });
    expect(text).toContain('LANGUAGE="fr",NAME="Français",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="1"');
    expect(master.playlists?.[0]?.attributes).toMatchObject({
      BANDWIDTH: 857_143 + 160_000,
      "AVERAGE-BANDWIDTH": String(857_143 + 150_000),
      CODECS: "avc1.64001f,mp4a.40.2,mp4a.40.5",
      AUDIO: "audio",
    });
  });

  it("gives each track its own DASH adaptation set with its language, Label and Role", () => {
    const text = cmafDashManifest({ ...described, audio: [english, french] });
    const sets = Array.from(stringToMpdXml(text).getElementsByTagName("AdaptationSet")).slice(2);
    const rows = sets.map((s) => [
      s.getAttribute("lang"),
      s.getElementsByTagName("Label")[0]?.textContent,
      s.getElementsByTagName("Role")[0]?.getAttribute("value"),
      s.getElementsByTagName("Representation")[0]?.getAttribute("id"),
    ]);
    expect(rows).toEqual([
      ["en", "English", "main", "audio"],
      ["fr", "Français", "alternate", "audio-2"],
    ]);
    const groups = parseMpd(text).mediaGroups.AUDIO.audio ?? {};
    expect(Object.entries(groups).map(([k, g]) => [k, g.language, g.default])).toEqual([
      ["English", "en", true],
      ["Français", "fr", false],
    ]);
    // a lone track without a language: no lang, Role main, as the single-track MPD always meant
    expect(cmafDashManifest(described)).toContain(
      '<AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" startWithSAP="1">\n' +
        "      <Label>Audio</Label>\n" +
        '      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>',
    );
  });
});

describe("manifest builders", () => {
  it("times segments by composition time, contiguous, with the tail left out of the peak", () => {
    expect(segs("x").map((s) => [s.start, s.duration])).toEqual([
      [1024, 92160],
      [93184, 15360],
    ]);
    // 600 kB in 6 s is 800 kbit/s; the 1 s tail's 1.2 Mbit/s is not the peak, but counts in the average
    expect(segmentBandwidth(segs("x", [600_000, 150_000]), 15360)).toEqual({
      bandwidth: 857_143,
      averageBandwidth: 857_143,
    });
    expect(segmentBandwidth(segs("x", [600_000, 50_000]), 15360)).toEqual({
      bandwidth: 800_000,
      averageBandwidth: 742_858,
    });
    expect(() =>
      segmentTimeline([
        { earliest: 5, end: 10, samples: 1 },
        { earliest: 5, end: 9, samples: 1 },
      ]),
    ).toThrow(/segment 1 has no duration/);
  });

  it("orders variants by family as first given, largest first", () => {
    const v = (id: string, codec: CmafVariant["codec"], height: number, bitrate = 1): CmafVariant => ({
      id,
      codec,
      height,
      width: height * 2,
      bitrate,
      file: "x.mp4",
    });
    const order = orderVariants([v("a", "vp9", 360), v("b", "h264", 360), v("c", "vp9", 720), v("d", "h264", 720)]);
    expect(order.map((o) => o.id)).toEqual(["c", "a", "d", "b"]);
  });

  it("writes a media playlist with relative URIs and EXTINF from the timeline", () => {
    const text = cmafMediaPlaylist(described.video[0]!);
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:6",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="init.mp4"',
        "#EXTINF:6.000000,",
        "seg_00001.m4s",
        "#EXTINF:1.000000,",
        "seg_00002.m4s",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
  });

  it("writes a master with the audio group, audio added to every variant", () => {
    const master = m3u8(cmafMasterPlaylist(described));
    expect(master.playlists?.map((p) => p.uri)).toEqual(["720p/index.m3u8", "360p/index.m3u8", "720p-av1/index.m3u8"]);
    expect(master.playlists?.[0]?.attributes).toMatchObject({
      BANDWIDTH: 857_143 + 128_000,
      "AVERAGE-BANDWIDTH": String(857_143 + 127_000), // m3u8-parser leaves it a string
      CODECS: "avc1.64001f,mp4a.40.2",
      RESOLUTION: { width: 1280, height: 720 },
      "FRAME-RATE": 30,
      AUDIO: "audio",
    });
    expect(master.mediaGroups?.AUDIO.audio?.Audio).toMatchObject({ uri: "audio/index.m3u8", default: true });
    // one track without a language: the line written before there could be several
    expect(cmafMasterPlaylist(described)).toContain(
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",' +
        'URI="audio/index.m3u8"\n',
    );
    // without audio: video codecs only, no group
    const silent = cmafMasterPlaylist({ video: described.video, audio: [] });
    expect(silent).not.toMatch(/EXT-X-MEDIA|mp4a|AUDIO=/);
  });

  it("writes an MPD with one adaptation set per family, timed like the playlists", () => {
    const text = cmafDashManifest(described);
    const sets = Array.from(stringToMpdXml(text).getElementsByTagName("AdaptationSet"));
    expect(
      sets.map((s) => Array.from(s.getElementsByTagName("Representation")).map((r) => r.getAttribute("id"))),
    ).toEqual([["720p", "360p"], ["720p-av1"], ["audio"]]);
    expect(text).toContain('<SegmentList timescale="15360" presentationTimeOffset="1024">');
    expect(text).toContain('<S t="1024" d="92160"/>');
    expect(text).toContain('<S t="0" d="289792"/>');
    const mpd = parseMpd(text, { manifestUri: "https://cdn.example/v/dash/manifest.mpd" });
    expect(mpd.duration).toBeCloseTo(SECONDS, 6);
    const first = mpd.playlists.find((p) => p.attributes.NAME === "720p")!;
    expect(first.segments.map((s) => [s.resolvedUri, s.duration, s.presentationTime])).toEqual([
      ["https://cdn.example/v/hls/720p/seg_00001.m4s", 6, 0],
      ["https://cdn.example/v/hls/720p/seg_00002.m4s", 1, 6],
    ]);
    expect(first.segments[0]?.map?.resolvedUri).toBe("https://cdn.example/v/hls/720p/init.mp4");
  });
});

describe("ffmpeg arguments", () => {
  it("reads the input hardened, copies one stream, cuts fMP4 segments numbered from 1", () => {
    const args = cmafSegmentArgs("/in/720p.webm", "/out/hls/720p-vp9", "video", "vp9");
    expect(args.slice(0, 6)).toEqual(["-protocol_whitelist", "file", "-f", "matroska", "-i", "/in/720p.webm"]);
    expect(args.join(" ")).toContain("-map 0:v:0 -c copy -avoid_negative_ts disabled -f hls");
    expect(args.join(" ")).toContain("-hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 -start_number 1");
    expect(args.slice(-3)).toEqual([
      "-hls_segment_filename",
      "/out/hls/720p-vp9/seg_%05d.m4s",
      "/out/hls/720p-vp9/index.m3u8",
    ]);
    expect(cmafSegmentArgs("/in/720p.mp4", "/o", "video", "hevc").join(" ")).toContain("-c copy -tag:v hvc1");
    expect(cmafSegmentArgs("/in/a.m4a", "/o", "audio").join(" ")).toContain("-f mov -i /in/a.m4a -map 0:a:0");
    expect(() => containerOf("/in/a.ts")).toThrow(/expected .mp4, .m4a or .webm/);
  });

  it("takes only seg_NNNNN.m4s names from ffmpeg's playlist", () => {
    expect(playlistSegments("#EXTM3U\n#EXTINF:6,\nseg_00001.m4s\n#EXTINF:1,\nseg_00002.m4s\n")).toEqual([
      "seg_00001.m4s",
      "seg_00002.m4s",
    ]);
    expect(() => playlistSegments("#EXTM3U\n../secret.m4s\n")).toThrow(/unexpected segment URI/);
  });
});

// ---------------------------------------------------------------------------------------------
// Real ffmpeg: four codecs, two sizes, AAC audio; packaged, parsed, decoded

const ff = defaultFfmpeg();
let dir: string;
let result: CmafResult;
let variants: CmafVariant[];

const SIZES = [
  { name: "180p", width: 320, height: 180 },
  { name: "90p", width: 160, height: 90 },
] as const;
const GOP = ["-g", "60", "-keyint_min", "60", "-pix_fmt", "yuv420p"];
const ENCODERS: Record<CmafVariant["codec"], { ext: string; args: string[] }> = {
  h264: { ext: "mp4", args: ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-sc_threshold", "0"] },
  hevc: {
    ext: "mp4",
    args: [
      ...["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"],
      ...["-x265-params", "keyint=60:min-keyint=60:scenecut=0:open-gop=0:log-level=error"],
    ],
  },
  vp9: {
    ext: "webm",
    args: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"],
  },
  av1: { ext: "mp4", args: ["-c:v", "libsvtav1", "-preset", "10"] },
};

/** One codec's two sizes from one ffmpeg run, each its own testsrc2 input. */
async function encode(codec: CmafVariant["codec"]): Promise<CmafVariant[]> {
  const { ext, args } = ENCODERS[codec];
  const inputs = SIZES.flatMap((s) => [
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${s.width}x${s.height}:rate=${FPS}:duration=${SECONDS}`,
  ]);
  const id = (name: string) => (codec === "h264" ? name : `${name}-${codec}`);
  const outputs = SIZES.flatMap((s, i) => ["-map", `${i}:v`, ...args, ...GOP, join(dir, `${id(s.name)}.${ext}`)]);
  await ff.run([...inputs, ...outputs], { timeoutMs: 60_000 });
  return Promise.all(
    SIZES.map(async (s) => {
      const file = join(dir, `${id(s.name)}.${ext}`);
      const bitrate = Math.round(((await stat(file)).size * 8) / SECONDS);
      return { id: id(s.name), file, width: s.width, height: s.height, codec, bitrate };
    }),
  );
}

/** The first stream of `kind` read through: its packets' times and (when decoded) the frames decoded. */
async function readThrough(input: string, format: string, kind: "v" | "a", decode = true) {
  const json = (await ff.probeJson(
    [
      ...(decode ? ["-count_frames"] : []),
      ...["-select_streams", `${kind}:0`, "-show_entries", "stream=nb_read_frames:packet=pts_time"],
      ...inputArgs(input, format),
    ],
    { timeoutMs: 60_000 },
  )) as { streams: { nb_read_frames?: string }[]; packets: { pts_time?: string }[] };
  return {
    frames: Number(json.streams[0]?.nb_read_frames),
    packets: json.packets.length,
    firstPts: Number(json.packets[0]?.pts_time),
  };
}

async function probeStream(file: string): Promise<{ profile?: string; level?: number }> {
  const json = (await ff.probeJson(["-select_streams", "v:0", "-show_entries", "stream=profile,level", file])) as {
    streams: { profile?: string; level?: number }[];
  };
  return json.streams[0] ?? {};
}

async function listFiles(root: string, base = dir): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(base, join(e.parentPath, e.name)));
}

/** A tone as AAC in .m4a, its stream tagged with a language as a source's would be. */
function tone(file: string, hz: number, rate: number, channels: number, language?: string) {
  return ff.run(
    [
      ...["-f", "lavfi", "-i", `sine=frequency=${hz}:sample_rate=${rate}:duration=${SECONDS}`],
      ...["-c:a", "aac", "-b:a", "64k", "-ac", String(channels)],
      ...(language ? ["-metadata:s:a:0", `language=${language}`] : []),
      join(dir, file),
    ],
    { timeoutMs: 30_000 },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-cmaf-"));
  const [encoded] = await Promise.all([
    Promise.all((["h264", "hevc", "vp9", "av1"] as const).map(encode)),
    tone("audio.m4a", 440, 44100, 2),
    tone("eng.m4a", 440, 44100, 2, "eng"),
    tone("fra.m4a", 660, 48000, 1, "fra"),
  ]);
  // smallest first within a family: the packager puts the largest first
  variants = encoded.flatMap((pair) => [...pair].reverse());
  result = await packageCmaf(ff, dir, variants, [{ file: join(dir, "audio.m4a") }], { timeoutMs: 60_000 });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("packageCmaf", () => {
  it("writes exactly the files it lists, in the layout promised", async () => {
    const written = [...(await listFiles(join(dir, "hls"))), ...(await listFiles(join(dir, "dash")))];
    expect(new Set(result.files)).toEqual(new Set(written));
    expect(result.files.length).toBe(written.length);
    expect(result.master).toBe("hls/master.m3u8");
    expect(result.mpd).toBe("dash/manifest.mpd");
    for (const r of result.representations) {
      expect(r.playlist).toBe(`hls/${r.id}/index.m3u8`);
      expect(r.init).toBe(`hls/${r.id}/init.mp4`);
      expect(r.segments).toEqual(r.segments.map((_, i) => `hls/${r.id}/seg_${String(i + 1).padStart(5, "0")}.m4s`));
    }
    // 7 s at 6 s segments cut at 2 s keyframes: 6 + 1
    const video = result.representations.filter((r) => r.kind === "video");
    expect(video.map((r) => r.segments.length)).toEqual(video.map(() => 2));
  });

  it("the master lists every variant by family, largest first, with real codec strings", async () => {
    const master = m3u8(await readFile(join(dir, result.master), "utf8"));
    const ids = ["180p", "90p", "180p-hevc", "90p-hevc", "180p-vp9", "90p-vp9", "180p-av1", "90p-av1"];
    expect(master.playlists?.map((p) => p.uri)).toEqual(ids.map((id) => `${id}/index.m3u8`));
    expect(master.mediaGroups?.AUDIO.audio?.Audio?.uri).toBe("audio/index.m3u8");
    for (const p of master.playlists ?? []) {
      const v = variants.find((x) => `${x.id}/index.m3u8` === p.uri)!;
      const { CODECS, RESOLUTION, BANDWIDTH, "AVERAGE-BANDWIDTH": average } = p.attributes;
      expect(RESOLUTION).toEqual({ width: v.width, height: v.height });
      expect(CODECS).toMatch(/,mp4a\.40\.2$/);
      expect(Number(average)).toBeGreaterThan(0);
      expect(BANDWIDTH).toBeGreaterThanOrEqual(Number(average));
      const probe = await probeStream(v.file);
      const level = probe.level ?? -1;
      const expected = {
        h264: `avc1.64[0-9a-f]{2}${level.toString(16).padStart(2, "0")}`, // High
        hevc: `hvc1.1.6.L${level}.[0-9A-F]{2}`, // Main
        vp9: "vp09.00.[0-9]{2}.08",
        av1: `av01.0.${String(level).padStart(2, "0")}M.08`, // Main, ffprobe's level is seq_level_idx
      }[v.codec];
      expect(CODECS).toMatch(new RegExp(`^${expected},`));
    }
  });

  it("each media playlist maps init.mp4, lists the segments by name and sums to the duration", async () => {
    for (const r of result.representations) {
      const text = await readFile(join(dir, r.playlist), "utf8");
      expect(text).not.toContain("..");
      const media = m3u8(text);
      expect(media.endList).toBe(true);
      expect(media.segments.map((s) => s.map?.uri)).toEqual(r.segments.map(() => "init.mp4"));
      expect(media.segments.map((s) => `hls/${r.id}/${s.uri}`)).toEqual(r.segments);
      const total = media.segments.reduce((n, s) => n + s.duration, 0);
      expect(Math.abs(total - SECONDS)).toBeLessThan(r.kind === "video" ? FRAME : 0.05);
      for (const s of media.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(media.targetDuration!);
    }
  });

  it("the MPD names the same files with the same durations, one adaptation set per family", async () => {
    const mpdPath = join(dir, result.mpd);
    const text = await readFile(mpdPath, "utf8");
    const sets = Array.from(stringToMpdXml(text).getElementsByTagName("AdaptationSet"));
    const codecsBySet = sets.map((s) =>
      Array.from(s.getElementsByTagName("Representation")).map((r) => r.getAttribute("codecs")!.slice(0, 4)),
    );
    expect(codecsBySet).toEqual([["avc1", "avc1"], ["hvc1", "hvc1"], ["vp09", "vp09"], ["av01", "av01"], ["mp4a"]]);
    const mpd = parseMpd(text, { manifestUri: pathToFileURL(mpdPath).href });
    expect(mpd.duration).toBeCloseTo(SECONDS, 1);
    const audio = Object.values(mpd.mediaGroups.AUDIO).flatMap((g) => Object.values(g).flatMap((x) => x.playlists));
    const playlists = [...mpd.playlists, ...audio];
    expect(playlists.map((p) => p.attributes.NAME).sort()).toEqual(result.representations.map((r) => r.id).sort());
    for (const r of result.representations) {
      const p = playlists.find((x) => x.attributes.NAME === r.id)!;
      expect(p.attributes.CODECS).toBe(r.codecs);
      const files = p.segments.map((s) => relative(dir, fileURLToPath(s.resolvedUri)));
      expect(files).toEqual(r.segments);
      expect(p.segments.map((s) => relative(dir, fileURLToPath(s.map!.resolvedUri)))).toEqual(
        r.segments.map(() => r.init),
      );
      for (const f of files) expect((await stat(join(dir, f))).size).toBeGreaterThan(0);
      // the same durations as the HLS playlist, and the first segment at the period's start
      const hls = m3u8(await readFile(join(dir, r.playlist), "utf8"));
      expect(p.segments.map((s) => s.duration.toFixed(6))).toEqual(hls.segments.map((s) => s.duration.toFixed(6)));
      // the period starts at the first frame; AAC's priming (1024 samples) falls before it
      const start = p.segments[0]!.presentationTime;
      if (r.kind === "video") expect(start).toBe(0);
      else expect(start).toBeCloseTo(-1024 / 44100, 6);
    }
  });

  it("every playlist decodes to the source's frames, through HLS and as init + segments (as DASH)", async () => {
    for (const r of result.representations) {
      const kind = r.kind === "video" ? "v" : "a";
      const source = r.kind === "video" ? variants.find((v) => v.id === r.id)!.file : join(dir, "audio.m4a");
      const concat = `concat:${[r.init, ...r.segments].map((f) => join(dir, f)).join("|")}`;
      const [src, viaHls, viaBytes] = await Promise.all([
        readThrough(source, containerOf(source), kind, false),
        readThrough(join(dir, r.playlist), "hls", kind),
        readThrough(concat, "mov", kind),
      ]);
      // audio: every AAC frame, the priming one too (ffmpeg skips it only in an MP4 that is not fragmented)
      const expected = r.kind === "video" ? FRAMES : src.packets;
      expect([r.id, viaHls.frames, viaBytes.frames]).toEqual([r.id, expected, expected]);
      // the edit list survived: the first packet plays when the source's did (B-frame delay, AAC priming)
      expect([r.id, viaBytes.firstPts.toFixed(4)]).toEqual([r.id, src.firstPts.toFixed(4)]);
    }
  });

  it("ffmpeg's own DASH demuxer plays the MPD: every representation to its last frame", async () => {
    const json = (await ff.probeJson(
      [
        "-count_frames",
        "-show_entries",
        "stream=codec_name,nb_read_frames",
        ...inputArgs(join(dir, result.mpd), "dash"),
      ],
      { timeoutMs: 60_000 },
    )) as { streams: { codec_name: string; nb_read_frames: string }[] };
    const audio = await readThrough(join(dir, "audio.m4a"), "mov", "a", false);
    expect(json.streams.map((s) => [s.codec_name, Number(s.nb_read_frames)])).toEqual([
      ...variants.map((v) => [v.codec, FRAMES]),
      ["aac", audio.packets],
    ]);
  });

  it("refuses a variant whose declared codec is not what the file holds", async () => {
    const h264 = variants.find((v) => v.codec === "h264")!;
    await expect(packageCmaf(ff, join(dir, "wrong"), [{ ...h264, id: "x", codec: "vp9" }])).rejects.toThrow(
      /declared vp9 but holds h264/,
    );
  });

  it("refuses a variant id the audio folders could take", async () => {
    const h264 = variants.find((v) => v.codec === "h264")!;
    await expect(packageCmaf(ff, join(dir, "wrong"), [{ ...h264, id: "audio-2" }])).rejects.toThrow(
      /variant id "audio-2" is not a usable folder name/,
    );
  });
});

describe("packageCmaf with two audio languages", () => {
  let multiDir: string;
  let multi: CmafResult;

  /** The language tag of a file's first audio stream, as the job's probe reads it from a source. */
  async function languageOf(file: string): Promise<string | undefined> {
    const json = (await ff.probeJson(["-select_streams", "a:0", "-show_entries", "stream_tags=language", file])) as {
      streams: { tags?: { language?: string } }[];
    };
    return json.streams[0]?.tags?.language;
  }

  beforeAll(async () => {
    multiDir = join(dir, "multi");
    const files = [join(dir, "eng.m4a"), join(dir, "fra.m4a")];
    const audio = await Promise.all(files.map(async (file) => ({ file, language: await languageOf(file) })));
    const h264 = variants.filter((v) => v.codec === "h264");
    multi = await packageCmaf(ff, multiDir, h264, audio, { timeoutMs: 60_000 });
  });

  it("writes the second track to hls/audio-2/ and lists every file it wrote", async () => {
    const written = [
      ...(await listFiles(join(multiDir, "hls"), multiDir)),
      ...(await listFiles(join(multiDir, "dash"), multiDir)),
    ];
    expect(new Set(multi.files)).toEqual(new Set(written));
    for (const f of multi.files) expect((await stat(join(multiDir, f))).size).toBeGreaterThan(0);
    const audio = multi.representations.filter((r) => r.kind === "audio");
    expect(audio.map((r) => [r.id, r.playlist, r.segments.length])).toEqual([
      ["audio", "hls/audio/index.m3u8", 2],
      ["audio-2", "hls/audio-2/index.m3u8", 2],
    ]);
  });

  it("the master's audio group holds both languages, English the default, and every variant names it", async () => {
    const master = m3u8(await readFile(join(multiDir, multi.master), "utf8"));
    expect(master.mediaGroups?.AUDIO.audio).toEqual({
      English: { language: "en", default: true, autoselect: true, uri: "audio/index.m3u8" },
      Français: { language: "fr", default: false, autoselect: true, uri: "audio-2/index.m3u8" },
    });
    expect(master.playlists?.map((p) => [p.uri, p.attributes.AUDIO, p.attributes.CODECS?.split(",")[1]])).toEqual([
      ["180p/index.m3u8", "audio", "mp4a.40.2"],
      ["90p/index.m3u8", "audio", "mp4a.40.2"],
    ]);
    // each rendition is its own file: the French one plays the 48 kHz mono tone
    const fr = await readThrough(join(multiDir, "hls/audio-2/index.m3u8"), "hls", "a");
    const src = await readThrough(join(dir, "fra.m4a"), "mov", "a", false);
    expect(fr.frames).toBe(src.packets);
  });

  it("the MPD has one audio set per language, English main and French alternate", async () => {
    const mpdPath = join(multiDir, multi.mpd);
    const text = await readFile(mpdPath, "utf8");
    const mpd = parseMpd(text, { manifestUri: pathToFileURL(mpdPath).href });
    const groups = Object.entries(mpd.mediaGroups.AUDIO.audio ?? {});
    expect(groups.map(([label, g]) => [label, g.language, g.default, g.playlists.length])).toEqual([
      ["English", "en", true, 1],
      ["Français", "fr", false, 1],
    ]);
    const french = groups[1]![1].playlists[0]!;
    expect(french.attributes.CODECS).toBe("mp4a.40.2");
    expect(french.segments.map((s) => relative(multiDir, fileURLToPath(s.resolvedUri)))).toEqual(
      multi.representations.find((r) => r.id === "audio-2")!.segments,
    );
    expect(text).toContain('audioSamplingRate="48000"');
  });
});
