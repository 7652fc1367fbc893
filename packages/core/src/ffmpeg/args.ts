import type { Colour, Rendition, VideoFormat, Watermark } from "@videoforge/events";
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

/**
 * Frames shown in [start, end) of the input's own timeline (seconds; end open when undefined). With a search, an
 * end is the first scene change shown in [search, end) instead, when there is one (ChunkReady's `window`).
 */
export interface FrameRange {
  start: number;
  end?: number;
  startSearch?: number;
  endSearch?: number;
}

/**
 * The select filter's scene score (0–1) from which a frame begins a new scene. Hard cuts in the generated test clips
 * score 0.45–0.86; motion, zooms and grain stay under 0.1.
 */
export const SCENE_THRESHOLD = 0.3;

/** Whether a range's frames are found while decoding (a scene search), so their count is not known before. */
export const searchesScenes = (r: FrameRange | undefined) => r?.startSearch !== undefined || r?.endSearch !== undefined;

/** A range's bound as a filter argument: a millisecond early, so a frame read back at exactly the bound is in. */
const at = (t: number) => (t - EPS).toFixed(6);

/**
 * The select expression keeping a range's frames. A searched bound is a flag in one of select's registers, set
 * (for good) at the first frame shown from `search` on whose scene score reaches SCENE_THRESHOLD, or at `bound`:
 * the rule the neighbouring window applies to the same frames, so the two agree on the cut.
 */
function rangeSelect(r: FrameRange): string {
  const reached = (register: number, search: number, bound: number) =>
    `st(${register},gt(ld(${register})+gte(t,${at(search)})*gte(scene,${SCENE_THRESHOLD})+gte(t,${at(bound)}),0))`;
  const begun = r.startSearch !== undefined ? reached(0, r.startSearch, r.start) : `gte(t,${at(r.start)})`;
  if (r.end === undefined) return begun;
  // `*` evaluates both sides, so the end's register sees every frame
  return `${begun}*${r.endSearch !== undefined ? `not(${reached(1, r.endSearch, r.end)})` : `lt(t,${at(r.end)})`}`;
}

/** Timestamps read back from ffprobe carry 6 decimals; frames are at least 4 ms apart. */
const EPS = 0.001;

/** Where the watermark sits, as overlay's x:y (a margin of 2 % of the picture's width). */
const OVERLAY_AT: Record<Watermark["position"], string> = {
  "top-left": "x=W*0.02:y=W*0.02",
  "top-right": "x=W-w-W*0.02:y=W*0.02",
  "bottom-left": "x=W*0.02:y=H-h-W*0.02",
  "bottom-right": "x=W-w-W*0.02:y=H-h-W*0.02",
  center: "x=(W-w)/2:y=(H-h)/2",
};

/** The filters that turn HDR pictures into BT.709 SDR: to linear light, to BT.709 primaries, the curve, back. */
export const TONE_MAP_FILTERS = [
  "zscale=t=linear:npl=100",
  "format=gbrpf32le",
  "zscale=p=bt709",
  "tonemap=tonemap=hable:desat=0",
  "zscale=t=bt709:m=bt709:r=tv",
];

/** Output options that tag a stream with `c` (they also apply to a stream copy, where the container carries them). */
export function colourArgs(c: Colour | undefined): string[] {
  if (!c) return [];
  return [
    ...(c.primaries ? ["-color_primaries", c.primaries] : []),
    ...(c.transfer ? ["-color_trc", c.transfer] : []),
    ...(c.matrix ? ["-colorspace", c.matrix] : []),
    ...(c.range ? ["-color_range", c.range] : []),
  ];
}

/**
 * One decode, split to every rung: `[0:v]select,...split=N[s0]..;[s0]scale=..[v0];..`. With a
 * watermark (input 1, a still image), it is scaled to its share of each rung's width, made as opaque
 * as asked, and laid over every frame; overlay repeats the image's one frame, so frame counts stay.
 */
