import type { Readable } from "node:stream";
import type { DomainEvent } from "@videoforge/events";

/** Object storage as the pipeline needs it; S3 on AWS, the same S3 client against s3rver locally. */
export interface ObjectStore {
  download(bucket: string, key: string, file: string): Promise<void>;
  upload(bucket: string, key: string, file: string, contentType?: string): Promise<{ bytes: number }>;
  /** A stream of unknown length, in parts through memory (an import from a URL); an error in it aborts the upload. */
  uploadStream(bucket: string, key: string, body: Readable, contentType: string): Promise<{ bytes: number }>;
  putText(bucket: string, key: string, body: string, contentType: string): Promise<void>;
  head(bucket: string, key: string): Promise<{ size: number } | null>;
  list(bucket: string, prefix: string): Promise<{ key: string; size: number }[]>;
  remove(bucket: string, keys: string[]): Promise<void>;
  presignGet(bucket: string, key: string, expiresSeconds: number, downloadName?: string): Promise<string>;
  createMultipart(bucket: string, key: string, contentType: string): Promise<string>;
  presignPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    expiresSeconds: number,
  ): Promise<string>;
  completeMultipart(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
}

/** Publishing domain events; EventBridge PutEvents on AWS and locally (the local bus speaks it too). */
export interface EventPublisher {
  publish(...events: DomainEvent[]): Promise<void>;
}

/**
 * Stopping a cancelled job's running tasks: ECS StopTask on AWS; locally the worker pool aborts them on
 * JobCancelled.
 */
export interface TaskStopper {
  /** Stop every running task working for `jobId`; how many were stopped. */
  stopJobTasks(jobId: string): Promise<number>;
}
