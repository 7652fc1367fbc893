import { SOURCE } from "./envelope.ts";
import type { EventName } from "./catalog.ts";
import type { HandlerName } from "./handlers.ts";

/**
 * Who listens to what. This table is the single source of routing: the local bus
 * dispatches from it and the SST stacks create one EventBridge rule per entry. What each
 * handler is (its code, Lambda limits, calls) is declared once in handlers.ts.
 */
/**
 * `lambda`: EventBridge invokes the handler's function. `task`: a work queue and a launcher start it on Fargate.
 * `queue`: EventBridge → an SQS queue → the handler's function; the handler may hand an event back for later
 * (RetryLaterError) and gets it again after that delay, for as long as the queue keeps messages (webhooks: a day
 * of retries with backoff, beyond anything EventBridge's or Lambda's own retries allow).
 */
export type Runtime = "lambda" | "task" | "queue";

export interface RetryPolicy {
  /** Redeliveries after the first attempt (EventBridge allows 0-185). */
  maximumRetryAttempts: number;
  /** Give up on an event older than this (EventBridge allows 60-86400). */
  maximumEventAgeSeconds: number;
}

export interface Subscription {
  /** Unique rule name; also names the dead-letter queue `<name>-dlq`. */
  name: string;
  handler: HandlerName;
  runtime: Runtime;
  /** The detail-types this rule can match; used to check the catalog is fully wired. */
  events: readonly EventName[];
  /** An EventBridge event pattern, used verbatim by the rule and by the local bus. */
  pattern: Record<string, unknown>;
  retry: RetryPolicy;
  deadLetter: string;
}

/**
 * Sources of this many megabytes or more are split and assembled on a task (Fargate)
 * instead of a Lambda: stream-copying a multi-GB file can outlast Lambda's 15 minutes
 * and 10 GB of /tmp. Rules compare megabytes because EventBridge numeric matching only
 * covers -5e9..5e9, less than a large upload's byte count.
 */
export const LARGE_SOURCE_MEGABYTES = 1_000;

/**
 * A lead chunk this short or shorter is encoded on Lambda whatever its estimate (the preview waits for it): at
 * 10 GB a Lambda has six vCPUs, and 10 s of 4K to five rungs encodes well inside its 15 minutes.
 */
export const LAMBDA_CHUNK_SECONDS = 10;

/**
 * Chunks estimated at this many CPU-seconds or fewer (core/chunk/cost.ts) are encoded on the encoder's Lambda;
 * the chunker marks them `lambda`. Below it a 10 GB Lambda (six vCPUs, billed by the millisecond, started in about
 * a second) costs less than a 2 vCPU Fargate task (about 40 s to start, billed for at least a minute) and finishes
 * sooner; above it the task is cheaper per CPU-second. The break-even is computed from the published prices in
 * the scaling model (packages/cli/src/bench/scaling.test.ts checks it). An operator may move it
 * (VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS; 0 keeps every chunk on tasks).
 */
export const LAMBDA_CHUNK_CPU_SECONDS = 25;

const standardRetry: RetryPolicy = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 3600 };
const types = (...names: EventName[]) => ({ source: [SOURCE], "detail-type": names });
const sub = (s: Omit<Subscription, "deadLetter">): Subscription => ({ ...s, deadLetter: `${s.name}-dlq` });

/** The events of a video's deletion: the timeline does not record them (its rows are among those deleted). */
export const DELETION_EVENTS: readonly EventName[] = ["VideoDeleteRequested", "VideoDeleted"];

/** Events about a webhook delivery, not the job: the timeline does not record them (the job may be gone). */
export const WEBHOOK_EVENTS: readonly EventName[] = ["WebhookRedeliveryRequested"];

/** What the owner's webhooks hear (core/webhook/types.ts maps each to its webhook event types). */
export const NOTIFIED_EVENTS = [
  "PlaybackReady",
  "JobCompleted",
  "JobFailed",
  "JobCancelled",
  "VideoDeleted",
] as const satisfies readonly EventName[];

/**
 * Announcements only for listeners outside the topology (an integration's own rule on the bus); none today:
 * VideoDeleted, the last one, is a webhook event now.
 */
export const OUTWARD_EVENTS: readonly EventName[] = [];

