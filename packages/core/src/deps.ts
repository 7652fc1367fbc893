import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Ffmpeg } from "./ffmpeg/run.ts";
import type { Db } from "./db/index.ts";
import type { Logger } from "./log.ts";
import type { EventPublisher, ObjectStore, TaskStopper } from "./ports.ts";
import type { JobStore } from "./job/store.ts";

/** What every pipeline step gets from its runtime's composition root. */
export interface Deps {
  db: Db;
  /** The job store port: what the steps read and write (named access patterns, job/store.ts). */
  jobs: JobStore;
  store: ObjectStore;
  events: EventPublisher;
  cfg: Config;
  log: Logger;
  /** The ffmpeg wrapper, its binaries located once by the composition root. */
  ffmpeg: Ffmpeg;
  /** Stops a cancelled job's running tasks where the runtime cannot see JobCancelled itself (ECS on AWS). */
  tasks?: TaskStopper;
  /** Aborted when the job this delivery works for is cancelled: running ffmpegs are killed. */
  signal?: AbortSignal;
  /** Name of the process doing the work (shown on the Gantt chart). */
  worker: string;
}

/** Run `fn` in a fresh scratch directory that is removed afterwards, whatever happens. */
export async function withScratch<T>(cfg: Config, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(cfg.tmpDir, "videoforge-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type ChunkFormat = "mpegts" | "matroska";

/** File name of a chunk's piece: `00003.ts`; with `%05d` for the index, ffmpeg's segment pattern. */
export function pieceName(index: number | "%05d", format: ChunkFormat): string {
  const stem = index === "%05d" ? index : String(index).padStart(5, "0");
  return `${stem}.${format === "mpegts" ? "ts" : "mkv"}`;
}

/** Object keys, in one place so producers and consumers agree. */
export const keys = {
  source: (jobId: string) => `jobs/${jobId}/source`,
  chunk: (jobId: string, index: number, format: ChunkFormat) => `jobs/${jobId}/chunks/${pieceName(index, format)}`,
  audio: (jobId: string) => `jobs/${jobId}/audio.m4a`,
  encodedPrefix: (jobId: string) => `jobs/${jobId}/encoded`,
  encoded: (prefix: string, rendition: string, index: number) =>
    `${prefix}/${rendition}/${String(index).padStart(5, "0")}.ts`,
  output: (jobId: string, rendition: string) => `jobs/${jobId}/${rendition}.mp4`,
  hlsDir: (jobId: string) => `jobs/${jobId}/hls`,
  poster: (jobId: string) => `jobs/${jobId}/poster.jpg`,
};