export function ladderFilter(
  renditions: readonly Rendition[],
  rotation: number,
  range?: FrameRange,
  watermark?: Pick<Watermark, "position" | "opacity" | "width">,
  toneMap = false,
): string {
  const n = renditions.length;
  // with a search the frame count is not known up front: trim ends the decode at the range's end instead
  const stop = searchesScenes(range) && range?.end !== undefined ? [`trim=end=${at(range.end)}`] : [];
  const select = range ? [...stop, `select='${rangeSelect(range)}'`] : [];
  // tone-mapped once at the source's size, before the split: every rung gets the same SDR picture
  const pre = [...select, ...rotateFilter(rotation), ...(toneMap ? TONE_MAP_FILTERS : []), "format=yuv420p"];
  const splits = renditions.map((_, i) => `[s${i}]`).join("");
  const head = `[0:v:0]${[...pre, `split=${n}`].join(",")}${splits}`;
  if (!watermark) {
    const scales = renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1[v${i}]`);
    return [head, ...scales].join(";");
  }
  const marks = renditions.map((_, i) => `[m${i}]`).join("");
  const mark = `[1:v:0]format=rgba,colorchannelmixer=aa=${watermark.opacity.toFixed(3)},split=${n}${marks}`;
  const layered = renditions.flatMap((r, i) => [
    `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1[b${i}]`,
    `[m${i}]scale=${Math.max(2, Math.round((r.width * watermark.width) / 2) * 2)}:-2[w${i}]`,
    `[b${i}][w${i}]overlay=${OVERLAY_AT[watermark.position]}:format=auto,format=yuv420p[v${i}]`,
  ]);
  return [head, mark, ...layered].join(";");
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

/**
 * The encoder settings of every video format, derived from the one configured x264 quality so that
 * the formats of one job look alike: CRF offsets that give about the same picture as x264 at its CRF,
 * one keyframe interval everywhere (segments line up across rungs and formats), no scene-cut keyframes
 * (a chunk's keyframes must fall where the other chunks' do), and each rung's bitrate ceiling where the
 * encoder honours one. The single-pass baseline uses the same builder, so quality compares like with like.
 */
export function videoCodecArgs(
  format: VideoFormat,
  r: Rendition,
  s: X264Settings,
  caps: FfmpegCapabilities,
  threads = 0,
): string[] {
  const gop = String(s.gop);
  const cap = ["-maxrate", String(r.maxrate), "-bufsize", String(r.maxrate * 2)];
  switch (format) {
    case "h264":
      return x264Args(r, s, caps);
    case "hevc":
      return [
        "-c:v",
        "libx265",
        "-preset",
        s.preset,
        "-crf",
        String(s.crf + HEVC_CRF_OFFSET),
        ...cap,
        "-pix_fmt",
        "yuv420p",
        "-x265-params",
        // pools: x265's own thread pool, which otherwise takes every core whatever -threads says
        `keyint=${gop}:min-keyint=${gop}:scenecut=0:open-gop=0:log-level=error${threads ? `:pools=${threads}` : ""}`,
      ];
    case "vp9":
      return [
        "-c:v",
        "libvpx-vp9",
        // constant quality (-b:v 0): with a bitrate target libvpx spends a short chunk's bits differently
        // from a whole video's, so chunked and single-pass encodes would differ; the CRF alone does not
        "-crf",
        String(s.crf + VP9_CRF_OFFSET),
        "-b:v",
        "0",
        "-deadline",
        "good",
        "-cpu-used",
        "5",
        "-row-mt",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-g",
        gop,
        "-keyint_min",
        gop,
      ];
    case "av1":
      return [
        "-c:v",
        "libsvtav1",
        "-preset",
        String(AV1_PRESET),
        "-crf",
        String(s.crf + AV1_CRF_OFFSET),
        "-pix_fmt",
        "yuv420p",
        "-g",
        gop,
        ...(threads ? ["-svtav1-params", `lp=${threads}`] : []),
      ];
  }
}

/** The encoded chunks' container: MPEG-TS (joined byte-wise) where it carries the codec, NUT otherwise. */
export function chunkContainerOf(format: VideoFormat): "mpegts" | "nut" {
  return format === "h264" || format === "hevc" ? "mpegts" : "nut";
}

/** x265 at CRF+5 looks about like x264 at CRF (x265's own documentation of its default 28 against x264's 23). */
const HEVC_CRF_OFFSET = 5;
/** libvpx-vp9 CRF 32 at x264's 23: the range Google's VP9 guidance gives for 720p–1080p. */
const VP9_CRF_OFFSET = 9;
/** SVT-AV1 CRF 35 at x264's 23 (its default), preset 9: a speed a 2-core machine can keep up with. */
const AV1_CRF_OFFSET = 12;
const AV1_PRESET = 9;

/** The CRF a format's encoder is given for x264's `crf` (what a person reads beside a chunk). */
export function codecCrf(format: VideoFormat, crf: number): number {
  const offset = { h264: 0, hevc: HEVC_CRF_OFFSET, vp9: VP9_CRF_OFFSET, av1: AV1_CRF_OFFSET }[format];
  return crf + offset;
}

/** The finest CRF step each encoder takes: x264 and x265 take fractions, libvpx and SVT-AV1 whole numbers. */
export function crfStep(format: VideoFormat): number {
  return format === "h264" || format === "hevc" ? 0.5 : 1;
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

/** What an output is read as: our MP4s (`mov`), WebMs (`matroska`), HLS media playlists, their MPEG-TS segments. */
export type OutputFormat = "mov" | "matroska" | "hls" | "mpegts";

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

/** How one chunk's pictures are read and made: the same for its encode and for measuring that encode. */
export interface ChunkPictures {
  codec?: VideoFormat;
  rotation: number;
  threads: number;
  range: FrameRange;
  /** The chunk's frames, when known before decoding (not with a scene search): decoding stops once all are out. */
  frames?: number;
  seek?: number;
  format?: string;
  maxPixels?: number;
  /** The watermark's settings and its image as a local file. */
  watermark?: Pick<Watermark, "position" | "opacity" | "width"> & { file: string; format: "png" | "jpeg" };
  /** The outputs' colour tags, and whether the pictures are tone-mapped from HDR to get there. */
  colour?: Colour;
}

/** The chunk's input options and its ladder filter (`[v0]`…`[vN-1]`, one per rendition). */
function chunkInputArgs(input: string, renditions: readonly Rendition[], opts: ChunkPictures) {
  const filter = ladderFilter(renditions, opts.rotation, opts.range, opts.watermark, opts.colour?.toneMap);
  // the image was validated at upload: read it as the image it is, from a local file only
  const mark = opts.watermark ? inputArgs(opts.watermark.file, `${opts.watermark.format}_pipe`) : [];
  const seek = opts.seek !== undefined ? seekArgs(opts.seek) : [];
  const maxPixels = opts.maxPixels ? ["-max_pixels", String(opts.maxPixels)] : [];
  const args = [
    "-noautorotate",
    "-threads",
    String(opts.threads),
    ...seek,
    ...maxPixels,
    ...inputArgs(input, opts.format),
  ];
  return { args: [...args, ...mark], filter, inputs: opts.watermark ? 2 : 1 };
}

/**
 * Encode one chunk to every rung as MPEG-TS with source timestamps. `range` picks the
 * chunk's frames out of its piece (plus the next piece's head); `frames` stops decoding
 * as soon as every rung has them all. `format` is the validated demuxer; `maxPixels` makes
 * the decoder refuse any picture past the limit, however late in the stream its size changes.
 * An output's own `crf` (a targeted encode's probe) replaces the configured one.
 */
export function encodeChunkArgs(
  input: string,
  outputs: { rendition: Rendition; file: string; crf?: number }[],
  s: X264Settings,
  opts: ChunkPictures,
  caps: FfmpegCapabilities,
): string[] {
  const read = chunkInputArgs(
    input,
    outputs.map((o) => o.rendition),
    opts,
  );
  const args = [...read.args, "-filter_complex", read.filter, "-copyts"];
  outputs.forEach((o, i) => {
    args.push(
      "-map",
      `[v${i}]`,
      ...framesArgs(opts),
      ...videoCodecArgs(opts.codec ?? "h264", o.rendition, { ...s, crf: o.crf ?? s.crf }, caps, opts.threads),
      ...colourArgs(opts.colour),
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
      chunkContainerOf(opts.codec ?? "h264"),
      o.file,
    );
  });
  return args;
}

/**
 * The mean SSIM of each encoded chunk file against the very pictures its encoder was given: the chunk is
 * read and filtered as for its encode (range, rotation, tone map, watermark, scale), and each rung's
 * reference meets its encode in an `ssim@q<i>` filter (see `parseChunkSsim`). Frames are paired by order:
 * the encodes hold exactly the chunk's frames. `statsFiles` (local paths) get each rung's per-frame scores.
 */
export function chunkSsimArgs(
  input: string,
  encoded: { rendition: Rendition; file: string }[],
  opts: ChunkPictures,
  statsFiles?: readonly string[],
): string[] {
  const read = chunkInputArgs(
    input,
    encoded.map((e) => e.rendition),
    opts,
  );
  const container = chunkContainerOf(opts.codec ?? "h264");
  const files = encoded.flatMap((e) => inputArgs(e.file, container));
  const byOrder = "setpts=N/(25*TB)";
  const stats = (i: number) => (statsFiles?.[i] ? `=stats_file='${statsFiles[i]}'` : "");
  const pairs = encoded.map(
    (_, i) =>
      `[v${i}]${byOrder}[r${i}];[${read.inputs + i}:v:0]${byOrder}[d${i}];[d${i}][r${i}]ssim@q${i}${stats(i)}[o${i}]`,
  );
  const outputs = encoded.flatMap((_, i) => ["-map", `[o${i}]`, ...framesArgs(opts), "-f", "null", "-"]);
  return [...read.args, ...files, "-filter_complex", [read.filter, ...pairs].join(";"), "-copyts", ...outputs];
}

const framesArgs = (opts: ChunkPictures) => (opts.frames !== undefined ? ["-frames:v", String(opts.frames)] : []);

/** Each rung's mean SSIM ("All": Y, U and V weighted by their size) from `chunkSsimArgs`' log, in rung order. */
export function parseChunkSsim(stderr: string, count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const m = new RegExp(`\\[ssim@q${i} @ [^\\]]+\\] SSIM .*All:([\\d.]+)`).exec(stderr);
    if (!m) throw new Error(`no SSIM for rung ${i} in ffmpeg's output: ${stderr.slice(-300)}`);
    return Number(m[1]);
  });
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

