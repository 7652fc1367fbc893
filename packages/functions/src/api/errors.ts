import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { ConflictError, InvalidInputError, LimitError, NotFoundError } from "@videoforge/core";

/** Every error leaves as `{error: {code, message}}`; unknown errors do not leak internals. */
export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function toResponse(c: Context, err: unknown) {
  const send = (status: ContentfulStatusCode, code: string, message: string) => c.json(errorBody(code, message), status);
  if (err instanceof z.ZodError) return send(400, "invalid_request", z.prettifyError(err));
  if (err instanceof InvalidInputError) return send(400, "invalid_request", err.message);
  if (err instanceof NotFoundError) return send(404, "not_found", err.message);
  if (err instanceof ConflictError) return send(409, "conflict", err.message);
  if (err instanceof LimitError) return send(429, err.code, err.message);
  if (err instanceof SyntaxError) return send(400, "invalid_json", "The request body is not valid JSON.");
  console.error(JSON.stringify({ level: "error", msg: "unhandled API error", err: err instanceof Error ? err.stack : String(err) }));
  return send(500, "internal", "Something went wrong on our side; the error was logged.");
}
