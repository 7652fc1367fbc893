import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  capBytes,
  checkHost,
  checkUrl,
  FetchError,
  guardedLookup,
  type OutboundPolicy,
  openUrl,
  readCapped,
  TooLargeError,
  UnsafeUrlError,
} from "./index.ts";

const strict: OutboundPolicy = { httpsOnly: false, allowLoopback: false, allowPrivate: false };
const loopback: OutboundPolicy = { httpsOnly: false, allowLoopback: true, allowPrivate: false };
const lenient: OutboundPolicy = { httpsOnly: false, allowLoopback: true, allowPrivate: true };
const MiB = 1024 * 1024;

/** Every request the loopback server saw, as "METHOD /path". */
const seen: string[] = [];
let server: http.Server;
let base: string;
let port: number;

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void> = {
  "/": (_req, res) => res.end("hello"),
  "/r1": (_req, res) => redirect(res, 302, "/r2"),
  "/r2": (_req, res) => redirect(res, 301, `${base}/r3`),
  "/r3": (_req, res) => redirect(res, 307, "/final?x=1"),
  "/final": (_req, res) => res.end("final"),
  "/loop": (_req, res) => redirect(res, 302, "/loop"),
  "/meta": (_req, res) => redirect(res, 302, "http://169.254.169.254/latest/meta-data/"),
  "/file": (_req, res) => redirect(res, 302, "file:///etc/passwd"),
  "/to-localhost": (_req, res) => redirect(res, 302, `http://localhost:${port}/echo`),
  "/see-other": (_req, res) => redirect(res, 303, "/echo"),
  "/echo": (req, res, body) => res.end(JSON.stringify({ method: req.method, headers: req.headers, body })),
  "/big": (_req, res) => res.end(Buffer.alloc(2 * MiB, 7)),
  // never answers; closeAllConnections ends it
  "/hang": () => {},
};

function redirect(res: http.ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location }).end("moved");
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    seen.push(`${req.method} ${path}`);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const route = routes[path];
      if (route) route(req, res, Buffer.concat(chunks).toString());
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

describe("a URL that leads to this machine", () => {
  it("is refused before any request is sent when loopback is not allowed", async () => {
    const refused = [
      `${base}/`,
      `http://localhost:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:7f00:1]:${port}/`,
    ];
    for (const url of refused) {
      const err = await openUrl(url, { policy: strict }).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(UnsafeUrlError);
      expect((err as Error).message, url).toMatch(/a loopback address: only public internet addresses are allowed/);
    }
    // localhost passed checkUrl and was refused on connecting, by the lookup
    const viaDns = await openUrl(`http://localhost:${port}/x?token=secret`, { policy: strict }).catch((e: Error) => e);
    expect((viaDns as Error).message).toBe(
      `http://localhost:${port}/x resolves to 127.0.0.1, a loopback address: ` +
        "only public internet addresses are allowed",
    );
    expect(seen).toEqual([]);
  });

  it("is fetched when loopback is allowed, by IP and by name", async () => {
    const res = await openUrl(`${base}/`, { policy: loopback });
    expect(res.status).toBe(200);
    expect((await readCapped(res.body, 1024)).toString()).toBe("hello");
    const byName = await openUrl(`http://localhost:${port}/`, { policy: loopback });
    expect((await readCapped(byName.body, 1024)).toString()).toBe("hello");
    expect(seen).toEqual(["GET /", "GET /"]);
  });

  it("sends user-agent videoforge unless one is given", async () => {
    const own = await openUrl(`${base}/echo`, { policy: loopback });
    expect(JSON.parse((await readCapped(own.body, 10_000)).toString()).headers["user-agent"]).toBe("videoforge");
    const given = await openUrl(`${base}/echo`, { policy: loopback, headers: { "User-Agent": "probe/1" } });
    expect(JSON.parse((await readCapped(given.body, 10_000)).toString()).headers["user-agent"]).toBe("probe/1");
  });
});

