import { rename, rm } from "node:fs/promises";
import type { QualityTarget, ReachedQuality, Rendition, VideoFormat } from "@videoforge/events";
import {
  chunkSsimArgs,
  codecCrf,
  crfStep,
  encodeChunkArgs,
  parseChunkSsim,
  type ChunkPictures,
  type X264Settings,
} from "../ffmpeg/args.ts";
import type { Ffmpeg, RunOptions } from "../ffmpeg/run.ts";

/**
 * Target quality: each rung of a chunk gets the highest CRF (fewest bits) whose encode reaches the target SSIM.
 *
 * Every probe is a full encode of the chunk at the final settings, measured against the pictures the encoder
 * was given, so the encode that is kept is one that was measured: a probe at other settings, or on a sample of
 * the frames, can score differently from the final encode (the disagreement Av1an's users report). Each round
 * encodes every rung still searching in one ffmpeg (one decode) and measures them in another.
 */

/** One measured encode of a rung. */
export interface Probe {
  /** x264's scale (the other formats add their offset, see `codecCrf`). */
  crf: number;
  ssim: number;
}

export interface CrfBounds {
  min: number;
  max: number;
  /** The encoder's finest step. */
  step: number;
}

/** x264-scale CRFs searched: 10 is near transparent, 40 is visibly soft at any size. */
export const CRF_MIN = 10;
export const CRF_MAX = 40;
/**
 * SSIM in decibels, -10·log10(1 - SSIM), falls about linearly with CRF; 0.25 dB per CRF step is what x264
 * veryfast measured on 360p–1080p test pictures here (0.22–0.32), used until two probes give the slope.
 */
export const DB_PER_CRF = 0.25;
/** Aim this far above the target, so rounding and noise land a probe on the passing side. */
const MARGIN_DB = 0.05;
/** Below this slope more bits no longer buy quality (the rung's bitrate ceiling holds): stop. */
const PLATEAU_DB_PER_CRF = 0.02;
/** The furthest one probe's slope is trusted: the curve bends (0.2–0.6 dB per step measured on one chunk). */
const MAX_JUMP = 8;
/** Encodes allowed past the probe budget when none has reached the target: the re-encodes of a chunk below it. */
export const EXTRA_ENCODES = 2;

export const ssimDb = (ssim: number) => -10 * Math.log10(Math.max(1e-9, 1 - ssim));

/**
 * The CRF to encode next, or null when the search is over: the passing probe with the highest CRF has a
 * failing one a step above it, or no CRF in bounds can do better. The next CRF is interpolated in SSIM
 * decibels between the closest passing and failing probes (else extrapolated, at most `MAX_JUMP` steps),
 * rounded to the encoder's step toward the passing side, and kept strictly inside that bracket.
 */
export function nextCrf(probes: readonly Probe[], target: number, bounds: CrfBounds): number | null {
  if (probes.length === 0) return null;
  const passing = probes.filter((p) => p.ssim >= target);
  const failing = probes.filter((p) => p.ssim < target);
  const pass = passing.reduce<Probe | undefined>((a, p) => (!a || p.crf > a.crf ? p : a), undefined);
  const fail = failing.reduce<Probe | undefined>((a, p) => (!a || p.crf < a.crf ? p : a), undefined);
  const lo = Math.max(bounds.min, pass ? pass.crf + bounds.step : bounds.min);
  const hi = Math.min(bounds.max, fail ? fail.crf - bounds.step : bounds.max);
  if (lo > hi + 1e-9) return null;

  const slope = slopeOf(pass, fail, probes);
  if (slope === null) return null; // more bits buy nothing: the best probe stands
  const anchor = pass && fail ? (target - pass.ssim > fail.ssim - target ? fail : pass) : (pass ?? fail)!;
  const jump = (ssimDb(anchor.ssim) - (ssimDb(target) + MARGIN_DB)) / slope;
  const wanted = anchor.crf + (pass && fail ? jump : Math.max(-MAX_JUMP, Math.min(MAX_JUMP, jump)));
  const stepped = Math.floor(wanted / bounds.step + 1e-9) * bounds.step;
  return Math.min(hi, Math.max(lo, stepped));
}

