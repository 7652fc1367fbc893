import { randomUUID } from "node:crypto";
import { makeEvent, toMegabytes } from "@videoforge/events";
import { z } from "zod";
import { parseLadder, DEFAULT_LADDER } from "../media/ladder.ts";
import { applied } from "../db/index.ts";
import { keys, type Deps } from "./deps.ts";
import { ConflictError, InvalidInputError, LimitError, NotFoundError } from "../errors.ts";
import { ACTIVE_STATUSES, failJob, transition } from "./job.ts";
import { formatBytes } from "./limits.ts";

/** Parts between 8 MiB and 5 GiB, at most 10,000 of them (S3's rules). */
const MIN_PART = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

export const CreateUploadInput = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .refine((n) => !/[\u0000-\u001f\u007f/\\]/.test(n), "name must be a plain file name: no path separators (/ or \\) and no control characters"),
  // the upper bound is configured (cfg.limits.maxUploadBytes) and checked in createUpload
  size: z.number().int("size must be a whole number of bytes").positive("size must be at least 1 byte: an empty file is not a video"),
  contentType: z.string().max(255).default("application/octet-stream"),
  ladder: z.array(z.string()).min(1).optional(),
});
export type CreateUploadInput = z.input<typeof CreateUploadInput>;

export const CompleteUploadInput = z.object({
  parts: z.array(z.object({ partNumber: z.number().int().min(1).max(MAX_PARTS), etag: z.string().min(1) })).min(1),
});


export const newId = () => randomUUID().replace(/-/g, "").slice(0, 20);

/** Start a job and its multipart upload; returns one presigned URL per part. */
/** `raw` is an untrusted request body; it is parsed here, at the domain's edge. */
export async function createUpload(deps: Deps, owner: string, raw: unknown) {
  const input = CreateUploadInput.parse(raw);
  const ladder = parseLadder(input.ladder ?? DEFAULT_LADDER);
  const { maxUploadBytes, maxActiveJobsPerUser } = deps.cfg.limits;
  if (input.size > maxUploadBytes) {
    const exact = (n: number) => `${formatBytes(n)} (${n.toLocaleString("en-US")} bytes)`;
    throw new InvalidInputError(`size must be at most ${exact(maxUploadBytes)}; this file is ${exact(input.size)}. Compress or trim it, or cut it into parts.`);
  }
  // checked, not reserved: simultaneous requests may pass it together, which only bends the limit by a few
  const active = await activeJobCount(deps, owner);
  if (active >= maxActiveJobsPerUser) {
    throw new LimitError("too_many_jobs", `You have ${active} jobs in progress; the limit is ${maxActiveJobsPerUser}. Wait for one to finish or cancel one.`);
  }
  const jobId = newId();
  const uploadId = newId();
  const bucket = deps.cfg.buckets.uploads;
  const key = keys.source(jobId);
  const partSize = Math.max(MIN_PART, Math.ceil(input.size / MAX_PARTS));
  const partCount = Math.max(1, Math.ceil(input.size / partSize));
  const s3UploadId = await deps.store.createMultipart(bucket, key, input.contentType);
  const createdAt = Date.now();
  await deps.db.entities.job.create({ jobId, owner, status: "UPLOADING", sourceName: input.name, sourceBucket: bucket, sourceKey: key, sourceSize: input.size, ladder, createdAt }).go();
  await deps.db.entities.upload.create({ uploadId, jobId, owner, bucket, key, s3UploadId, name: input.name, size: input.size, partSize, ladder, status: "OPEN", createdAt }).go();
  const parts = await Promise.all(
    Array.from({ length: partCount }, async (_, i) => ({ partNumber: i + 1, url: await deps.store.presignPart(bucket, key, s3UploadId, i + 1, deps.cfg.urlSeconds.upload) })),
  );
  return { uploadId, jobId, partSize, parts, expiresIn: deps.cfg.urlSeconds.upload };
}

/** Jobs of `owner` not yet ended, uploads in progress included (the per-user limit counts these). */
async function activeJobCount(deps: Pick<Deps, "db">, owner: string): Promise<number> {
  const res = await deps.db.entities.job.query
    .byOwner({ owner })
    .where((a, op) => ACTIVE_STATUSES.map((s) => op.eq(a.status, s)).join(" OR "))
    .go({ pages: "all", attributes: ["jobId"] });
  return res.data.length;
}

/** Finish the multipart upload, check the bytes arrived, queue the job and announce VideoUploaded. */
export async function completeUpload(deps: Deps, owner: string, uploadId: string, raw: unknown) {
  const { parts } = CompleteUploadInput.parse(raw);
  const upload = (await deps.db.entities.upload.get({ uploadId }).go()).data;
  if (!upload || upload.owner !== owner) throw new NotFoundError(`No upload ${uploadId}.`);
  if (upload.status === "COMPLETED") return { jobId: upload.jobId };
  // its S3 upload is already used up: a retry must not reach S3 again (that answers with a 500)
  if (upload.status === "ABORTED") throw new ConflictError(`Upload ${uploadId} was rejected; start a new upload.`);
  await deps.store.completeMultipart(upload.bucket, upload.key, upload.s3UploadId, [...parts].sort((a, b) => a.partNumber - b.partNumber));
  const stored = await deps.store.head(upload.bucket, upload.key);
  if (!stored) throw new ConflictError("The upload has no data yet; upload the parts first.");
  if (stored.size !== upload.size) {
    const reason = `The upload has ${stored.size} bytes; ${upload.size} were announced.`;
    await deps.db.entities.upload.patch({ uploadId }).set({ status: "ABORTED" }).go();
    await failJob(deps, upload.jobId, "upload", reason);
    throw new ConflictError(reason);
  }
  // only the completion that flips OPEN → COMPLETED announces the job
  if (!(await applied(deps.db.entities.upload.patch({ uploadId }).set({ status: "COMPLETED" }).where((a, op) => op.eq(a.status, "OPEN")).go()))) return { jobId: upload.jobId };
  await transition(deps, upload.jobId, ["UPLOADING"], "QUEUED");
  await deps.events.publish(
    makeEvent("VideoUploaded", { jobId: upload.jobId, owner, source: { bucket: upload.bucket, key: upload.key, size: stored.size, megabytes: toMegabytes(stored.size), name: upload.name }, ladder: upload.ladder }),
  );
  return { jobId: upload.jobId };
}
