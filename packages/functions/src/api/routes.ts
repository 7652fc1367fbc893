import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { etag } from "hono/etag";
import {
  Cancelled,
  CompleteUploadInput,
  CreateUploadInput,
  ErrorBody,
  Health,
  Id,
  IdParam,
  JobList,
  JobPageQuery,
  JobRef,
  JobView,
  OutputLinks,
  PartPageQuery,
  TimelinePage,
  TimelineQuery,
  UploadCreated,
  UploadParts,
  UploadState,
  Video,
  VideoDeleting,
  Share,
  ShareInput,
  ShareList,
  SharedVideo,
  ShareToken,
  VideoEdit,
  VideoList,
  VideoQuery,
  Delivery,
  DeliveryList,
  ImportAccepted,
  ImportInput,
  Webhook,
  WebhookInput,
  WebhookList,
} from "@videoforge/core/contract";

/**
 * Every route of the API as data: method, path, what it takes and what it answers, all with
 * the domain's schemas (core/contract.ts). app.ts binds a handler to each; the same
 * definitions make the OpenAPI document at /openapi.json and the types of the typed client.
 */

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const failure = (description: string) => json(ErrorBody, description);

/** Answers every route behind the token can give besides its own. */
const guarded = {
  401: failure("unauthorized: no token, or a wrong one"),
  429: failure("rate_limited, too_many_jobs or quota_exceeded: try again later (Retry-After)"),
} as const;
const invalid = failure("invalid_request: a parameter or the body does not match the schema (the message names it)");
const notJson = failure("unsupported_media_type: a body that is not JSON");
const missing = failure("not_found: no such job or upload for this user (an id of the wrong shape included)");
const security = [{ bearer: [] }];

/**
 * The body is read before the validator sees it. Read there, a body over the limit would
 * become the validator's 400 instead of a 413, and malformed JSON its own message instead of
 * `invalid_json`.
 */
const readJson: MiddlewareHandler = async (c, next) => {
  if (/^application\/(.+\+)?json/i.test(c.req.header("content-type") ?? "")) await c.req.json();
  await next();
};

const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const health = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness, and which ffmpeg build the workers run",
  responses: { 200: json(Health, "The API is up") },
});

export const createUpload = createRoute({
  method: "post",
  path: "/uploads",
  summary: "Start a job and its multipart upload",
  security,
  middleware: [readJson] as const,
  request: { body: body(CreateUploadInput) },
  responses: {
    201: json(UploadCreated, "The job, its upload and the first page of part URLs"),
    ...guarded,
    400: invalid,
    415: notJson,
  },
});

export const importUpload = createRoute({
  method: "post",
  path: "/uploads/from-url",
  summary: "Start a job whose source is fetched from a URL (https, a public address, at most the upload limit)",
  security,
  middleware: [readJson] as const,
  request: { body: body(ImportInput) },
  responses: {
    202: json(ImportAccepted, "The job; it fails with the reason if the URL cannot be fetched or is not a video"),
    ...guarded,
    400: failure("invalid_request: a bad choice, or a URL that is not allowed (the message says why)"),
    415: notJson,
  },
});

export const completeUpload = createRoute({
  method: "post",
  path: "/uploads/{id}/complete",
  summary: "Finish the upload and queue its job (idempotent)",
  security,
  middleware: [readJson] as const,
  request: { params: IdParam, body: body(CompleteUploadInput) },
  responses: {
    202: json(JobRef, "The job is queued"),
    ...guarded,
    400: invalid,
    404: missing,
    415: notJson,
    409: failure("conflict: the stored bytes do not match the announced size, or the upload was rejected"),
  },
});

export const getUpload = createRoute({
  method: "get",
  path: "/uploads/{id}",
  summary: "An upload's state, with fresh part URLs while it is open (to resume)",
  security,
  request: { params: IdParam, query: PartPageQuery },
  responses: { 200: json(UploadState, "The upload"), ...guarded, 400: invalid, 404: missing },
});

export const uploadParts = createRoute({
  method: "get",
  path: "/uploads/{id}/parts",
  summary: "The next page of presigned part URLs",
  security,
  request: { params: IdParam, query: PartPageQuery },
  responses: {
    200: json(UploadParts, "One page of part URLs"),
    ...guarded,
    400: invalid,
    404: missing,
    409: failure("conflict: the upload takes no more parts"),
  },
});

/** Polled answers carry no cache but an ETag: an unchanged one is a bodiless 304. */
const unchanged = { description: "Unchanged since the ETag named in If-None-Match" };

