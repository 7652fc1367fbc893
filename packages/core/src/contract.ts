import { z } from "zod";
import {
  AUDIO_FORMATS,
  audioOutput,
  captionsOutput,
  encodedOutput,
  finalOutput,
  VIDEO_FORMATS,
} from "@videoforge/events/catalog";
import { ID_PATTERN, LANGUAGE_TAG } from "@videoforge/events/ids";
import { CHUNK_STATUSES, FINAL_STATUSES, JOB_STATUSES, UPLOAD_STATUSES } from "./job/status.ts";
import { DEFAULT_LADDER, RUNG_NAMES } from "./media/ladder.ts";
import { WEBHOOK_EVENT_TYPES } from "./webhook/event-types.ts";

/**
 * The HTTP API's contract: what each route takes and what it answers, as zod schemas the
 * domain owns. The operations parse their input with these schemas, the API validates with
 * them and publishes them as its OpenAPI document, and the CLI and the dashboard read their
 * types from here. The dashboard loads this module in the browser (`@videoforge/core/contract`),
 * so it and everything it imports use zod and plain values only: no SDK, no `node:` module.
 * Its constants come from modules that import nothing at all (job/status.ts, media/ladder.ts,
 * events/ids.ts): a page that needs only those imports them there and bundles no zod.
 */

export { DEFAULT_LADDER, FINAL_STATUSES, ID_PATTERN, RUNG_NAMES, WEBHOOK_EVENT_TYPES };
export const FORMAT_NAMES = [...VIDEO_FORMATS, ...AUDIO_FORMATS] as const;

// ---- names and ids ----

/** A job or upload id as it appears in a path. */
export const Id = z.string().regex(ID_PATTERN, "not a valid id").meta({ description: "6-64 URL-safe characters" });
export const IdParam = z.object({ id: Id });

export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;
export const ChunkStatus = z.enum(CHUNK_STATUSES);
export const UploadStatus = z.enum(UPLOAD_STATUSES);

export const RungName = z.enum(RUNG_NAMES, {
  error: (issue) => `Unknown rung ${JSON.stringify(issue.input)}; choose from ${RUNG_NAMES.join(", ")}.`,
});
export type RungName = z.infer<typeof RungName>;

export const FormatName = z.enum(FORMAT_NAMES, {
  error: (issue) => `Unknown format ${JSON.stringify(issue.input)}; choose from ${FORMAT_NAMES.join(", ")}.`,
});
export type FormatName = z.infer<typeof FormatName>;

/** Every error leaves the API as `{error: {code, message}}`; `message` is written for a person. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---- uploads ----

/** S3 takes at most 10,000 parts per multipart upload. */
export const MAX_PARTS = 10_000;
/** Parts per page of URLs when the client does not say; at most {@link MAX_PART_PAGE}. */
export const DEFAULT_PART_PAGE = 100;
/** 500 URLs ≈ 750 KB at worst: far below Lambda's 6 MB, and few enough to sign in one request. */
export const MAX_PART_PAGE = 500;

/** A job's range of the source, in seconds from its first frame shown. */
export const Trim = z
  .object({
    start: z.number().nonnegative("trim start must be 0 or more seconds").max(86_400).default(0),
    end: z.number().positive("trim end must be after the start of the video").max(86_400).optional(),
  })
  .refine((t) => t.end === undefined || t.end > t.start, "trim end must be after trim start")
  .meta({ id: "Trim" });
export type Trim = z.infer<typeof Trim>;

