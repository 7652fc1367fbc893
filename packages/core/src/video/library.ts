import { Rendition, type AudioOutput, type CaptionsOutput, type FinalOutput } from "@videoforge/events";
import { z } from "zod";
import { Video, VideoEdit, VideoQuery } from "../contract.ts";
import type { JobItem } from "../db/index.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { DEFAULT_FORMATS } from "../media/formats.ts";
import { keys, type Deps } from "../deps.ts";
import { ownedJob, summarize } from "../job/queries.ts";

/**
 * Videos as their owner sees them: a completed job is a video (its id is the job's), with a title (the
 * file name until edited), a description, its poster and what it is made of. Jobs that have not
 * completed are not videos; another user's video answers like one that does not exist.
 */

/**
 * A library page: jobs are read newest first in batches until a page has enough videos, or enough jobs were read
 * for one request (a search that rarely matches answers a short page with a cursor rather than reading on).
 */
export const LIBRARY_PAGE = { videos: 60, batch: 200, maxRead: 2000 };

/** Every output byte of a completed job: renditions, audio-only files, captions. */
function outputBytes(job: JobItem): number {
  const files = [
    ...((job.outputs as FinalOutput[] | undefined) ?? []),
    ...((job.audioOutputs as AudioOutput[] | undefined) ?? []),
    ...((job.captions as CaptionsOutput[] | undefined) ?? []),
  ];
  return files.reduce((sum, f) => sum + (f.bytes ?? 0), 0);
}

export async function toVideo(deps: Pick<Deps, "store" | "cfg">, job: JobItem): Promise<Video> {
  const s = summarize(job);
  const top = s.outputs[0];
  return {
    videoId: job.jobId,
    title: job.title ?? job.sourceName,
    description: job.description ?? "",
    createdAt: job.createdAt,
    duration: s.kept?.duration ?? s.outputs[0]?.duration ?? s.audio[0]?.duration ?? s.source?.duration ?? 0,
    width: top?.width ?? 0,
    height: top?.height ?? 0,
    // the rungs as fitted to the source (`1078p`), whatever formats each is made in
    renditions: (z.array(Rendition).safeParse(job.renditions).data ?? []).map((r) => r.name),
    formats: job.formats ?? DEFAULT_FORMATS,
    bytes: outputBytes(job),
    poster: job.poster
      ? await deps.store.presignGet(deps.cfg.buckets.outputs, keys.poster(job.jobId), deps.cfg.urlSeconds.download)
      : null,
  };
}

/** `GET /videos?q=`: the owner's completed jobs, newest first, those whose title holds `q`; and their storage. */
export async function listVideos(
  deps: Pick<Deps, "db" | "store" | "cfg">,
  owner: string,
  raw: unknown,
  page = LIBRARY_PAGE,
) {
  const { q, cursor: from } = VideoQuery.parse(raw);
  const needle = q?.trim().toLocaleLowerCase();
  const isVideo = (j: JobItem) => j.status === "COMPLETED" && j.deletingAt === undefined;
  const matches = (j: JobItem) => !needle || (j.title ?? j.sourceName).toLocaleLowerCase().includes(needle);
  const found: JobItem[] = [];
  let cursor: string | null = from ?? null;
  let read = 0;
  do {
    const res = await deps.db.entities.job.query
      .byOwner({ owner })
      .go({ order: "desc", limit: page.batch, cursor })
      .catch((err: unknown) => {
        // a cursor is opaque: one not made by this listing (edited, another user's) is the caller's error
        if (from && cursor === from) throw new InvalidInputError("cursor is not one this library gave; list again.");
        throw err;
      });
    read += res.data.length;
    cursor = res.cursor;
    // a batch is kept whole: the cursor stands after it
    found.push(...res.data.filter((j) => isVideo(j) && matches(j)));
  } while (cursor && found.length < page.videos && read < page.maxRead);
  return {
    videos: await Promise.all(found.map((j) => toVideo(deps, j))),
    next: cursor,
    storageBytes: from ? null : await storageInUse(deps, owner),
    expiresIn: deps.cfg.urlSeconds.download,
  };
}

/** Every output byte of every video the owner has: all their jobs, only the fields that count. */
async function storageInUse(deps: Pick<Deps, "db">, owner: string): Promise<number> {
  const res = await deps.db.entities.job.query.byOwner({ owner }).go({
    pages: "all",
    attributes: ["jobId", "status", "deletingAt", "outputs", "audioOutputs", "captions"],
  });
  return res.data
    .filter((j) => j.status === "COMPLETED" && j.deletingAt === undefined)
    .reduce((sum, j) => sum + outputBytes(j as JobItem), 0);
}

/** The owner's completed job, or a 404 saying it is not (yet) a video. */
export async function ownedVideo(deps: Pick<Deps, "db" | "jobs">, owner: string, videoId: string): Promise<JobItem> {
  const job = await ownedJob(deps, owner, videoId);
  if (job.status !== "COMPLETED") throw new NotFoundError(`No video ${videoId}: its job has not completed.`);
  if (job.deletingAt !== undefined) throw new NotFoundError(`No video ${videoId}: it is being deleted.`);
  return job;
}

/** `GET /videos/{id}`. */
export async function getVideo(deps: Pick<Deps, "db" | "jobs" | "store" | "cfg">, owner: string, videoId: string) {
  return toVideo(deps, await ownedVideo(deps, owner, videoId));
}

/** `PATCH /videos/{id}`: `raw` is an untrusted body, parsed here. */
export async function editVideo(
  deps: Pick<Deps, "db" | "jobs" | "store" | "cfg">,
  owner: string,
  videoId: string,
  raw: unknown,
): Promise<Video> {
  const edit = VideoEdit.parse(raw);
  await ownedVideo(deps, owner, videoId);
  const after = await deps.jobs.editVideo(videoId, {
    ...(edit.title !== undefined ? { title: edit.title } : {}),
    ...(edit.description !== undefined ? { description: edit.description } : {}),
  });
  if (!after) throw new NotFoundError(`No video ${videoId}: its job has not completed.`);
  return toVideo(deps, after);
}
