import type { ClientResponse } from "hono/client";
import type { SuccessStatusCode } from "hono/utils/http-status";

/**
 * What the API's clients need to type their calls, as types only: the CLI and the dashboard
 * build `hc<Api>(url)` (hono/client) from it, and importing it bundles none of the server.
 */
export type { Api } from "./app.ts";

/** The JSON body of the successful (2xx) answers among a typed call's possible responses. */
export type SuccessBody<R> =
  R extends ClientResponse<infer T, infer S, "json"> ? (S extends SuccessStatusCode ? T : never) : never;
