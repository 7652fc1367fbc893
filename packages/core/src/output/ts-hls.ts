import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { z } from "zod";
import { inputArgs } from "../ffmpeg/args.ts";
import type { FfmpegCapabilities } from "../ffmpeg/locate.ts";
import type { Ffmpeg, RunOptions } from "../ffmpeg/run.ts";
import {
  audioGroupNeeds,
  audioMediaTag,
  CMAF_MASTER,
  CMAF_SEGMENT_SECONDS,
  checkAac,
  checkVariants,
  containerOf,
  frameRateValue,
  inLanes,
  labelAudio,
  orderVariants,
  packageSubtitles,
  parseInit,
  playlistSegments,
  probeVideo,
  readHeaderBoxes,
  segmentBandwidth,
  subtitlesMediaTags,
  type AudioLabel,
  type CmafAudio,
  type CmafSubtitles,
  type CmafVariant,
  type PackageOptions,
  type VideoCodec,
} from "./cmaf.ts";

/**
 * HLS in MPEG-TS segments, for players and devices that predate fragmented MP4: each variant is
 * cut by stream copy with the default audio track muxed in, as such players expect, and any other
 * audio track is an audio-only rendition beside it. No DASH: MPEG-TS is HLS's format only.
 *
 *   hls/master.m3u8
 *   hls/<id>/index.m3u8, seg_00001.ts …        one folder per variant: video + the default audio
 *   hls/audio-2/index.m3u8, seg_00001.ts …     each other audio track (folder as in CMAF packaging)
 *   hls/captions-<language>/…                  WebVTT captions, as in CMAF packaging
 *
 * Every playlist is version 3 (nothing newer is needed) and every URI a plain relative path,
 * which the API rewrites to presigned URLs as it does for CMAF.
 */

export const TS_HLS_MASTER = CMAF_MASTER;
const PLAYLIST_NAME = "index.m3u8";
const TS_SEGMENT_NAME = /^seg_\d{5,}\.ts$/;
/** Segment durations are kept in microseconds: EXTINF carries six decimals. */
const MICROS = 1_000_000;

/** The codecs MPEG-TS carries here (stream types 0x1B and 0x24). */
const TS_VIDEO: Partial<Record<VideoCodec, { fourccs: readonly string[]; fourcc: string }>> = {
  // the CODECS players match on, the same string CMAF packaging gives the same rendition
  h264: { fourccs: ["avc1", "avc3"], fourcc: "avc1" },
  hevc: { fourccs: ["hvc1", "hev1"], fourcc: "hvc1" },
};

/**
 * ffmpeg arguments that cut a variant (`video`, with `audio` muxed in when given) or an audio-only
 * rendition (`audio` alone) by stream copy into `seg_00001.ts` … at the first keyframe at or after
 * every CMAF_SEGMENT_SECONDS, with a VOD media playlist listing them (read back, then replaced by
 * ours). The mpegts muxer converts H.264 and HEVC to Annex B itself (h264_mp4toannexb,
 * hevc_mp4toannexb: parameter sets before every keyframe, so each segment decodes alone) and
 * writes AAC as ADTS.
 * Neither the HLS muxer nor the mpegts one inside it may shift a negative start (B-frame delay, AAC
 * priming) to zero: each would shift by its own streams' start, and an audio-only rendition would
 * be out of step with the audio muxed into the variants. Unshifted, every output's timestamps are
 * its inputs' plus the mpegts muxer's fixed delay.
 */
export function tsSegmentArgs(
  inputs: { video?: string; audio?: string },
  outDir: string,
  caps: Pick<FfmpegCapabilities, "legacyMuxer">,
): string[] {
  const { video, audio } = inputs;
  if (!video && !audio) throw new Error("nothing to segment: no video and no audio");
  const maps = video ? ["-map", "0:v:0", ...(audio ? ["-map", "1:a:0"] : [])] : ["-map", "0:a:0"];
  return [
    ...[video, audio].flatMap((f) => (f ? inputArgs(f, containerOf(f)) : [])),
    ...maps,
    "-c",
    "copy",
    "-avoid_negative_ts",
    "disabled",
    // builds before 4.4 name the segment muxer's options hls_ts_options
    caps.legacyMuxer ? "-hls_ts_options" : "-hls_segment_options",
    "avoid_negative_ts=disabled",
    "-f",
    "hls",
    "-hls_time",
    String(CMAF_SEGMENT_SECONDS),
    "-hls_playlist_type",
    "vod",
    "-hls_segment_type",
    "mpegts",
    "-start_number",
    "1",
    "-hls_segment_filename",
    join(outDir, "seg_%05d.ts"),
    join(outDir, PLAYLIST_NAME),
  ];
}

