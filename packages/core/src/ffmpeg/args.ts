import type { Rendition } from "@videoforge/events";
import type { FfmpegCapabilities } from "./locate.ts";

/**
 * Argument builders, one per kind of ffmpeg job: pure functions of their inputs (what the
 * ffmpeg in use can do arrives as `FfmpegCapabilities`, resolved once by the caller's
 * composition). The pipeline and the single-pass baseline share `x264Args`, so quality
 * comparisons compare like with like.
 */
export interface X264Settings {
  preset: string;
  crf: number;
  /** Keyframe interval in frames; equal on every rung so HLS segments line up. */
  gop: number;
}

/** Picture turn for the probe's clockwise rotation, applied by us because chunks may not carry it. */
export function rotateFilter(rotation: number): string[] {
  if (rotation === 90) return ["transpose=clock"];
  if (rotation === 180) return ["hflip", "vflip"];
  if (rotation === 270) return ["transpose=cclock"];
  return [];
}

/** Frames shown in [start, end) of the input's own timeline (seconds; end open when undefined). */
export interface FrameRange {
  start: number;
  end?: number;
}

/** Timestamps read back from ffprobe carry 6 decimals; frames are at least 4 ms apart. */
const EPS = 0.001;

/** One decode, split to every rung: `[0:v]select,...split=N[s0]..;[s0]scale=..[v0];..` */
export function ladderFilter(renditions: readonly Rendition[], rotation: number, range?: FrameRange): string {
  const n = renditions.length;
  const upTo = range?.end !== undefined ? `*lt(t,${(range.end - EPS).toFixed(6)})` : "";
  const select = range ? [`select='gte(t,${(range.start - EPS).toFixed(6)})${upTo}'`] : [];
  const pre = [...select, ...rotateFilter(rotation), "format=yuv420p"];
  const splits = renditions.map((_, i) => `[s${i}]`).join("");
  const head = `[0:v:0]${[...pre, `split=${n}`].join(",")}${splits}`;
  const scales = renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1[v${i}]`);
  return [head, ...scales].join(";");
}

export function x264Args(r: Rendition, s: X264Settings, caps: FfmpegCapabilities): string[] {
  return [
    // without B-frames no reordering delay, so the legacy muxer needs no edit list
    ...(caps.legacyMuxer ? ["-bf", "0"] : []),
    "-c:v",
    "libx264",
    "-preset",
    s.preset,
    "-crf",
    String(s.crf),
    "-maxrate",
    String(r.maxrate),
    "-bufsize",
    String(r.maxrate * 2),
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
    "-g",
    String(s.gop),
    "-keyint_min",
    String(s.gop),
    "-sc_threshold",
    "0",
  ];
}

/** Keep the source's timestamps exactly (VFR stays VFR, no frame dropped or duplicated). */
export function passthroughTiming(caps: Pick<FfmpegCapabilities, "fpsModeFlag">): string[] {
  return [caps.fpsModeFlag, "passthrough", "-enc_time_base", "-1"];
}

/**
 * Timestamp offset for encoded chunks: every chunk keeps source time plus this constant,
 * so B-frame decode times never go negative (which would make the muxer shift one chunk
 * differently from the others). Assembly removes it.
 */
export const CHUNK_TS_OFFSET = 10;

/** Protocols a presigned read may use: the storage endpoint over HTTP(S), nothing else. */
const REMOTE_PROTOCOLS = "http,https,tcp,tls";

/**
 * The options in front of every `-i`: which protocols the read may use (`file` for a local
 * copy, HTTP(S) for a presigned URL, with `concat` when pieces are joined) and, when known,
 * the demuxer (`-f`) the probe validated, so that ffmpeg never guesses a format from bytes a
 * user wrote (a playlist named .mp4 would otherwise open other files or addresses).
 */
export function inputArgs(input: string, format?: string): string[] {
  const remote = /^(concat:)?https?:\/\//.test(input);
  const protocols = `${input.startsWith("concat:") ? "concat," : ""}${remote ? REMOTE_PROTOCOLS : "file"}`;
  return ["-protocol_whitelist", protocols, ...(format ? ["-f", format] : []), "-i", input];
}

/** What an output is read as: our MP4s (`mov`), HLS media playlists, their MPEG-TS segments. */
export type OutputFormat = "mov" | "hls" | "mpegts";

/**
 * Decode a whole output to nothing, failing at the first error: `-xerror` with every error
 * check, the loop filter skipped (it only smooths pictures; ~10% of the decode). The output is
 * read like a source: only the protocols its address needs and the demuxer named, so a
 * replaced object cannot make the check open other files or addresses.
 */
export function decodeCheckArgs(input: string, format: OutputFormat, fpsModeFlag: string): string[] {
  return [
    "-err_detect",
    "explode",
    "-xerror",
    "-skip_loop_filter",
    "all",
    ...inputArgs(input, format),
    "-map",
    "0:v:0",
    fpsModeFlag,
    "passthrough",
    "-f",
    "null",
    "-",
  ];
}

/**
 * Encode one chunk to every rung as MPEG-TS with source timestamps. `range` picks the
 * chunk's frames out of its piece (plus the next piece's head); `frames` stops decoding
 * as soon as every rung has them all. `format` is the validated demuxer; `maxPixels` makes
 * the decoder refuse any picture past the limit, however late in the stream its size changes.
 */
export function encodeChunkArgs(
  input: string,
  outputs: { rendition: Rendition; file: string }[],
  s: X264Settings,
  opts: {
    rotation: number;
    threads: number;
    range: FrameRange;
    frames: number;
    seek?: number;
    format?: string;
    maxPixels?: number;
  },
  caps: FfmpegCapabilities,
): string[] {
  const filter = ladderFilter(
    outputs.map((o) => o.rendition),
    opts.rotation,
    opts.range,
  );
  const seek = opts.seek !== undefined ? seekArgs(opts.seek) : [];
  const maxPixels = opts.maxPixels ? ["-max_pixels", String(opts.maxPixels)] : [];
  const args = [
    "-noautorotate",
    "-threads",
    String(opts.threads),
    ...seek,
    ...maxPixels,
    ...inputArgs(input, opts.format),
    "-filter_complex",
    filter,
    "-copyts",
  ];
  outputs.forEach((o, i) => {
    args.push(
      "-map",
      `[v${i}]`,
      "-frames:v",
      String(opts.frames),
      ...x264Args(o.rendition, s, caps),
      ...passthroughTiming(caps),
      "-threads",
      String(opts.threads),
      "-an",
      "-output_ts_offset",
      String(CHUNK_TS_OFFSET),
      "-muxdelay",
      "0",
      "-muxpreload",
      "0",
      "-f",
      "mpegts",
      o.file,
    );
  });
  return args;
}

/** What a decoder says when `-max_pixels` refuses a picture: the run is stopped there (RunOptions.failOnStderr). */
export const PICTURE_TOO_LARGE = /exceeds specified max pixel count/;

/**
 * Start demuxing at the last keyframe at or before `seconds` of the input's own timeline
 * (`-seek_timestamp`: not shifted by the file's start time), without ffmpeg's own trim: the
 * select filter drops the frames before the range, by the same timestamps the plan used.
 */
export function seekArgs(seconds: number): string[] {
  return ["-seek_timestamp", "1", "-noaccurate_seek", "-ss", seconds.toFixed(6)];
}

/** The whole audio track, encoded once. */
export function audioArgs(input: string, output: string, format?: string): string[] {
  return [...inputArgs(input, format), "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "128k", "-ac", "2", output];
}

/**
 * Keyframe-aligned split of the video track by stream copy, cutting at decode-order
 * packet indices. MPEG-TS where the codec allows (pieces then join byte-wise and keep
 * 90 kHz timestamps), Matroska otherwise.
 */
export function splitArgs(
  input: string,
  cutPackets: readonly number[],
  pattern: string,
  format: "mpegts" | "matroska",
  inputFormat?: string,
): string[] {
  const seg = cutPackets.length ? ["-segment_frames", cutPackets.join(",")] : ["-segment_time", "1000000000"];
  return [
    ...inputArgs(input, inputFormat),
    "-map",
    "0:v:0",
    "-c",
    "copy",
    "-f",
    "segment",
    ...seg,
    "-reset_timestamps",
    "0",
    "-segment_format",
    format,
    pattern,
  ];
}

/** Codecs MPEG-TS carries; their pieces can be read together with the next one. */
export const TS_CODECS = new Set(["h264", "hevc", "mpeg2video", "mpeg1video"]);

/**
 * Join encoded chunks (byte-concatenated MPEG-TS) and the audio into one MP4. MPEG-TS
 * carries no frame durations, so the last frame's comes from the source (setts, ffmpeg >= 4.4).
 */
export function assembleArgs(
  concatInput: string,
  audio: string | null,
  output: string,
  lastFrameSeconds: number,
  caps: Pick<FfmpegCapabilities, "legacyMuxer">,
): string[] {
  const audioIn = audio ? inputArgs(audio, "mov") : [];
  const audioMap = audio ? ["-map", "1:a:0"] : [];
  const ticks = Math.max(1, Math.round(lastFrameSeconds * 90_000));
  // pts and dts spelled out: ffmpeg 5.1's setts otherwise loses the B-frame reordering
  const setts = caps.legacyMuxer ? [] : ["-bsf:v", `setts=pts=PTS:dts=DTS:duration=${ticks}`];
  // the legacy muxer's edit list, lacking the last frame's duration, cuts that frame off
  const editList = caps.legacyMuxer ? ["-use_editlist", "0"] : [];
  return [
    ...inputArgs(concatInput, "mpegts"),
    ...audioIn,
    "-map",
    "0:v:0",
    ...audioMap,
    "-c",
    "copy",
    ...setts,
    ...editList,
    "-movflags",
    "+faststart",
    output,
  ];
}

/** Package one rendition MP4 as an HLS VOD media playlist with TS segments. */
export function hlsArgs(input: string, playlist: string, segmentPattern: string, segmentSeconds: number): string[] {
  return [
    ...inputArgs(input, "mov"),
    "-map",
    "0",
    "-c",
    "copy",
    "-f",
    "hls",
    "-hls_time",
    String(segmentSeconds),
    "-hls_playlist_type",
    "vod",
    "-hls_segment_filename",
    segmentPattern,
    playlist,
  ];
}

export function posterArgs(input: string, atSeconds: number, output: string): string[] {
  return ["-ss", atSeconds.toFixed(3), ...inputArgs(input, "mov"), "-frames:v", "1", "-q:v", "3", output];
}
