import { copyFile, mkdir, open, readFile, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { z } from "zod";
import { inputArgs } from "../ffmpeg/args.ts";
import type { Ffmpeg, RunOptions } from "../ffmpeg/run.ts";
import { outputFormatOf } from "../media/verify.ts";
import { captionLanguage } from "./captions.ts";

/**
 * CMAF packaging: each variant (and the audio) is cut by stream copy into fragmented-MP4
 * segments once, and both an HLS ladder and a DASH manifest describe those same files:
 *
 *   hls/master.m3u8
 *   hls/<id>/index.m3u8, init.mp4, seg_00001.m4s …   one folder per variant
 *   hls/audio/index.m3u8, init.mp4, seg_00001.m4s …  the first audio track, when there is audio
 *   hls/audio-2/…, hls/audio-3/…                      each further audio track (another language)
 *   dash/manifest.mpd                                 points at ../hls/<id>/…
 *
 * ffmpeg cuts and writes the segments; the manifests are written here from the segments
 * themselves (codec configuration records in init.mp4, tfdt/trun timing in each moof), so
 * HLS and DASH agree to the tick and the CODECS strings are the ones the decoder will see.
 * Every URI in the manifests is a plain relative path: the API rewrites each to a presigned URL.
 */

export type VideoCodec = "h264" | "hevc" | "vp9" | "av1";

export interface CmafVariant {
  /** Folder name and representation id, e.g. `720p`, `720p-hevc`. */
  id: string;
  /** Local MP4 or WebM with one video stream, keyframes every 2 s aligned across variants. */
  file: string;
  width: number;
  height: number;
  codec: VideoCodec;
  /** Measured bits/s; orders variants of one family and size. */
  bitrate: number;
}

export interface CmafAudio {
  /** Local .m4a with one AAC stream. */
  file: string;
  /**
   * The source stream's ISO 639 / BCP 47 tag (`eng`, `fr`, `pt-BR`); absent when unknown. Written
   * as its shortest BCP 47 form (`eng` → `en`); `und` or anything that is not a tag counts as unknown.
   */
  language?: string;
  /** A label for people, e.g. the stream's title; by default the language's own name or "Audio N". */
  name?: string;
  /** The track players start with; exactly one is, the first when none is marked. */
  default?: boolean;
}

/** Target segment length; ffmpeg cuts at the first keyframe at or after each multiple. */
export const CMAF_SEGMENT_SECONDS = 6;
export const CMAF_MASTER = "hls/master.m3u8";
export const CMAF_MPD = "dash/manifest.mpd";
/** The first audio track's folder: stored jobs and the API's playlist routes know `hls/audio/`. */
const AUDIO_ID = "audio";
const INIT_NAME = "init.mp4";
const PLAYLIST_NAME = "index.m3u8";
const SEGMENT_NAME = /^seg_\d{5,}\.m4s$/;
const VARIANT_ID = /^[A-Za-z0-9_-]{1,32}$/;

// ---------------------------------------------------------------------------------------------
// RFC 6381 codec strings, from the numbers in each codec's configuration record

const hex2 = (n: number) => n.toString(16).padStart(2, "0");
const dec2 = (n: number) => String(n).padStart(2, "0");

/** `avc1.PPCCLL`: profile_idc, constraint-set flags, level_idc (High@4.0 → avc1.640028). */
export function avcCodecString(profileIdc: number, constraintFlags: number, levelIdc: number, fourcc = "avc1"): string {
  return `${fourcc}.${hex2(profileIdc)}${hex2(constraintFlags)}${hex2(levelIdc)}`;
}

export interface HevcProfile {
  /** general_profile_space 0–3, written as "", A, B, C. */
  profileSpace: number;
  /** general_tier_flag: 1 for the High tier. */
  tier: number;
  profileIdc: number;
  /** general_profile_compatibility_flags as read (bit 31 = flag 0). */
  compatibilityFlags: number;
  /** The six general constraint indicator bytes. */
  constraintBytes: readonly number[];
  levelIdc: number;
}

/** Reverse the bit order of a 32-bit word: the HEVC string writes compatibility flag 0 as its lowest bit. */
function reverseBits32(word: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) out = (out << 1) | ((word >>> i) & 1);
  return out >>> 0;
}

