import { createSignal } from "solid-js";
import { refreshAt, type Tokens } from "@videoforge/core/auth/pkce";
import { cognito, refresh, storedTokens } from "./auth/cognito.ts";

/**
 * The one door to the HTTP API: base URL, bearer token, errors, and ETag polling.
 * Every call sends `Authorization: Bearer <token>`; a 401 flips `unauthorized()` so the
 * page can ask for the token instead of failing row by row.
 *
 * Two sources of that token: locally the API token (`#token=`, kept in localStorage); on
 * AWS, when the build has a Cognito domain, the access token of the hosted UI's sign-in
 * (auth/cognito.ts), renewed with the refresh token before it expires and after a 401.
 */

/** Where the API lives: `VITE_API_URL` at build time, else the origin that served this page. */
export const apiBase = ((import.meta.env.VITE_API_URL as string | undefined) || window.location.origin).replace(/\/+$/, "");

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

const [token, setTokenSignal] = createSignal<string | null>(cognito ? (storedTokens()?.accessToken ?? null) : adoptTokenFromUrl());
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

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(res.status, body.error.code ?? "error", body.error.message);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(res.status, "http_" + res.status, `The API answered ${res.status} ${res.statusText}`.trim());
}

export async function call<T>(method: string, path: string, body?: unknown, extra: RequestInit = {}): Promise<T> {
  const send = async () => {
    try {
      return await fetch(apiBase + path, {
        ...extra,
        method,
        cache: "no-store",
        headers: { ...authHeader(), ...(body === undefined ? {} : { "content-type": "application/json" }), ...(extra.headers as Record<string, string> | undefined) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", `Cannot reach the API at ${apiBase} (${(err as Error).message}).`);
    }
  };
  let res = await send();
  // an expired Cognito access token: renew it once and send again
  if (res.status === 401 && cognito && (await renew())) res = await send();
  if (res.status === 401) setUnauthorized(true);
  if (!res.ok) throw await toError(res);
  return (await res.json()) as T;
}

/**
 * GET `path` repeatedly (every `everyMs` while the tab is visible), sending the last ETag
 * as If-None-Match so an unchanged answer is a bodiless 304 and `onData` is not called.
 * Returns a stop function.
 */
export function poll<T>(path: string, everyMs: number, onData: (data: T) => void, onError: (err: ApiError) => void, shouldContinue: (data: T) => boolean = () => true): () => void {
  let etag: string | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (stopped) return;
    let keepGoing = true;
    if (document.visibilityState !== "hidden") {
      try {
        const res = await fetch(apiBase + path, { cache: "no-store", headers: { ...authHeader(), ...(etag ? { "if-none-match": etag } : {}) } });
        if (res.status === 401 && !(cognito && (await renew()))) setUnauthorized(true);
        if (res.status === 200) {
          etag = res.headers.get("etag");
          const data = (await res.json()) as T;
          if (!stopped) onData(data);
          keepGoing = shouldContinue(data);
        } else if (res.status !== 304) onError(await toError(res));
      } catch (err) {
        onError(new ApiError(0, "network", `Cannot reach the API at ${apiBase} (${(err as Error).message}).`));
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

// ---- what the API returns (see docs/dashboard.md) ----

export type JobStatus = "UPLOADING" | "QUEUED" | "CHUNKING" | "ENCODING" | "ASSEMBLING" | "COMPLETED" | "FAILED" | "CANCELLED";
export const FINAL: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];

export interface Output {
  rendition: string;
  key: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
  bytes: number;
  bitrate: number;
}

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  name: string;
  size: number | null;
  ladder: string[];
  source: { frames: number; duration: number; width: number; height: number; fps: number; audio: boolean } | null;
  chunkCount: number | null;
  chunksEncoded: number;
  progress: number;
  outputs: Output[];
  error: { stage: string | null; reason: string } | null;
  createdAt: number;
  retryOf?: string | null;
  timings: { chunking: number | null; encoding: number | null; assembly: number | null; total: number | null };
}

export interface ChunkRow {
  index: number;
  status: "PENDING" | "ENCODED" | "FAILED";
  frames: number;
  startTime: number;
  duration: number;
  readyAt?: number;
  startedAt?: number;
  finishedAt?: number;
  worker?: string;
  attempts?: number;
  error?: string;
}

export interface TimelineRow {
  at: string;
  eventId: string;
  type: string;
  chunk?: number;
  detail: Record<string, unknown>;
}

export interface JobView {
  job: JobSummary;
  /** Every chunk row (null only when the request named this `chunksVersion` with `?chunksVersion=`). */
  chunks: ChunkRow[];
  chunksVersion: string;
  /** The first page of the timeline, oldest first; `timelineNext` fetches the rest (GET /jobs/:id/timeline?cursor=). */
  timeline: TimelineRow[];
  timelineNext: string | null;
}

export interface OutputLinks {
  status: JobStatus;
  outputs: (Output & { url: string })[];
  hls: string | null;
  poster: string | null;
  /** Seconds the URLs stay valid (absent while there are none). */
  expiresIn?: number;
}

export const api = {
  outputs: (jobId: string) => call<OutputLinks>("GET", `/jobs/${encodeURIComponent(jobId)}/outputs`),
  cancel: (jobId: string) => call<{ jobId: string; status: string }>("DELETE", `/jobs/${encodeURIComponent(jobId)}`),
  retry: (jobId: string) => call<{ jobId: string }>("POST", `/jobs/${encodeURIComponent(jobId)}/retry`),
  /** The master playlist served through the API (variants and segments resolve from it). */
  hlsUrl: (jobId: string) => `${apiBase}/jobs/${encodeURIComponent(jobId)}/hls/master.m3u8`,
};
