import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { VideoFormat } from "@videoforge/core/formats";
import { SIZES, type SizeName } from "./bench/sizes.ts";

/**
 * `videoforge bench` and its modes. The default compares the pipeline with one plain
 * ffmpeg command; the other modes measure orchestration, memory, and the cloud model.
 * Each mode is imported when it runs: the CLI's other commands never load the bench's
 * dependencies (playwright-core among them).
 */
export type BenchMode = "compare" | "orchestration" | "memory" | "scaling" | "quality";

export interface BenchOptions {
  mode: BenchMode;
  /** `quick` (30 s) or `full` (3 min) generated 1080p clip; `seconds` overrides. */
  size?: SizeName;
  seconds?: number;
  reps?: number;
  source?: string;
  chunkSeconds?: number;
  /** The video codecs the default mode compares, each in its own table (default: h264). */
  codecs?: VideoFormat[];
  /** Keep the scratch folder here instead of a removed temp folder. */
  keep?: string;
  /** Where `--scaling` writes its chart. */
  png?: string;
  /** The quality mode's target SSIM. */
  targetSsim?: number;
  /** A generated source of three kinds of picture instead of one. */
  scenes?: boolean;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export function secondsFor(opts: Pick<BenchOptions, "size" | "seconds">): number {
  if (opts.seconds !== undefined) {
    if (!Number.isFinite(opts.seconds) || opts.seconds <= 0)
      throw new Error(`--seconds must be a positive number, got ${opts.seconds}`);
    return opts.seconds;
  }
  const size = opts.size ?? "quick";
  if (!(size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(", ")}, got "${size}"`);
  return SIZES[size];
}

/** Runs one bench mode; the exit code is non-zero only when outputs are wrong, never for timing. */
export async function bench(opts: BenchOptions): Promise<number> {
  const workDir = opts.keep ? resolve(opts.keep) : await mkdtemp(join(tmpdir(), "videoforge-bench-"));
  await mkdir(workDir, { recursive: true });
  try {
    switch (opts.mode) {
      case "compare": {
        const reps = opts.reps ?? 3;
        if (!Number.isInteger(reps) || reps < 1) {
          throw new Error(`--reps must be a whole number ≥ 1, got ${opts.reps}`);
        }
        const { compareBench } = await import("./bench/compare.ts");
        const result = await compareBench({
          source: opts.source,
          seconds: secondsFor(opts),
          reps,
          chunkSeconds: opts.chunkSeconds,
          codecs: opts.codecs,
          workDir,
          log,
        });
        process.stdout.write(result.table);
        if (!result.frameExact) {
          process.stderr.write(`pipeline outputs are not frame-exact: ${result.problems.join("; ")}\n`);
          return 1;
        }
        return 0;
      }
      case "orchestration": {
        const { orchestrationBench } = await import("./bench/orchestration.ts");
        process.stdout.write(await orchestrationBench(workDir, log));
        return 0;
      }
      case "scaling": {
        const { scalingBench } = await import("./bench/scaling-run.ts");
        process.stdout.write(
          await scalingBench(workDir, {
            seconds: opts.seconds ?? 30,
            png: resolve(opts.png ?? "docs/scaling.png"),
            log,
          }),
        );
        return 0;
      }
      case "quality": {
        const { qualityBench } = await import("./bench/quality.ts");
        process.stdout.write(
          await qualityBench({
            source: opts.source,
            seconds: secondsFor(opts),
            scenes: opts.scenes,
            target: opts.targetSsim ?? 0.97,
            chunkSeconds: opts.chunkSeconds,
            workDir,
            log,
          }),
        );
        return 0;
      }
      case "memory": {
        const { memoryBench } = await import("./bench/memory.ts");
        process.stdout.write(await memoryBench(workDir, log));
        return 0;
      }
      default:
        throw new Error(`bench mode ${opts.mode} is not available`);
    }
  } finally {
    if (!opts.keep) await rm(workDir, { recursive: true, force: true });
  }
}