/** `POST /uploads`. */
export const CreateUploadInput = z
  .object({
    name: z
      .string()
      .min(1)
      .max(255)
      .refine(
        (n) => !/[\u0000-\u001f\u007f/\\]/.test(n),
        "name must be a plain file name: no path separators (/ or \\) and no control characters",
      ),
    // the upper bound is configured (cfg.limits.maxUploadBytes) and checked in createUpload
    size: z
      .number()
      .int("size must be a whole number of bytes")
      .positive("size must be at least 1 byte: an empty file is not a video"),
    contentType: z.string().max(255).default("application/octet-stream"),
    /** Rungs to encode; the default ladder when absent. */
    ladder: z.array(RungName).min(1).optional(),
    /**
     * Output formats; `h264` when absent. At least one video format (h264, hevc, vp9, av1); m4a and mp3
     * add an audio-only file.
     */
    formats: z.array(FormatName).min(1).optional(),
    /** Captions files to publish with the video (WebVTT sidecars, an HLS subtitles group, a DASH text set). */
    captions: z
      .array(
        z.object({
          language: z.string().regex(LANGUAGE_TAG, "language must be a tag such as en, pt-BR or eng"),
          format: z.enum(["srt", "vtt"]),
          /** The file's text (the request body is at most 1 MiB). */
          text: z.string().min(1, "a captions file must not be empty"),
        }),
      )
      .max(8, "at most 8 captions files per job")
      .optional(),
    /** An image (PNG or JPEG, base64, ≤ 256 KiB) laid over every frame of every rendition. */
    watermark: z
      .object({
        image: z.string().min(1).max(400_000),
        position: z.enum(["top-left", "top-right", "bottom-left", "bottom-right", "center"]).default("bottom-right"),
        opacity: z.number().min(0).max(1).default(0.8),
        /** Its width as a fraction of the picture's. */
        width: z.number().min(0.02).max(1).default(0.15),
      })
      .optional(),
    /** Normalise the audio to this integrated loudness (EBU R128, LUFS; −23 is broadcast, −16 streaming). */
    loudness: z
      .number()
      .min(-70, "loudness must be between -70 and -5 LUFS")
      .max(-5, "loudness must be between -70 and -5 LUFS")
      .optional(),
    /**
     * Keep only the frames shown from `start` up to (not including) `end`, in seconds from the first frame;
     * the outputs, audio and captions start at the first kept frame. `end` absent: to the end.
     */
    trim: Trim.optional(),
    /**
     * How the HLS stream is cut: `cmaf` (fragmented MP4, shared with the DASH manifest; the default) or `ts`
     * (MPEG-TS segments for older players and devices: H.264 and HEVC only, and no DASH manifest).
     */
    packaging: z.enum(["cmaf", "ts"]).optional(),
    /** Seconds into the video where the poster is taken; past the end, the last frame. Default: a tenth in, ≤ 3 s. */
    posterAt: z.number().nonnegative("posterAt must be 0 or more seconds").max(86_400).optional(),
    /**
     * Encode every chunk of every rung to at least this mean SSIM with the fewest bits: each one's CRF is searched
     * with up to four measured encodes (about three to four times the encoding work). Absent: one CRF for all.
     */
    targetSsim: z
      .number()
      .min(0.8, "targetSsim must be between 0.8 and 0.995")
      .max(0.995, "targetSsim must be between 0.8 and 0.995")
      .optional(),
  })
  .meta({ id: "CreateUpload" });
export type CreateUploadInput = z.input<typeof CreateUploadInput>;

/**
 * `POST /uploads/from-url`: the source is fetched from `url` (https; a public address; at most the upload size
 * limit), then the job runs as if it had been uploaded. The other choices are an upload's.
 */
export const ImportInput = CreateUploadInput.omit({ size: true, contentType: true, name: true })
  .extend({
    url: z
      .string()
      .min(1, "url is required")
      .max(2048, "url must be at most 2048 characters")
      .refine((u) => URL.canParse(u), "url must be an absolute URL such as https://example.com/video.mp4"),
    /** The video's title until edited; the URL's file name when absent. */
    name: CreateUploadInput.shape.name.optional(),
  })
  .meta({ id: "ImportInput" });
export type ImportInput = z.input<typeof ImportInput>;

