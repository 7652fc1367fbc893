import { DEFAULT_FORMATS } from "../media/formats.ts";
import type { AudioOutput, CaptionsOutput, FinalOutput } from "@videoforge/events";
import { AudioSourceInfo, SourceInfo } from "../media/probe.ts";
import type { ChunkItem, JobItem, TimelineItem } from "../db/index.ts";
import type { z } from "zod";
import { storedSpan, storedTrim } from "../media/trim.ts";
import { TimelineQuery, type JobSummary, type JobView, type TimelineRow } from "../contract.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { keys, type Deps } from "../deps.ts";
import { getJob } from "./lifecycle.ts";

/** Jobs list, newest first (dashboard list, `videoforge jobs`). */
export async function listJobs(deps: Pick<Deps, "db">, owner: string, limit = 100) {
  const res = await deps.db.entities.job.query.byOwner({ owner }).go({ order: "desc", limit });
  // a job being deleted has left the list (its rows follow it)
  return res.data.filter((j) => j.deletingAt === undefined).map(summarize);
}

/**
 * The job if `owner` owns it, in one GetItem (DELETE, retry, outputs: ownership without
 * reading the job's chunks and timeline). Someone else's job looks exactly like a missing one.
 */
export async function ownedJob(
  deps: Partial<Pick<Deps, "db" | "jobs">>,
  owner: string,
  jobId: string,
): Promise<JobItem> {
  const job = await getJob(deps, jobId);
  if (!job || job.owner !== owner) throw new NotFoundError(`No job ${jobId}.`);
  return job;
}

/**
 * The job page's version, from the job item alone. Every write that changes what the page
 * shows changes one of its parts: a transition the status, the tracker the encoded count, any
 * other job write `updatedAt`, and the writes that only add rows (a timeline event, a chunk's
 * attempt or failure) bump the job's `rev` counter after their row is written (job store).
 */
export function jobVersion(job: JobItem): string {
  const at = job.updatedAt ?? job.createdAt;
  const counts = `${job.rev ?? 0}.${job.chunksRev ?? 0}.${job.encodedChunks?.length ?? 0}`;
  return `W/"${at}.${counts}.${job.status}"`;
}

/** The chunk list's version: it moves after every write to one of the job's chunk rows (job store). */
export const chunksVersion = (job: JobItem) => `c${job.chunksRev ?? 0}`;

/** True when an If-None-Match header names `etag` (weak comparison, lists and `*` included). */
export function etagMatches(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}

export { TIMELINE_PAGE } from "../contract.ts";

/**
 * The job page (dashboard detail, CLI progress): one GetItem answers an unchanged poll
 * (`ifNoneMatch` equal to the version: `view` is null); otherwise the job, its chunk rows and
 * the first page of its timeline, oldest first, with `timelineNext` for the rest. A client
 * that names the chunk list it holds (`knownChunks`, the `chunksVersion` it was given) gets
 * `chunks: null` while that list is unchanged, and the rows are not read.
 */
export async function jobPage(
  deps: Pick<Deps, "db" | "jobs">,
  owner: string,
  jobId: string,
  ifNoneMatch?: string | null,
  knownChunks?: string,
) {
  const job = await ownedJob(deps, owner, jobId);
  const etag = jobVersion(job);
  if (etagMatches(ifNoneMatch, etag)) return { etag, view: null };
  const version = chunksVersion(job);
  const [chunks, page] = await Promise.all([
    knownChunks === version
      ? null
      : deps.db.entities.chunk.query
          .byJob({ jobId })
          .go({ pages: "all" })
          .then((r) => r.data as ChunkItem[]),
    timelineRows(deps, jobId, {}),
  ]);
  const view: JobView = {
    job: summarize(job),
    chunks,
    chunksVersion: version,
    timeline: page.timeline,
    timelineNext: page.next,
  };
  return { etag, view };
}

/** One job with its chunks and the first page of its timeline (job detail page, `videoforge events`). */
export async function getJobView(deps: Pick<Deps, "db" | "jobs">, owner: string, jobId: string) {
  const { view } = await jobPage(deps, owner, jobId);
  if (!view?.chunks) throw new Error("unreachable: neither If-None-Match nor a known chunk list was given");
  return { ...view, chunks: view.chunks };
}

/** The job's timeline a page at a time, oldest first (`videoforge events`, the dashboard's older events). */
export async function jobTimeline(deps: Pick<Deps, "db" | "jobs">, owner: string, jobId: string, raw: unknown) {
  await ownedJob(deps, owner, jobId);
  return timelineRows(deps, jobId, TimelineQuery.parse(raw));
}

async function timelineRows(
  deps: Pick<Deps, "db">,
  jobId: string,
  raw: z.input<typeof TimelineQuery>,
): Promise<{ timeline: TimelineRow[]; next: string | null }> {
  const { cursor, limit } = TimelineQuery.parse(raw);
  try {
    const res = await deps.db.entities.timeline.query.byJob({ jobId }).go({ limit, ...(cursor ? { cursor } : {}) });
    // the recorder always writes the detail; the table's item type cannot say so
    const timeline = (res.data as TimelineItem[]).map((row) => ({
      ...row,
      detail: (row.detail ?? {}) as TimelineRow["detail"],
    }));
    return { timeline, next: res.cursor ?? null };
  } catch (err) {
    if (cursor && err instanceof Error && /cursor/i.test(err.message))
      throw new InvalidInputError("cursor is not one this API handed out.");
    throw err;
  }
}

