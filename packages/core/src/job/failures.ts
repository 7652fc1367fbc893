/**
 * Which failures are the work's own and which are the platform's. A chunk's attempts count
 * only the first kind: a throttled table, a failed publish or a storage 5xx is retried
 * without spending one, so a duplicate delivery plus a transient error cannot fail a job.
 */

/** A publish that failed after the work was done: the work is fine, the announcement is not. */
export class PublishError extends Error {
  override name = "PublishError";
}

const TRANSIENT_NAMES = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TransactionConflictException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "SlowDown",
  "TimeoutError",
  "RequestTimeout",
  "PublishError",
]);
const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET"]);

/** True when `err` (or what caused it) is the platform failing for now, not the work failing. */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (!(e instanceof Error)) return false;
    const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
    const status = meta?.httpStatusCode;
    if (TRANSIENT_NAMES.has(e.name) || (status !== undefined && (status >= 500 || status === 429))) return true;
    if (TRANSIENT_CODES.has((e as { code?: string }).code ?? "")) return true;
    // ffmpeg reading from storage over HTTP: the storage failed, not the decode
    if (e.name === "FfmpegError" && /Server returned 5\d\d|HTTP error 5\d\d/.test(e.message)) return true;
  }
  return false;
}
