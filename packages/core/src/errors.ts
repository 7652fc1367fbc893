/** Errors whose message is written for the person who sent the request; the API maps each to a status. */
export class InvalidInputError extends Error {
  override name = "InvalidInputError";
}
export class NotFoundError extends Error {
  override name = "NotFoundError";
}
export class ConflictError extends Error {
  override name = "ConflictError";
}
/**
 * A configured per-user limit stops the request for now (see docs/limits.md): HTTP 429 with
 * `code`; the message says the limit and what to do.
 */
export class LimitError extends Error {
  override name = "LimitError";
  constructor(
    readonly code: "too_many_jobs" | "quota_exceeded",
    message: string,
  ) {
    super(message);
  }
}
