import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  chunkSsimArgs,
  config,
  DEFAULT_LADDER,
  defaultFfmpeg,
  encodeChunkArgs,
  fitLadder,
  gopFor,
  parseChunkSsim,
  ssimDb,
} from "@videoforge/core";
import type { Rendition } from "@videoforge/events";
import type { reachedQuality } from "../commands.ts";
import { CLI_BIN } from "./compare.ts";
import { runMeasured } from "./measure.ts";
import { describeSource, generateSource, type BenchSource } from "./source.ts";
import { markdownTable } from "./table.ts";

/**
 * `videoforge bench --target-ssim 0.97`: the pipeline with a target quality against the same pipeline at its one
 * CRF, and the bytes saved against a fixed CRF that gives the same mean SSIM, and against one that gives the
 * same floor (its worst chunk, over the same chunks, at the target). The fixed encodes are the encoder's own
 * command over the whole source as one chunk (same settings, same SSIM measurement, per-frame scores averaged
 * over the targeted job's chunks), at CRFs from 23 up in steps of 4 until both are bracketed; the sizes are
 * interpolated between the two bracketing points (log bytes, linear in SSIM decibels).
 */
export interface QualityOptions {
  source?: string;
  seconds: number;
  scenes?: boolean;
  target: number;
  chunkSeconds?: number;
  workDir: string;
  log: (line: string) => void;
}

interface FixedPoint {
  crf: number;
  /** Mean over rungs of each rung's mean SSIM. */
  ssim: number;
  /** The lowest mean SSIM of any rung over any of the targeted job's chunks. */
  floor: number;
  bytes: number;
}

type Reached = ReturnType<typeof reachedQuality>;

export async function qualityBench(opts: QualityOptions): Promise<string> {
  const { log, target } = opts;
  let file = opts.source;
  if (!file) {
    log(`generating a ${opts.seconds} s 1080p30 source${opts.scenes ? " of three kinds of picture" : ""}…`);
    file = await generateSource(opts.workDir, { seconds: opts.seconds, scenes: opts.scenes });
  }
  const source = await describeSource(file);
  const renditions = fitLadder(DEFAULT_LADDER, source.width, source.height);
  const env: Record<string, string> = opts.chunkSeconds ? { VIDEOFORGE_CHUNK_SECONDS: String(opts.chunkSeconds) } : {};
  const encode = async (name: string, extra: string[]) => {
    const m = await runMeasured(
      process.execPath,
      [CLI_BIN, "encode", source.file, "--out", join(opts.workDir, name), "--json", ...extra],
      { env, timeoutMs: Math.max(600, source.duration * 60) * 1000 },
    );
    if (m.code !== 0) throw new Error(`videoforge encode exited ${m.code}: ${m.stderrTail.slice(-1500)}`);
    return { m, summary: JSON.parse(m.stdout) as { quality: Reached | null } };
  };
  log("pipeline, one CRF…");
  const plain = await encode("fixed", []);
  log(`pipeline, target SSIM ${target}…`);
  const targeted = await encode("targeted", ["--target-ssim", String(target)]);
  const reached = targeted.summary.quality;
  if (!reached) throw new Error("the targeted job reported no quality");
  const mean = meanSsim(reached);

  const fixed: FixedPoint[] = [];
  const sweep = async (crf: number) => {
    log(`fixed CRF ${crf} over the whole source…`);
    fixed.push(await fixedPoint(source, renditions, reached.chunks, crf, opts.workDir));
    return fixed.at(-1)!;
  };
  for (let crf = 23; fixed.length < 6; crf += 4) {
    const p = await sweep(crf);
    if (p.ssim < mean && p.floor < target) break;
  }
  // the floor may need more bits than CRF 23 gives
  for (let crf = 19; crf >= 11 && fixed.every((p) => p.floor < target); crf -= 4) await sweep(crf);
  const equal = equalSsimBytes(fixed, mean);
  const saving = equal ? 1 - reached.bytes / equal.bytes : null;
  const sameFloor = equalSsimBytes(
    fixed.map((p) => ({ ...p, ssim: p.floor })),
    target,
  );

  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const rungs = reached.chunks.flatMap((c) =>
    c.rungs.map((r) => [
      String(c.index),
      `${c.start.toFixed(1)} s`,
      r.rendition,
      String(r.crf),
      r.ssim.toFixed(4),
      String(r.kbps),
      String(r.probes),
    ]),
  );
  const lines = [
    `## Target SSIM ${target}: ${source.width}x${source.height}, ${source.duration.toFixed(1)} s, ` +
      `${renditions.map((r) => r.name).join(", ")}`,
    "",
    markdownTable(["chunk", "from", "rung", "CRF", "SSIM", "kb/s", "encodes"], rungs),
    markdownTable(
      ["", "value"],
      [
        ["lowest chunk SSIM", `${reached.minSsim?.toFixed(4)} (target ${target})`],
        ["chunks below the target", String(reached.chunks.flatMap((c) => c.rungs).filter((r) => !r.met).length)],
        ["targeted: mean SSIM, video bytes", `${mean.toFixed(4)}, ${mb(reached.bytes)}`],
        ...[...fixed]
          .sort((a, b) => a.crf - b.crf)
          .map((f) => [
            `fixed CRF ${f.crf}: mean SSIM, worst chunk, bytes`,
            `${f.ssim.toFixed(4)}, ${f.floor.toFixed(4)}, ${mb(f.bytes)}`,
          ]),
        [
          "fixed CRF at the same mean SSIM (interpolated)",
          equal ? `CRF ${equal.crf.toFixed(1)}, ${mb(equal.bytes)}` : "not bracketed",
        ],
        ["saving at the same mean SSIM", saving === null ? "—" : pct(saving)],
        [
          `fixed CRF with every chunk at ${target} (interpolated)`,
          sameFloor ? `CRF ${sameFloor.crf.toFixed(1)}, ${mb(sameFloor.bytes)}` : "not bracketed",
        ],
        ["saving at the same floor", sameFloor ? pct(1 - reached.bytes / sameFloor.bytes) : "—"],
        [
          "against fixed CRF 23",
          pct(1 - reached.bytes / fixed[0]!.bytes) + ` (at mean SSIM ${fixed[0]!.ssim.toFixed(4)})`,
        ],
        ["wall time, targeted / one CRF", ratio(targeted.m.wall, plain.m.wall)],
        ["CPU, targeted / one CRF", ratio(targeted.m.cpu, plain.m.cpu)],
        ["encodes per chunk and rung", (reached.probes / reached.chunks.flatMap((c) => c.rungs).length).toFixed(2)],
      ],
    ),
  ];
  return lines.join("\n");
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const ratio = (a: number, b: number) => `${a.toFixed(1)} / ${b.toFixed(1)} s (${(a / b).toFixed(2)}×)`;

/** The targeted job's mean SSIM: each rung's chunks weighted by how long they play, then the rungs' mean. */
export function meanSsim(q: Reached): number {
  const perRung = new Map<string, { sum: number; weight: number }>();
  for (const c of q.chunks)
    for (const r of c.rungs) {
      const acc = perRung.get(r.rendition) ?? { sum: 0, weight: 0 };
      acc.sum += r.ssim * c.duration;
      acc.weight += c.duration;
      perRung.set(r.rendition, acc);
    }
  const means = [...perRung.values()].map((a) => a.sum / a.weight);
  return means.reduce((s, m) => s + m, 0) / means.length;
}

/**
 * The bytes a fixed CRF would take for `ssim`, between the two fixed points that bracket it: log bytes
 * and CRF are interpolated linearly in SSIM decibels. Null when no two points bracket it.
 */
export function equalSsimBytes(
  points: readonly Pick<FixedPoint, "crf" | "ssim" | "bytes">[],
  ssim: number,
): { crf: number; bytes: number } | null {
  const sorted = [...points].sort((a, b) => a.crf - b.crf);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i]!;
    const b = sorted[i + 1]!;
    if (!(a.ssim >= ssim && ssim >= b.ssim)) continue;
    const f = a.ssim === b.ssim ? 0 : (ssimDb(a.ssim) - ssimDb(ssim)) / (ssimDb(a.ssim) - ssimDb(b.ssim));
    return {
      crf: a.crf + f * (b.crf - a.crf),
      bytes: Math.exp(Math.log(a.bytes) + f * (Math.log(b.bytes) - Math.log(a.bytes))),
    };
  }
  return null;
}