/** `POST /uploads/from-url`: the job; it fails with the reason if the URL cannot be fetched or is not a video. */
export const ImportAccepted = z.object({ jobId: Id, status: z.literal("UPLOADING") }).meta({ id: "ImportAccepted" });

/** `POST /uploads/{id}/complete`: the ETag storage gave each part. */
export const CompleteUploadInput = z
  .object({
    parts: z.array(z.object({ partNumber: z.number().int().min(1).max(MAX_PARTS), etag: z.string().min(1) })).min(1),
  })
  .meta({ id: "CompleteUpload" });
export type CompleteUploadInput = z.input<typeof CompleteUploadInput>;

/** `?from=N&limit=M`: which page of presigned part URLs. */
export const PartPageQuery = z.object({
  from: z.coerce.number().int("from must be a whole part number").min(1, "from must be at least 1").default(1),
  limit: z.coerce
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(MAX_PART_PAGE, `limit must be at most ${MAX_PART_PAGE}`)
    .default(DEFAULT_PART_PAGE),
});
export type PartPageQuery = z.input<typeof PartPageQuery>;

/** One page of presigned part URLs. */
export const PartPage = z.object({
  partCount: z.number().int(),
  /** Parts `from` … `from + parts.length - 1`, in order. */
  parts: z.array(z.object({ partNumber: z.number().int(), url: z.string() })),
  /** The first part of the next page, or null when this page holds the last part. */
  nextPart: z.number().int().nullable(),
  /** Seconds each URL stays valid. */
  expiresIn: z.number(),
});
export type PartPage = z.infer<typeof PartPage>;

/** `POST /uploads`: the job, its upload and the first page of part URLs. */
export const UploadCreated = PartPage.extend({ uploadId: Id, jobId: Id, partSize: z.number().int() }).meta({
  id: "UploadCreated",
});
export type UploadCreated = z.infer<typeof UploadCreated>;

/** `GET /uploads/{id}`: what a client needs to resume; part URLs only while the upload is open. */
export const UploadState = PartPage.extend({
  uploadId: Id,
  jobId: Id,
  status: UploadStatus,
  jobStatus: JobStatus.nullable(),
  name: z.string(),
  size: z.number().int(),
  partSize: z.number().int(),
}).meta({ id: "UploadState" });
export type UploadState = z.infer<typeof UploadState>;

/** `GET /uploads/{id}/parts`. */
export const UploadParts = PartPage.extend({ uploadId: Id }).meta({ id: "UploadParts" });

/** A job named in an answer: a completed upload's or a retry's. */
export const JobRef = z.object({ jobId: Id });

// ---- jobs ----

/** One finished rendition. */
export const Output = finalOutput.meta({ id: "Output" });
export type Output = z.infer<typeof Output>;
/** One finished audio-only file. */
export const AudioOutput = audioOutput.meta({ id: "AudioOutput" });
export type AudioOutput = z.infer<typeof AudioOutput>;
/** One captions sidecar. */
export const CaptionsOutput = captionsOutput.meta({ id: "CaptionsOutput" });

const seconds = z.number().nullable();