/** The segments an ffmpeg-written media playlist lists, with their EXTINF durations (seconds); names checked. */
export function tsPlaylistEntries(text: string): { name: string; duration: number }[] {
  const names = playlistSegments(text, TS_SEGMENT_NAME);
  const durations = [...text.matchAll(/^#EXTINF:\s*([0-9.]+)/gm)].map((m) => Number(m[1]));
  if (durations.length !== names.length || durations.some((d) => !(d > 0)))
    throw new Error("the media playlist's EXTINF durations do not match its segments");
  return names.map((name, i) => ({ name, duration: durations[i]! }));
}

export interface TsSegment {
  /** e.g. `hls/720p/seg_00001.ts`. */
  path: string;
  /** Seconds, as the playlist's EXTINF says. */
  duration: number;
  bytes: number;
}

/** A VOD media playlist at version 3, which every HLS player reads; URIs relative to its folder. */
export function tsMediaPlaylist(segments: readonly TsSegment[]): string {
  // RFC 8216: every EXTINF rounded to the nearest integer must be at most the target duration
  const target = Math.max(1, ...segments.map((s) => Math.round(s.duration)));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:1",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
  ];
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, posix.basename(s.path));
  lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}

/** What every packaged TS stream carries: its playlist, segments and measured rates. */
export interface TsStream {
  id: string;
  /** e.g. `hls/720p/index.m3u8`. */
  playlist: string;
  segments: TsSegment[];
  /** Peak segment bit rate (bits/s) as HLS BANDWIDTH means it, and the average; see segmentBandwidth. */
  bandwidth: number;
  averageBandwidth: number;
}

export interface TsVideoTrack extends TsStream {
  kind: "video";
  /** The video's codec string, e.g. `avc1.64001f`. */
  videoCodecs: string;
  width: number;
  height: number;
  frameRate?: { num: number; den: number };
}

/** One audio track of the master's group: the default is muxed into the variants, the others stand alone. */
export interface TsAudioTrack extends AudioLabel {
  codecs: string;
  channels: number;
  /** The track's own stream; absent for the default track, whose audio is in every variant's segments. */
  stream?: TsStream;
}

/** Video variants in manifest order (see orderVariants), the audio tracks as given, and the captions. */
export interface TsPresentation {
  video: TsVideoTrack[];
  /** None for a silent video; otherwise exactly one is the default, the one muxed into the variants. */
  audio: TsAudioTrack[];
  subtitles: CmafSubtitles[];
}

/** A path relative to the output folder as the master names it. */
const fromMaster = (path: string) => posix.relative(posix.dirname(TS_HLS_MASTER), path);

/**
 * The HLS master over MPEG-TS variants. With one audio track there is no group: its audio is in
 * the variants. With more, the group "audio" lists them all; the default's entry has no URI (its
 * audio is the variant's own), the others name their audio-only playlists. A variant's BANDWIDTH
 * is its own segments' (video and muxed audio) plus the most demanding other track's, which a
 * player fetches beside it when chosen; CODECS names every codec of the variant and its group.
 */