/**
 * Every rung over the whole source at one CRF, with the chunk encoder's own command: its mean SSIM, and the
 * lowest mean of any rung over any of `chunks` (from the per-frame scores).
 */
async function fixedPoint(
  source: BenchSource,
  renditions: readonly Rendition[],
  chunks: readonly { startFrame: number; frames: number }[],
  crf: number,
  dir: string,
): Promise<FixedPoint> {
  const ff = defaultFfmpeg();
  const settings = { ...config().x264, crf, gop: gopFor(source.fps) };
  const outputs = renditions.map((rendition) => ({ rendition, file: join(dir, `fixed-${crf}-${rendition.name}.ts`) }));
  const pictures = {
    codec: "h264" as const,
    rotation: source.rotation,
    threads: 0,
    range: { start: 0 },
    frames: source.frames,
  };
  await ff.run(encodeChunkArgs(source.file, outputs, settings, pictures, ff.capabilities));
  const stats = outputs.map((o) => `${o.file}.ssim.log`);
  const { stderr } = await ff.exec("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"],
    ...chunkSsimArgs(source.file, outputs, pictures, stats),
  ]);
  const scores = parseChunkSsim(stderr, outputs.length);
  const sizes = await Promise.all(outputs.map(async (o) => (await stat(o.file)).size));
  const perFrame = await Promise.all(stats.map(async (f) => frameScores(await readFile(f, "utf8"))));
  return {
    crf,
    ssim: scores.reduce((s, x) => s + x, 0) / scores.length,
    floor: Math.min(...perFrame.flatMap((frames) => chunkMeans(frames, chunks))),
    bytes: sizes.reduce((s, x) => s + x, 0),
  };
}

/** The "All" score of each frame, in order, from an `ssim` filter's stats file (`n:1 Y:… All:0.97 (…)`). */
export function frameScores(stats: string): number[] {
  return stats
    .split("\n")
    .map((line) => /\bAll:([\d.]+)/.exec(line)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

/** Each chunk's mean of the frame scores it covers. */
export function chunkMeans(frames: readonly number[], chunks: readonly { startFrame: number; frames: number }[]) {
  return chunks.map((c) => {
    const own = frames.slice(c.startFrame, c.startFrame + c.frames);
    if (own.length !== c.frames) throw new Error(`chunk at frame ${c.startFrame} has ${own.length} scored frames`);
    return own.reduce((s, x) => s + x, 0) / own.length;
  });
}