/** A job as lists and pages show it. */
export const JobSummary = z
  .object({
    jobId: Id,
    status: JobStatus,
    name: z.string(),
    size: z.number().nullable(),
    ladder: z.array(z.string()),
    formats: z.array(z.string()),
    /** The range of the source the outputs hold, as asked; null for the whole source. */
    trim: Trim.nullable(),
    /** The trim resolved against the source's frames once chunked (seconds from its first frame): what outputs hold. */
    kept: z.object({ start: z.number(), end: z.number(), frames: z.number().int(), duration: z.number() }).nullable(),
    /** How the HLS stream is segmented. */
    packaging: z.enum(["cmaf", "ts"]),
    /** The quality every chunk was encoded to (mean SSIM), or null for one CRF throughout. */
    targetSsim: z.number().nullable(),
    /** What the pipeline changed that the user should know (e.g. an HDR source tone-mapped to SDR). */
    notes: z.array(z.string()),
    source: z
      .object({
        frames: z.number(),
        duration: z.number(),
        width: z.number(),
        height: z.number(),
        fps: z.number(),
        audio: z.boolean(),
      })
      .nullable(),
    chunkCount: z.number().int().nullable(),
    chunksEncoded: z.number().int(),
    /** 0…1: encoded chunks over all chunks. */
    progress: z.number(),
    outputs: z.array(Output),
    audio: z.array(AudioOutput),
    captions: z.array(CaptionsOutput),
    hls: z.string().nullable(),
    poster: z.string().nullable(),
    error: z.object({ stage: z.string().nullable(), reason: z.string() }).nullable(),
    createdAt: z.number(),
    /** The job this one retries. */
    retryOf: z.string().nullable(),
    /** Whether the job can be played: its growing preview (before COMPLETED) or its outputs. */
    playable: z.boolean(),
    /**
     * Seconds per stage; null until the stage has ended. `playable` and `completed` count from the upload's
     * completion (chunking's start): until the preview could first play, and until the outputs were verified.
     */
    timings: z.object({
      chunking: seconds,
      encoding: seconds,
      assembly: seconds,
      total: seconds,
      playable: seconds,
      completed: seconds,
    }),
  })
  .meta({ id: "JobSummary" });
export type JobSummary = z.infer<typeof JobSummary>;

/** `GET /jobs`, newest first. */
export const JobList = z.object({ jobs: z.array(JobSummary) }).meta({ id: "JobList" });

/** One keyframe-aligned piece of the source and what became of it (times in ms since the epoch). */
export const ChunkRow = z
  .object({
    index: z.number().int(),
    status: ChunkStatus,
    /** The video format the chunk is encoded to (h264 for jobs from before formats). */
    codec: z.string().optional(),
    startFrame: z.number().int(),
    frames: z.number().int(),
    startTime: z.number(),
    duration: z.number(),
    readyAt: z.number().optional(),
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
    worker: z.string().optional(),
    attempts: z.number().int().optional(),
    error: z.string().optional(),
    /** What was stored for each rung once encoded; with a target, the CRF and SSIM each one reached. */
    outputs: z.array(encodedOutput).optional(),
  })
  .meta({ id: "Chunk" });
export type ChunkRow = z.infer<typeof ChunkRow>;

/** One domain event as it happened to the job. */
export const TimelineRow = z
  .object({
    at: z.string(),
    eventId: z.string(),
    type: z.string(),
    chunk: z.number().int().optional(),
    /** The event's detail as it was published. */
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "TimelineEvent" });
export type TimelineRow = z.infer<typeof TimelineRow>;

/** Timeline rows on the job page; the rest come a page at a time from `GET /jobs/{id}/timeline`. */
export const TIMELINE_PAGE = 500;

/** `?cursor=&limit=`: the next page of a job's timeline. */
export const TimelineQuery = z.object({
  cursor: z.string().min(1).max(4096).optional(),
  limit: z.coerce
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(TIMELINE_PAGE, `limit must be at most ${TIMELINE_PAGE}`)
    .default(TIMELINE_PAGE),
});

/** `GET /jobs/{id}/timeline`, oldest first; `next` is the cursor of the page after. */
export const TimelinePage = z.object({ timeline: z.array(TimelineRow), next: z.string().nullable() }).meta({
  id: "TimelinePage",
});

/** `?chunksVersion=`: the chunk list the client holds; while unchanged the answer has `chunks: null`. */
export const JobPageQuery = z.object({ chunksVersion: z.string().max(64).optional() });