export function tsMasterPlaylist(p: TsPresentation): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  const group = p.audio.length > 1;
  if (group) for (const a of p.audio) lines.push(audioMediaTag(a, a.stream && fromMaster(a.stream.playlist)));
  lines.push(...subtitlesMediaTags(p.subtitles));
  const alone = audioGroupNeeds(p.audio.flatMap((a) => (a.stream ? [{ ...a.stream, codecs: a.codecs }] : [])));
  const audioCodecs = [...new Set(p.audio.map((a) => a.codecs))];
  for (const v of p.video) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth + alone.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth + alone.averageBandwidth}`,
      `RESOLUTION=${v.width}x${v.height}`,
      ...(v.frameRate ? [`FRAME-RATE=${frameRateValue(v.frameRate)}`] : []),
      `CODECS="${[v.videoCodecs, ...audioCodecs].join(",")}"`,
      ...(group ? ['AUDIO="audio"'] : []),
      ...(p.subtitles.length ? ['SUBTITLES="subs"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, fromMaster(v.playlist));
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Packaging with ffmpeg

/** Segment `inputs` into `hls/<id>/`, replace ffmpeg's playlist with ours, and measure the segments. */
async function segmentTs(
  ff: Ffmpeg,
  dir: string,
  id: string,
  inputs: { video?: string; audio?: string },
  opts: RunOptions,
): Promise<TsStream & { files: string[] }> {
  const rel = posix.join("hls", id);
  const outDir = join(dir, rel);
  await mkdir(outDir, { recursive: true });
  await ff.run(tsSegmentArgs(inputs, outDir, ff.capabilities), opts);
  const entries = tsPlaylistEntries(await readFile(join(outDir, PLAYLIST_NAME), "utf8"));
  const segments: TsSegment[] = [];
  // one at a time: a long video has thousands
  for (const e of entries)
    segments.push({
      path: posix.join(rel, e.name),
      duration: e.duration,
      bytes: (await stat(join(outDir, e.name))).size,
    });
  const playlist = posix.join(rel, PLAYLIST_NAME);
  await writeFile(join(dir, playlist), tsMediaPlaylist(segments));
  const timed = segments.map((s) => ({ bytes: s.bytes, duration: Math.round(s.duration * MICROS) }));
  return {
    id,
    playlist,
    segments,
    ...segmentBandwidth(timed, MICROS),
    files: [...segments.map((s) => s.path), playlist],
  };
}

/** The RFC 6381 string of an MP4's first track of `kind`, read from its sample entry, and the track's details. */
async function mp4Track(file: string, kind: "vide" | "soun") {
  if (containerOf(file) !== "mov") throw new Error(`cannot package ${file} as MPEG-TS: expected .mp4 or .m4a`);
  return parseInit((await readHeaderBoxes(file)).boxes, kind);
}

async function packageTsVideo(
  ff: Ffmpeg,
  dir: string,
  v: CmafVariant,
  muxed: { file: string } | undefined,
  opts: RunOptions,
): Promise<TsVideoTrack & { files: string[] }> {
  const probe = await probeVideo(ff, v.file, opts);
  if (probe.codec !== v.codec) throw new Error(`variant ${v.id} is declared ${v.codec} but holds ${probe.codec}`);
  const info = await mp4Track(v.file, "vide");
  const ts = TS_VIDEO[v.codec]!;
  if (!ts.fourccs.includes(info.fourcc)) throw new Error(`variant ${v.id} (${v.codec}) is stored as ${info.fourcc}`);
  const stream = await segmentTs(ff, dir, v.id, { video: v.file, audio: muxed?.file }, opts);
  return {
    ...stream,
    kind: "video",
    videoCodecs: info.codecs.replace(/^[a-z0-9]{4}\./, `${ts.fourcc}.`),
    width: v.width,
    height: v.height,
    ...(probe.frameRate ? { frameRate: probe.frameRate } : {}),
  };
}

const StartProbe = z.object({ streams: z.array(z.object({ start_time: z.string().optional() })) });

/**
 * The 90 kHz timestamp the video's time 0 has in a variant's segments: the mpegts muxer's delay
 * plus what it kept of the input's own start. Measured, not assumed: the delay is ffmpeg's choice.
 */
async function timestampOfZero(ff: Ffmpeg, dir: string, v: TsVideoTrack, source: string, opts: RunOptions) {
  const start = async (file: string, format: "mpegts" | "mov") => {
    const args = ["-select_streams", "v:0", "-show_entries", "stream=start_time", ...inputArgs(file, format)];
    const time = Number(StartProbe.parse(await ff.probeJson(args, opts)).streams[0]?.start_time);
    if (!Number.isFinite(time)) throw new Error(`${file} has no video start time`);
    return time;
  };
  const [segment, input] = await Promise.all([start(join(dir, v.segments[0]!.path), "mpegts"), start(source, "mov")]);
  return Math.round((segment - input) * 90_000);
}

/** Each audio track's codec and channels; the default's audio goes into the variants, the others get folders. */
async function describeAudio(audio: readonly CmafAudio[], labels: readonly AudioLabel[]) {
  return Promise.all(
    audio.map(async (a, i) => {
      const label = labels[i]!;
      const info = await mp4Track(a.file, "soun");
      checkAac(info.codecs, label.id);
      return { ...label, file: a.file, codecs: info.codecs, channels: info.channels ?? 2 };
    }),
  );
}

/** One packaged stream as the caller stores and serves it. */
export interface TsHlsRepresentation {
  id: string;
  /** A variant (video, with the default audio muxed in) or an audio-only rendition. */
  kind: "video" | "audio";
  /** Every codec in its segments, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  /** `hls/<id>/index.m3u8`. */
  playlist: string;
  /** `hls/<id>/seg_00001.ts` …, in play order. */
  segments: string[];
}

export interface TsHlsResult {
  master: typeof TS_HLS_MASTER;
  /** Every file written, relative to the output folder: each stream's segments and playlist, captions, the master. */
  files: string[];
  representations: TsHlsRepresentation[];
  /** What the master was built from (durations, bandwidths, codec strings). */
  presentation: TsPresentation;
}

/**
 * Package every variant under `dir` as HLS in MPEG-TS segments, by stream copy. Variants must be
 * H.264 or HEVC in MP4; anything else is refused before any work. The default audio track (see
 * CmafAudio; the first when none is marked) is muxed into every variant; each other track is an
 * audio-only rendition in `hls/audio-<n>/`, named by its place in `audio` as CMAF packaging names
 * it. Files already in `dir` are left alone; `files` lists exactly what this run wrote.
 */
export async function packageTsHls(
  ff: Ffmpeg,
  dir: string,
  variants: readonly CmafVariant[],
  audio: readonly CmafAudio[] = [],
  opts: PackageOptions = {},
): Promise<TsHlsResult> {
  checkVariants(variants);
  for (const v of variants) {
    if (!TS_VIDEO[v.codec])
      throw new Error(`MPEG-TS HLS carries H.264 and HEVC only: variant ${v.id} is ${v.codec} (package it as CMAF)`);
    if (containerOf(v.file) !== "mov") throw new Error(`cannot package variant ${v.id} as MPEG-TS: expected an MP4`);
  }
  const { subtitles = [], ...run } = opts;
  const tracks = await describeAudio(audio, labelAudio(audio));
  const muxed = tracks.find((t) => t.default);
  type Job = { video: CmafVariant } | { audio: (typeof tracks)[number] };
  type Packaged = (TsVideoTrack & { files: string[] }) | (TsStream & { files: string[]; kind: "audio" });
  const jobs: Job[] = [
    ...orderVariants(variants).map((v) => ({ video: v })),
    ...tracks.filter((t) => t !== muxed).map((t) => ({ audio: t })),
  ];
  const packaged = await inLanes<Job, Packaged>(jobs, async (j) =>
    "video" in j
      ? packageTsVideo(ff, dir, j.video, muxed, run)
      : { ...(await segmentTs(ff, dir, j.audio.id, { audio: j.audio.file }, run)), kind: "audio" },
  );
  const video = packaged.filter((t): t is TsVideoTrack & { files: string[] } => t.kind === "video");
  const alone = packaged.filter((t): t is TsStream & { files: string[]; kind: "audio" } => t.kind === "audio");
  const duration = Math.max(...video.map((v) => v.segments.reduce((n, s) => n + s.duration, 0)));
  // captions are timed from the video's first frame; the segments' clock starts elsewhere
  const first = video[0]!;
  const source = variants.find((v) => v.id === first.id)!.file;
  const mpegts = subtitles.length ? await timestampOfZero(ff, dir, first, source, run) : 0;
  const subs = await Promise.all(subtitles.map((s) => packageSubtitles(dir, s, duration, mpegts)));
  const presentation: TsPresentation = {
    video: video.map(({ files: _, ...v }) => v),
    audio: tracks.map(({ file: _, ...t }) => {
      const own = alone.find((s) => s.id === t.id);
      if (!own) return t;
      const { files: _f, kind: _k, ...stream } = own;
      return { ...t, stream };
    }),
    subtitles: subs,
  };
  await writeFile(join(dir, TS_HLS_MASTER), tsMasterPlaylist(presentation));
  const muxedCodecs = muxed ? [muxed.codecs] : [];
  return {
    master: TS_HLS_MASTER,
    files: [...packaged.flatMap((t) => t.files), ...subs.flatMap((s) => [s.vtt, s.playlist]), TS_HLS_MASTER],
    representations: packaged.map((t) => ({
      id: t.id,
      kind: t.kind,
      codecs:
        t.kind === "video" ? [t.videoCodecs, ...muxedCodecs].join(",") : tracks.find((a) => a.id === t.id)!.codecs,
      playlist: t.playlist,
      segments: t.segments.map((s) => s.path),
    })),
    presentation,
  };
}
