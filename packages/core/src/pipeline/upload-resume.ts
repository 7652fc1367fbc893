import { NotFoundError } from "../errors.ts";
import { getJob } from "./job.ts";
import type { Deps } from "./deps.ts";


/**
 * An upload's state with fresh presigned part URLs while it is still open: what a client
 * needs to resume after a page reload or after the first URLs expired. The client keeps
 * the ETags of the parts it already sent and sends only the others.
 */
export async function resumeUpload(deps: Pick<Deps, "db" | "store" | "cfg">, owner: string, uploadId: string) {
  const upload = (await deps.db.entities.upload.get({ uploadId }).go()).data;
  if (!upload || upload.owner !== owner) throw new NotFoundError(`No upload ${uploadId}.`);
  const job = await getJob(deps, upload.jobId);
  // a cancelled job's upload cannot be finished: say so instead of handing out URLs
  const open = upload.status === "OPEN" && job?.status === "UPLOADING";
  const partCount = Math.max(1, Math.ceil(upload.size / upload.partSize));
  const parts = open
    ? await Promise.all(
        Array.from({ length: partCount }, async (_, i) => ({ partNumber: i + 1, url: await deps.store.presignPart(upload.bucket, upload.key, upload.s3UploadId, i + 1, deps.cfg.urlSeconds.upload) })),
      )
    : [];
  return { uploadId, jobId: upload.jobId, status: upload.status, jobStatus: job?.status ?? null, name: upload.name, size: upload.size, partSize: upload.partSize, parts, expiresIn: deps.cfg.urlSeconds.upload };
}
