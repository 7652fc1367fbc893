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
