import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeEvent, toMegabytes, type Watermark } from "@videoforge/events";
import { CompleteUploadInput, CreateUploadInput, MAX_PARTS } from "../contract.ts";
import { parseLadder, DEFAULT_LADDER } from "../media/ladder.ts";
import { checkAudioOnly, checkPackaging, DEFAULT_FORMATS, parseFormats, storedFormats } from "../media/formats.ts";
import { captionLanguage, parseCaptions, toWebVtt } from "../output/captions.ts";
import type { UploadItem } from "../db/index.ts";
import { keys, withScratch, type Deps } from "../deps.ts";
import { checkWatermarkImage } from "./watermark.ts";
import { ConflictError, InvalidInputError, LimitError, NotFoundError } from "../errors.ts";
import { failJob } from "../job/lifecycle.ts";
import { checkDailyWork, reserveActiveJob } from "../job/quota.ts";
import { formatBytes } from "../job/limits.ts";
import { signPartPage } from "./parts.ts";

/** Parts of at least 8 MiB, at most MAX_PARTS of them (S3's rules). */
const MIN_PART = 8 * 1024 * 1024;

export { CompleteUploadInput, CreateUploadInput } from "../contract.ts";

export const newId = () => randomUUID().replace(/-/g, "").slice(0, 20);

/** Start a job and its multipart upload; returns the part count and the first page of presigned part URLs. */
/** `raw` is an untrusted request body; it is parsed here, at the domain's edge. */
export async function createUpload(deps: Deps, owner: string, raw: unknown) {
  const input = CreateUploadInput.parse(raw);
  const { maxUploadBytes } = deps.cfg.limits;
  if (input.size > maxUploadBytes) {
    const exact = (n: number) => `${formatBytes(n)} (${n.toLocaleString("en-US")} bytes)`;
    throw new InvalidInputError(
      `size must be at most ${exact(maxUploadBytes)}; this file is ${exact(input.size)}. ` +
        "Compress or trim it, or cut it into parts.",
    );
  }
  const uploadId = newId();
  let s3UploadId = "";
  const job = await startJob(deps, owner, input, { size: input.size, uploadId }, async (bucket, key) => {
    s3UploadId = await deps.store.createMultipart(bucket, key, input.contentType);
  });
  const { jobId, bucket, key, ladder, formats, createdAt } = job;
  const partSize = Math.max(MIN_PART, Math.ceil(input.size / MAX_PARTS));
  await deps.db.entities.upload
    .create({
      uploadId,
      jobId,
      owner,
      bucket,
      key,
      s3UploadId,
      name: input.name,
      size: input.size,
      partSize,
      ladder,
      formats,
      status: "OPEN",
      createdAt,
    })
    .go();
  // the first page of part URLs only: the rest are signed on demand (upload-parts.ts)
  const page = await signPartPage(deps, { bucket, key, s3UploadId, size: input.size, partSize });
  return { uploadId, jobId, partSize, ...page };
}

/** A job's choices as a client gives them, with the source's name. */
export type JobChoices = Omit<z.output<typeof CreateUploadInput>, "size" | "contentType">;

/**
 * Check a new job's choices, charge its owner, and make the job (UPLOADING) with its attached captions and
 * watermark; `prepare` makes whatever else the source needs before the job exists (a multipart upload).
 */
export async function startJob(
  deps: Deps,
  owner: string,
  input: JobChoices,
  source: { size: number; uploadId?: string },
  prepare: (bucket: string, key: string) => Promise<void> = async () => undefined,
) {
  const ladder = parseLadder(input.ladder ?? DEFAULT_LADDER);
  const formats = parseFormats(input.formats ?? DEFAULT_FORMATS);
  checkPackaging(formats, input.packaging);
  checkAudioOnly(formats, input);
  // the whole source's range is stored as no trim at all
  const trim = input.trim && (input.trim.start > 0 || input.trim.end !== undefined) ? input.trim : undefined;
  const captions = attachedCaptions(input.captions ?? []);
  const mark = input.watermark && { ...input.watermark, checked: checkWatermarkImage(input.watermark.image) };
  await checkDailyWork(deps, owner);
  const jobId = newId();
  // reserved atomically before anything is made: parallel requests cannot pass the limit together
  await reserveActiveJob(deps, owner, jobId);
  const bucket = deps.cfg.buckets.uploads;
  const key = keys.source(jobId);
  const createdAt = Date.now();
  const watermark: Watermark | undefined = mark && {
    image: {
      bucket: deps.cfg.buckets.work,
      key: keys.watermark(jobId, mark.checked.format),
      format: mark.checked.format,
    },
    position: mark.position,
    opacity: mark.opacity,
    width: mark.width,
  };
  try {
    await prepare(bucket, key);
    await deps.jobs.createJob({
      jobId,
      owner,
      status: "UPLOADING",
      sourceName: input.name,
      sourceBucket: bucket,
      sourceKey: key,
      sourceSize: source.size,
      ladder,
      formats,
      ...(input.posterAt !== undefined ? { posterAt: input.posterAt } : {}),
      ...(trim ? { trim } : {}),
      ...(input.packaging ? { packaging: input.packaging } : {}),
      ...(input.loudness !== undefined ? { loudness: input.loudness } : {}),
      ...(input.targetSsim !== undefined ? { targetSsim: input.targetSsim } : {}),
      ...(watermark ? { watermark } : {}),
      createdAt,
      ...(source.uploadId ? { uploadId: source.uploadId } : {}),
    });
    // kept beside the job's other intermediates: the assembler publishes them with the extracted ones
    for (const c of captions)
      await deps.store.putText(deps.cfg.buckets.work, keys.captions(jobId, c.language), c.vtt, "text/vtt");
    if (mark && watermark)
      await storeBytes(deps, watermark.image.key, mark.checked.bytes, `image/${mark.checked.format}`);
  } catch (err) {
    // no job was made: its slot goes back now (one that fails after the job exists ends with the job)
    await deps.jobs.releaseSlot(owner, jobId);
    throw err;
  }
  return { jobId, bucket, key, ladder, formats, createdAt };
}

