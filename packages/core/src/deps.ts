import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Ffmpeg } from "./ffmpeg/run.ts";
import type { AudioTrack } from "./ffmpeg/args.ts";
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

const AUDIO_EXT: Record<AudioTrack, string> = { aac: "m4a", opus: "webm", mp3: "mp3" };

/** Object keys, in one place so producers and consumers agree. */
export const keys = {
  source: (jobId: string) => `jobs/${jobId}/source`,
  chunk: (jobId: string, index: number, format: ChunkFormat) => `jobs/${jobId}/chunks/${pieceName(index, format)}`,
  /** The intermediate audio of one kind (AAC in MP4, Opus in WebM, MP3) from the source's `stream`-th audio stream. */
  audio: (jobId: string, track: AudioTrack = "aac", stream = 0) =>
    `jobs/${jobId}/audio${stream ? `-${stream + 1}` : ""}.${AUDIO_EXT[track]}`,
  encodedPrefix: (jobId: string) => `jobs/${jobId}/encoded`,
  /** One encoded chunk of one variant (`720p`, `720p-vp9`): MPEG-TS, or NUT for codecs MPEG-TS does not carry. */
  encoded: (prefix: string, variant: string, index: number, container: "mpegts" | "nut" = "mpegts") =>
    `${prefix}/${variant}/${String(index).padStart(5, "0")}.${container === "nut" ? "nut" : "ts"}`,
  /** A finished file: `720p` → `720p.mp4`; a name with its extension (`720p-vp9.webm`, `audio.mp3`) as it is. */
  output: (jobId: string, file: string) => `jobs/${jobId}/${/\.[a-z0-9]+$/.test(file) ? file : `${file}.mp4`}`,
  hlsDir: (jobId: string) => `jobs/${jobId}/hls`,
  /** The growing preview's audio (work bucket): the AAC cut into MPEG-TS segments in the chunks' timeline. */
  previewAudioDir: (jobId: string) => `jobs/${jobId}/preview/audio`,
  /** The watermark image a user sent, checked (PNG or JPEG by its signature). */
  watermark: (jobId: string, format: "png" | "jpeg") => `jobs/${jobId}/watermark.${format === "png" ? "png" : "jpg"}`,
  /** A WebVTT captions track (work bucket: attached or extracted; outputs bucket: the sidecar). */
  captions: (jobId: string, language: string) => `jobs/${jobId}/captions/${language}.vtt`,
  captionsDir: (jobId: string) => `jobs/${jobId}/captions/`,
  /** Seek previews: the WebVTT track whose cues name sprite sheets beside it (jobs before storyboards have none). */
  storyboard: (jobId: string) => `jobs/${jobId}/storyboard/storyboard.vtt`,
  /** The DASH manifest over the same CMAF segments as HLS (jobs from before CMAF have none). */
  dash: (jobId: string) => `jobs/${jobId}/dash/manifest.mpd`,
  poster: (jobId: string) => `jobs/${jobId}/poster.jpg`,
};