/** dB per CRF step: from the bracket when there is one, else from the last two probes, else the default. */
function slopeOf(pass: Probe | undefined, fail: Probe | undefined, probes: readonly Probe[]): number | null {
  const [a, b] = pass && fail ? [pass, fail] : probes.slice(-2);
  if (!a || !b || a.crf === b.crf) return DB_PER_CRF;
  const slope = (ssimDb(a.ssim) - ssimDb(b.ssim)) / (b.crf - a.crf);
  // only a lower CRF that failed to gain anything means a plateau; elsewhere a flat or noisy slope is clamped
  if (!pass && slope < PLATEAU_DB_PER_CRF) return null;
  return Math.min(1.5, Math.max(0.05, slope));
}

/** The probe kept: the passing one with the highest CRF, else the best there is. */
export function chosenProbe(probes: readonly Probe[], target: number): Probe {
  const passing = probes.filter((p) => p.ssim >= target);
  if (passing.length) return passing.reduce((a, p) => (p.crf > a.crf ? p : a));
  return probes.reduce((a, p) => (p.ssim > a.ssim ? p : a));
}

/** Whether a rung may take another encode: within the probe budget, or past it only while below the target. */
export function mayEncodeAgain(probes: readonly Probe[], target: QualityTarget): boolean {
  const met = probes.some((p) => p.ssim >= target.ssim);
  return probes.length < target.maxProbes || (!met && probes.length < target.maxProbes + EXTRA_ENCODES);
}

export interface TargetedEncode {
  input: string;
  outputs: { rendition: Rendition; file: string }[];
  settings: X264Settings;
  pictures: ChunkPictures & { codec: VideoFormat };
  target: QualityTarget;
  /** Runs one encode (the caller's limits: timeout, stall, abort, the picture limit). */
  encode: (args: string[]) => Promise<void>;
  measure: Pick<RunOptions, "signal" | "timeoutMs">;
}

/**
 * Encode every rung of a chunk to the target: rounds of encodes and measurements until each rung's search
 * ends; the kept encode of each is moved to its output file, the others are deleted. Returns, per rung,
 * the codec's CRF, the SSIM measured on the kept encode and how many encodes it took.
 */
export async function encodeToTarget(ff: Ffmpeg, job: TargetedEncode): Promise<ReachedQuality[]> {
  const { input, outputs, settings, pictures, target } = job;
  const bounds = { min: CRF_MIN, max: CRF_MAX, step: crfStep(pictures.codec) };
  const probes: Probe[][] = outputs.map(() => []);
  const files: Map<number, string>[] = outputs.map(() => new Map());
  let next: (number | null)[] = outputs.map(() => settings.crf);
  for (let round = 0; next.some((c) => c !== null); round++) {
    const todo = outputs.flatMap((o, i) =>
      next[i] === null ? [] : [{ i, rendition: o.rendition, crf: next[i]!, file: `${o.file}.probe${round}` }],
    );
    await job.encode(encodeChunkArgs(input, todo, settings, pictures, ff.capabilities));
    const args = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", ...chunkSsimArgs(input, todo, pictures)];
    const { stderr } = await ff.exec("ffmpeg", args, job.measure);
    const scores = parseChunkSsim(stderr, todo.length);
    todo.forEach((t, k) => {
      probes[t.i]!.push({ crf: t.crf, ssim: scores[k]! });
      files[t.i]!.set(t.crf, t.file);
    });
    next = probes.map((p) => (mayEncodeAgain(p, target) ? nextCrf(p, target.ssim, bounds) : null));
  }
  return Promise.all(
    outputs.map(async (o, i) => {
      const kept = chosenProbe(probes[i]!, target.ssim);
      for (const [crf, file] of files[i]!) {
        if (crf === kept.crf) await rename(file, o.file);
        else await rm(file, { force: true });
      }
      return {
        crf: codecCrf(pictures.codec, kept.crf),
        ssim: kept.ssim,
        probes: probes[i]!.length,
        met: kept.ssim >= target.ssim,
      };
    }),
  );
}
