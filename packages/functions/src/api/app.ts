import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  ARTIFACT_FFMPEG,
  cancelJob,
  completeUpload,
  ConflictError,
  countRequest,
  createUpload,
  dashManifest,
  hlsMasterPlaylist,
  storyboardTrack,
  hlsMediaPlaylist,
  jobPage,
  jobTimeline,
  listJobs,
  listVideos,
  getVideo,
  requestDelete,
  createShare,
  createWebhook,
  requestImport,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  listShares,
  revokeShare,
  resolveShare,
  sharedVideo,
  editVideo,
  NotFoundError,
  outputUrls,
  ownedJob,
  rateWindowMs,
  resumeUpload,
  retryJob,
  uploadPartPage,
  type Deps,
} from "@videoforge/core";
import { errorBody, toResponse } from "./errors.ts";
import { placeholderHeaders, placeholderPage } from "./page.ts";
import * as routes from "./routes.ts";

export interface ApiOptions {
  /** Who is calling, or null (401). Without one, nobody is let in: an API must never default to open. */
  identify?: (c: Context) => string | null;
  maxBodyBytes?: number;
  /** The clock of the rate windows (tests hold it still). */
  now?: () => number;
}

type Env = { Variables: { owner: string } };

/**
 * What fails a route's schema: a path id of the wrong shape names nothing that could exist, so it
 * is a 404 like an unknown one; a bad query or body is a 400 whose message names the field.
 */
const refuseInvalid: Hook<unknown, Env, string, undefined> = (result, c) => {
  if (result.success) return;
  if (result.target === "param") {
    const what = c.req.path.startsWith("/uploads/") ? "upload" : "job";
    throw new NotFoundError(`No ${what} ${c.req.param("id")}.`);
  }
  throw result.error;
};

/**
 * The HTTP API: one hono app that runs on Node locally and on Lambda in AWS. Its routes and
 * their schemas are routes.ts; the typed clients (CLI, dashboard) are built from its type, {@link Api}.
 */
