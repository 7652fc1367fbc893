import { PartPageQuery, type PartPage } from "../contract.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { getJob } from "../job/lifecycle.ts";
import type { Deps } from "../deps.ts";

/**
 * Presigned part URLs, a page at a time, signed when asked for. A 50 GiB source has 6,400
 * parts; their URLs in one answer (≈ 1.5 KB each with a Lambda session token) would pass
 * Lambda's 6 MB response limit, and most would expire before their part is sent. So
 * `POST /uploads` and `GET /uploads/:id` carry only the first page, and a client asks
 * `GET /uploads/:id/parts?from=N&limit=M` for the next one as it goes.
 */

export { DEFAULT_PART_PAGE, MAX_PART_PAGE, PartPageQuery, type PartPage } from "../contract.ts";

/** How many parts a file of `size` bytes has in parts of `partSize`. */
export const partCountOf = (size: number, partSize: number) => Math.max(1, Math.ceil(size / partSize));

interface MultipartTarget {
  bucket: string;
  key: string;
  s3UploadId: string;
  size: number;
  partSize: number;
}

/** Sign the URLs of one page of parts of an open multipart upload. */
export async function signPartPage(
  deps: Pick<Deps, "store" | "cfg">,
  target: MultipartTarget,
  raw: PartPageQuery = {},
): Promise<PartPage> {
  const { from, limit } = PartPageQuery.parse(raw);
  const partCount = partCountOf(target.size, target.partSize);
  const last = Math.min(partCount, from + limit - 1);
  const expiresIn = deps.cfg.urlSeconds.upload;
  const numbers = from > partCount ? [] : Array.from({ length: last - from + 1 }, (_, i) => from + i);
  const parts = await Promise.all(
    numbers.map(async (partNumber) => ({
      partNumber,
      url: await deps.store.presignPart(target.bucket, target.key, target.s3UploadId, partNumber, expiresIn),
    })),
  );
  return { partCount, parts, nextPart: last < partCount ? last + 1 : null, expiresIn };
}

/**
 * `GET /uploads/:id/parts`: one page of fresh part URLs of `owner`'s upload. Someone else's
 * upload is a 404 like a missing one; an upload that can no longer take parts (completed,
 * aborted, or its job cancelled) is a conflict, so no URL is signed for it.
 */
export async function uploadPartPage(
  deps: Pick<Deps, "db" | "jobs" | "store" | "cfg">,
  owner: string,
  uploadId: string,
  raw: PartPageQuery = {},
) {
  const query = PartPageQuery.parse(raw);
  const upload = (await deps.db.entities.upload.get({ uploadId }).go()).data;
  if (!upload || upload.owner !== owner) throw new NotFoundError(`No upload ${uploadId}.`);
  const job = await getJob(deps, upload.jobId);
  if (upload.status !== "OPEN" || job?.status !== "UPLOADING") {
    const state =
      upload.status !== "OPEN"
        ? upload.status.toLowerCase()
        : `open but its job is ${(job?.status ?? "gone").toLowerCase()}`;
    throw new ConflictError(`Upload ${uploadId} is ${state}: it takes no more parts.`);
  }
  return { uploadId, ...(await signPartPage(deps, upload, query)) };
}
