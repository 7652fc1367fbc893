import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { verifySigV4 } from "./sigv4.ts";

/**
 * The local S3 endpoint: checks every request's SigV4 signature (which s3rver skips), then
 * streams it to s3rver, which listens only on a Unix socket in a private directory. What it
 * forwards is what it verified: the signed path and the signed query, re-serialised, without
 * the credentials (s3rver then sees an anonymous request and never reads a key). CORS is
 * answered here, for the dashboard's origin only. It is also where tests inject storage
 * faults, because a failure here looks to the SDK exactly like a flaky S3: a 503 or a
 * connection cut mid-body.
 */
export interface StorageFaults {
  /** Fail every Nth object write (PUT/POST with a key): odd ones answer 503, even ones cut the body mid-stream. */
  failEveryNthWrite?: number;
  /** The first `times` GETs of keys matching `of` send half their body and then stall (a dead connection). */
  stallReads?: { of: RegExp; times: number };
}

export interface S3Gate {
  endpoint: string;
  /** Let a browser page of this origin (the dashboard) call the gate: CORS for it alone. */
  allowOrigin(origin: string): void;
  /** Faults injected so far (tests count them). */
  injected(): number;
  setFaults(faults: StorageFaults | undefined): void;
  stop(): Promise<void>;
}

const xmlError = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};

/** Where the gate sends what it verified: s3rver's Unix socket. */
export interface Upstream {
  socketPath: string;
}

const CORS_METHODS = "GET, PUT, HEAD";
const CORS_HEADERS = "content-type, content-md5, range";

export async function startS3Gate(
  upstream: Upstream,
  credentials: Record<string, string>,
  initialFaults?: StorageFaults,
): Promise<S3Gate> {
  const target = { socketPath: upstream.socketPath };
  const origins = new Set<string>();
  let faults = initialFaults;
  let writes = 0;
  let injected = 0;
  let stalls = 0;

  /**
   * The headers to pass on: the request's, its signature replaced by s3rver's own internal
   * account (s3rver checks no V4 signature, but serves response-header overrides only to a
   * signed request). That account is reachable only through the private socket.
   */
  const upstreamHeaders = (req: IncomingMessage) => {
    const { authorization: _signature, origin: _origin, ...rest } = req.headers;
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    return {
      ...rest,
      authorization:
        `AWS4-HMAC-SHA256 Credential=S3RVER/${now.slice(0, 8)}/us-east-1/s3/aws4_request,` +
        "SignedHeaders=host,Signature=gate",
      "x-amz-date": now,
      "x-amz-content-sha256": req.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD",
    };
  };
  /** s3rver's answer with its own CORS replaced by the gate's. */
  const downstreamHeaders = (req: IncomingMessage, headers: IncomingMessage["headers"]) => {
    const out = Object.fromEntries(
      Object.entries(headers).filter(([k]) => !k.toLowerCase().startsWith("access-control-")),
    );
    return { ...out, ...corsHeaders(req) };
  };
  const corsHeaders = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || !origins.has(origin)) return {};
    return { "access-control-allow-origin": origin, "access-control-expose-headers": "ETag", vary: "Origin" };
  };

  function forward(req: IncomingMessage, res: ServerResponse, path: string, cutAfterBytes?: number) {
    const out = request({ ...target, method: req.method, path, headers: upstreamHeaders(req) }, (up) => {
      res.writeHead(up.statusCode ?? 502, downstreamHeaders(req, up.headers));
      up.pipe(res);
    });
    out.on("error", () => res.destroy());
    // a client that goes away mid-request must not leave s3rver waiting on a half request forever
    res.on("close", () => {
      if (!res.writableFinished) out.destroy();
    });
    if (cutAfterBytes === undefined) return void req.pipe(out);
    // send part of the body, then drop both sides: s3rver must not keep a partial object
    let sent = 0;
    req.on("data", (chunk: Buffer) => {
      if (sent >= cutAfterBytes) return;
      out.write(chunk.subarray(0, cutAfterBytes - sent));
      sent += chunk.length;
      if (sent >= cutAfterBytes) {
        out.destroy();
        req.socket.destroy();
      }
    });
    req.on("end", () => {
      out.destroy();
      req.socket.destroy();
    });
  }

  /** Fetch the object, pass on its headers and half its body, then go silent until the client gives up. */
  function stallAfterHalf(req: IncomingMessage, res: ServerResponse, path: string) {
    const out = request({ ...target, method: "GET", path, headers: upstreamHeaders(req) }, (up) => {
      res.writeHead(up.statusCode ?? 502, downstreamHeaders(req, up.headers));
      const half = Math.floor(Number(up.headers["content-length"] ?? 0) / 2);
      let sent = 0;
      up.on("data", (chunk: Buffer) => {
        if (sent < half) res.write(chunk.subarray(0, half - sent));
        sent += chunk.length;
      });
      // never res.end(): the socket stays open and silent
    });
    out.on("error", () => res.destroy());
    out.end();
  }

  const server = createServer((req, res) => {
    // CORS preflights carry no credentials by design: answered here, never by s3rver, and only for the dashboard
    if (req.method === "OPTIONS") {
      req.resume();
      const origin = req.headers.origin;
      // no CORS headers and no body: the browser refuses the request it asked about
      if (!origin || !origins.has(origin)) return void res.writeHead(403).end();
      res.writeHead(200, {
        ...corsHeaders(req),
        "access-control-allow-methods": CORS_METHODS,
        "access-control-allow-headers": CORS_HEADERS,
        "access-control-max-age": "3000",
      });
      return res.end();
    }
    const verdict = verifySigV4(
      { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers },
      (id) => credentials[id],
    );
    if (!verdict.ok) {
      req.resume();
      return xmlError(res, 403, verdict.code, verdict.message);
    }
    const path = verdict.path;
    const verified = verdict.query ? `${path}?${verdict.query}` : path;
    if (req.method === "GET" && faults?.stallReads?.of.test(path) && stalls < faults.stallReads.times) {
      stalls++;
      injected++;
      return stallAfterHalf(req, res, verified);
    }
    const isObjectWrite = (req.method === "PUT" || req.method === "POST") && /^\/[^/?]+\/[^?]+/.test(req.url ?? "");
    if (isObjectWrite && faults?.failEveryNthWrite && ++writes % faults.failEveryNthWrite === 0) {
      injected++;
      if ((writes / faults.failEveryNthWrite) % 2 === 1) {
        req.resume();
        return xmlError(res, 503, "SlowDown", "Injected fault: please reduce your request rate.");
      }
      const declared = Number(req.headers["content-length"] ?? 0);
      return forward(req, res, verified, Math.max(1, Math.floor(declared / 2)));
    }
    forward(req, res, verified);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    allowOrigin: (origin) => void origins.add(origin),
    injected: () => injected,
    setFaults(f) {
      faults = f;
      writes = 0;
      stalls = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