/** `GET /jobs/{id}`: the job, its chunks and the first page of its timeline. */
export const JobView = z
  .object({
    job: JobSummary,
    /** Every chunk row; null when the request named this `chunksVersion`. */
    chunks: z.array(ChunkRow).nullable(),
    chunksVersion: z.string(),
    /** The first page of the timeline, oldest first. */
    timeline: z.array(TimelineRow),
    /** The cursor of the rest (`GET /jobs/{id}/timeline?cursor=`), or null. */
    timelineNext: z.string().nullable(),
  })
  .meta({ id: "JobView" });
export type JobView = z.infer<typeof JobView>;

/** `GET /jobs/{id}/outputs`: presigned download URLs, once the job has completed. */
export const OutputLinks = z
  .object({
    status: JobStatus,
    outputs: z.array(Output.extend({ url: z.string() })),
    audio: z.array(AudioOutput.extend({ url: z.string() })),
    captions: z.array(CaptionsOutput.extend({ url: z.string() })),
    hls: z.string().nullable(),
    /** The stored DASH manifest (references relative to it; players use `GET /jobs/{id}/dash/manifest.mpd`). */
    dash: z.string().nullable(),
    poster: z.string().nullable(),
    /** Seconds the URLs stay valid (absent while there are none): clients renew them before that. */
    expiresIn: z.number().optional(),
  })
  .meta({ id: "OutputLinks" });
export type OutputLinks = z.infer<typeof OutputLinks>;

/** `DELETE /jobs/{id}`. */
export const Cancelled = z.object({ jobId: Id, status: z.literal("CANCELLED") });

// ---- videos ----

/** A completed job as its owner's library shows it; its id is the job's. */
export const Video = z
  .object({
    videoId: Id,
    /** The file name until the owner edits it. */
    title: z.string(),
    description: z.string(),
    createdAt: z.number(),
    /** Seconds the outputs last (a trim's kept range). */
    duration: z.number(),
    /** The top rendition's size; 0 × 0 for an audio-only job. */
    width: z.number().int(),
    height: z.number().int(),
    renditions: z.array(z.string()),
    formats: z.array(z.string()),
    /** Bytes of every output file: renditions, audio-only files, captions. */
    bytes: z.number().int(),
    /** A presigned URL of the poster, or null for an audio-only job. */
    poster: z.string().nullable(),
  })
  .meta({ id: "Video" });
export type Video = z.infer<typeof Video>;

/** `GET /videos?q=&cursor=`: a page of the owner's videos, newest first, and the storage they take. */
export const VideoList = z
  .object({
    videos: z.array(Video),
    /** Pass as `cursor` for the next page; null after the last. */
    next: z.string().nullable(),
    /**
     * Bytes of every output of every video the owner has (not only those `q` matched); on the first page only
     * (null on the next ones).
     */
    storageBytes: z.number().int().nullable(),
    /** Seconds the poster URLs stay valid: clients list again before that. */
    expiresIn: z.number(),
  })
  .meta({ id: "VideoList" });

/** `?q=`: videos whose title contains this, ignoring case; `?cursor=`: the page after the one that gave it. */
export const VideoQuery = z.object({
  q: z.string().max(200).optional(),
  cursor: z.string().max(2048).optional(),
});

/** `POST /videos/{id}/shares`: how long the link works (7 days unless said). */
export const ShareInput = z
  .object({ expiresInDays: z.number().positive().max(365, "a share link lasts at most 365 days").default(7) })
  .meta({ id: "ShareInput" });
/** A share link's token: `<shareId>.<secret>`, as its URL carries it. */
export const ShareToken = z.string().regex(/^[A-Za-z0-9_-]{6,64}\.[A-Za-z0-9_-]{43}$/, "not a share link token");
/** One share link as its owner sees it; the token only in the answer that created it. */
export const Share = z
  .object({
    shareId: Id,
    videoId: Id,
    createdAt: z.number(),
    expiresAt: z.number(),
    revokedAt: z.number().nullable(),
    /** Only when created: the secret is not stored, so it cannot be shown again. */
    token: ShareToken.optional(),
    /** The dashboard's page for it, `/s/<token>`, when created. */
    path: z.string().optional(),
  })
  .meta({ id: "Share" });
