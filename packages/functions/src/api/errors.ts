import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { ConflictError, InvalidInputError, LimitError, NotFoundError, type Logger } from "@videoforge/core";
import type { ErrorBody } from "@videoforge/core/contract";

/** Every error leaves as `{error: {code, message}}`; unknown errors do not leak internals. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export function toResponse(c: Context, err: unknown, log: Pick<Logger, "error">) {
  const send = (status: ContentfulStatusCode, code: string, message: string) =>
    c.json(errorBody(code, message), status);
  if (err instanceof z.ZodError) return send(400, "invalid_request", z.prettifyError(err));
  if (err instanceof InvalidInputError) return send(400, "invalid_request", err.message);
  if (err instanceof NotFoundError) return send(404, "not_found", err.message);
  if (err instanceof ConflictError) return send(409, "conflict", err.message);
  if (err instanceof LimitError) return send(429, err.code, err.message);
  if (err instanceof SyntaxError) return send(400, "invalid_json", "The request body is not valid JSON.");
  // the route's body gate: a body in anything but JSON
  if (err instanceof HTTPException && err.status === 415) {
    return send(415, "unsupported_media_type", "Send the request body as JSON (Content-Type: application/json).");
  }
  // the logger keeps the stack and cause; the caller gets no internals
  log.error("unhandled API error", { err, method: c.req.method, path: c.req.path });
  return send(500, "internal", "Something went wrong on our side; the error was logged.");
}