export const listJobs = createRoute({
  method: "get",
  path: "/jobs",
  summary: "The caller's jobs, newest first",
  security,
  middleware: [etag()] as const,
  responses: { 200: json(JobList, "The jobs"), 304: unchanged, ...guarded },
});

export const getJob = createRoute({
  method: "get",
  path: "/jobs/{id}",
  summary: "One job with its chunks and the first page of its timeline",
  security,
  request: { params: IdParam, query: JobPageQuery },
  responses: { 200: json(JobView, "The job page"), 304: unchanged, ...guarded, 400: invalid, 404: missing },
});

export const jobTimeline = createRoute({
  method: "get",
  path: "/jobs/{id}/timeline",
  summary: "The rest of a job's timeline, oldest first, a page at a time",
  security,
  request: { params: IdParam, query: TimelineQuery },
  responses: { 200: json(TimelinePage, "One page of events"), ...guarded, 400: invalid, 404: missing },
});

export const retryJob = createRoute({
  method: "post",
  path: "/jobs/{id}/retry",
  summary: "Run an ended job again from its stored source (idempotent)",
  security,
  request: { params: IdParam },
  responses: {
    201: json(JobRef, "The new job"),
    ...guarded,
    404: missing,
    409: failure("conflict: the job cannot be retried"),
  },
});

/** A text answer of one media type: the playlists and manifests the players read. */
const textBody = (description: string, type: string) => ({ description, content: { [type]: { schema: z.string() } } });
const playlist = textBody("An HLS playlist", "application/vnd.apple.mpegurl");

export const masterPlaylist = createRoute({
  method: "get",
  path: "/jobs/{id}/hls/master.m3u8",
  summary: "The master playlist; variants resolve relative to it",
  security,
  request: { params: IdParam },
  responses: { 200: playlist, ...guarded, 404: missing },
});

export const mediaPlaylist = createRoute({
  method: "get",
  path: "/jobs/{id}/hls/{rendition}/{file}",
  summary: "A rendition's media playlist with presigned segment URLs",
  security,
  request: { params: z.object({ id: Id, rendition: z.string(), file: z.string() }) },
  responses: { 200: playlist, ...guarded, 404: missing },
});

export const dashManifest = createRoute({
  method: "get",
  path: "/jobs/{id}/dash/manifest.mpd",
  summary: "The DASH manifest over the same CMAF segments as HLS, with presigned segment URLs",
  security,
  request: { params: IdParam },
  responses: { 200: textBody("A DASH manifest", "application/dash+xml"), ...guarded, 404: missing },
});

export const storyboard = createRoute({
  method: "get",
  path: "/jobs/{id}/storyboard.vtt",
  summary: "Seek previews: a WebVTT track whose cues are presigned sprite-sheet URLs with #xywh= tiles",
  security,
  request: { params: IdParam },
  responses: { 200: textBody("A WebVTT track", "text/vtt"), ...guarded, 404: missing },
});

export const outputLinks = createRoute({
  method: "get",
  path: "/jobs/{id}/outputs",
  summary: "Presigned download URLs of a completed job's outputs",
  security,
  request: { params: IdParam },
  responses: { 200: json(OutputLinks, "The outputs (none until the job completes)"), ...guarded, 404: missing },
});

export const cancelJob = createRoute({
  method: "delete",
  path: "/jobs/{id}",
  summary: "Cancel a job that has not ended (a repeated cancel answers the same)",
  security,
  request: { params: IdParam },
  responses: {
    202: json(Cancelled, "The job is cancelled"),
    ...guarded,
    404: missing,
    409: failure("conflict: the job has already ended"),
  },
});

const noVideo = failure("not_found: no such video for this user (a job that has not completed is not one yet)");

export const listVideos = createRoute({
  method: "get",
  path: "/videos",
  summary: "The caller's library: completed jobs as videos, newest first, and the storage they take",
  security,
  request: { query: VideoQuery },
  responses: { 200: json(VideoList, "The videos"), ...guarded, 400: invalid },
});

export const getVideo = createRoute({
  method: "get",
  path: "/videos/{id}",
  summary: "One video: title, description, poster, duration, renditions, formats, size",
  security,
  request: { params: IdParam },
  responses: { 200: json(Video, "The video"), ...guarded, 404: noVideo },
});

export const editVideo = createRoute({
  method: "patch",
  path: "/videos/{id}",
  summary: "Change a video's title or description",
  security,
  middleware: [readJson] as const,
  request: { params: IdParam, body: body(VideoEdit) },
  responses: { 200: json(Video, "The video as edited"), ...guarded, 400: invalid, 404: noVideo, 415: notJson },
});