/** The intermediate audio tracks a job may need (see media/formats.ts `audioTracksFor`). */
export type AudioTrack = "aac" | "opus" | "mp3";

const AUDIO_ENCODE: Record<AudioTrack, string[]> = {
  aac: ["-c:a", "aac", "-b:a", "128k", "-f", "mp4"],
  opus: ["-c:a", "libopus", "-b:a", "128k", "-f", "webm"],
  mp3: ["-c:a", "libmp3lame", "-q:a", "2", "-f", "mp3"],
};

/** A trimmed job's audio: from `seek` (seconds, the source's own timeline), `duration` long (else to the end). */
export interface AudioRange {
  seek?: number;
  duration?: number;
}

/** A range's input options (`seek`, in front of `-i`) and output options (`length`). */
function audioRangeArgs(range: AudioRange = {}): { seek: string[]; length: string[] } {
  return {
    seek: range.seek !== undefined ? ["-seek_timestamp", "1", "-ss", range.seek.toFixed(6)] : [],
    length: range.duration !== undefined ? ["-t", range.duration.toFixed(6)] : [],
  };
}

/**
 * The whole audio track, decoded once and encoded to every track the job needs (stereo), through
 * `filter` when given (loudness normalisation: the same gain for the whole track, so no seams).
 * A trim's start is an exact seek by the stream's own timestamps (ffmpeg drops the decoded samples
 * before it), so the audio starts with the first kept frame.
 */