/** Bytes into the work bucket through a scratch file (the store takes files and text). */
async function storeBytes(deps: Deps, key: string, bytes: Buffer, contentType: string): Promise<void> {
  await withScratch(deps.cfg, async (dir) => {
    const file = join(dir, "object");
    await writeFile(file, bytes);
    await deps.store.upload(deps.cfg.buckets.work, key, file, contentType);
  });
}

/**
 * Captions a user attached: each parsed (a 400 names the file and the line when one does not), written
 * as WebVTT with our markup only, one per language.
 */
function attachedCaptions(files: NonNullable<CreateUploadInput["captions"]>): { language: string; vtt: string }[] {
  const seen = new Set<string>();
  return files.map((f, i) => {
    const language = captionLanguage(f.language);
    if (seen.has(language)) throw new InvalidInputError(`captions[${i}]: a second captions file for "${language}".`);
    seen.add(language);
    try {
      return { language, vtt: toWebVtt(parseCaptions(f.text, f.format)) };
    } catch (err) {
      if (err instanceof InvalidInputError)
        throw new InvalidInputError(`captions[${i}] (${language}, ${f.format}): ${err.message}`);
      throw err;
    }
  });
}

/** Finish the multipart upload, check the bytes arrived, queue the job and announce VideoUploaded. */
export async function completeUpload(deps: Deps, owner: string, uploadId: string, raw: unknown) {
  const { parts } = CompleteUploadInput.parse(raw);
  const upload = await deps.jobs.getUpload(uploadId);
  if (!upload || upload.owner !== owner) throw new NotFoundError(`No upload ${uploadId}.`);
  if (upload.status === "COMPLETED") return queueAndAnnounce(deps, upload);
  // its S3 upload is already used up: a retry must not reach S3 again (that answers with a 500)
  if (upload.status === "ABORTED") throw new ConflictError(`Upload ${uploadId} was rejected; start a new upload.`);
  await deps.store.completeMultipart(
    upload.bucket,
    upload.key,
    upload.s3UploadId,
    [...parts].sort((a, b) => a.partNumber - b.partNumber),
  );
  const stored = await deps.store.head(upload.bucket, upload.key);
  if (!stored) throw new ConflictError("The upload has no data yet; upload the parts first.");
  if (stored.size !== upload.size) {
    const reason = `The upload has ${stored.size} bytes; ${upload.size} were announced.`;
    await deps.jobs.setUploadStatus(uploadId, "OPEN", "ABORTED");
    await failJob(deps, upload.jobId, "upload", reason);
    throw new ConflictError(reason);
  }
  await deps.jobs.setUploadStatus(uploadId, "OPEN", "COMPLETED");
  return queueAndAnnounce(deps, upload);
}

/**
 * The upload is complete: queue its job and announce VideoUploaded whenever the job is
 * QUEUED after the write, also on a retried completion whose first transition or publish
 * failed (the chunker is idempotent, so a second VideoUploaded costs nothing).
 */
export async function queueAndAnnounce(
  deps: Deps,
  upload: Pick<UploadItem, "jobId" | "owner" | "bucket" | "key" | "size" | "name" | "ladder" | "formats">,
): Promise<{ jobId: string }> {
  const job =
    (await deps.jobs.transition(upload.jobId, "QUEUED", ["UPLOADING"])) ?? (await deps.jobs.getJob(upload.jobId));
  if (job?.status === "QUEUED") {
    await deps.events.publish(
      makeEvent("VideoUploaded", {
        jobId: upload.jobId,
        owner: upload.owner,
        source: {
          bucket: upload.bucket,
          key: upload.key,
          size: upload.size,
          megabytes: toMegabytes(upload.size),
          name: upload.name,
        },
        ladder: upload.ladder,
        formats: storedFormats(upload.formats),
      }),
    );
  }
  return { jobId: upload.jobId };
}