export function createApi(deps: Deps, opts: ApiOptions = {}) {
  const identify = opts.identify ?? (() => null);
  const app = new OpenAPIHono<Env>({ defaultHook: refuseInvalid });
  app.onError((err, c) => toResponse(c, err, deps.log));
  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));
  // the unread body stays on the socket, which then gets dropped: say so, or keep-alive clients reuse it and fail
  const tooLarge = (c: Context) =>
    c.json(errorBody("body_too_large", "The request body is too large."), 413, { connection: "close" });
  app.use("*", bodyLimit({ maxSize: opts.maxBodyBytes ?? 1024 * 1024, onError: tooLarge }));

  app.get("/", (c) => c.html(placeholderPage, 200, placeholderHeaders));

  app.use("/uploads/*", async (c, next) => authorize(c, next));
  app.use("/uploads", async (c, next) => authorize(c, next));
  app.use("/jobs/*", async (c, next) => authorize(c, next));
  app.use("/jobs", async (c, next) => authorize(c, next));
  app.use("/videos/*", async (c, next) => authorize(c, next));
  app.use("/videos", async (c, next) => authorize(c, next));
  app.use("/webhooks/*", async (c, next) => authorize(c, next));
  app.use("/webhooks", async (c, next) => authorize(c, next));
  const now = opts.now ?? Date.now;
  // a share link has no user to count against: each link gets the per-user budget, so a leaked link being
  // hammered (every playlist signs URLs) cannot cost more than one busy user
  app.use("/shared/*", async (c, next) => {
    const shareId = /^\/shared\/([A-Za-z0-9_-]{6,64})\./.exec(c.req.path)?.[1];
    const waitSeconds = shareId ? await countRequest(deps, `share:${shareId}`, now()) : 0;
    if (waitSeconds > 0) {
      const message = `This share link is being opened too often; try again in ${waitSeconds} s.`;
      return c.json(errorBody("rate_limited", message), 429, { "retry-after": String(waitSeconds) });
    }
    await next();
  });
  async function authorize(c: Context<Env>, next: Next) {
    // "/jobs" and "/jobs/*" both match /jobs: identify and count a request once
    if (c.get("owner")) return next();
    const owner = identify(c);
    if (!owner) return c.json(errorBody("unauthorized", "Missing or wrong API token."), 401);
    // one user's burst must not stall everyone: a counter per user and window, in the table
    // so that every API process (each Lambda instance) shares it
    const waitSeconds = await countRequest(deps, owner, now());
    if (waitSeconds > 0) {
      const { rateBurst } = deps.cfg.limits;
      const window = rateWindowMs(deps.cfg.limits) / 1000;
      const limit = `at most ${rateBurst} every ${window} s per user`;
      const message = `Too many requests: ${limit}. Try again in ${waitSeconds} s.`;
      return c.json(errorBody("rate_limited", message), 429, { "retry-after": String(waitSeconds) });
    }
    c.set("owner", owner);
    await next();
  }

  // polled answers: never cached on the way, and the ETag makes an unchanged one a bodiless 304
  const polled = { "cache-control": "no-cache", vary: "authorization" };
  // playlists through the API: variants resolve relative to this route, segments are presigned
  const m3u8 = { "content-type": "application/vnd.apple.mpegurl", "cache-control": "no-store" };
  // a master served beside its media playlists' routes names them relatively: `<rendition>/<file>`
  const beside = (rendition: string, file: string) => `${rendition}/${file}`;

  const api = app
    .openapi(routes.health, (c) => {
      // the API Lambda bundles no ffmpeg: it names the build the worker image runs for it
      let ffmpeg: { origin: string; version: number; build: string } | null = null;
      try {
        const bin = deps.ffmpeg.binaries;
        ffmpeg = { origin: bin.origin, version: bin.version, build: bin.build };
      } catch {
        ffmpeg = ARTIFACT_FFMPEG ? { origin: "worker-image", ...ARTIFACT_FFMPEG } : null;
      }
      return c.json({ ok: true as const, ffmpeg }, 200);
    })
    .openapi(routes.createUpload, async (c) => {
      return c.json(await createUpload(deps, c.get("owner"), c.req.valid("json")), 201);
    })
    .openapi(routes.importUpload, async (c) =>
      c.json(await requestImport(deps, c.get("owner"), c.req.valid("json")), 202),
    )
    .openapi(routes.completeUpload, async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await completeUpload(deps, c.get("owner"), id, c.req.valid("json")), 202);
    })
    .openapi(routes.getUpload, async (c) => {
      return c.json(await resumeUpload(deps, c.get("owner"), c.req.valid("param").id, c.req.valid("query")), 200);
    })
    .openapi(routes.uploadParts, async (c) => {
      return c.json(await uploadPartPage(deps, c.get("owner"), c.req.valid("param").id, c.req.valid("query")), 200);
    })
    .openapi(routes.listJobs, async (c) => c.json({ jobs: await listJobs(deps, c.get("owner")) }, 200, polled))
    .openapi(routes.getJob, async (c) => {
      // an unchanged job answers its poll from one item read: the job row's version is the ETag;
      // `?chunksVersion=` names the chunk list the client holds: while unchanged it is not read (`chunks: null`)
      const { id } = c.req.valid("param");
      const known = c.req.valid("query").chunksVersion;
      const { etag, view } = await jobPage(deps, c.get("owner"), id, c.req.header("if-none-match"), known);
      const headers = { etag, ...polled };
      return view ? c.json(view, 200, headers) : c.body(null, 304, headers);
    })
    .openapi(routes.jobTimeline, async (c) => {
      return c.json(await jobTimeline(deps, c.get("owner"), c.req.valid("param").id, c.req.valid("query")), 200);
    })
    .openapi(routes.retryJob, async (c) => c.json(await retryJob(deps, c.get("owner"), c.req.valid("param").id), 201))
    .openapi(routes.masterPlaylist, async (c) => {
      return c.body(await hlsMasterPlaylist(deps, c.get("owner"), c.req.valid("param").id, beside), 200, m3u8);
    })
    .openapi(routes.mediaPlaylist, async (c) => {
      const { id, rendition, file } = c.req.valid("param");
      return c.body(await hlsMediaPlaylist(deps, c.get("owner"), id, rendition, file), 200, m3u8);
    })
    .openapi(routes.dashManifest, async (c) => {
      const mpd = await dashManifest(deps, c.get("owner"), c.req.valid("param").id);
      return c.body(mpd, 200, { "content-type": "application/dash+xml", "cache-control": "no-store" });
    })
    .openapi(routes.storyboard, async (c) => {
      const vtt = await storyboardTrack(deps, c.get("owner"), c.req.valid("param").id);
      return c.body(vtt, 200, { "content-type": "text/vtt; charset=utf-8", "cache-control": "no-store" });
    })
    .openapi(routes.outputLinks, async (c) => {
      return c.json(await outputUrls(deps, c.get("owner"), c.req.valid("param").id), 200);
    })
    .openapi(routes.listVideos, async (c) => c.json(await listVideos(deps, c.get("owner"), c.req.valid("query")), 200))
    .openapi(routes.getVideo, async (c) => c.json(await getVideo(deps, c.get("owner"), c.req.valid("param").id), 200))
    .openapi(routes.editVideo, async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await editVideo(deps, c.get("owner"), id, c.req.valid("json")), 200);
    })
    .openapi(routes.deleteVideo, async (c) =>
      c.json(await requestDelete(deps, c.get("owner"), c.req.valid("param").id), 202),
    )
    .openapi(routes.createShare, async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await createShare(deps, c.get("owner"), id, c.req.valid("json")), 201);
    })
    .openapi(routes.listShares, async (c) =>
      c.json(await listShares(deps, c.get("owner"), c.req.valid("param").id), 200),
    )
    .openapi(routes.revokeShare, async (c) => {
      const { id, shareId } = c.req.valid("param");
      return c.json(await revokeShare(deps, c.get("owner"), id, shareId), 200);
    })
    // shared links: no token, the link is the credential; the playlists are the owner's, resolved through it
    .openapi(routes.sharedVideo, async (c) => c.json(await sharedVideo(deps, c.req.valid("param").token), 200))
    .openapi(routes.sharedMasterPlaylist, async (c) => {
      const { owner, videoId } = await resolveShare(deps, c.req.valid("param").token);
      return c.body(await hlsMasterPlaylist(deps, owner, videoId, beside), 200, m3u8);
    })
    .openapi(routes.sharedMediaPlaylist, async (c) => {
      const { token, rendition, file } = c.req.valid("param");
      const { owner, videoId } = await resolveShare(deps, token);
      return c.body(await hlsMediaPlaylist(deps, owner, videoId, rendition, file), 200, m3u8);
    })
    .openapi(routes.createWebhook, async (c) =>
      c.json(await createWebhook(deps, c.get("owner"), c.req.valid("json")), 201),
    )
    .openapi(routes.listWebhooks, async (c) => c.json(await listWebhooks(deps, c.get("owner")), 200))
    .openapi(routes.deleteWebhook, async (c) =>
      c.json(await deleteWebhook(deps, c.get("owner"), c.req.valid("param").id), 200),
    )
    .openapi(routes.listDeliveries, async (c) =>
      c.json(await listDeliveries(deps, c.get("owner"), c.req.valid("param").id), 200),
    )
    .openapi(routes.redeliver, async (c) => {
      const { id, deliveryId } = c.req.valid("param");
      return c.json(await redeliver(deps, c.get("owner"), id, deliveryId), 202);
    })
    .openapi(routes.cancelJob, async (c) => {
      const { id } = c.req.valid("param");
      await ownedJob(deps, c.get("owner"), id);
      if (!(await cancelJob(deps, id, c.get("owner")))) throw new ConflictError("The job has already ended.");
      return c.json({ jobId: id, status: "CANCELLED" as const }, 202);
    });

  // the contract as an OpenAPI document, public like /health
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // 3.1: JSON Schema proper (nullable as a type union), what current generators and validators read
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "videoforge", version: "1", description: "Chunked parallel video transcoding." },
  });
  return api;
}

/** The API's type: `hc<Api>(url)` (hono/client) is a client typed by the routes' schemas. */
export type Api = ReturnType<typeof createApi>;
