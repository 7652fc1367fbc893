import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { ObjectStore } from "../ports.ts";

/** Parts of 16 MiB keep memory bounded for multi-GB files. */
const PART_SIZE = 16 * 1024 * 1024;
/**
 * Files up to this size go up in one streamed PUT (memory stays bounded either way). Larger
 * ones go multipart, for S3's parallel parts; but every multipart object costs a full extra
 * copy on s3rver, which joins the parts into a new file, so typical outputs avoid it.
 */
const SINGLE_PUT_MAX = 128 * 1024 * 1024;

/** `idleMs`: a download whose body stops flowing this long fails (and is retried) instead of hanging. */
export function s3Store(s3: S3Client, opts: { idleMs?: number } = {}): ObjectStore {
  const idleMs = opts.idleMs ?? 60_000;
  return {
    async download(bucket, key, file) {
      // the SDK's socket timeout covers the wait for headers, not a body that stops mid-way
      await retryTransient(async () => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!res.Body) throw new Error(`s3://${bucket}/${key} has no body`);
        const body = res.Body as Readable;
        const timer = setTimeout(() => body.destroy(new StalledReadError(bucket, key, idleMs)), idleMs);
        body.on("data", () => timer.refresh());
        try {
          await pipeline(body, createWriteStream(file));
        } finally {
          clearTimeout(timer);
        }
      });
    },
    async upload(bucket, key, file, contentType) {
      const { size } = await stat(file);
      if (size <= SINGLE_PUT_MAX) {
        // a stream body cannot be replayed, so the SDK does not retry it: retry here with a fresh stream
        await retryTransient(() =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: createReadStream(file),
              ContentLength: size,
              ContentType: contentType,
            }),
          ),
        );
      } else {
        await new Upload({
          client: s3,
          params: { Bucket: bucket, Key: key, Body: createReadStream(file), ContentType: contentType },
          partSize: PART_SIZE,
          queueSize: 2,
        }).done();
      }
      return { bytes: size };
    },
    async uploadStream(bucket, key, body, contentType) {
      // counted on the way through (a second reader on `body` could take chunks from the upload); an error in
      // `body` reaches the upload through the pipeline
      let bytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      pipeline(body, counted).catch(() => undefined);
      // two parts in flight: memory stays bounded whatever the size, and a failed stream aborts the upload
      await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: counted, ContentType: contentType },
        partSize: PART_SIZE,
        queueSize: 2,
      }).done();
      return { bytes };
    },
    async putText(bucket, key, body, contentType) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async head(bucket, key) {
      try {
        const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: res.ContentLength ?? 0 };
      } catch (err) {
        if (err instanceof Error && (err.name === "NotFound" || err.name === "NoSuchKey")) return null;
        throw err;
      }
    },
    async list(bucket, prefix) {
      const out: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const res = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async remove(bucket, keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })) } }));
      }
    },
    presignGet(bucket, key, expiresIn, downloadName) {
      const disposition = downloadName ? `attachment; filename="${downloadName.replace(/[^\w.-]/g, "_")}"` : undefined;
      return getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }),
        { expiresIn },
      );
    },
    async createMultipart(bucket, key, contentType) {
      const res = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
      );
      if (!res.UploadId) throw new Error("S3 returned no UploadId");
      return res.UploadId;
    },
    presignPart(bucket, key, uploadId, partNumber, expiresIn) {
      return getSignedUrl(
        s3,
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
        { expiresIn },
      );
    },
    async completeMultipart(bucket, key, uploadId, parts) {
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    },
    async abortMultipart(bucket, key, uploadId) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    },
  };
}

export class StalledReadError extends Error {
  override name = "StalledReadError";
  constructor(bucket: string, key: string, idleMs: number) {
    super(`reading s3://${bucket}/${key} stalled: no data for ${idleMs} ms`);
  }
}

/** Retry what S3 reports as transient (5xx, throttling, a dropped or timed-out connection); a 4xx is final. */
async function retryTransient<T>(send: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429;
      if (permanent || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4)));
    }
  }
}

/**
 * IAM actions of each ObjectStore call. HeadObject is authorised by s3:GetObject, and S3
 * answers a missing key with 404 instead of 403 only to a caller with s3:ListBucket; a
 * failed lib-storage multipart upload is aborted. The stacks' grants must cover these
 * (test/infra/stacks.mock.test.ts, with adapters/handler-calls.ts).
 */
export const S3_STORE_ACTIONS: Readonly<Record<keyof ObjectStore, readonly string[]>> = {
  download: ["s3:GetObject"],
  upload: ["s3:PutObject", "s3:AbortMultipartUpload"],
  uploadStream: ["s3:PutObject", "s3:AbortMultipartUpload"],
  putText: ["s3:PutObject"],
  head: ["s3:GetObject", "s3:ListBucket"],
  list: ["s3:ListBucket"],
  remove: ["s3:DeleteObject"],
  presignGet: ["s3:GetObject"],
  createMultipart: ["s3:PutObject"],
  presignPart: ["s3:PutObject"],
  completeMultipart: ["s3:PutObject"],
  abortMultipart: ["s3:AbortMultipartUpload"],
};