/** `hvc1.1.6.L93.B0` (ISO/IEC 14496-15 Annex E): trailing zero constraint bytes left out, the first kept. */
export function hevcCodecString(p: HevcProfile, fourcc = "hvc1"): string {
  const space = ["", "A", "B", "C"][p.profileSpace] ?? "";
  const compat = reverseBits32(p.compatibilityFlags).toString(16).toUpperCase();
  const bytes = [...p.constraintBytes];
  while (bytes.length > 1 && bytes[bytes.length - 1] === 0) bytes.pop();
  const constraints = bytes.map((b) => `.${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  return `${fourcc}.${space}${p.profileIdc}.${compat}.${p.tier ? "H" : "L"}${p.levelIdc}${constraints}`;
}

/**
 * `vp09.PP.LL.DD`: profile, level ×10, bit depth. The short form: the profile already tells
 * 4:2:0 from 4:4:4, and the colour fields, often unspecified, do not decide decodability.
 */
export function vp9CodecString(profile: number, level: number, bitDepth: number): string {
  return `vp09.${dec2(profile)}.${dec2(level)}.${dec2(bitDepth)}`;
}

/** `av01.P.LLT.DD`: seq_profile, seq_level_idx, tier (M/H), bit depth (short form, as for VP9). */
export function av1CodecString(profile: number, levelIdx: number, tier: number, bitDepth: number): string {
  return `av01.${profile}.${dec2(levelIdx)}${tier ? "H" : "M"}.${dec2(bitDepth)}`;
}

/** `mp4a.40.2`: the MPEG-4 object type indication (hex) and the audio object type (2 = AAC-LC). */
export function aacCodecString(objectTypeIndication: number, audioObjectType: number): string {
  return `mp4a.${objectTypeIndication.toString(16)}.${audioObjectType}`;
}

// ---------------------------------------------------------------------------------------------
// ISO BMFF reading: just the boxes the manifests need

interface Box {
  type: string;
  body: Buffer;
}

/** The sibling boxes in `buf`; a size that runs past the buffer is refused, never read past. */
function* boxesIn(buf: Buffer): Generator<Box> {
  let at = 0;
  while (at + 8 <= buf.length) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > buf.length) throw new Error(`MP4 box ${type} is truncated`);
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = buf.length - at;
    if (size < header || at + size > buf.length) throw new Error(`MP4 box ${type} is truncated or malformed`);
    yield { type, body: buf.subarray(at + header, at + size) };
    at += size;
  }
}

function childBox(buf: Buffer, type: string): Buffer | undefined {
  for (const box of boxesIn(buf)) if (box.type === type) return box.body;
  return undefined;
}

function childBoxes(buf: Buffer, type: string): Buffer[] {
  return [...boxesIn(buf)].filter((b) => b.type === type).map((b) => b.body);
}

/** The box at the end of `path` (e.g. moov/trak/mdia/mdhd), or an error naming the path. */
function boxAt(buf: Buffer, path: string): Buffer {
  let cur = buf;
  for (const type of path.split("/")) {
    const next = childBox(cur, type);
    if (!next) throw new Error(`MP4 has no ${path}`);
    cur = next;
  }
  return cur;
}

/** 64-bit fields (tfdt, mdhd v1) as numbers: media times past 2^53 ticks do not occur in practice. */
function readU64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64BE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("MP4 time value too large");
  return Number(v);
}

/** What a track's init segment says: its sample entry and the timescale its times count in. */
export interface InitInfo {
  fourcc: string;
  codecs: string;
  timescale: number;
  /** trex default_sample_duration, used when a fragment names none. */
  defaultSampleDuration: number;
  /** The composition time shown at presentation time 0, from the edit list (B-frame delay, AAC priming). */
  presentationTimeOffset: number;
  channels?: number;
  sampleRate?: number;
}

/** A track's handler type (`vide`, `soun`), from its hdlr box: after version/flags and pre_defined. */
function handlerOf(trak: Buffer): string {
  const hdlr = boxAt(trak, "mdia/hdlr");
  if (hdlr.length < 12) throw new Error("MP4 hdlr box is truncated");
  return hdlr.toString("latin1", 8, 12);
}

/**
 * Parse an init segment (ftyp + moov with one track), or the header boxes of a whole MP4 (see
 * {@link readHeaderBoxes}) with `handler` naming which track: the first of that kind (`vide`, `soun`).
 */
export function parseInit(init: Buffer, handler?: "vide" | "soun"): InitInfo {
  const moov = boxAt(init, "moov");
  const mvhd = boxAt(moov, "mvhd");
  const movieTimescale = mvhd[0] === 1 ? mvhd.readUInt32BE(20) : mvhd.readUInt32BE(12);
  const trak = handler ? childBoxes(moov, "trak").find((t) => handlerOf(t) === handler) : boxAt(moov, "trak");
  if (!trak) throw new Error(`MP4 has no ${handler} track`);
  const mdhd = boxAt(trak, "mdia/mdhd");
  const timescale = mdhd[0] === 1 ? mdhd.readUInt32BE(20) : mdhd.readUInt32BE(12);
  const elst = childBox(childBox(trak, "edts") ?? Buffer.alloc(0), "elst");
  const trex = childBox(childBox(moov, "mvex") ?? Buffer.alloc(0), "trex");
  const stsd = boxAt(trak, "mdia/minf/stbl/stsd");
  // stsd: version/flags and entry_count, then the sample entries; the first is the one in use
  const entry = boxesIn(stsd.subarray(8)).next().value;
  if (!entry) throw new Error("MP4 init segment has no sample entry");
  return {
    ...sampleEntryCodec(entry),
    timescale,
    defaultSampleDuration: trex && trex.length >= 16 ? trex.readUInt32BE(12) : 0,
    presentationTimeOffset: elst ? editOffset(elst, timescale / movieTimescale) : 0,
  };
}

/**
 * The media time an edit list starts presenting at, less any leading empty edit (a delay, in
 * movie time, scaled to media time by `scale`); never negative, as DASH's presentationTimeOffset.
 */
function editOffset(elst: Buffer, scale: number): number {
  const v1 = elst[0] === 1;
  const count = elst.readUInt32BE(4);
  let delay = 0;
  for (let i = 0, at = 8; i < count && at + (v1 ? 20 : 12) <= elst.length; i++, at += v1 ? 20 : 12) {
    const duration = v1 ? readU64(elst, at) : elst.readUInt32BE(at);
    const mediaTime = v1 ? Number(elst.readBigInt64BE(at + 8)) : elst.readInt32BE(at + 4);
    if (mediaTime === -1) delay += duration;
    else return Math.max(0, mediaTime - Math.round(delay * scale));
  }
  return 0;
}

/** Visual sample entries carry 78 bytes of fixed fields before their boxes, audio ones 28 (more in QuickTime v1/v2). */
const VISUAL_ENTRY_FIELDS = 78;
const AUDIO_ENTRY_FIELDS = [28, 44, 64];

/** The codec string of one sample entry, from its configuration record. */
function sampleEntryCodec(entry: Box): Pick<InitInfo, "fourcc" | "codecs" | "channels" | "sampleRate"> {
  const { type: fourcc, body } = entry;
  if (fourcc === "mp4a") return aacEntry(body);
  const boxes = body.subarray(VISUAL_ENTRY_FIELDS);
  const record = (type: string, minBytes: number) => {
    const rec = childBox(boxes, type);
    if (!rec || rec.length < minBytes) throw new Error(`${fourcc} sample entry has no ${type}`);
    return rec;
  };
  if (fourcc === "avc1" || fourcc === "avc3") {
    const avcC = record("avcC", 4);
    return { fourcc, codecs: avcCodecString(avcC[1]!, avcC[2]!, avcC[3]!, fourcc) };
  }
  if (fourcc === "hvc1" || fourcc === "hev1")
    return { fourcc, codecs: hevcCodecString(hevcProfile(record("hvcC", 13)), fourcc) };
  if (fourcc === "vp09") {
    // vpcC is a full box: version/flags, then profile, level, bitDepth(4) chroma(3) range(1)
    const vpcC = record("vpcC", 7);
    return { fourcc, codecs: vp9CodecString(vpcC[4]!, vpcC[5]!, vpcC[6]! >> 4) };
  }
  if (fourcc === "av01") {
    const av1C = record("av1C", 3);
    const flags = av1C[2]!;
    const bitDepth = flags & 0x40 ? (flags & 0x20 ? 12 : 10) : 8;
    return { fourcc, codecs: av1CodecString(av1C[1]! >> 5, av1C[1]! & 0x1f, flags >> 7, bitDepth) };
  }
  throw new Error(`unsupported sample entry ${fourcc}`);
}

function hevcProfile(hvcC: Buffer): HevcProfile {
  return {
    profileSpace: hvcC[1]! >> 6,
    tier: (hvcC[1]! >> 5) & 1,
    profileIdc: hvcC[1]! & 0x1f,
    compatibilityFlags: hvcC.readUInt32BE(2),
    constraintBytes: [...hvcC.subarray(6, 12)],
    levelIdc: hvcC[12]!,
  };
}

function aacEntry(body: Buffer): Pick<InitInfo, "fourcc" | "codecs" | "channels" | "sampleRate"> {
  const channels = body.readUInt16BE(16);
  const sampleRate = body.readUInt32BE(24) >>> 16;
  const fields = AUDIO_ENTRY_FIELDS[body.readUInt16BE(8)] ?? AUDIO_ENTRY_FIELDS[0];
  const esds = childBox(body.subarray(fields), "esds");
  if (!esds) throw new Error("mp4a sample entry has no esds");
  const { objectType, audioObjectType } = decoderConfig(esds.subarray(4));
  return { fourcc: "mp4a", codecs: aacCodecString(objectType, audioObjectType), channels, sampleRate };
}

/** MPEG-4 descriptors: a tag byte, a length in up to four 7-bit bytes, the payload. */
function* descriptors(buf: Buffer): Generator<{ tag: number; body: Buffer }> {
  let at = 0;
  while (at + 2 <= buf.length) {
    const tag = buf[at++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = buf[at++] ?? 0;
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    yield { tag, body: buf.subarray(at, at + size) };
    at += size;
  }
}

/** ES_Descriptor → DecoderConfigDescriptor (object type) → AudioSpecificConfig (audio object type). */
function decoderConfig(esds: Buffer): { objectType: number; audioObjectType: number } {
  const es = [...descriptors(esds)].find((d) => d.tag === 0x03)?.body;
  if (!es) throw new Error("esds has no ES descriptor");
  const flags = es[2] ?? 0;
  let at = 3;
  if (flags & 0x80) at += 2; // dependsOn_ES_ID
  if (flags & 0x40) at += 1 + (es[at] ?? 0); // URL
  if (flags & 0x20) at += 2; // OCR_ES_Id
  const dc = [...descriptors(es.subarray(at))].find((d) => d.tag === 0x04)?.body;
  if (!dc) throw new Error("esds has no decoder config");
  const asc = [...descriptors(dc.subarray(13))].find((d) => d.tag === 0x05)?.body;
  if (!asc || asc.length < 2) throw new Error("esds has no AudioSpecificConfig");
  let aot = asc[0]! >> 3;
  // 31 escapes to 32 + the next six bits
  if (aot === 31) aot = 32 + ((asc.readUInt16BE(0) >> 5) & 0x3f);
  return { objectType: dc[0]!, audioObjectType: aot };
}

/** One fragment file's timing in its track's timescale: composition times, sample count. */
export interface FragmentTiming {
  /** Earliest presentation (composition) time of any sample. */
  earliest: number;
  /** Latest composition end (time + duration) of any sample. */
  end: number;
  samples: number;
}

/** The timing of every moof in a media segment (its top-level boxes, mdat left out). */
export function fragmentTiming(segment: Buffer, defaultSampleDuration: number): FragmentTiming {
  let earliest = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  let samples = 0;
  for (const moof of childBoxes(segment, "moof")) {
    for (const traf of childBoxes(moof, "traf")) {
      const tfhd = boxAt(traf, "tfhd");
      const tfdt = boxAt(traf, "tfdt");
      let dts = tfdt[0] === 1 ? readU64(tfdt, 4) : tfdt.readUInt32BE(4);
      const trackDefault = tfhdDefaultDuration(tfhd) ?? defaultSampleDuration;
      for (const trun of childBoxes(traf, "trun")) {
        for (const s of trunSamples(trun, trackDefault)) {
          earliest = Math.min(earliest, dts + s.cts);
          end = Math.max(end, dts + s.cts + s.duration);
          dts += s.duration;
          samples++;
        }
      }
    }
  }
  if (!samples) throw new Error("media segment has no samples");
  return { earliest, end, samples };
}

/** tfhd's default_sample_duration when present (flag 0x08), after the optional fields before it. */
function tfhdDefaultDuration(tfhd: Buffer): number | undefined {
  const flags = tfhd.readUInt32BE(0) & 0xffffff;
  if (!(flags & 0x08)) return undefined;
  let at = 8;
  if (flags & 0x01) at += 8; // base_data_offset
  if (flags & 0x02) at += 4; // sample_description_index
  return tfhd.readUInt32BE(at);
}

/** Each sample's duration and composition offset (signed in version 1). */
function* trunSamples(trun: Buffer, defaultDuration: number): Generator<{ duration: number; cts: number }> {
  const version = trun[0]!;
  const flags = trun.readUInt32BE(0) & 0xffffff;
  const count = trun.readUInt32BE(4);
  let at = 8;
  if (flags & 0x01) at += 4; // data_offset
  if (flags & 0x04) at += 4; // first_sample_flags
  const fieldBytes = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
  if (at + count * fieldBytes > trun.length) throw new Error("trun is truncated");
  for (let i = 0; i < count; i++) {
    let duration = defaultDuration;
    let cts = 0;
    if (flags & 0x100) {
      duration = trun.readUInt32BE(at);
      at += 4;
    }
    if (flags & 0x200) at += 4; // sample_size
    if (flags & 0x400) at += 4; // sample_flags
    if (flags & 0x800) {
      cts = version ? trun.readInt32BE(at) : trun.readUInt32BE(at);
      at += 4;
    }
    yield { duration, cts };
  }
}

/** The top-level boxes of a file except mdat, read without loading the media data; and the file's size. */
export async function readHeaderBoxes(file: string): Promise<{ boxes: Buffer; size: number }> {
  const fh = await open(file, "r");
  try {
    const { size } = await fh.stat();
    const parts: Buffer[] = [];
    const head = Buffer.alloc(16);
    for (let at = 0; at + 8 <= size; ) {
      await fh.read(head, 0, 16, at);
      let boxSize = head.readUInt32BE(0);
      if (boxSize === 1) boxSize = readU64(head, 8);
      else if (boxSize === 0) boxSize = size - at;
      if (boxSize < 8 || at + boxSize > size) throw new Error(`${file}: MP4 box at ${at} is malformed`);
      if (head.toString("latin1", 4, 8) !== "mdat") {
        const box = Buffer.alloc(boxSize);
        await fh.read(box, 0, boxSize, at);
        parts.push(box);
      }
      at += boxSize;
    }
    return { boxes: Buffer.concat(parts), size };
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The presentation: what the manifests are built from (paths relative to the output folder)

export interface CmafSegment {
  /** e.g. `hls/720p/seg_00001.m4s`. */
  path: string;
  /** Earliest presentation time, in the track's timescale. */
  start: number;
  /** Until the next segment's start (the last: until its last sample ends). */
  duration: number;
  bytes: number;
}

/** What every packaged track carries, video or audio. */
export interface CmafTrackBase {
  id: string;
  codecs: string;
  timescale: number;
  /** The media time shown at the period's start (the init segment's edit list): DASH's presentationTimeOffset. */
  presentationTimeOffset: number;
  /** e.g. `hls/720p/init.mp4`. */
  init: string;
  /** e.g. `hls/720p/index.m3u8`. */
  playlist: string;
  segments: CmafSegment[];
  /** Peak segment bit rate (bits/s), as HLS BANDWIDTH and DASH @bandwidth mean it. */
  bandwidth: number;
  averageBandwidth: number;
}

export interface CmafVideoTrack extends CmafTrackBase {
  kind: "video";
  family: VideoCodec;
  width: number;
  height: number;
  /** Frames per second as ffprobe reports it (`30/1`, `30000/1001`); absent when unknown. */
  frameRate?: { num: number; den: number };
}

export interface CmafAudioTrack extends CmafTrackBase, AudioLabel {
  kind: "audio";
  channels: number;
  sampleRate: number;
}

export type CmafTrack = CmafVideoTrack | CmafAudioTrack;

/** One WebVTT captions track: the whole file is one segment of its own HLS media playlist. */
export interface CmafSubtitles {
  /** BCP 47-like tag (`en`, `pt-BR`), also the folder suffix: `hls/captions-<language>/`. */
  language: string;
  /** `hls/captions-<language>/captions.vtt`. */
  vtt: string;
  /** `hls/captions-<language>/index.m3u8`. */
  playlist: string;
}

/** Video tracks in manifest order (see orderVariants), the audio tracks as given, and the captions. */
export interface CmafPresentation {
  video: CmafVideoTrack[];
  /** None for a silent video; otherwise exactly one is the default. */
  audio: CmafAudioTrack[];
  subtitles?: CmafSubtitles[];
}

/**
 * A captions track's HLS media playlist: its one WebVTT file lasting the whole video. Nothing in
 * it needs more than version 3; CMAF's say 7 like its other playlists, MPEG-TS's 3 for old players.
 */
export function subtitlesMediaPlaylist(duration: number, version: 3 | 7 = 7): string {
  const whole = Math.max(1, Math.ceil(duration));
  return [
    "#EXTM3U",
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${whole}`,
    "#EXT-X-PLAYLIST-TYPE:VOD",
    `#EXTINF:${duration.toFixed(3)},`,
    "captions.vtt",
    "#EXT-X-ENDLIST",
    "",
  ].join("\n");
}