export const topology: readonly Subscription[] = [
  sub({
    name: "import-source",
    handler: "importer",
    runtime: "lambda",
    events: ["SourceImportRequested"],
    pattern: { ...types("SourceImportRequested"), detail: { large: [false] } },
    retry: standardRetry,
  }),
  sub({
    name: "import-large-source",
    handler: "importer",
    runtime: "task",
    events: ["SourceImportRequested"],
    // a Lambda's 15 minutes may not fetch a many-GB file from a slow server: the task has no such limit
    pattern: { ...types("SourceImportRequested"), detail: { large: [true] } },
    retry: standardRetry,
  }),
  sub({
    name: "chunk-small-source",
    handler: "chunker",
    runtime: "lambda",
    events: ["VideoUploaded"],
    pattern: {
      ...types("VideoUploaded"),
      detail: { source: { megabytes: [{ numeric: ["<", LARGE_SOURCE_MEGABYTES] }] } },
    },
    retry: standardRetry,
  }),
  sub({
    name: "chunk-large-source",
    handler: "chunker",
    runtime: "task",
    events: ["VideoUploaded"],
    pattern: {
      ...types("VideoUploaded"),
      detail: { source: { megabytes: [{ numeric: [">=", LARGE_SOURCE_MEGABYTES] }] } },
    },
    retry: standardRetry,
  }),
  sub({
    name: "encode-light-chunk",
    handler: "encoder",
    runtime: "lambda",
    events: ["ChunkReady"],
    // light chunks and the lead one (the chunker decides, LAMBDA_CHUNK_CPU_SECONDS): no task start to wait for
    pattern: { ...types("ChunkReady"), detail: { chunk: { lambda: [true] } } },
    retry: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 7200 },
  }),
  sub({
    name: "encode-chunk",
    handler: "encoder",
    runtime: "task",
    events: ["ChunkReady"],
    pattern: { ...types("ChunkReady"), detail: { chunk: { lambda: [{ exists: false }] } } },
    // the encoder retries ffmpeg itself and reports ChunkFailed; bus retries cover lost workers
    retry: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 7200 },
  }),
  sub({
    name: "track-chunk",
    handler: "tracker",
    runtime: "lambda",
    events: ["ChunkEncoded"],
    pattern: types("ChunkEncoded"),
    retry: standardRetry,
  }),
  sub({
    name: "fail-on-final-chunk-failure",
    handler: "chunkFailures",
    runtime: "lambda",
    events: ["ChunkFailed"],
    pattern: { ...types("ChunkFailed"), detail: { final: [true] } },
    retry: standardRetry,
  }),
  sub({
    name: "assemble-small",
    handler: "assembler",
    runtime: "lambda",
    events: ["ChunksEncoded"],
    pattern: { ...types("ChunksEncoded"), detail: { sourceMegabytes: [{ numeric: ["<", LARGE_SOURCE_MEGABYTES] }] } },
    retry: standardRetry,
  }),
  sub({
    name: "assemble-large",
    handler: "assembler",
    runtime: "task",
    events: ["ChunksEncoded"],
    pattern: { ...types("ChunksEncoded"), detail: { sourceMegabytes: [{ numeric: [">=", LARGE_SOURCE_MEGABYTES] }] } },
    retry: standardRetry,
  }),
  sub({
    name: "finish-job",
    handler: "finisher",
    runtime: "lambda",
    events: ["VideoAssembled"],
    pattern: types("VideoAssembled"),
    retry: standardRetry,
  }),
  sub({
    name: "record-timeline",
    handler: "recorder",
    runtime: "lambda",
    events: [
      "SourceImportRequested",
      "VideoUploaded",
      "ChunkReady",
      "ChunkEncoded",
      "ChunkFailed",
      "PlaybackReady",
      "ChunksEncoded",
      "VideoAssembled",
      "JobCompleted",
      "JobFailed",
      "JobCancelled",
    ],
    // every videoforge event that names a job, but a deletion's (those rows are the ones going away) and a
    // webhook's (about a delivery, not the job)
    pattern: {
      source: [SOURCE],
      "detail-type": [{ "anything-but": [...DELETION_EVENTS, ...WEBHOOK_EVENTS] }],
      detail: { jobId: [{ exists: true }] },
    },
    retry: { maximumRetryAttempts: 5, maximumEventAgeSeconds: 3600 },
  }),
  sub({
    name: "delete-video",
    handler: "deleter",
    runtime: "lambda",
    events: ["VideoDeleteRequested"],
    pattern: types("VideoDeleteRequested"),
    retry: standardRetry,
  }),
  sub({
    name: "deliver-webhooks",
    handler: "webhookSender",
    runtime: "queue",
    events: [...NOTIFIED_EVENTS, ...WEBHOOK_EVENTS],
    pattern: types(...NOTIFIED_EVENTS, ...WEBHOOK_EVENTS),
    // EventBridge's retries only cover putting the event into the queue; the sender's own backoff runs for a day
    retry: standardRetry,
  }),
];
