import { NotFoundError } from "../errors.ts";
import { getJob } from "../job/lifecycle.ts";
import type { Deps } from "../deps.ts";
import { partCountOf, signPartPage, type PartPageQuery } from "./parts.ts";

/**
 * An upload's state with one page of fresh presigned part URLs while it is still open: what a client
 * needs to resume after a page reload or after the first URLs expired. The client keeps
 * the ETags of the parts it already sent and sends only the others.
 */
export async function resumeUpload(
  deps: Pick<Deps, "db" | "store" | "cfg">,
  owner: string,
  uploadId: string,
  query: PartPageQuery = {},
) {
  const upload = (await deps.db.entities.upload.get({ uploadId }).go()).data;
  if (!upload || upload.owner !== owner) throw new NotFoundError(`No upload ${uploadId}.`);
  const job = await getJob(deps, upload.jobId);
  // a cancelled job's upload cannot be finished: say so instead of handing out URLs
  const open = upload.status === "OPEN" && job?.status === "UPLOADING";
  // one page of URLs (`?from=&limit=`, default the first); the client pages through GET /uploads/:id/parts
  const page = open
    ? await signPartPage(deps, upload, query)
    : {
        partCount: partCountOf(upload.size, upload.partSize),
        parts: [],
        nextPart: null,
        expiresIn: deps.cfg.urlSeconds.upload,
      };
  return {
    uploadId,
    jobId: upload.jobId,
    status: upload.status,
    jobStatus: job?.status ?? null,
    name: upload.name,
    size: upload.size,
    partSize: upload.partSize,
    ...page,
  };
}