/** Segment start/duration from each fragment's composition times: contiguous, summing to the whole. */
export function segmentTimeline(timings: readonly FragmentTiming[]): { start: number; duration: number }[] {
  return timings.map((t, i) => {
    const next = timings[i + 1]?.earliest ?? t.end;
    if (next <= t.earliest) throw new Error(`segment ${i + 1} has no duration (not cut at a keyframe?)`);
    return { start: t.earliest, duration: next - t.earliest };
  });
}

/**
 * Peak and average segment bit rates. A segment shorter than half the longest (the tail, often
 * a keyframe and a few frames) is left out of the peak: its rate says nothing about what the
 * stream needs and would make players pick a lower variant than they can play. The peak is never
 * below the average (a short video's tail can weigh in the average alone).
 */
export function segmentBandwidth(
  segments: readonly Pick<CmafSegment, "bytes" | "duration">[],
  timescale: number,
): { bandwidth: number; averageBandwidth: number } {
  const longest = Math.max(...segments.map((s) => s.duration));
  const rate = (s: Pick<CmafSegment, "bytes" | "duration">) => (s.bytes * 8 * timescale) / s.duration;
  const full = segments.filter((s) => s.duration * 2 >= longest);
  const bytes = segments.reduce((n, s) => n + s.bytes, 0);
  const ticks = segments.reduce((n, s) => n + s.duration, 0);
  const averageBandwidth = Math.ceil((bytes * 8 * timescale) / ticks);
  return { bandwidth: Math.max(averageBandwidth, Math.ceil(Math.max(...full.map(rate)))), averageBandwidth };
}