export type Share = z.infer<typeof Share>;
export const ShareList = z.object({ shares: z.array(Share) }).meta({ id: "ShareList" });
/** `GET /shared/{token}`: the shared video and where its stream is, for someone without an account. */
export const SharedVideo = z
  .object({ video: Video, hls: z.string().nullable(), expiresAt: z.number() })
  .meta({ id: "SharedVideo" });

/** `DELETE /videos/{id}`: accepted; VideoDeleted follows once everything is gone. */
export const VideoDeleting = z.object({ videoId: Id, status: z.literal("DELETING") }).meta({ id: "VideoDeleting" });

/** `PATCH /videos/{id}`: a new title, description, or both. */
export const VideoEdit = z
  .object({
    title: z
      .string()
      .trim()
      .min(1, "title must not be empty")
      .max(200, "title must be at most 200 characters")
      .refine((t) => !/[\u0000-\u001f\u007f]/.test(t), "title must not contain control characters")
      .optional(),
    description: z.string().max(5000, "description must be at most 5000 characters").optional(),
  })
  .refine((e) => e.title !== undefined || e.description !== undefined, "give a title, a description, or both")
  .meta({ id: "VideoEdit" });
export type VideoEdit = z.input<typeof VideoEdit>;

// ---- webhooks ----

export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES, {
  error: (issue) =>
    `Unknown webhook event ${JSON.stringify(issue.input)}; choose from ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
});
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** `POST /webhooks`: where to send, and which events (all of them unless said). */
export const WebhookInput = z
  .object({
    url: z.string().min(1, "url is required").max(2048, "url must be at most 2048 characters"),
    events: z
      .array(WebhookEventType)
      .min(1, "name at least one event")
      .default([...WEBHOOK_EVENT_TYPES])
      .transform((e) => [...new Set(e)]),
  })
  .meta({ id: "WebhookInput" });
export type WebhookInput = z.input<typeof WebhookInput>;

/** A registered endpoint; `secret` only in the answer that created it (sign-check deliveries with it). */
export const Webhook = z
  .object({
    id: Id,
    url: z.string(),
    events: z.array(WebhookEventType),
    createdAt: z.number(),
    secret: z.string().optional(),
  })
  .meta({ id: "Webhook" });
export type Webhook = z.infer<typeof Webhook>;
export const WebhookList = z.object({ webhooks: z.array(Webhook) }).meta({ id: "WebhookList" });

export const DeliveryAttempt = z
  .object({
    at: z.number(),
    /** The endpoint's HTTP status; 0 when it gave none (refused, timed out, not an allowed address). */
    status: z.number().int(),
    /** Empty when the endpoint took it (2xx). */
    error: z.string(),
    ms: z.number(),
  })
  .meta({ id: "DeliveryAttempt" });

/** One event for one endpoint: `pending` (retrying with backoff), `delivered`, or `failed` (dead-lettered). */
export const Delivery = z
  .object({
    id: Id,
    webhookId: Id,
    type: WebhookEventType,
    jobId: Id,
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.array(DeliveryAttempt),
    createdAt: z.number(),
    /** When the next attempt is due; null once delivered or failed. */
    nextAttemptAt: z.number().nullable(),
    /** The JSON body sent on every attempt. */
    body: z.string(),
  })
  .meta({ id: "Delivery" });
export type Delivery = z.infer<typeof Delivery>;
export const DeliveryList = z.object({ deliveries: z.array(Delivery) }).meta({ id: "DeliveryList" });

// ---- service ----

/** `GET /health`: up, and which ffmpeg the workers run. */
export const Health = z.object({
  ok: z.literal(true),
  ffmpeg: z.object({ origin: z.string(), version: z.number(), build: z.string() }).nullable(),
});
