import dns, { type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { type Readable, Transform } from "node:stream";
import type { UrlPolicy } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { formatBytes } from "../job/limits.ts";
import { type AddressKind, addressKind } from "./address.ts";

/**
 * Which addresses a request to a user's URL may reach (the config's, per use). Link-local and reserved addresses
 * are refused whatever the policy: that is where cloud metadata and credential endpoints answer.
 */
export type OutboundPolicy = UrlPolicy;

/** The URL may not be requested; the message says why, for the person who gave it. */
export class UnsafeUrlError extends Error {
  override name = "UnsafeUrlError";
}

/** A response body went past its size limit. */
export class TooLargeError extends Error {
  override name = "TooLargeError";
}

/** The request failed on the way: DNS, connection, TLS, timeout or too many redirects. */
export class FetchError extends Error {
  override name = "FetchError";
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  /** The caller reads or destroys it; nothing else frees the connection. */
  body: Readable;
}

export interface OpenOptions {
  policy: OutboundPolicy;
  method?: "GET" | "POST" | "HEAD";
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Limit for resolving, connecting and receiving the response headers of each hop (default 10 s). */
  timeoutMs?: number;
  /** Redirects followed for GET and HEAD (default 5). */
  maxRedirects?: number;
  /** Aborts the request and, once it answered, its body; the abort error is thrown as it is. */
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_REDIRECTS = 5;

/**
 * Parses `raw` and checks what can be checked without DNS: the scheme, the absence of credentials, and the
 * address when the host is an IP literal. Throws UnsafeUrlError.
 */
export function checkUrl(raw: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const shown = raw.length > 100 ? `${raw.slice(0, 100)}…` : raw;
    throw new UnsafeUrlError(`Not a valid URL: ${JSON.stringify(shown)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UnsafeUrlError(`Only http and https URLs are allowed (got ${url.protocol})`);
  }
  if (policy.httpsOnly && url.protocol !== "https:") {
    throw new UnsafeUrlError(`Only https URLs are allowed (got ${url.protocol})`);
  }
  // credentials in a URL end up in logs and in the receiver's logs; headers are the place for them
  if (url.username || url.password) throw new UnsafeUrlError("URLs with a user name or password are not allowed");
  const host = bareHost(url);
  // WHATWG parsing already turned 2130706433 or 0x7f.1 into 127.0.0.1, so a literal is always in canonical form
  if (isIP(host)) refuseUnless(shown(url), host, policy);
  return url;
}

/**
 * Resolves the URL's host and rejects if any of its addresses is not allowed: the early, clear answer when a
 * user registers a URL. It proves nothing about later requests (DNS can change); openUrl checks again on
 * connecting. Returns the addresses. Throws UnsafeUrlError, or FetchError when the name does not resolve.
 */
export async function checkHost(url: URL, policy: OutboundPolicy): Promise<string[]> {
  checkUrl(url.href, policy);
  const host = bareHost(url);
  if (isIP(host)) return [host];
  let found: LookupAddress[];
  try {
    found = await dns.promises.lookup(host, { all: true });
  } catch (err) {
    throw lookupFailure(host, err);
  }
  if (found.length === 0) throw new FetchError(`${host} does not resolve to any address`);
  for (const { address } of found) refuseUnless(shown(url), address, policy);
  return found.map(({ address }) => address);
}

/**
 * A URL a user gives (a webhook, an import), checked when it is given: its form, its scheme and every address
 * its host resolves to now. A refusal is a 400 naming `field`; requests check again on every connection.
 */
export async function allowedUrl(raw: string, policy: OutboundPolicy, field: string): Promise<URL> {
  try {
    const url = checkUrl(raw, policy);
    await checkHost(url, policy);
    return url;
  } catch (err) {
    throw new InvalidInputError(`${field}: ${(err as Error).message}`);
  }
}

/**
 * A `lookup` for http.request, https.request or net.connect that fails with UnsafeUrlError when the host
 * resolves to an address the policy refuses. Because the socket connects to exactly the addresses this
 * lookup returned, a name that resolves differently at each query (DNS rebinding) cannot slip past the check.
 * Node calls it with `all: true` when it may try several addresses (autoSelectFamily, the default since
 * Node 20), and without when it wants one; both answers are given.
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return lookupFor(policy, undefined);
}

function lookupFor(policy: OutboundPolicy, subject: string | undefined): LookupFunction {
  return (hostname, options, callback) => {
    // every address is checked, even when one is wanted, so the answer does not depend on the order DNS gives
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const first = addresses[0];
      if (!first) return callback(new FetchError(`${hostname} does not resolve to any address`), "");
      for (const { address } of addresses) {
        const refusal = refusalOf(subject ?? hostname, address, policy);
        if (refusal) return callback(new UnsafeUrlError(refusal), "");
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Requests a URL a user gave, checking it and every redirect target against `policy`, and the addresses
 * actually connected to. GET and HEAD follow redirects; a POST's 3xx is returned as it is, so a body never
 * goes anywhere but the URL it was meant for. Throws UnsafeUrlError or FetchError; any status is a response.
 */
export async function openUrl(raw: string, opts: OpenOptions): Promise<OutboundResponse> {
  const method = opts.method ?? "GET";
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const first = checkUrl(raw, opts.policy);
  let url = first;
  let headers = requestHeaders(opts.headers, opts.body);
  let body = opts.body;
  for (let hop = 0; ; hop++) {
    opts.signal?.throwIfAborted();
    const res = await send(url, method, headers, body, opts);
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (method === "POST" || !REDIRECTS.has(status) || !location) {
      return { status, headers: res.headers, url, body: res };
    }
    // the redirect's own body is of no use; the connection is not pooled, so dropping it costs nothing
    res.destroy();
    if (hop >= maxRedirects) {
      throw new FetchError(`Too many redirects: ${shown(first)} still redirected after ${maxRedirects} hops`);
    }
    const next = redirectTarget(url, location, opts.policy);
    if (next.origin !== url.origin) headers = omit(headers, ["authorization", "cookie", "proxy-authorization"]);
    headers = omit(headers, ["content-type", "content-length"]);
    body = undefined;
    url = next;
  }
}

function redirectTarget(from: URL, location: string, policy: OutboundPolicy): URL {
  let target: string;
  try {
    target = new URL(location, from).href;
  } catch {
    throw new FetchError(`${shown(from)} redirected to an invalid URL`);
  }
  try {
    return checkUrl(target, policy);
  } catch (err) {
    if (err instanceof UnsafeUrlError) {
      throw new UnsafeUrlError(`${shown(from)} redirected to a refused URL: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  opts: OpenOptions,
): Promise<http.IncomingMessage> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const req = client.request({
      protocol: url.protocol,
      hostname: bareHost(url),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      lookup: lookupFor(opts.policy, shown(url)),
      // a pooled socket could have been opened by a request without this lookup, to an address never checked
      agent: false,
      signal: opts.signal,
    });
    const timer = setTimeout(() => {
      req.destroy(new FetchError(`${url.hostname} did not answer within ${seconds(timeoutMs)}`));
    }, timeoutMs);
    // kept after the response too: an error with no listener would crash the process
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(asFetchError(err, url));
    });
    req.once("response", (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.end(body);
  });
}