/** Video variants grouped by codec family in the order the families first appear, largest first within each. */
export function orderVariants<T extends Pick<CmafVariant, "codec" | "height" | "width" | "bitrate">>(
  variants: readonly T[],
): T[] {
  const families = [...new Set(variants.map((v) => v.codec))];
  return [...variants].sort(
    (a, b) =>
      families.indexOf(a.codec) - families.indexOf(b.codec) ||
      b.height * b.width - a.height * a.width ||
      b.bitrate - a.bitrate,
  );
}

// ---------------------------------------------------------------------------------------------
// Audio tracks: folders, names, the default

/** How an audio track is presented: its folder and what players show to choose it. */
export interface AudioLabel {
  /** `audio`, `audio-2`, …: the folder under `hls/` and the DASH representation id. */
  id: string;
  /** Shortest BCP 47 form (`en`, `pt-BR`); absent when unknown. */
  language?: string;
  /** HLS NAME and DASH Label: unique among the tracks. */
  name: string;
  default: boolean;
}

/** The folder of the audio track at `index` (from 0): `audio`, then `audio-2`, `audio-3` … */
export function audioTrackId(index: number): string {
  return index === 0 ? AUDIO_ID : `${AUDIO_ID}-${index + 1}`;
}

/** A stream title fit for a quoted HLS attribute and XML text: no quotes, controls or runs of space. */
function cleanName(name: string | undefined): string | undefined {
  const clean = name
    ?.replace(/"/g, "'")
    .replace(/[\p{Cc}\s]+/gu, " ")
    .trim();
  return clean ? [...clean].slice(0, 64).join("").trim() : undefined;
}

/** The language's name in itself (RFC 8216: NAME should be in the rendition's language), e.g. `Français`. */
function languageName(tag: string): string | undefined {
  try {
    const name = new Intl.DisplayNames([tag], { type: "language", fallback: "none" }).of(tag);
    if (!name) return undefined;
    const [first = "", ...rest] = name;
    return first.toLocaleUpperCase(tag) + rest.join("");
  } catch {
    // a well-formed tag ICU does not know: the caller falls back to "Audio N"
    return undefined;
  }
}

/**
 * Folders, names and the default of the audio tracks, in the order given. A lone track without
 * a name or language is plain "Audio", as before there could be several.
 */
export function labelAudio(tracks: readonly Pick<CmafAudio, "language" | "name" | "default">[]): AudioLabel[] {
  const defaults = tracks.filter((t) => t.default).length;
  if (defaults > 1) throw new Error(`${defaults} audio tracks are marked default: at most one may be`);
  const marked = tracks.findIndex((t) => t.default);
  const defaultAt = marked < 0 ? 0 : marked;
  const used = new Set<string>();
  return tracks.map((t, i) => {
    const tag = captionLanguage(t.language);
    const language = tag === "und" ? undefined : tag;
    const base =
      cleanName(t.name) ?? (language && languageName(language)) ?? (tracks.length === 1 ? "Audio" : `Audio ${i + 1}`);
    // NAMEs must differ within a group; players list them, so differing by case alone is not enough
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base} (${n})`;
    used.add(name.toLowerCase());
    return { id: audioTrackId(i), ...(language ? { language } : {}), name, default: i === defaultAt };
  });
}

// ---------------------------------------------------------------------------------------------
// Manifest text (pure)

/** A path relative to the output folder, as seen from the folder of `from` (also a relative path). */
function uriFrom(from: string, path: string): string {
  return posix.relative(posix.dirname(from), path);
}

const seconds = (ticks: number, timescale: number) => ticks / timescale;

/** A VOD media playlist naming the init segment and each segment by its file name. */
export function cmafMediaPlaylist(track: CmafTrackBase): string {
  const durations = track.segments.map((s) => seconds(s.duration, track.timescale));
  // RFC 8216: every EXTINF rounded to the nearest integer must be at most the target duration
  const target = Math.max(1, ...durations.map((d) => Math.round(d)));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-MAP:URI="${uriFrom(track.playlist, track.init)}"`,
  ];
  track.segments.forEach((s, i) => lines.push(`#EXTINF:${durations[i]!.toFixed(6)},`, uriFrom(track.playlist, s.path)));
  lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}

/** One audio track's EXT-X-MEDIA in the group "audio"; no `uri` when its audio is muxed into the variants. */
export function audioMediaTag(a: AudioLabel & { channels: number }, uri?: string): string {
  const attrs = [
    "TYPE=AUDIO",
    'GROUP-ID="audio"',
    ...(a.language ? [`LANGUAGE="${a.language}"`] : []),
    `NAME="${a.name}"`,
    `DEFAULT=${a.default ? "YES" : "NO"}`,
    "AUTOSELECT=YES",
    `CHANNELS="${a.channels}"`,
    ...(uri ? [`URI="${uri}"`] : []),
  ];
  return `#EXT-X-MEDIA:${attrs.join(",")}`;
}

/** The captions' EXT-X-MEDIA lines in the group "subs" of a master at {@link CMAF_MASTER}. */
export function subtitlesMediaTags(subs: readonly CmafSubtitles[]): string[] {
  return subs.map(
    (s, i) =>
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="${s.language}",LANGUAGE="${s.language}",` +
      `DEFAULT=NO,AUTOSELECT=${i === 0 ? "YES" : "NO"},URI="${uriFrom(CMAF_MASTER, s.playlist)}"`,
  );
}

/**
 * What an audio group adds to each variant: the bit rates of its most demanding track (a player
 * plays one at a time; BANDWIDTH bounds every choice) and every codec in it (CODECS must name all).
 */
export function audioGroupNeeds(tracks: readonly Pick<CmafTrackBase, "bandwidth" | "averageBandwidth" | "codecs">[]) {
  return {
    bandwidth: Math.max(0, ...tracks.map((t) => t.bandwidth)),
    averageBandwidth: Math.max(0, ...tracks.map((t) => t.averageBandwidth)),
    codecs: [...new Set(tracks.map((t) => t.codecs))],
  };
}

/** The HLS master: one audio group holding every audio track, one variant per video track, in the order given. */
export function cmafMasterPlaylist(p: CmafPresentation): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const a of p.audio) lines.push(audioMediaTag(a, uriFrom(CMAF_MASTER, a.playlist)));
  const subs = p.subtitles ?? [];
  lines.push(...subtitlesMediaTags(subs));
  const audio = audioGroupNeeds(p.audio);
  for (const v of p.video) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth + audio.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth + audio.averageBandwidth}`,
      `RESOLUTION=${v.width}x${v.height}`,
      ...(v.frameRate ? [`FRAME-RATE=${frameRateValue(v.frameRate)}`] : []),
      `CODECS="${[v.codecs, ...audio.codecs].join(",")}"`,
      ...(p.audio.length ? ['AUDIO="audio"'] : []),
      ...(subs.length ? ['SUBTITLES="subs"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, uriFrom(CMAF_MASTER, v.playlist));
  }
  return `${lines.join("\n")}\n`;
}

/** HLS FRAME-RATE: frames per second to three decimals. */
export function frameRateValue(rate: { num: number; den: number }): string {
  return (rate.num / rate.den).toFixed(3);
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** `name="value"` pairs, skipping undefined values. */
function xmlAttrs(attrs: Record<string, string | number | undefined>): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${xmlEscape(String(v))}"`)
    .join(" ");
}

/** xs:duration with millisecond precision, e.g. PT7.000S. */
const isoDuration = (s: number) => `PT${s.toFixed(3)}S`;

/** `<S>` elements: starts are contiguous, so only the first carries @t; equal durations run with @r. */
function timelineXml(segments: readonly CmafSegment[], indent: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < segments.length) {
    const d = segments[i]!.duration;
    let r = 0;
    while (segments[i + r + 1]?.duration === d) r++;
    out.push(`${indent}<S ${xmlAttrs({ t: i === 0 ? segments[0]!.start : undefined, d, r: r || undefined })}/>`);
    i += r + 1;
  }
  return out;
}

/**
 * A SegmentList: every segment by its own URL, not a $Number$ template, because each URL is
 * later replaced by a presigned one, which no template can produce. presentationTimeOffset says
 * what the init segment's edit list says, for players that ignore edit lists: video starts at its
 * first frame despite the B-frame delay, AAC's priming samples fall before the period.
 */
function segmentListXml(t: CmafTrack, indent: string): string[] {
  const list = xmlAttrs({ timescale: t.timescale, presentationTimeOffset: t.presentationTimeOffset });
  return [
    `${indent}<SegmentList ${list}>`,
    `${indent}  <Initialization ${xmlAttrs({ sourceURL: uriFrom(CMAF_MPD, t.init) })}/>`,
    `${indent}  <SegmentTimeline>`,
    ...timelineXml(t.segments, `${indent}    `),
    `${indent}  </SegmentTimeline>`,
    ...t.segments.map((s) => `${indent}  <SegmentURL ${xmlAttrs({ media: uriFrom(CMAF_MPD, s.path) })}/>`),
    `${indent}</SegmentList>`,
  ];
}

/** Where a track's last segment ends on the period's timeline. */
function trackEnd(t: CmafTrack): number {
  const last = t.segments[t.segments.length - 1];
  return last ? seconds(last.start + last.duration - t.presentationTimeOffset, t.timescale) : 0;
}

/** True when every track's segments start at the same times (within a millisecond): players may switch at any. */
function segmentsAligned(tracks: readonly CmafTrack[]): boolean {
  const starts = (t: CmafTrack) => t.segments.map((s) => seconds(s.start - t.segments[0]!.start, t.timescale));
  const first = starts(tracks[0]!);
  return tracks.every((t) => {
    const s = starts(t);
    return s.length === first.length && s.every((x, i) => Math.abs(x - first[i]!) < 0.001);
  });
}

function frameRateAttr(v: CmafVideoTrack): string | undefined {
  if (!v.frameRate) return undefined;
  return v.frameRate.den === 1 ? String(v.frameRate.num) : `${v.frameRate.num}/${v.frameRate.den}`;
}

function videoSetXml(id: number, tracks: readonly CmafVideoTrack[]): string[] {
  const set = xmlAttrs({
    id,
    contentType: "video",
    mimeType: "video/mp4",
    segmentAlignment: segmentsAligned(tracks) ? "true" : undefined,
    startWithSAP: 1,
    maxWidth: Math.max(...tracks.map((t) => t.width)),
    maxHeight: Math.max(...tracks.map((t) => t.height)),
  });
  const reps = tracks.flatMap((t) => [
    `      <Representation ${xmlAttrs({
      id: t.id,
      bandwidth: t.bandwidth,
      codecs: t.codecs,
      width: t.width,
      height: t.height,
      frameRate: frameRateAttr(t),
    })}>`,
    ...segmentListXml(t, "        "),
    "      </Representation>",
  ]);
  return [`    <AdaptationSet ${set}>`, ...reps, "    </AdaptationSet>"];
}

/** One audio track's set: its language, its name as Label, and Role main (the default) or alternate. */
function audioSetXml(id: number, a: CmafAudioTrack): string[] {
  const set = xmlAttrs({ id, contentType: "audio", lang: a.language, mimeType: "audio/mp4", startWithSAP: 1 });
  const role = xmlAttrs({ schemeIdUri: "urn:mpeg:dash:role:2011", value: a.default ? "main" : "alternate" });
  const rep = xmlAttrs({ id: a.id, bandwidth: a.bandwidth, codecs: a.codecs, audioSamplingRate: a.sampleRate });
  const channels = xmlAttrs({
    schemeIdUri: "urn:mpeg:dash:23003:3:audio_channel_configuration:2011",
    value: a.channels,
  });
  // the schema's order: Label (common to sets and representations) before Role
  return [
    `    <AdaptationSet ${set}>`,
    `      <Label>${xmlEscape(a.name)}</Label>`,
    `      <Role ${role}/>`,
    `      <Representation ${rep}>`,
    `        <AudioChannelConfiguration ${channels}/>`,
    ...segmentListXml(a, "        "),
    "      </Representation>",
    "    </AdaptationSet>",
  ];
}

/** A captions track as a text AdaptationSet: the WebVTT file itself, the same file HLS names. */
function textSetXml(id: number, s: CmafSubtitles): string[] {
  const set = xmlAttrs({ id, contentType: "text", mimeType: "text/vtt", lang: s.language });
  return [
    `    <AdaptationSet ${set}>`,
    `      <Representation ${xmlAttrs({ id: `captions-${s.language}`, bandwidth: 256 })}>`,
    `        <BaseURL>${xmlEscape(uriFrom(CMAF_MPD, s.vtt))}</BaseURL>`,
    "      </Representation>",
    "    </AdaptationSet>",
  ];
}

/**
 * A static MPD: one video AdaptationSet per codec family (a player picks one family it can
 * decode and switches within it), one audio AdaptationSet per track. The full profile: the live
 * profile requires SegmentTemplate and on-demand a single file per track, and neither fits a list
 * of separately signed segment URLs. minBufferTime is the longest segment, so @bandwidth (each
 * track's peak segment rate) is enough for continuous playback.
 */
export function cmafDashManifest(p: CmafPresentation): string {
  const tracks: CmafTrack[] = [...p.video, ...p.audio];
  const longest = Math.max(...tracks.flatMap((t) => t.segments.map((s) => seconds(s.duration, t.timescale))));
  // the video's length: AAC's last frame runs on past the end with padding
  const duration = Math.max(...(p.video.length ? p.video : tracks).map(trackEnd));
  const families = [...new Set(p.video.map((v) => v.family))];
  const sets = families.map((f, i) =>
    videoSetXml(
      i,
      p.video.filter((v) => v.family === f),
    ),
  );
  for (const a of p.audio) sets.push(audioSetXml(sets.length, a));
  for (const s of p.subtitles ?? []) sets.push(textSetXml(sets.length, s));
  const mpd = xmlAttrs({
    xmlns: "urn:mpeg:dash:schema:mpd:2011",
    type: "static",
    profiles: "urn:mpeg:dash:profile:full:2011",
    mediaPresentationDuration: isoDuration(duration),
    minBufferTime: isoDuration(Math.ceil(longest * 1000) / 1000),
    maxSegmentDuration: isoDuration(Math.ceil(longest * 1000) / 1000),
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD ${mpd}>`,
    '  <Period id="0" start="PT0S">',
    ...sets.flat(),
    "  </Period>",
    "</MPD>",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Packaging with ffmpeg

/** The demuxer an input is read with, by its name: never guessed from the bytes (see inputArgs). */
export function containerOf(file: string): "mov" | "matroska" {
  // our outputs' demuxer by name (media/verify.ts); only files with one video or audio track are packaged
  const format = outputFormatOf(file);
  if (format === "mov" || format === "matroska") return format;
  throw new Error(`cannot package ${file}: expected .mp4, .m4a or .webm`);
}

/**
 * Cut one stream by copy into fMP4 segments with ffmpeg's HLS muxer: init.mp4 plus
 * seg_00001.m4s… at the first keyframe at or after every `CMAF_SEGMENT_SECONDS`, and a media
 * playlist that lists them (read back for the file list, then replaced by ours). HEVC is tagged
 * hvc1 (parameter sets in the sample entry), the only HEVC tag Apple players accept.
 * By default the HLS muxer shifts a negative start (B-frame delay, AAC priming) to zero, which
 * loses the source's edit list: the priming is then played and the video starts a few frames
 * late. Passed through, init.mp4 keeps the edit list (and the MPD its presentationTimeOffset).
 */
export function cmafSegmentArgs(
  input: string,
  outDir: string,
  stream: "video" | "audio",
  codec?: VideoCodec,
): string[] {
  return [
    ...inputArgs(input, containerOf(input)),
    "-map",
    stream === "video" ? "0:v:0" : "0:a:0",
    "-c",
    "copy",
    ...(codec === "hevc" ? ["-tag:v", "hvc1"] : []),
    // negative start times reach the MP4 muxer, which keeps them as the edit list they came from
    "-avoid_negative_ts",
    "disabled",
    "-f",
    "hls",
    "-hls_time",
    String(CMAF_SEGMENT_SECONDS),
    "-hls_playlist_type",
    "vod",
    "-hls_segment_type",
    "fmp4",
    "-hls_fmp4_init_filename",
    INIT_NAME,
    "-start_number",
    "1",
    "-hls_segment_filename",
    join(outDir, "seg_%05d.m4s"),
    join(outDir, PLAYLIST_NAME),
  ];
}

/** The segment file names an ffmpeg-written media playlist lists, in order; anything else is refused. */
export function playlistSegments(text: string, name: RegExp = SEGMENT_NAME): string[] {
  const uris = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const uri of uris) if (!name.test(uri)) throw new Error(`unexpected segment URI "${uri}"`);
  if (!uris.length) throw new Error("the media playlist lists no segments");
  return uris;
}

/** Sample entry fourccs each declared codec may come out as. */
const FOURCCS: Record<VideoCodec, readonly string[]> = {
  h264: ["avc1", "avc3"],
  hevc: ["hvc1", "hev1"],
  vp9: ["vp09"],
  av1: ["av01"],
};

type PackagedTrack = CmafTrackBase & { info: InitInfo; files: string[] };

/** Package one stream into `hls/<id>/` and describe what was written. */
async function packageTrack(
  ff: Ffmpeg,
  dir: string,
  id: string,
  input: string,
  stream: "video" | "audio",
  codec: VideoCodec | undefined,
  opts: RunOptions,
): Promise<PackagedTrack> {
  const rel = posix.join("hls", id);
  const outDir = join(dir, rel);
  await mkdir(outDir, { recursive: true });
  await ff.run(cmafSegmentArgs(input, outDir, stream, codec), opts);
  const names = playlistSegments(await readFile(join(outDir, PLAYLIST_NAME), "utf8"));
  const info = parseInit(await readFile(join(outDir, INIT_NAME)));
  const timings: FragmentTiming[] = [];
  const sizes: number[] = [];
  // one segment at a time: a long video has thousands, and each read is a few KB
  for (const name of names) {
    const { boxes, size } = await readHeaderBoxes(join(outDir, name));
    timings.push(fragmentTiming(boxes, info.defaultSampleDuration));
    sizes.push(size);
  }
  const segments = segmentTimeline(timings).map((t, i) => ({
    ...t,
    path: posix.join(rel, names[i]!),
    bytes: sizes[i]!,
  }));
  const base = {
    id,
    codecs: info.codecs,
    timescale: info.timescale,
    presentationTimeOffset: info.presentationTimeOffset,
    init: posix.join(rel, INIT_NAME),
    playlist: posix.join(rel, PLAYLIST_NAME),
    segments,
    ...segmentBandwidth(segments, info.timescale),
  };
  // ffmpeg's EXTINF values come from packet timestamps at each cut; ours from the fragments, as in the MPD
  await writeFile(join(dir, base.playlist), cmafMediaPlaylist(base));
  return { ...base, info, files: [base.init, ...segments.map((s) => s.path), base.playlist] };
}

const VideoProbe = z.object({
  streams: z.array(z.object({ codec_name: z.string().optional(), avg_frame_rate: z.string().optional() })),
});

/** ffprobe's codec name and average frame rate of the first video stream. */
export async function probeVideo(ff: Ffmpeg, file: string, opts: RunOptions) {
  const json = await ff.probeJson(
    [
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,avg_frame_rate",
      ...inputArgs(file, containerOf(file)),
    ],
    opts,
  );
  const stream = VideoProbe.parse(json).streams[0];
  if (!stream) throw new Error(`${file} has no video stream`);
  const [num, den] = (stream.avg_frame_rate ?? "").split("/").map(Number);
  const frameRate = num && den ? { num, den } : undefined;
  return { codec: stream.codec_name, frameRate };
}

async function packageVideo(ff: Ffmpeg, dir: string, v: CmafVariant, opts: RunOptions) {
  const probe = await probeVideo(ff, v.file, opts);
  if (probe.codec !== v.codec) throw new Error(`variant ${v.id} is declared ${v.codec} but holds ${probe.codec}`);
  const t = await packageTrack(ff, dir, v.id, v.file, "video", v.codec, opts);
  if (!FOURCCS[v.codec].includes(t.info.fourcc))
    throw new Error(`variant ${v.id} (${v.codec}) was packaged as ${t.info.fourcc}`);
  const { info: _, ...rest } = t;
  const track: CmafVideoTrack & { files: string[] } = {
    ...rest,
    kind: "video",
    family: v.codec,
    width: v.width,
    height: v.height,
    frameRate: probe.frameRate,
  };
  return track;
}

/** AAC only: what every HLS and DASH player decodes, and what MPEG-TS carries as ADTS. */
export function checkAac(codecs: string, id: string): void {
  if (!codecs.startsWith("mp4a.40.")) throw new Error(`audio track ${id} is ${codecs}, not AAC`);
}

async function packageAudio(ff: Ffmpeg, dir: string, audio: CmafAudio, label: AudioLabel, opts: RunOptions) {
  const t = await packageTrack(ff, dir, label.id, audio.file, "audio", undefined, opts);
  const { info, ...rest } = t;
  checkAac(info.codecs, label.id);
  const track: CmafAudioTrack & { files: string[] } = {
    ...rest,
    ...label,
    kind: "audio",
    channels: info.channels ?? 2,
    sampleRate: info.sampleRate ?? info.timescale,
  };
  return track;
}

/**
 * Variant ids are folder names under `hls/`, unique, and never `audio…`: the audio tracks'
 * folders (`audio`, `audio-2`, …) share that namespace.
 */
export function checkVariants(variants: readonly Pick<CmafVariant, "id">[]): void {
  if (!variants.length) throw new Error("no video variants to package");
  const seen = new Set<string>();
  for (const v of variants) {
    if (!VARIANT_ID.test(v.id) || /^audio/i.test(v.id))
      throw new Error(`variant id "${v.id}" is not a usable folder name`);
    if (seen.has(v.id)) throw new Error(`variant id "${v.id}" appears twice`);
    seen.add(v.id);
  }
}

/** One packaged representation: its manifests' inputs and the files it wrote (relative to the output folder). */
export interface CmafRepresentation {
  id: string;
  kind: "video" | "audio";
  codecs: string;
  /** `hls/<id>/index.m3u8`. */
  playlist: string;
  /** `hls/<id>/init.mp4`. */
  init: string;
  /** `hls/<id>/seg_00001.m4s` …, in play order; HLS and DASH name exactly these. */
  segments: string[];
}

export interface CmafResult {
  master: typeof CMAF_MASTER;
  mpd: typeof CMAF_MPD;
  /** Every file written, relative to the output folder: each representation's, then the two manifests. */
  files: string[];
  representations: CmafRepresentation[];
  /** What the manifests were built from (durations, bandwidths, codec strings). */
  presentation: CmafPresentation;
}

/** At most this many ffmpeg remuxes at once: each is a stream copy, bound by I/O more than CPU. */
const TRACKS_AT_ONCE = 2;

/** `fn` over `items`, at most {@link TRACKS_AT_ONCE} at a time; results in the items' order. */
export async function inLanes<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(TRACKS_AT_ONCE, items.length) }, lane));
  return out;
}

/** A captions file to publish beside the stream: a WebVTT file and its language tag. */
export interface CmafCaptionsInput {
  language: string;
  file: string;
}

export interface PackageOptions extends RunOptions {
  /** WebVTT captions, each its own rendition in the master's SUBTITLES group "subs". */
  subtitles?: readonly CmafCaptionsInput[];
}

/**
 * Package every variant and audio track under `dir` as CMAF segments with an HLS master and
 * media playlists and a DASH manifest over the same files. Nothing is re-encoded. The audio
 * tracks (none for a silent video) are one HLS group and one DASH set each, in the order given;
 * the first is written to `hls/audio/`, the others to `hls/audio-2/` …. Files already in `dir`
 * are left alone; `files` lists exactly what this run wrote.
 */
export async function packageCmaf(
  ff: Ffmpeg,
  dir: string,
  variants: readonly CmafVariant[],
  audio: readonly CmafAudio[] = [],
  opts: PackageOptions = {},
): Promise<CmafResult> {
  checkVariants(variants);
  const labels = labelAudio(audio);
  const { subtitles = [], ...run } = opts;
  type Job = { video: CmafVariant } | { audio: CmafAudio; label: AudioLabel };
  type Packaged = (CmafVideoTrack | CmafAudioTrack) & { files: string[] };
  const jobs: Job[] = [
    ...orderVariants(variants).map((v) => ({ video: v })),
    ...audio.map((a, i) => ({ audio: a, label: labels[i]! })),
  ];
  // one queue for both kinds: the audio remuxes need not wait for the last video one
  const packaged = await inLanes<Job, Packaged>(jobs, (j) =>
    "video" in j ? packageVideo(ff, dir, j.video, run) : packageAudio(ff, dir, j.audio, j.label, run),
  );
  const video = packaged.filter((t): t is CmafVideoTrack & { files: string[] } => t.kind === "video");
  const sound = packaged.filter((t): t is CmafAudioTrack & { files: string[] } => t.kind === "audio");
  const duration = Math.max(...video.map(trackEnd));
  const subs = await Promise.all(subtitles.map((s) => packageSubtitles(dir, s, duration)));
  const presentation: CmafPresentation = {
    video: video.map(withoutFiles),
    audio: sound.map(withoutFiles),
    subtitles: subs,
  };
  await mkdir(join(dir, "dash"), { recursive: true });
  await writeFile(join(dir, CMAF_MASTER), cmafMasterPlaylist(presentation));
  await writeFile(join(dir, CMAF_MPD), cmafDashManifest(presentation));
  const tracks = [...video, ...sound];
  return {
    master: CMAF_MASTER,
    mpd: CMAF_MPD,
    files: [...tracks.flatMap((t) => t.files), ...subs.flatMap((s) => [s.vtt, s.playlist]), CMAF_MASTER, CMAF_MPD],
    representations: tracks.map((t) => ({
      id: t.id,
      kind: t.kind,
      codecs: t.codecs,
      playlist: t.playlist,
      init: t.init,
      segments: t.segments.map((s) => s.path),
    })),
    presentation,
  };
}

/**
 * A captions file copied into its own HLS folder, with a one-segment media playlist. For MPEG-TS
 * segments, `mpegts` is the 90 kHz timestamp the video's time 0 has in them: the file gets it as
 * its X-TIMESTAMP-MAP (RFC 8216 §3.5; without one, players put cue time 0 at timestamp 0) and the
 * playlist is version 3, like the TS ones.
 */
export async function packageSubtitles(
  dir: string,
  s: CmafCaptionsInput,
  duration: number,
  mpegts?: number,
): Promise<CmafSubtitles> {
  if (!/^[A-Za-z0-9-]{1,20}$/.test(s.language)) throw new Error(`captions language "${s.language}" is not a tag`);
  const folder = `hls/captions-${s.language}`;
  const vtt = join(dir, folder, "captions.vtt");
  await mkdir(join(dir, folder), { recursive: true });
  if (mpegts === undefined) await copyFile(s.file, vtt);
  else await writeFile(vtt, withTimestampMap(await readFile(s.file, "utf8"), mpegts));
  await writeFile(join(dir, folder, "index.m3u8"), subtitlesMediaPlaylist(duration, mpegts === undefined ? 7 : 3));
  return { language: s.language, vtt: `${folder}/captions.vtt`, playlist: `${folder}/index.m3u8` };
}

/** A WebVTT file with `X-TIMESTAMP-MAP` in its header (after the WEBVTT line), mapping cue time 0 to `mpegts`. */
export function withTimestampMap(vtt: string, mpegts: number): string {
  const lines = vtt.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (!lines[0]?.startsWith("WEBVTT")) throw new Error("captions file is not WebVTT");
  const header = lines.findIndex((l) => l.trim() === "");
  const end = header < 0 ? lines.length : header;
  // a map already there would contradict ours
  const kept = lines.slice(1, end).filter((l) => !l.startsWith("X-TIMESTAMP-MAP="));
  const map = `X-TIMESTAMP-MAP=MPEGTS:${Math.round(mpegts)},LOCAL:00:00:00.000`;
  return [lines[0], map, ...kept, ...lines.slice(end)].join("\n");
}

function withoutFiles<T extends { files: string[] }>(t: T): Omit<T, "files"> {
  const { files: _, ...rest } = t;
  return rest;
}
