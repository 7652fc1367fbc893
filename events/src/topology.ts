import { SOURCE } from "./envelope.ts";
import type { EventName } from "./catalog.ts";
import type { HandlerName } from "./handlers.ts";

/**
 * Who listens to what. This table is the single source of routing: the local bus
 * dispatches from it and the SST stacks create one EventBridge rule per entry. What each
 * handler is (its code, Lambda limits, calls) is declared once in handlers.ts.
 */
export type Runtime = "lambda" | "task";

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

const standardRetry: RetryPolicy = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 3600 };
const types = (...names: EventName[]) => ({ source: [SOURCE], "detail-type": names });
const sub = (s: Omit<Subscription, "deadLetter">): Subscription => ({ ...s, deadLetter: `${s.name}-dlq` });

/** The events of a video's deletion: the timeline does not record them (its rows are among those deleted). */
export const DELETION_EVENTS: readonly EventName[] = ["VideoDeleteRequested", "VideoDeleted"];

/** Announcements for listeners outside the pipeline (an integration's rule on the bus); no step consumes them. */
export const OUTWARD_EVENTS: readonly EventName[] = ["VideoDeleted"];

export const topology: readonly Subscription[] = [
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
    name: "encode-chunk",
    handler: "encoder",
    runtime: "task",
    events: ["ChunkReady"],
    pattern: types("ChunkReady"),
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
      "VideoUploaded",
      "ChunkReady",
      "ChunkEncoded",
      "ChunkFailed",
      "ChunksEncoded",
      "VideoAssembled",
      "JobCompleted",
      "JobFailed",
      "JobCancelled",
    ],
    // every videoforge event that names a job, but a deletion's: those rows are the ones going away
    pattern: {
      source: [SOURCE],
      "detail-type": [{ "anything-but": [...DELETION_EVENTS] }],
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
];
