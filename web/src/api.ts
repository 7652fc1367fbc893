import { createSignal } from "solid-js";
import { hc, type ClientRequestOptions, type ClientResponse } from "hono/client";
import { refreshAt, type Tokens } from "@videoforge/core/auth";
import type { ErrorBody, VideoEdit, WebhookInput } from "@videoforge/core/contract";
// types only: the server is never bundled, its routes type the client
import type { Api, SuccessBody } from "@videoforge/functions/api";
import { cognito, refresh, storedTokens } from "./auth/cognito.ts";

/**
 * The one door to the HTTP API: base URL, bearer token, errors, and ETag polling. Calls go
 * through `client`, typed by the API's routes (`hc<Api>`): no path, body or answer is
 * declared here. Every call sends `Authorization: Bearer <token>`; a 401 flips `unauthorized()` so the
 * page can ask for the token instead of failing row by row.
 *
 * Two sources of that token: locally the API token (`#token=`, kept in localStorage); on
 * AWS, when the build has a Cognito domain, the access token of the hosted UI's sign-in
 * (auth/cognito.ts), renewed with the refresh token before it expires and after a 401.
 */

/** Where the API lives: `VITE_API_URL` at build time, else the origin that served this page. */
export const apiBase = ((import.meta.env.VITE_API_URL as string | undefined) || window.location.origin).replace(
  /\/+$/,
  "",
);

const TOKEN_KEY = "videoforge.token";

/**
 * Take `#token=` from the address (the URL `npm start` prints), keep it, and drop it from the
 * visible URL. A fragment never leaves the browser: no request line, no Referer, no server log.
 * (`?token=` from older links is still taken, and dropped the same way.)
 */
function adoptTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""));
  const given = fragment.get("token") ?? url.searchParams.get("token");
  if (given) {
    localStorage.setItem(TOKEN_KEY, given);
    fragment.delete("token");
    url.searchParams.delete("token");
    const hash = fragment.toString();
    history.replaceState(history.state, "", url.pathname + url.search + (hash ? `#${hash}` : ""));
  }
  return localStorage.getItem(TOKEN_KEY);
}

const [token, setTokenSignal] = createSignal<string | null>(
  cognito ? (storedTokens()?.accessToken ?? null) : adoptTokenFromUrl(),
);
// with Cognito and no session yet, ask to sign in before calling the API at all
const [unauthorized, setUnauthorized] = createSignal(cognito !== null && token() === null);
const [session, setSession] = createSignal<Tokens | null>(cognito ? storedTokens() : null);
export { token, unauthorized, session };

let renewTimer: ReturnType<typeof setTimeout> | undefined;

/** Use a Cognito session's access token from now on, and renew it shortly before it expires. */
export function adoptSession(tokens: Tokens | null) {
  clearTimeout(renewTimer);
  setSession(tokens);
  setTokenSignal(tokens?.accessToken ?? null);
  setUnauthorized(tokens === null);
  if (tokens?.refreshToken) renewTimer = setTimeout(() => void renew(), Math.max(0, refreshAt(tokens) - Date.now()));
}

/** Renew the Cognito session; false when it cannot be renewed (then the page asks to sign in). */
async function renew(): Promise<boolean> {
  const tokens = await refresh();
  adoptSession(tokens);
  return tokens !== null;
}

export function setToken(value: string) {
  localStorage.setItem(TOKEN_KEY, value.trim());
  setTokenSignal(value.trim());
  setUnauthorized(false);
}

export function authHeader(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** An API error with the server's `{error: {code, message}}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API's `{error: {code, message}}`, checked by hand: zod stays out of the page's bundle. */
function isErrorBody(json: unknown): json is ErrorBody {
  const error = (json as Partial<ErrorBody> | null)?.error;
  return typeof error?.code === "string" && typeof error.message === "string";
}

async function toError(res: Pick<Response, "status" | "statusText" | "text">): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: fall through to the status line
  }
  if (isErrorBody(json)) return new ApiError(res.status, json.error.code, json.error.message);
  return new ApiError(res.status, "http_" + res.status, `The API answered ${res.status} ${res.statusText}`.trim());
}

/**
 * fetch with the bearer token and no cache. An expired Cognito access token is renewed once and
 * the request sent again; a 401 that stays flips `unauthorized()`. A refused connection is an
 * ApiError with code `network`.
 */
async function authorizedFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const send = async () => {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(authHeader())) headers.set(name, value);
    try {
      return await fetch(input, { ...init, headers, cache: "no-store" });
    } catch (err) {
      throw new ApiError(0, "network", `Cannot reach the API at ${apiBase} (${(err as Error).message}).`);
    }
  };
  let res = await send();
  if (res.status === 401 && cognito && (await renew())) res = await send();
  if (res.status === 401) setUnauthorized(true);
  return res;
}

/** The API, typed by its routes: `client.jobs[":id"].$get({ param: { id } })`. */
export const client = hc<Api>(apiBase, { fetch: authorizedFetch });

/** hc puts path parameters in as they are: an id from the address bar must not add path segments. */
export const idParam = (id: string) => ({ id: encodeURIComponent(id) });

/** The body of a successful answer; any other answer throws an ApiError with the API's code and message. */
export async function ok<R extends ClientResponse<unknown>>(pending: Promise<R>): Promise<SuccessBody<R>> {
  const res = await pending;
  if (!res.ok) throw await toError(res);
  return (await res.json()) as SuccessBody<R>;
}

/**
 * Send `request` repeatedly (every `everyMs` while the tab is visible) with the last ETag
 * as If-None-Match, so an unchanged answer is a bodiless 304 and `onData` is not called.
 * Returns a stop function.
 */
