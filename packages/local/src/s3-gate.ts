import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { verifySigV4 } from "./sigv4.ts";

/**
 * The local S3 endpoint: checks every request's SigV4 signature (which s3rver skips), then
 * streams it to s3rver. It is also where tests inject storage faults, because a failure
 * here looks to the SDK exactly like a flaky S3: a 503 or a connection cut mid-body.
 */
export interface StorageFaults {
  /** Fail every Nth object write (PUT/POST with a key): odd ones answer 503, even ones cut the body mid-stream. */
  failEveryNthWrite?: number;
  /** The first `times` GETs of keys matching `of` send half their body and then stall (a dead connection). */
  stallReads?: { of: RegExp; times: number };
}

export interface S3Gate {
  endpoint: string;
  /** Faults injected so far (tests count them). */
  injected(): number;
  setFaults(faults: StorageFaults | undefined): void;
  stop(): Promise<void>;
}

const xmlError = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};

export async function startS3Gate(upstream: string, credentials: Record<string, string>, initialFaults?: StorageFaults): Promise<S3Gate> {
  const target = new URL(upstream);
  let faults = initialFaults;
  let writes = 0;
  let injected = 0;
  let stalls = 0;

  function forward(req: IncomingMessage, res: ServerResponse, cutAfterBytes?: number) {
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
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
  function stallAfterHalf(req: IncomingMessage, res: ServerResponse) {
    const out = request({ host: target.hostname, port: target.port, method: "GET", path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
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
    // CORS preflights carry no credentials by design; s3rver answers them from the bucket's CORS rules
    if (req.method === "OPTIONS") return forward(req, res);
    const verdict = verifySigV4({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers }, (id) => credentials[id]);
    if (!verdict.ok) {
      req.resume();
      return xmlError(res, 403, verdict.code, verdict.message);
    }
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && faults?.stallReads?.of.test(path) && stalls < faults.stallReads.times) {
      stalls++;
      injected++;
      return stallAfterHalf(req, res);
    }
    const isObjectWrite = (req.method === "PUT" || req.method === "POST") && /^\/[^/?]+\/[^?]+/.test(req.url ?? "");
    if (isObjectWrite && faults?.failEveryNthWrite && ++writes % faults.failEveryNthWrite === 0) {
      injected++;
      if ((writes / faults.failEveryNthWrite) % 2 === 1) {
        req.resume();
        return xmlError(res, 503, "SlowDown", "Injected fault: please reduce your request rate.");
      }
      const declared = Number(req.headers["content-length"] ?? 0);
      return forward(req, res, Math.max(1, Math.floor(declared / 2)));
    }
    forward(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
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
