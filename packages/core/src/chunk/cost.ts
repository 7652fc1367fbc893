import type { Rendition, VideoFormat } from "@videoforge/events";

/** A 1080p frame's pixels: the unit the estimate counts work in. */
const FULL_HD = 1920 * 1080;

/**
 * CPU-seconds to encode one 1080p frame of output, per format, at the default settings (x264 veryfast, x265
 * veryfast, libvpx-vp9 cpu-used 5, SVT-AV1 preset 9). Measured here on generated 1080p clips: x264 took 0.043
 * (test pattern) to 0.052 (with grain); against it x265 took 2.8–3.2×, SVT-AV1 3.0–3.2×, libvpx-vp9 6.6–16×.
 */
const SECONDS_PER_FRAME: Record<VideoFormat, number> = { h264: 0.045, hevc: 0.135, av1: 0.14, vp9: 0.45 };

/** CPU-seconds to decode one 1080p frame of source: 0.010 for a 9 Mbit/s H.264 test pattern measured here. */
const DECODE_SECONDS_PER_FRAME = 0.01;

export interface EncodeLoad {
  codec: VideoFormat;
  /** Frames the chunk's outputs have. */
  frames: number;
  /** Frames decoded to make them (a window decodes from its seek, before its first kept frame). */
  decodedFrames: number;
  sourcePixels: number;
  renditions: readonly Pick<Rendition, "width" | "height">[];
  /** Full encodes per rung: a target quality's probes, at most. */
  encodes: number;
}

/**
 * An estimate of the CPU-seconds a chunk's encode takes, from its frames, the ladder's pixels and the format:
 * what the chunker routes by (`lambdaChunk`). Within a factor of two or so for real footage at the default
 * settings; a slower preset makes it low.
 */
export function chunkCpuSeconds(w: EncodeLoad): number {
  const outputPixels = w.renditions.reduce((sum, r) => sum + r.width * r.height, 0);
  const encode = w.frames * (outputPixels / FULL_HD) * SECONDS_PER_FRAME[w.codec] * w.encodes;
  const decode = w.decodedFrames * (w.sourcePixels / FULL_HD) * DECODE_SECONDS_PER_FRAME * w.encodes;
  return encode + decode;
}

/**
 * Whether a chunk is encoded on the encoder's Lambda rather than a Fargate task: when its estimate is at most
 * `maxCpuSeconds` (the price break-even, LAMBDA_CHUNK_CPU_SECONDS, unless the operator set another), or when
 * it is the job's short lead chunk, which the preview waits for. `maxCpuSeconds` 0 keeps every chunk on tasks.
 */
export function lambdaChunk(cpuSeconds: number, maxCpuSeconds: number, lead: boolean): boolean {
  return maxCpuSeconds > 0 && (lead || cpuSeconds <= maxCpuSeconds);
}