export function audioArgs(input: string, outputs: readonly AudioOutputSpec[], format?: string, range: AudioRange = {}) {
  const { seek, length } = audioRangeArgs(range);
  return [
    ...seek,
    ...inputArgs(input, format),
    ...outputs.flatMap((o) => [
      "-map",
      `0:a:${o.stream ?? 0}`,
      "-vn",
      "-ac",
      "2",
      // loudnorm works at 192 kHz internally: resample back to the encoders' usual 48 kHz
      ...(o.filter ? ["-af", o.filter, "-ar", "48000"] : []),
      ...length,
      ...(o.language ? [`-metadata:s:a:0`, `language=${o.language}`] : []),
      ...AUDIO_ENCODE[o.track],
      o.file,
    ]),
  ];
}

/**
 * The preview's audio: the intermediate AAC (MP4) cut by stream copy into MPEG-TS HLS segments, its timestamps
 * moved to where the encoded chunks' first frame is (`offset`, seconds: CHUNK_TS_OFFSET plus the first kept frame's
 * time in the source), so players line the two up as the assembler does.
 */
export function previewAudioArgs(m4a: string, offset: number, dir: string, playlist: string): string[] {
  return [
    ...inputArgs(m4a, "mov"),
    "-map",
    "0:a:0",
    "-c",
    "copy",
    "-output_ts_offset",
    offset.toFixed(6),
    "-muxdelay",
    "0",
    "-muxpreload",
    "0",
    "-f",
    "hls",
    "-hls_time",
    "6",
    "-hls_playlist_type",
    "vod",
    "-hls_segment_type",
    "mpegts",
    "-hls_segment_filename",
    `${dir}/seg_%05d.ts`,
    `${dir}/${playlist}`,
  ];
}

/** One intermediate audio file: which source audio stream, encoded how, through which filter, tagged how. */
export interface AudioOutputSpec {
  track: AudioTrack;
  file: string;
  /** The source's audio stream (0: the first). */
  stream?: number;
  filter?: string;
  /** The stream's language tag, carried into the file so the assembler's outputs keep it. */
  language?: string;
}