export function poll<R extends ClientResponse<unknown>>(
  request: (options: ClientRequestOptions) => Promise<R>,
  everyMs: number,
  onData: (data: SuccessBody<R>) => void,
  onError: (err: ApiError) => void,
  shouldContinue: (data: SuccessBody<R>) => boolean = () => true,
): () => void {
  let etag: string | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (stopped) return;
    let keepGoing = true;
    if (document.visibilityState !== "hidden") {
      try {
        const res = await request({ headers: etag ? { "if-none-match": etag } : {} });
        if (res.status === 200) {
          etag = res.headers.get("etag");
          const data = (await res.json()) as SuccessBody<R>;
          if (!stopped) onData(data);
          keepGoing = shouldContinue(data);
        } else if (res.status !== 304) onError(await toError(res));
      } catch (err) {
        onError(err instanceof ApiError ? err : new ApiError(0, "network", (err as Error).message));
      }
    }
    if (!stopped && keepGoing) timer = setTimeout(tick, everyMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// what the API answers: the domain's contract, shared with the server (constants from zod-free modules)
export { FINAL_STATUSES } from "@videoforge/core/status";
export type {
  ChunkRow,
  JobStatus,
  JobSummary,
  JobView,
  OutputLinks,
  TimelineRow,
  Share,
  SharedVideo,
  Video,
  VideoEdit,
  Webhook,
  Delivery,
  WebhookEventType,
} from "@videoforge/core/contract";

/**
 * The API for someone holding a share link and no account: no bearer token (the link is the credential, and an
 * owner opening a link must not send theirs), and a 401 never asks for one.
 */
const publicClient = hc<Api>(apiBase, {
  fetch: async (input: RequestInfo | URL, init: RequestInit = {}) => {
    try {
      return await fetch(input, { ...init, cache: "no-store" });
    } catch (err) {
      throw new ApiError(0, "network", `Cannot reach the API at ${apiBase} (${(err as Error).message}).`);
    }
  },
});

export const api = {
  outputs: (jobId: string) => ok(client.jobs[":id"].outputs.$get({ param: idParam(jobId) })),
  cancel: (jobId: string) => ok(client.jobs[":id"].$delete({ param: idParam(jobId) })),
  retry: (jobId: string) => ok(client.jobs[":id"].retry.$post({ param: idParam(jobId) })),
  /** The job once, with its chunks and the first page of its timeline (the job page polls it instead). */
  job: (jobId: string) => ok(client.jobs[":id"].$get({ param: idParam(jobId), query: {} })),
  /**
   * A page of the library, newest first; `q` keeps the videos whose title holds it (an empty `q` keeps all);
   * `cursor` is the previous page's `next`.
   */
  videos: (q = "", cursor?: string) =>
    ok(client.videos.$get({ query: { ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) } })),
  video: (videoId: string) => ok(client.videos[":id"].$get({ param: idParam(videoId) })),
  /** A new title, description or both; a refused one is an ApiError with the API's message. */
  editVideo: (videoId: string, edit: VideoEdit) =>
    ok(client.videos[":id"].$patch({ param: idParam(videoId), json: edit })),
  /** The video's share links, newest first, revoked and expired ones included (without their tokens). */
  shares: (videoId: string) => ok(client.videos[":id"].shares.$get({ param: idParam(videoId) })),
  /** A new share link; its token (and so its address) is in this answer only. */
  createShare: (videoId: string, expiresInDays: number) =>
    ok(client.videos[":id"].shares.$post({ param: idParam(videoId), json: { expiresInDays } })),
  /** The link stops working at once; the answer is the link with `revokedAt` set. */
  revokeShare: (videoId: string, shareId: string) =>
    ok(
      client.videos[":id"].shares[":shareId"].$delete({
        param: { id: encodeURIComponent(videoId), shareId: encodeURIComponent(shareId) },
      }),
    ),
  /** The user's webhook endpoints, newest first (without their secrets). */
  webhooks: () => ok(client.webhooks.$get()),
  /** A new endpoint; its signing secret is in this answer only. A refused URL is an ApiError saying why. */
  addWebhook: (json: WebhookInput) => ok(client.webhooks.$post({ json })),
  removeWebhook: (id: string) => ok(client.webhooks[":id"].$delete({ param: idParam(id) })),
  /** The endpoint's newest deliveries, each with every attempt. */
  deliveries: (id: string) => ok(client.webhooks[":id"].deliveries.$get({ param: idParam(id) })),
  /** The same body and id again, with a new retry window. */
  redeliver: (id: string, deliveryId: string) =>
    ok(
      client.webhooks[":id"].deliveries[":deliveryId"].redeliver.$post({
        param: { id: encodeURIComponent(id), deliveryId: encodeURIComponent(deliveryId) },
      }),
    ),
  /** What a share link opens, without any token; a dead link is an ApiError with the API's reason. */
  shared: (token: string) => ok(publicClient.shared[":token"].$get({ param: { token: encodeURIComponent(token) } })),
  /** A path the API answered (a shared stream's `hls`) as a URL the player can load. */
  apiUrl: (path: string) => apiBase + path,
  /** The master playlist served through the API (variants and segments resolve from it). */
  hlsUrl: (jobId: string) => client.jobs[":id"].hls["master.m3u8"].$url({ param: idParam(jobId) }).href,
  /** The DASH manifest served through the API (segment URLs in it are presigned). */
  dashUrl: (jobId: string) => client.jobs[":id"].dash["manifest.mpd"].$url({ param: idParam(jobId) }).href,
  /** The storyboard's WebVTT (sheets presigned), or null for a job made before storyboards. */
  storyboard: async (jobId: string): Promise<string | null> => {
    const res = await client.jobs[":id"]["storyboard.vtt"].$get({ param: idParam(jobId) });
    return res.ok ? res.text() : null;
  },
};