/** A trimmed job's kept range once its chunking resolved it, or null. */
function keptOf(job: JobItem): JobSummary["kept"] {
  const span = storedSpan(job.plan);
  return span ? { start: span.start, end: span.end, frames: span.frames, duration: span.end - span.start } : null;
}

export function summarize(job: JobItem): JobSummary {
  const parsed = SourceInfo.safeParse(job.source);
  const source = parsed.success ? parsed.data : null;
  // an audio-only job's source: its length and sound, no picture
  const sound = source ? null : AudioSourceInfo.safeParse(job.source).data;
  const chunksEncoded = job.encodedChunks?.length ?? 0;
  const progress = job.chunkCount ? chunksEncoded / job.chunkCount : 0;
  const completed = job.status === "COMPLETED";
  return {
    jobId: job.jobId,
    status: job.status,
    name: job.sourceName,
    size: job.sourceSize ?? null,
    ladder: job.ladder,
    formats: job.formats ?? DEFAULT_FORMATS,
    trim: storedTrim(job.trim),
    kept: keptOf(job),
    packaging: job.packaging ?? "cmaf",
    targetSsim: job.targetSsim ?? null,
    notes: job.notes ?? [],
    source: source
      ? {
          frames: source.video.frames,
          duration: source.duration,
          width: source.video.displayWidth,
          height: source.video.displayHeight,
          fps: source.video.fps,
          audio: source.audio !== null,
        }
      : sound
        ? { frames: 0, duration: sound.duration, width: 0, height: 0, fps: 0, audio: true }
        : null,
    chunkCount: job.chunkCount ?? null,
    chunksEncoded,
    progress,
    // rows from before formats were H.264 only
    outputs: ((job.outputs as FinalOutput[] | undefined) ?? []).map((o) => ({ ...o, format: o.format ?? "h264" })),
    audio: (job.audioOutputs as AudioOutput[] | undefined) ?? [],
    captions: (job.captions as CaptionsOutput[] | undefined) ?? [],
    hls: job.hls ?? null,
    poster: job.poster ?? null,
    error: job.errorReason ? { stage: job.errorStage ?? null, reason: job.errorReason } : null,
    createdAt: job.createdAt,
    retryOf: job.retryOf ?? null,
    playable: completed || job.playableAt !== undefined,
    timings: {
      chunking: span(job.chunkingAt, job.encodingAt),
      encoding: span(job.encodingAt, job.assemblingAt),
      assembly: span(job.assemblingAt, job.endedAt),
      total: span(job.createdAt, job.endedAt),
      // a job with no preview (no H.264) is first playable when it completes
      playable: span(job.chunkingAt, job.playableAt ?? (completed ? job.endedAt : undefined)),
      completed: span(job.chunkingAt, completed ? job.endedAt : undefined),
    },
  };
}
export type { JobSummary } from "../contract.ts";

const span = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / 1000 : null);

/** Presigned download URLs for every output of a completed job. */
export async function outputUrls(
  deps: Pick<Deps, "db" | "jobs" | "store" | "cfg">,
  owner: string,
  jobId: string,
  expiresSeconds = deps.cfg.urlSeconds.download,
) {
  const job = summarize(await ownedJob(deps, owner, jobId));
  if (job.status !== "COMPLETED")
    return { status: job.status, outputs: [], audio: [], captions: [], hls: null, dash: null, poster: null };
  const bucket = deps.cfg.buckets.outputs;
  // the browser saves each file as "<source name>-<output file name>", e.g. holiday-720p-vp9.webm
  const stem = job.name.replace(/\.[^.]+$/, "");
  const link = <T extends { key: string }>(o: T) =>
    deps.store
      .presignGet(bucket, o.key, expiresSeconds, `${stem}-${o.key.slice(o.key.lastIndexOf("/") + 1)}`)
      .then((url) => ({ ...o, url }));
  const [outputs, audio, captions] = await Promise.all([
    Promise.all(job.outputs.map(link)),
    Promise.all(job.audio.map(link)),
    Promise.all(job.captions.map(link)),
  ]);
  return {
    status: job.status,
    outputs,
    audio,
    captions,
    hls: job.hls ? await deps.store.presignGet(bucket, job.hls, expiresSeconds) : null,
    dash: (await deps.store.head(bucket, keys.dash(jobId)))
      ? await deps.store.presignGet(bucket, keys.dash(jobId), expiresSeconds)
      : null,
    poster: job.poster ? await deps.store.presignGet(bucket, keys.poster(jobId), expiresSeconds) : null,
    /** Seconds the URLs stay valid: clients renew them before that. */
    expiresIn: expiresSeconds,
  };
}