/** EBU R128 loudness as ffmpeg's loudnorm measures it (its `print_format=json` fields). */
export interface LoudnessMeasure {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

/** True peak ceiling and loudness range target of the normalisation (EBU R128's usual values). */
const TRUE_PEAK = -1.5;
const LOUDNESS_RANGE = 11;

/** Measure the whole audio track once (the first pass): loudnorm prints its measurement as JSON at info level. */
export function loudnessMeasureArgs(
  input: string,
  target: number,
  format?: string,
  range?: AudioRange,
  stream = 0,
): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "info",
    ...audioRangeArgs(range).seek,
    ...inputArgs(input, format),
    "-map",
    `0:a:${stream}`,
    "-vn",
    ...audioRangeArgs(range).length,
    "-af",
    `loudnorm=I=${target}:TP=${TRUE_PEAK}:LRA=${LOUDNESS_RANGE}:print_format=json`,
    "-f",
    "null",
    "-",
  ];
}

/** The second pass: one linear gain from the measurement, so the track reaches `target` LUFS without pumping. */
export function loudnormFilter(target: number, m: LoudnessMeasure): string {
  return (
    `loudnorm=I=${target}:TP=${TRUE_PEAK}:LRA=${LOUDNESS_RANGE}:measured_I=${m.input_i}:measured_TP=${m.input_tp}` +
    `:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true`
  );
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
  audio: readonly AudioInput[],
  output: string,
  lastFrameSeconds: number,
  caps: Pick<FfmpegCapabilities, "legacyMuxer">,
  /** The sample entry to write (`hvc1`: HEVC with its parameter sets in the header, which Safari requires). */
  tag?: string,
  colour?: Colour,
): string[] {
  const ticks = Math.max(1, Math.round(lastFrameSeconds * 90_000));
  // pts and dts spelled out: ffmpeg 5.1's setts otherwise loses the B-frame reordering
  const setts = caps.legacyMuxer ? [] : ["-bsf:v", `setts=pts=PTS:dts=DTS:duration=${ticks}`];
  // the legacy muxer's edit list, lacking the last frame's duration, cuts that frame off
  const editList = caps.legacyMuxer ? ["-use_editlist", "0"] : [];
  return [
    ...inputArgs(concatInput, "mpegts"),
    ...audioInputs(audio, "mov"),
    "-map",
    "0:v:0",
    ...audioMaps(audio),
    "-c",
    "copy",
    ...setts,
    ...editList,
    ...(tag ? ["-tag:v", tag] : []),
    ...colourArgs(colour),
    "-movflags",
    "+faststart",
    output,
  ];
}

/** An intermediate audio file to mux beside the video, with its stream's language. */
export interface AudioInput {
  file: string;
  language?: string;
}

function audioInputs(audio: readonly AudioInput[], format: "mov" | "matroska"): string[] {
  return audio.flatMap((a) => inputArgs(a.file, format));
}

/**
 * Every audio input as the output's audio tracks, in the source's order, each with its language; the first is
 * the default (MP4: the one enabled track of its group, so players do not mix them).
 */
function audioMaps(audio: readonly AudioInput[]): string[] {
  return audio.flatMap((a, i) => [
    "-map",
    `${i + 1}:a:0`,
    ...(a.language ? [`-metadata:s:a:${i}`, `language=${a.language}`] : []),
    ...(audio.length > 1 ? [`-disposition:a:${i}`, i === 0 ? "default" : "0"] : []),
  ]);
}

/**
 * Join NUT chunks (codecs MPEG-TS does not carry: VP9, AV1) and the audio into one WebM or MP4. The concat
 * demuxer reads a list of our own files with each piece's planned duration, so every piece starts where the
 * previous one ends in the source; `-safe 0` because the list names absolute scratch paths.
 */
export function joinPiecesArgs(
  list: string,
  audio: readonly AudioInput[],
  output: string,
  container: "mp4" | "webm",
  colour?: Colour,
): string[] {
  return [
    "-protocol_whitelist",
    "file",
    "-f",
    "concat",
    "-safe",
    "0",
    "-i",
    list,
    ...audioInputs(audio, container === "webm" ? "matroska" : "mov"),
    "-map",
    "0:v:0",
    ...audioMaps(audio),
    "-c",
    "copy",
    // NUT keeps no colour tags, and VP9's bitstream carries only the matrix: the container gets them here
    ...colourArgs(colour),
    ...(container === "mp4" ? ["-movflags", "+faststart", "-f", "mp4"] : ["-f", "webm"]),
    output,
  ];
}

export function posterArgs(input: string, atSeconds: number, output: string, format: OutputFormat = "mov"): string[] {
  return ["-ss", atSeconds.toFixed(3), ...inputArgs(input, format), "-frames:v", "1", "-q:v", "3", output];
}
