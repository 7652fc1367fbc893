import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LARGE_SOURCE_MEGABYTES, makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import { ImportInput } from "../contract.ts";
import { failJob } from "../job/lifecycle.ts";
import { formatBytes } from "../job/limits.ts";
import { allowedUrl, capBytes, FetchError, openUrl } from "../net/outbound.ts";
import type { Deps } from "../deps.ts";
import { queueAndAnnounce, startJob } from "./lifecycle.ts";

/**
 * Upload from a URL: the API checks the URL and makes the job; the importer streams the file into the uploads
 * bucket (never to disk, never past the upload size limit, every redirect and every resolved address checked
 * again) and announces VideoUploaded, so the rest is the same pipeline. What cannot be fetched fails the job
 * with a reason that says what to fix; what is fetched but is not a video fails at the chunker's probe, as an
 * upload would.
 */

/** The server must start answering within this, and never stall longer than this mid-file. */
const ANSWER_TIMEOUT_MS = 30_000;
const STALL_MS = 60_000;

/** The URL's last path segment, decoded, as a file name (the video's title until edited). */
function nameOf(url: URL): string {
  const last = url.pathname.split("/").filter(Boolean).pop() ?? "";
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // a malformed escape: keep it as written
  }
  name = name.replace(/[\u0000-\u001f\u007f/\\]/g, "").slice(0, 255);
  return name || url.hostname;
}

/** `POST /uploads/from-url`: 202 with the job; the importer does the fetching. */
export async function requestImport(deps: Deps, owner: string, raw: unknown) {
  const { url: given, ...choices } = ImportInput.parse(raw);
  const url = await allowedUrl(given, deps.cfg.imports.policy, "url");
  const name = choices.name ?? nameOf(url);
  const { jobId } = await startJob(deps, owner, { ...choices, name }, { size: 0 });
  await deps.events.publish(makeEvent("SourceImportRequested", { jobId, owner, url: url.href, name, large: false }));
  return { jobId, status: "UPLOADING" as const };
}

/** Fails the stream when no byte arrives for `ms`: a server that trickles forever does not hold the importer. */
function stallGuard(ms: number, what: string): Transform {
  let timer: NodeJS.Timeout | undefined;
  const guard: Transform = new Transform({
    transform(chunk, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => guard.destroy(new FetchError(`${what} stopped sending for ${ms / 1000} s`)), ms);
  };
  arm();
  return guard;
}

/** SourceImportRequested → the source in the uploads bucket, then VideoUploaded (or the job FAILED, saying why). */
export async function importSource(deps: Deps, event: EventDetail<"SourceImportRequested">): Promise<void> {
  const { jobId, url } = event;
  const log = deps.log.child({ jobId });
  const job = await deps.jobs.getJob(jobId);
  // cancelled, or already imported by an earlier delivery: nothing to fetch
  if (!job || job.status !== "UPLOADING") return;
  const { maxUploadBytes } = deps.cfg.limits;
  const limit = `the ${formatBytes(maxUploadBytes)} upload limit`;
  const host = new URL(url).host;
  const fail = (reason: string) => failJob(deps, jobId, "upload", reason);

  let res: Awaited<ReturnType<typeof openUrl>>;
  try {
    res = await openUrl(url, { policy: deps.cfg.imports.policy, method: "GET", timeoutMs: ANSWER_TIMEOUT_MS });
  } catch (err) {
    const name = (err as Error).name;
    if (name === "UnsafeUrlError" || name === "FetchError")
      return void (await fail(`Could not fetch the video from ${host}: ${(err as Error).message}`));
    throw err;
  }
  const drop = () => res.body.destroy();
  if (res.status < 200 || res.status > 299) {
    drop();
    return void (await fail(
      `${host} answered ${res.status} for the video's URL; ` +
        "check that the link is public and points at the file itself.",
    ));
  }
  const type = String(res.headers["content-type"] ?? "").toLowerCase();
  if (/^text\/html|^application\/xhtml/.test(type)) {
    drop();
    return void (await fail(
      `${host} sent a web page (${type.split(";")[0]}), not a video file: link to the file itself ` +
        "(a direct download link), not to the page that shows it.",
    ));
  }
  const length = Number(res.headers["content-length"]);
  if (Number.isFinite(length) && length > maxUploadBytes) {
    drop();
    return void (await fail(`The file at ${host} is ${formatBytes(length)}, over ${limit}.`));
  }
  if (!event.large && Number.isFinite(length) && toMegabytes(length) >= LARGE_SOURCE_MEGABYTES) {
    // a large file is fetched where time is not limited: the task runtime
    drop();
    log.info("import handed to the task runtime", { bytes: length });
    await deps.events.publish(makeEvent("SourceImportRequested", { ...event, large: true }));
    return;
  }

  const bucket = job.sourceBucket ?? deps.cfg.buckets.uploads;
  const key = job.sourceKey ?? "";
  let bytes = 0;
  try {
    const cap = capBytes(maxUploadBytes, `The file at ${host}`);
    const stall = stallGuard(STALL_MS, host);
    // a refused upload stops the download too, and a failed download (too large, stalled) aborts the upload
    const upload = deps.store.uploadStream(bucket, key, stall, type || "application/octet-stream").catch((err) => {
      res.body.destroy();
      throw err;
    });
    [, { bytes }] = await Promise.all([pipeline(res.body, cap, stall), upload]);
  } catch (err) {
    const name = (err as Error).name;
    if (name === "TooLargeError")
      return void (await fail(`${(err as Error).message}: an import has the size limit of an upload.`));
    if (name === "FetchError" || (err as NodeJS.ErrnoException).code === "ECONNRESET")
      return void (await fail(`The download from ${host} broke off: ${(err as Error).message}. Try again.`));
    throw err;
  }
  // what arrived but cannot be the file is not kept
  const discard = async (reason: string) => {
    await deps.store.remove(bucket, [key]);
    await fail(reason);
  };
  if (bytes === 0) return void (await discard(`${host} sent an empty file: there is no video to process.`));
  if (Number.isFinite(length) && bytes !== length)
    return void (await discard(`${host} sent ${bytes} bytes but announced ${length}; the download was cut short.`));
  await deps.db.entities.job.patch({ jobId }).set({ sourceSize: bytes }).go();
  log.info("source imported", { bytes, host });
  await queueAndAnnounce(deps, {
    jobId,
    owner: event.owner,
    bucket,
    key,
    size: bytes,
    name: event.name,
    ladder: job.ladder,
    formats: job.formats,
  });
}
