import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { etag } from "hono/etag";
import { z } from "zod";
import { ARTIFACT_FFMPEG, cancelJob, completeUpload, createUpload, ffmpegBinaries, jobPage, jobTimeline, listJobs, ownedJob, NotFoundError, outputUrls, ConflictError, type Deps } from "@videoforge/core";
import { countRequest, hlsMasterPlaylist, hlsMediaPlaylist, rateWindowMs, resumeUpload, retryJob, uploadPartPage } from "@videoforge/core";
import { errorBody, toResponse } from "./errors.ts";
import { placeholderHeaders, placeholderPage } from "./page.ts";

export interface ApiOptions {
  /** Who is calling, or null (401). Without one, nobody is let in: an API must never default to open. */
  identify?: (c: Context) => string | null;
  maxBodyBytes?: number;
  /** The clock of the rate windows (tests hold it still). */
  now?: () => number;
}

const JobId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, "not a valid id");

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text) return {};
  return JSON.parse(text) as unknown;
}

/** The HTTP API: one hono app that runs on Node locally and on Lambda in AWS. */
export function createApi(deps: Deps, opts: ApiOptions = {}) {
  const identify = opts.identify ?? (() => null);
  const app = new Hono<{ Variables: { owner: string } }>();
  app.onError((err, c) => toResponse(c, err));
  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));
  // the unread body stays on the socket, which then gets dropped: say so, or keep-alive clients reuse it and fail
  const tooLarge = (c: Context) => c.json(errorBody("body_too_large", "The request body is too large."), 413, { connection: "close" });
  app.use("*", bodyLimit({ maxSize: opts.maxBodyBytes ?? 1024 * 1024, onError: tooLarge }));

  app.get("/health", (c) => {
    // the API Lambda bundles no ffmpeg: it names the build the worker image runs for it
    let ffmpeg: { origin: string; version: number; build: string } | null = null;
    try {
      const bin = ffmpegBinaries();
      ffmpeg = { origin: bin.origin, version: bin.version, build: bin.build };
    } catch {
      ffmpeg = ARTIFACT_FFMPEG ? { origin: "worker-image", ...ARTIFACT_FFMPEG } : null;
    }
    return c.json({ ok: true, ffmpeg });
  });
  app.get("/", (c) => c.html(placeholderPage, 200, placeholderHeaders));

  app.use("/uploads/*", async (c, next) => authorize(c, next));
  app.use("/uploads", async (c, next) => authorize(c, next));
  app.use("/jobs/*", async (c, next) => authorize(c, next));
  app.use("/jobs", async (c, next) => authorize(c, next));
  const now = opts.now ?? Date.now;
  async function authorize(c: Context<{ Variables: { owner: string } }>, next: () => Promise<void>) {
    // "/jobs" and "/jobs/*" both match /jobs: identify and count a request once
    if (c.get("owner")) return next();
    const owner = identify(c);
    if (!owner) return c.json(errorBody("unauthorized", "Missing or wrong API token."), 401);
    // one user's burst must not stall everyone: a counter per user and window, in the table
    // so that every API process (each Lambda instance) shares it
    const waitSeconds = await countRequest(deps, owner, now());
    if (waitSeconds > 0) {
      const { rateBurst } = deps.cfg.limits;
      const message = `Too many requests: at most ${rateBurst} every ${rateWindowMs(deps.cfg.limits) / 1000} s per user. Try again in ${waitSeconds} s.`;
      return c.json(errorBody("rate_limited", message), 429, { "retry-after": String(waitSeconds) });
    }
    c.set("owner", owner);
    await next();
  }

  app.post("/uploads", async (c) => c.json(await createUpload(deps, c.get("owner"), await jsonBody(c)), 201));
  app.post("/uploads/:id/complete", async (c) => {
    const id = JobId.safeParse(c.req.param("id"));
    if (!id.success) throw new NotFoundError(`No upload ${c.req.param("id")}.`);
    return c.json(await completeUpload(deps, c.get("owner"), id.data, await jsonBody(c)), 202);
  });
  app.get("/uploads/:id", async (c) => {
    const id = JobId.safeParse(c.req.param("id"));
    if (!id.success) throw new NotFoundError(`No upload ${c.req.param("id")}.`);
    return c.json(await resumeUpload(deps, c.get("owner"), id.data, c.req.query()));
  });
  // the next page of presigned part URLs, signed on demand (`?from=N&limit=M`, at most 500)
  app.get("/uploads/:id/parts", async (c) => {
    const id = JobId.safeParse(c.req.param("id"));
    if (!id.success) throw new NotFoundError(`No upload ${c.req.param("id")}.`);
    return c.json(await uploadPartPage(deps, c.get("owner"), id.data, c.req.query()));
  });
  // the dashboard polls these two: an unchanged answer is a bodiless 304 (If-None-Match)
  app.get("/jobs", etag(), async (c) => c.json({ jobs: await listJobs(deps, c.get("owner")) }, 200, { "cache-control": "no-cache", vary: "authorization" }));
  // an unchanged job answers its poll from one item read: the job row's version is the ETag
  app.get("/jobs/:id", async (c) => {
    // `?chunksVersion=` names the chunk list the client holds: while unchanged it is not read (`chunks: null`)
    const { etag: version, view } = await jobPage(deps, c.get("owner"), jobIdOf(c), c.req.header("if-none-match"), c.req.query("chunksVersion"));
    const headers = { etag: version, "cache-control": "no-cache", vary: "authorization" };
    return view ? c.json(view, 200, headers) : c.body(null, 304, headers);
  });
  // the rest of the timeline, oldest first, a page at a time (`?cursor=` from `timelineNext` / `next`)
  app.get("/jobs/:id/timeline", async (c) => c.json(await jobTimeline(deps, c.get("owner"), jobIdOf(c), c.req.query())));
  app.post("/jobs/:id/retry", async (c) => c.json(await retryJob(deps, c.get("owner"), jobIdOf(c)), 201));
  // playlists through the API: variants resolve relative to this route, segments are presigned
  const m3u8 = { "content-type": "application/vnd.apple.mpegurl", "cache-control": "no-store" };
  app.get("/jobs/:id/hls/master.m3u8", async (c) => c.body(await hlsMasterPlaylist(deps, c.get("owner"), jobIdOf(c), (rendition, file) => `${rendition}/${file}`), 200, m3u8));
  app.get("/jobs/:id/hls/:rendition/:file", async (c) => c.body(await hlsMediaPlaylist(deps, c.get("owner"), jobIdOf(c), c.req.param("rendition"), c.req.param("file")), 200, m3u8));
  app.get("/jobs/:id/outputs", async (c) => c.json(await outputUrls(deps, c.get("owner"), jobIdOf(c))));
  app.delete("/jobs/:id", async (c) => {
    const jobId = jobIdOf(c);
    await ownedJob(deps, c.get("owner"), jobId);
    if (!(await cancelJob(deps, jobId, c.get("owner")))) throw new ConflictError("The job has already ended.");
    return c.json({ jobId, status: "CANCELLED" }, 202);
  });
  return app;
}

function jobIdOf(c: Context): string {
  const id = JobId.safeParse(c.req.param("id"));
  if (!id.success) throw new NotFoundError(`No job ${c.req.param("id")}.`);
  return id.data;
}