export const deleteVideo = createRoute({
  method: "delete",
  path: "/videos/{id}",
  summary: "Delete a video (any ended job): outputs, intermediates, source unless shared, rows; then VideoDeleted",
  security,
  request: { params: IdParam },
  responses: {
    202: json(VideoDeleting, "The deletion is under way; the video has left the library"),
    ...guarded,
    404: noVideo,
    409: failure("conflict: the job is still running (cancel it first)"),
  },
});

export const createShare = createRoute({
  method: "post",
  path: "/videos/{id}/shares",
  summary: "A link that lets anyone who has it watch this video until it expires (7 days by default) or is revoked",
  security,
  middleware: [readJson] as const,
  request: { params: IdParam, body: body(ShareInput) },
  responses: { 201: json(Share, "The link, with its token (shown once)"), ...guarded, 400: invalid, 404: noVideo },
});

export const listShares = createRoute({
  method: "get",
  path: "/videos/{id}/shares",
  summary: "The video's share links, newest first",
  security,
  request: { params: IdParam },
  responses: { 200: json(ShareList, "The links (without tokens)"), ...guarded, 404: noVideo },
});

export const revokeShare = createRoute({
  method: "delete",
  path: "/videos/{id}/shares/{shareId}",
  summary: "Revoke a share link: it stops working at once",
  security,
  request: { params: z.object({ id: Id, shareId: Id }) },
  responses: { 200: json(Share, "The link, revoked"), ...guarded, 404: noVideo },
});

const TokenParam = z.object({ token: ShareToken });
const noShare = failure("not_found: the link does not exist, was revoked, expired, or its video is gone (says which)");

export const sharedVideo = createRoute({
  method: "get",
  path: "/shared/{token}",
  summary: "A shared video, for someone without an account: its details and where its stream is",
  request: { params: TokenParam },
  responses: { 200: json(SharedVideo, "The shared video"), 400: invalid, 404: noShare },
});

export const sharedMasterPlaylist = createRoute({
  method: "get",
  path: "/shared/{token}/hls/master.m3u8",
  summary: "A shared video's master playlist",
  request: { params: TokenParam },
  responses: { 200: playlist, 400: invalid, 404: noShare },
});

export const sharedMediaPlaylist = createRoute({
  method: "get",
  path: "/shared/{token}/hls/{rendition}/{file}",
  summary: "A shared video's media playlist with presigned segment URLs (they live for the video's length)",
  request: { params: z.object({ token: ShareToken, rendition: z.string(), file: z.string() }) },
  responses: { 200: playlist, 400: invalid, 404: noShare },
});

const noWebhook = failure("not_found: no such webhook (or delivery) for this user");

export const createWebhook = createRoute({
  method: "post",
  path: "/webhooks",
  summary: "Register an endpoint for signed event deliveries (its secret is in this answer only)",
  security,
  middleware: [readJson] as const,
  request: { body: body(WebhookInput) },
  responses: {
    201: json(Webhook, "The endpoint, with its signing secret"),
    ...guarded,
    400: failure("invalid_request: a bad event name, or a URL that is not allowed (the message says why)"),
    409: failure("conflict: the user has as many webhooks as allowed"),
  },
});

export const listWebhooks = createRoute({
  method: "get",
  path: "/webhooks",
  summary: "The user's webhook endpoints, newest first",
  security,
  responses: { 200: json(WebhookList, "The endpoints (without secrets)"), ...guarded },
});

export const deleteWebhook = createRoute({
  method: "delete",
  path: "/webhooks/{id}",
  summary: "Remove an endpoint and its deliveries; nothing more is sent to it",
  security,
  request: { params: IdParam },
  responses: { 200: json(Webhook, "The endpoint, removed"), ...guarded, 404: noWebhook },
});

export const listDeliveries = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries",
  summary: "The endpoint's newest 100 deliveries, each with its status and every attempt",
  security,
  request: { params: IdParam },
  responses: { 200: json(DeliveryList, "The deliveries, newest first"), ...guarded, 404: noWebhook },
});

export const redeliver = createRoute({
  method: "post",
  path: "/webhooks/{id}/deliveries/{deliveryId}/redeliver",
  summary: "Send one delivery again: the same body and id, with a new retry window",
  security,
  request: { params: z.object({ id: Id, deliveryId: Id }) },
  responses: { 202: json(Delivery, "The delivery, pending again"), ...guarded, 404: noWebhook },
});