describe("redirects", () => {
  it("to a metadata endpoint are refused whatever the policy", async () => {
    const err = await openUrl(`${base}/meta`, { policy: lenient }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect((err as Error).message).toBe(
      `${base}/meta redirected to a refused URL: http://169.254.169.254/latest/meta-data/ resolves to ` +
        "169.254.169.254, a link-local address (where cloud metadata endpoints answer), which is never allowed",
    );
    expect(seen).toEqual(["GET /meta"]);
  });

  it("to a file URL are refused", async () => {
    const err = await openUrl(`${base}/file`, { policy: lenient }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect((err as Error).message).toMatch(/Only http and https URLs are allowed \(got file:\)/);
  });

  it("to another origin go through the lookup again and leave credentials behind", async () => {
    const res = await openUrl(`${base}/to-localhost`, { policy: loopback, headers: { authorization: "Bearer t" } });
    const echoed = JSON.parse((await readCapped(res.body, 10_000)).toString());
    expect(res.url.href).toBe(`http://localhost:${port}/echo`);
    expect(echoed.headers.authorization).toBeUndefined();
    expect(seen).toEqual(["GET /to-localhost", "GET /echo"]);
  });

  it("are followed for GET, up to the final URL", async () => {
    const res = await openUrl(`${base}/r1`, { policy: loopback });
    expect(res.status).toBe(200);
    expect(res.url.href).toBe(`${base}/final?x=1`);
    expect((await readCapped(res.body, 1024)).toString()).toBe("final");
    expect(seen).toEqual(["GET /r1", "GET /r2", "GET /r3", "GET /final"]);
  });

  it("are followed for HEAD", async () => {
    const res = await openUrl(`${base}/r1`, { policy: loopback, method: "HEAD" });
    expect([res.status, res.url.pathname]).toEqual([200, "/final"]);
    res.body.destroy();
    expect(seen).toEqual(["HEAD /r1", "HEAD /r2", "HEAD /r3", "HEAD /final"]);
  });

  it("in a loop end with FetchError after maxRedirects", async () => {
    const err = await openUrl(`${base}/loop`, { policy: loopback, maxRedirects: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message).toMatch(/too many redirects/i);
    expect(seen).toEqual(Array(4).fill("GET /loop"));
  });

  it("a chain longer than maxRedirects fails, one as long succeeds", async () => {
    await expect(openUrl(`${base}/r1`, { policy: loopback, maxRedirects: 2 })).rejects.toThrow(FetchError);
    const res = await openUrl(`${base}/r1`, { policy: loopback, maxRedirects: 3 });
    expect(res.status).toBe(200);
    res.body.destroy();
  });

  it("answering a POST are returned, and its body goes nowhere else", async () => {
    const res = await openUrl(`${base}/see-other`, { policy: loopback, method: "POST", body: '{"a":1}' });
    expect([res.status, res.headers.location, res.url.pathname]).toEqual([303, "/echo", "/see-other"]);
    res.body.destroy();
    expect(seen).toEqual(["POST /see-other"]);
  });
});

describe("bodies", () => {
  it("capBytes fails a body past the cap with TooLargeError and lets a smaller one through", async () => {
    const sink = () =>
      new Writable({
        write(_chunk, _encoding, done) {
          done();
        },
      });
    const big = await openUrl(`${base}/big`, { policy: loopback });
    const err = await pipeline(big.body, capBytes(MiB, "The video"), sink()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as Error).message).toBe("The video is larger than the 1 MiB limit");

    let total = 0;
    const counted = new Writable({
      write(chunk: Buffer, _encoding, done) {
        total += chunk.length;
        done();
      },
    });
    const fits = await openUrl(`${base}/big`, { policy: loopback });
    await pipeline(fits.body, capBytes(2 * MiB, "The video"), counted);
    expect(total).toBe(2 * MiB);
  });

  it("readCapped keeps the first bytes and destroys the rest", async () => {
    const res = await openUrl(`${base}/big`, { policy: loopback });
    const head = await readCapped(res.body, 1000);
    expect(head).toEqual(Buffer.alloc(1000, 7));
    expect(res.body.destroyed).toBe(true);
  });
});

describe("failures", () => {
  it("a server that never answers is a FetchError within the timeout", async () => {
    const started = Date.now();
    const err = await openUrl(`${base}/hang`, { policy: loopback, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message).toBe("127.0.0.1 did not answer within 0.3 s");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen).toEqual(["GET /hang"]);
  });

  it("a closed port is a FetchError", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await openUrl(`http://127.0.0.1:${free}/`, { policy: loopback }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message).toBe("127.0.0.1 refused the connection");
  });

  it("an aborted signal ends the request with the abort", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await openUrl(`${base}/hang`, { policy: loopback, signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
  });

  it("httpsOnly refuses http before any request", async () => {
    const policy = { ...lenient, httpsOnly: true };
    await expect(openUrl(`${base}/`, { policy })).rejects.toThrow(
      new UnsafeUrlError("Only https URLs are allowed (got http:)"),
    );
    await expect(openUrl(`http://localhost:${port}/`, { policy })).rejects.toThrow(UnsafeUrlError);
    expect(seen).toEqual([]);
  });
});

describe("checkUrl", () => {
  it("says what is wrong", () => {
    const message = (raw: string, policy = strict) => {
      try {
        checkUrl(raw, policy);
        return "accepted";
      } catch (err) {
        expect(err).toBeInstanceOf(UnsafeUrlError);
        return (err as Error).message;
      }
    };
    expect(message("http://10.0.0.5/hook")).toBe(
      "http://10.0.0.5/hook resolves to 10.0.0.5, a private address: only public internet addresses are allowed",
    );
    expect(message("http://10.0.0.5/hook", lenient)).toBe("accepted");
    expect(message("https://user:pw@example.com/")).toBe("URLs with a user name or password are not allowed");
    expect(message("https://user@example.com/")).toBe("URLs with a user name or password are not allowed");
    expect(message("ftp://example.com/")).toBe("Only http and https URLs are allowed (got ftp:)");
    expect(message("not a url")).toBe('Not a valid URL: "not a url"');
    expect(message("https://example.com/hook")).toBe("accepted");
    // other spellings of an address are normalised by the URL parser, then checked
    expect(message("http://2130706433/")).toMatch(/resolves to 127\.0\.0\.1, a loopback address/);
    expect(message("http://0x7f.1/")).toMatch(/resolves to 127\.0\.0\.1, a loopback address/);
    expect(message("http://0/")).toMatch(/resolves to 0\.0\.0\.0, a reserved address/);
    expect(message("http://[fd00:ec2::254]/", lenient)).toMatch(/a link-local address/);
    expect(message("http://[64:ff9b::a9fe:a9fe]/", lenient)).toMatch(/a link-local address/);
    expect(message("http://[::ffff:10.0.0.1]/")).toMatch(/a private address/);
    expect(message("http://169.254.169.254/", lenient)).toMatch(/never allowed/);
  });
});

describe("checkHost", () => {
  it("resolves a name and refuses it when any address is not allowed", async () => {
    const url = new URL(`http://localhost:${port}/hook`);
    await expect(checkHost(url, strict)).rejects.toThrow(
      new UnsafeUrlError(
        `http://localhost:${port}/hook resolves to 127.0.0.1, a loopback address: ` +
          "only public internet addresses are allowed",
      ),
    );
    expect(await checkHost(url, loopback)).toContain("127.0.0.1");
    await expect(checkHost(new URL("http://192.168.1.1/"), loopback)).rejects.toThrow(/private address/);
  });
});

describe("guardedLookup", () => {
  const lookupOnce = (policy: OutboundPolicy, all: boolean) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) => {
      guardedLookup(policy)("localhost", { all, family: 4 }, (err, address, family) =>
        resolve({ err, address, family }),
      );
    });

  it("answers in the shape Node asked for", async () => {
    expect(await lookupOnce(loopback, false)).toEqual({ err: null, address: "127.0.0.1", family: 4 });
    expect(await lookupOnce(loopback, true)).toEqual({
      err: null,
      address: [{ address: "127.0.0.1", family: 4 }],
      family: undefined,
    });
  });

  it("fails with UnsafeUrlError for a refused address", async () => {
    const { err } = await lookupOnce(strict, true);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect(err?.message).toBe(
      "localhost resolves to 127.0.0.1, a loopback address: only public internet addresses are allowed",
    );
  });

  it("works as http.request's lookup whether or not Node picks the address family itself", async () => {
    for (const autoSelectFamily of [true, false]) {
      const get = (policy: OutboundPolicy) =>
        new Promise<number | Error>((resolve) => {
          // Node 20's http typings lack the socket option autoSelectFamily, which http passes on to net.connect
          const options: http.RequestOptions & { autoSelectFamily: boolean } = {
            hostname: "localhost",
            port,
            path: "/",
            agent: false,
            autoSelectFamily,
            lookup: guardedLookup(policy),
          };
          const req = http.get(options, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", resolve);
        });
      expect(await get(loopback), `autoSelectFamily ${autoSelectFamily}`).toBe(200);
      expect(await get(strict), `autoSelectFamily ${autoSelectFamily}`).toBeInstanceOf(UnsafeUrlError);
    }
    expect(seen).toEqual(["GET /", "GET /"]);
  });
});
