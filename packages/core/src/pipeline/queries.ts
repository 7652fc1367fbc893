import { SourceInfo } from "../media/probe.ts";
import type { ChunkItem, JobItem, TimelineItem } from "../db/index.ts";
import { NotFoundError } from "../errors.ts";
import { keys, type Deps } from "./deps.ts";

/** Jobs list, newest first (dashboard list, `videoforge jobs`). */
export async function listJobs(deps: Pick<Deps, "db">, owner: string, limit = 100) {
  const res = await deps.db.entities.job.query.byOwner({ owner }).go({ order: "desc", limit });
  return res.data.map(summarize);
}

/** One job with its chunks and timeline in one query (job detail page, `videoforge events`). */
export async function getJobView(deps: Pick<Deps, "db">, owner: string, jobId: string) {
  const res = await deps.db.collections.jobView({ jobId }).go({ pages: "all" });
  const job = res.data.job[0];
  // someone else's job looks exactly like a missing one: ids are not confirmed
  if (!job || job.owner !== owner) throw new NotFoundError(`No job ${jobId}.`);
  const chunks: ChunkItem[] = [...res.data.chunk].sort((a, b) => a.index - b.index);
  const timeline: TimelineItem[] = [...res.data.timeline].sort((a, b) => a.at.localeCompare(b.at));
  return { job: summarize(job), chunks, timeline };
}

export function summarize(job: JobItem) {
  const parsed = SourceInfo.safeParse(job.source);
  const source = parsed.success ? parsed.data : null;
  const chunksEncoded = job.encodedChunks?.length ?? 0;
  const progress = job.chunkCount ? chunksEncoded / job.chunkCount : 0;
  return {
    jobId: job.jobId,
    status: job.status,
    name: job.sourceName,
    size: job.sourceSize ?? null,
    ladder: job.ladder,
    source: source && { frames: source.video.frames, duration: source.duration, width: source.video.displayWidth, height: source.video.displayHeight, fps: source.video.fps, audio: source.audio !== null },
    chunkCount: job.chunkCount ?? null,
    chunksEncoded,
    progress,
    outputs: (job.outputs as unknown[] | undefined) ?? [],
    hls: job.hls ?? null,
    poster: job.poster ?? null,
    error: job.errorReason ? { stage: job.errorStage ?? null, reason: job.errorReason } : null,
    createdAt: job.createdAt,
    retryOf: job.retryOf ?? null,
    timings: {
      chunking: span(job.chunkingAt, job.encodingAt),
      encoding: span(job.encodingAt, job.assemblingAt),
      assembly: span(job.assemblingAt, job.endedAt),
      total: span(job.createdAt, job.endedAt),
    },
  };
}
export type JobSummary = ReturnType<typeof summarize>;

const span = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / 1000 : null);

/** Presigned download URLs for every output of a completed job. */
export async function outputUrls(deps: Pick<Deps, "db" | "store" | "cfg">, owner: string, jobId: string, expiresSeconds = deps.cfg.urlSeconds.download) {
  const { job } = await getJobView(deps, owner, jobId);
  if (job.status !== "COMPLETED") return { status: job.status, outputs: [], hls: null, poster: null };
  const bucket = deps.cfg.buckets.outputs;
  const outputs = await Promise.all(
    (job.outputs as { rendition: string; key: string; bytes: number; width: number; height: number }[]).map(async (o) => ({
      ...o,
      url: await deps.store.presignGet(bucket, o.key, expiresSeconds, `${job.name.replace(/\.[^.]+$/, "")}-${o.rendition}.mp4`),
    })),
  );
  return {
    status: job.status,
    outputs,
    hls: job.hls ? await deps.store.presignGet(bucket, job.hls, expiresSeconds) : null,
    poster: await deps.store.presignGet(bucket, keys.poster(jobId), expiresSeconds),
    /** Seconds the URLs stay valid: clients renew them before that. */
    expiresIn: expiresSeconds,
  };
}