/**
 * Passes data through and fails with TooLargeError once more than `maxBytes` went by; `what` starts the
 * message ("The video" → "The video is larger than the 2 GiB limit").
 */
export function capBytes(maxBytes: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new TooLargeError(`${what} is larger than the ${formatBytes(maxBytes)} limit`));
      else done(null, chunk);
    },
  });
}

/** The first `maxBytes` of `body` (all of it if shorter); the stream is destroyed once that much was read. */
export async function readCapped(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (maxBytes > 0) {
    // leaving the loop early destroys the stream, which is what frees the connection
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const kept = bytes.subarray(0, maxBytes - size);
      chunks.push(kept);
      size += kept.length;
      if (size >= maxBytes) break;
    }
  }
  body.destroy();
  return Buffer.concat(chunks, size);
}

function refuseUnless(subject: string, ip: string, policy: OutboundPolicy): void {
  const refusal = refusalOf(subject, ip, policy);
  if (refusal) throw new UnsafeUrlError(refusal);
}

/** Why `ip` may not be reached under `policy`, or undefined when it may. */
function refusalOf(subject: string, ip: string, policy: OutboundPolicy): string | undefined {
  const kind: AddressKind = addressKind(ip);
  const start = `${subject} resolves to ${ip}`;
  switch (kind) {
    case "public":
      return undefined;
    case "loopback":
      return policy.allowLoopback ? undefined : `${start}, a loopback address: only ${allowed(policy)} are allowed`;
    case "private":
      return policy.allowPrivate ? undefined : `${start}, a private address: only ${allowed(policy)} are allowed`;
    case "link-local":
      return `${start}, a link-local address (where cloud metadata endpoints answer), which is never allowed`;
    case "reserved":
      return `${start}, a reserved address that is not on the public internet, which is never allowed`;
  }
}

function allowed(policy: OutboundPolicy): string {
  if (policy.allowPrivate && policy.allowLoopback) return "public, private network and loopback addresses";
  if (policy.allowPrivate) return "public and private network addresses";
  if (policy.allowLoopback) return "public and loopback addresses";
  return "public internet addresses";
}

/** The URL without its query, which may hold a receiver's secret token: for messages and logs. */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The hostname as sockets take it: an IPv6 literal without its brackets. */
function bareHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function requestHeaders(given: Record<string, string> | undefined, body: string | Buffer | undefined) {
  const headers: Record<string, string> = { ...given };
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  if (!has("user-agent")) headers["user-agent"] = "videoforge";
  // a known length rather than chunked encoding, which some webhook receivers refuse
  if (body !== undefined && !has("content-length")) headers["content-length"] = String(Buffer.byteLength(body));
  return headers;
}

function omit(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => !names.includes(key.toLowerCase())));
}

function asFetchError(err: Error, url: URL): Error {
  // the policy's refusals, our own timeouts and the caller's abort are already what the caller should see
  if (err instanceof UnsafeUrlError || err instanceof FetchError || err.name === "AbortError") return err;
  const code = (err as NodeJS.ErrnoException).code;
  const host = url.hostname;
  if (code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_AGAIN") return lookupFailure(host, err);
  if (code === "ECONNREFUSED") return new FetchError(`${host} refused the connection`, { cause: err });
  if (code === "ECONNRESET") return new FetchError(`${host} closed the connection before answering`, { cause: err });
  if (code === "ETIMEDOUT") return new FetchError(`${host} could not be reached in time`, { cause: err });
  if (code?.startsWith("ERR_TLS") || code?.includes("CERT")) {
    return new FetchError(`${host}'s TLS certificate was not accepted (${code})`, { cause: err });
  }
  return new FetchError(`${host} could not be reached: ${err.message}`, { cause: err });
}

function lookupFailure(host: string, err: unknown): FetchError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOTFOUND" || code === "ENODATA") {
    return new FetchError(`${host} does not resolve to any address: check the host name`, { cause: err });
  }
  return new FetchError(`Looking up ${host} failed (${code ?? String(err)}): try again later`, { cause: err });
}

/** "10 s", "0.3 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
