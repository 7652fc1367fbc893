import { describe, expect, it } from "vitest";
import { readdir, readFile, readlink, stat, mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { request } from "node:http";
import { join } from "node:path";
import { S3Client, ListObjectsV2Command, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBClient, ListTablesCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { listJobs } from "@videoforge/core";
import { createApi } from "@videoforge/functions";
import { loadLocalAuth, startApiServer } from "@videoforge/local";
import { withDashboard } from "@videoforge/local/api-host";
import { useTestCloud } from "../helpers/cloud.ts";
import { attack } from "./attack.ts";

/**
 * Issue 12, the local services and the API around them, attacked as another local process,
 * a web page or a second user would: findings 1 (open s3rver/dynalite, fixed key pair, CORS *),
 * 3 (presigned UploadPart turned into an unsigned PutObject), 7 (no rate limit), 8 (--no-auth
 * CSRF / DNS rebinding), 9 (world-readable data), 10 (removed users kept access) and 12 (token in
 * the query, no Referrer-Policy or CSP), and the gate tampers that were already refused.
 */

const env = useTestCloud();
const cloud = () => env.cloud.cloud;
const s3Endpoint = () => cloud().env.VIDEOFORGE_S3_ENDPOINT!;
const dynamoEndpoint = () => cloud().env.VIDEOFORGE_DYNAMODB_ENDPOINT!;
const PART = 8 * 1024 * 1024;

/** TCP ports this process listens on, from /proc: the open sockets' inodes matched to the LISTEN table. */
async function listeningPorts(): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      // state 0A = LISTEN; column 9 is the inode
      if (cols[3] === "0A" && inodes.has(cols[9]!)) ports.push(parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

const portOf = (url: string) => Number(new URL(url).port);

async function openUpload(name = "victim.mp4") {
  const res = await fetch(`${env.cloud.api.url}/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.cloud.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name, size: PART * 2 }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { jobId: string; uploadId: string; parts: { partNumber: number; url: string }[] };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    out.push(full);
    if (e.isDirectory()) out.push(...(await walk(full)));
  }
  return out;
}

describe("finding 1: the local stand-ins answer only the project's signed requests", () => {
  it("the gate key pair is random per data directory, in a 0600 file, and is not S3RVER", async () => {
    await attack("the fixed S3RVER key pair", async () => {
      const file = join(env.cloud.dir, "gate-keys.json");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const keys = JSON.parse(await readFile(file, "utf8")) as { accessKeyId: string; secretAccessKey: string };
      expect(keys.accessKeyId).not.toBe("S3RVER");
      expect(keys.secretAccessKey.length).toBeGreaterThanOrEqual(32);
      expect(cloud().cfg.credentials).toMatchObject(keys);
      // presigned URLs carry the id, never the secret
      const upload = await openUpload();
      expect(upload.parts[0]!.url).toContain(keys.accessKeyId);
      expect(upload.parts[0]!.url).not.toContain(keys.secretAccessKey);
    });
  });

  it("S3 signed with S3RVER/S3RVER (s3rver's default account) → 403, listing and reading nothing", async () => {
    await attack("S3 with s3rver's default key pair", async () => {
      const s3 = new S3Client({
        region: "us-east-1",
        endpoint: s3Endpoint(),
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      });
      const bucket = cloud().cfg.buckets.uploads;
      await expect(s3.send(new ListObjectsV2Command({ Bucket: bucket }))).rejects.toMatchObject({
        name: "InvalidAccessKeyId",
        $metadata: { httpStatusCode: 403 },
      });
      await expect(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "planted", Body: "x" }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
      const presigned = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "planted" }), {
        expiresIn: 60,
      });
      expect((await fetch(presigned)).status).toBe(403);
      expect(await cloud().deps.store.head(bucket, "planted")).toBeNull();
    });
  });

  it("DynamoDB unsigned, or signed with any other key pair → 403; the table is read by nobody else", async () => {
    await attack("open dynalite", async () => {
      const unsigned = await fetch(dynamoEndpoint(), {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables" },
        body: "{}",
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.text()).not.toMatch(/TableNames/);
      for (const credentials of [
        { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        { accessKeyId: cloud().cfg.credentials!.accessKeyId, secretAccessKey: "guessed-wrong" },
      ]) {
        const db = new DynamoDBClient({ region: "us-east-1", endpoint: dynamoEndpoint(), credentials });
        await expect(db.send(new ScanCommand({ TableName: cloud().cfg.table }))).rejects.toMatchObject({
          $metadata: { httpStatusCode: 403 },
        });
      }
      // the project's own client, with the data directory's pair, is served
      const own = new DynamoDBClient({
        region: "us-east-1",
        endpoint: dynamoEndpoint(),
        credentials: cloud().cfg.credentials!,
      });
      expect((await own.send(new ListTablesCommand({}))).TableNames).toContain(cloud().cfg.table);
    });
  });

  it(
    "the bus's PutEvents endpoint takes only the local cloud's own signed publishes: " +
      "a forged VideoUploaded adopts nobody's upload",
    async () => {
      await attack("forged VideoUploaded on the local bus", async () => {
        const endpoint = cloud().env.VIDEOFORGE_EVENTS_ENDPOINT!;
        const jobId = "forged" + Date.now();
        const entry = {
          Source: "videoforge",
          DetailType: "VideoUploaded",
          Detail: JSON.stringify({
            jobId,
            owner: "mallory",
            source: {
              bucket: cloud().cfg.buckets.uploads,
              key: "jobs/victim/source",
              size: 1,
              megabytes: 1,
              name: "v.mp4",
            },
            ladder: ["240p"],
          }),
        };
        const body = JSON.stringify({ Entries: [entry] });
        const unsigned = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.PutEvents" },
          body,
        });
        expect(unsigned.status).toBe(403);
        const events = new EventBridgeClient({
          region: "us-east-1",
          endpoint,
          credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        });
        await expect(events.send(new PutEventsCommand({ Entries: [entry] }))).rejects.toMatchObject({
          $metadata: { httpStatusCode: 403 },
        });
        await cloud().bus.idle();
        expect(await listJobs(cloud().deps, "mallory")).toEqual([]);
      });
    },
  );

  it("s3rver and dynalite listen on no TCP port: this process listens only on gates, bus endpoint, API", async () => {
    await attack("s3rver/dynalite reachable on loopback", async () => {
      const expected = [s3Endpoint(), dynamoEndpoint(), cloud().env.VIDEOFORGE_EVENTS_ENDPOINT!, env.cloud.api.url].map(
        portOf,
      );
      const ports = await listeningPorts();
      expect(ports.length).toBeGreaterThan(0);
      expect(ports.filter((p) => !expected.includes(p))).toEqual([]);
    });
  });

  it("CORS: a preflight from another origin gets no grant; the dashboard's does; DynamoDB grants none", async () => {
    await attack("CORS * on storage and table", async () => {
      const object = `${s3Endpoint()}/${cloud().cfg.buckets.uploads}/jobs/x/source`;
      const evil = await fetch(object, {
        method: "OPTIONS",
        headers: { origin: "http://evil.example", "access-control-request-method": "PUT" },
      });
      expect(evil.status).toBe(403);
      expect(evil.headers.get("access-control-allow-origin")).toBeNull();
      expect(await evil.text()).toBe("");
      const dashboard = await fetch(object, {
        method: "OPTIONS",
        headers: { origin: env.cloud.api.url, "access-control-request-method": "PUT" },
      });
      expect(dashboard.status).toBe(200);
      expect(dashboard.headers.get("access-control-allow-origin")).toBe(env.cloud.api.url);
      const db = await fetch(dynamoEndpoint(), {
        method: "OPTIONS",
        headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
      });
      expect(db.status).toBe(403);
      expect(db.headers.get("access-control-allow-origin")).toBeNull();
      // a signed answer to another origin carries no grant either
      const upload = await openUpload();
      const put = await fetch(upload.parts[0]!.url, {
        method: "PUT",
        body: Buffer.alloc(16),
        headers: { origin: "http://evil.example" },
      });
      expect(put.headers.get("access-control-allow-origin")).toBeNull();
    });
  });
});

describe("finding 3: the gate forwards only what it verified", () => {
  it.each([1000, 600])(
    "%i duplicate X-Amz-Signature pairs before a part URL (UploadPart → PutObject) → refused, no object written",
    async (n) => {
      await attack(`presigned UploadPart turned into PutObject (${n} pairs)`, async () => {
        const upload = await openUpload();
        const url = new URL(upload.parts[0]!.url);
        const padded = `${url.origin}${url.pathname}?${"X-Amz-Signature=&".repeat(n)}${url.search.slice(1)}`;
        const res = await fetch(padded, { method: "PUT", body: Buffer.from("rewritten source") });
        // 1,000 pairs pass Node's 16 KiB header limit (431); fewer reach the gate, which refuses a name given twice
        if (n === 1000) expect([403, 431]).toContain(res.status);
        else {
          expect(res.status).toBe(403);
          expect(await res.text()).toMatch(/<Code>AccessDenied<\/Code>.*(more than once|at most 64)/);
        }
        const key = decodeURIComponent(url.pathname.split("/").slice(2).join("/"));
        expect(await cloud().deps.store.head(cloud().cfg.buckets.uploads, key)).toBeNull();
      });
    },
  );

  it.each([
    ["a duplicated partNumber", (u: URL) => `${u.href}&partNumber=2`],
    ["65 extra parameters", (u: URL) => `${u.href}${Array.from({ length: 65 }, (_, i) => `&p${i}=1`).join("")}`],
    ["an unsigned extra parameter", (u: URL) => `${u.href}&x-id=PutObject`],
  ])("the part URL with %s → 403, nothing stored", async (what, change) => {
    await attack(`part URL with ${what}`, async () => {
      const upload = await openUpload();
      const res = await fetch(change(new URL(upload.parts[0]!.url)), { method: "PUT", body: Buffer.alloc(1024, 7) });
      expect(res.status).toBe(403);
      const key = decodeURIComponent(new URL(upload.parts[0]!.url).pathname.split("/").slice(2).join("/"));
      expect(await cloud().deps.store.head(cloud().cfg.buckets.uploads, key)).toBeNull();
    });
  });

  it("an unsigned x-amz-copy-source header on a part URL (copy another user's source in) → 403", async () => {
    await attack("UploadPartCopy through an unsigned x-amz-* header", async () => {
      const victim = `/${cloud().cfg.buckets.work}/secret`;
      await cloud().deps.store.putText(cloud().cfg.buckets.work, "secret", "another user's bytes", "text/plain");
      const upload = await openUpload();
      const res = await fetch(upload.parts[0]!.url, {
        method: "PUT",
        headers: { "x-amz-copy-source": victim },
        body: "",
      });
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/must be signed: x-amz-copy-source/);
    });
  });

  it("the part URL as issued still works (the refusals are about the changes)", async () => {
    const upload = await openUpload();
    const res = await fetch(upload.parts[0]!.url, { method: "PUT", body: Buffer.alloc(1024, 1) });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it.each([
    [
      "the signature of another URL",
      (u: URL, other: URL) => u.searchParams.set("X-Amz-Signature", other.searchParams.get("X-Amz-Signature")!),
    ],
    ["a later X-Amz-Date", (u: URL) => u.searchParams.set("X-Amz-Date", "29990101T000000Z")],
    [
      "another credential",
      (u: URL) =>
        u.searchParams.set("X-Amz-Credential", u.searchParams.get("X-Amz-Credential")!.replace(/^[^/]+/, "S3RVER")),
    ],
    ["no algorithm", (u: URL) => u.searchParams.delete("X-Amz-Algorithm")],
    [
      "lower-case signature name",
      (u: URL) => {
        const sig = u.searchParams.get("X-Amz-Signature")!;
        u.searchParams.delete("X-Amz-Signature");
        u.searchParams.set("x-amz-signature", sig);
      },
    ],
  ])("signature tamper (regression): %s → 403", async (what, change) => {
    await attack(`signature tamper: ${what}`, async () => {
      const [a, b] = [await openUpload(), await openUpload()];
      const u = new URL(a.parts[0]!.url);
      change(u, new URL(b.parts[0]!.url));
      expect((await fetch(u, { method: "PUT", body: Buffer.alloc(64) })).status).toBe(403);
    });
  });
});

describe("finding 9: the data directory is private", () => {
  it("the data directory is 0700 and stored objects and table files are 0600", async () => {
    await attack("world-readable data directory", async () => {
      const upload = await openUpload();
      expect((await fetch(upload.parts[0]!.url, { method: "PUT", body: Buffer.alloc(2048, 3) })).status).toBe(200);
      expect((await stat(env.cloud.dir)).mode & 0o777).toBe(0o700);
      const files = [...(await walk(join(env.cloud.dir, "s3"))), ...(await walk(join(env.cloud.dir, "dynamodb")))];
      expect(files.length).toBeGreaterThan(3);
      const open = [];
      for (const f of files) if (((await stat(f)).mode & 0o077) !== 0) open.push(f);
      expect(open).toEqual([]);
    });
  });
});

describe("finding 8: --no-auth serves only this machine's own programs", () => {
  it("another Host (DNS rebinding), another Origin (CSRF) or a text/plain body → refused, no job made", async () => {
    await attack("--no-auth CSRF and DNS rebinding", async () => {
      const open = await startApiServer(cloud(), { port: 0, auth: "off" });
      try {
        const port = portOf(open.url);
        const before = (await listJobs(cloud().deps, "local")).length;
        const post = (headers: Record<string, string>, body = JSON.stringify({ name: "csrf.mp4", size: 1000 })) =>
          fetch(`${open.url}/uploads`, { method: "POST", headers, body });
        // fetch() will not send another Host: a raw request, as a rebound browser would send it
        const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(
            { host: "127.0.0.1", port, path: "/jobs", headers: { host: `attacker.example:${port}` } },
            (res) => {
              let body = "";
              res.on("data", (d: Buffer) => (body += d.toString()));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on("error", reject);
          req.end();
        });
        expect(rebound.status).toBe(403);
        expect(JSON.parse(rebound.body)).toEqual({
          error: { code: "forbidden", message: expect.stringMatching(/Host: attacker\.example/) },
        });
        expect((await post({ "content-type": "application/json", origin: "http://evil.example" })).status).toBe(403);
        const form = await post({ "content-type": "text/plain" });
        expect(form.status).toBe(415);
        expect(await form.json()).toEqual({ error: { code: "unsupported_media_type", message: expect.any(String) } });
        expect((await post({ "content-type": "application/json", "sec-fetch-site": "cross-site" })).status).toBe(403);
        expect((await listJobs(cloud().deps, "local")).length).toBe(before);
        // this machine's own client is served
        // (a JSON body from here reaches the API itself: this one is refused for its name, not its origin)
        const own = await post({ "content-type": "application/json" }, JSON.stringify({ name: "a/b.mp4", size: 1000 }));
        expect(own.status).toBe(400);
        expect(await own.json()).toMatchObject({ error: { code: "invalid_request" } });
        expect((await fetch(`${open.url}/jobs`, { headers: { origin: open.url } })).status).toBe(200);
      } finally {
        await open.stop();
      }
    });
  });
});

describe("finding 10: removing a user and rotating a token take effect at once", () => {
  it("users remove and token rotation in another process (the CLI) reach the running server at once", async () => {
    await attack("removed user keeps access until restart", async () => {
      // the CLI opens the same data directory on its own, as `videoforge users remove` does
      const cli = await loadLocalAuth(env.cloud.dir);
      const mallory = await cli.addUser(`mallory${Date.now() % 100000}`);
      const name = cli.listUsers().find((u) => u.name.startsWith("mallory"))!.name;
      const jobs = (token: string) =>
        fetch(`${env.cloud.api.url}/jobs`, { headers: { authorization: `Bearer ${token}` } });
      expect((await jobs(mallory)).status).toBe(200);
      const rotated = await cli.rotateToken(name);
      expect((await jobs(mallory)).status).toBe(401);
      expect((await jobs(rotated)).status).toBe(200);
      await cli.removeUser(name);
      expect((await jobs(rotated)).status).toBe(401);
      expect(
        cloud()
          .auth.listUsers()
          .map((u) => u.name),
      ).not.toContain(name);
    });
  });
});

describe("finding 7: a per-user rate limit", () => {
  // one window's item per user in the table: 3 requests in each 6 s window
  const limitedDeps = () => {
    const deps = cloud().deps;
    return { ...deps, cfg: { ...deps.cfg, limits: { ...deps.cfg.limits, rateBurst: 3, ratePerSecond: 0.5 } } };
  };
  // held still 2 s into a window, so the test never straddles two windows
  const at = Math.floor(Date.now() / 6000) * 6000 + 2000;
  const apiInstance = () =>
    createApi(limitedDeps(), { identify: (c) => c.req.header("authorization")?.slice(7) ?? null, now: () => at });
  const tag = Date.now().toString(36);

  it("past the burst a user gets 429 with the reason and Retry-After; another user is not slowed", async () => {
    await attack("one user stalls the API", async () => {
      const app = apiInstance();
      const get = (who: string) => app.request("/jobs", { headers: { authorization: `Bearer ${who}` } });
      for (let i = 0; i < 3; i++) expect((await get(`greedy-${tag}`)).status).toBe(200);
      const refused = await get(`greedy-${tag}`);
      expect(refused.status).toBe(429);
      // the window ends 4 s after the held clock
      expect(refused.headers.get("retry-after")).toBe("4");
      expect(await refused.json()).toEqual({
        error: { code: "rate_limited", message: "Too many requests: at most 3 every 6 s per user. Try again in 4 s." },
      });
      expect((await get(`patient-${tag}`)).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await app.request("/health")).status).toBe(200);
    });
  });

  it("a share link, which has no user, gets the same budget of its own", async () => {
    await attack("a leaked share link hammers the API", async () => {
      const app = apiInstance();
      const link = (id: string) => `/shared/${id}.${"A".repeat(43)}`;
      // the link does not exist (404): counting happens before, so a flood of one link is cut off all the same
      for (let i = 0; i < 3; i++) expect((await app.request(link(`lnk${tag}`))).status).toBe(404);
      const refused = await app.request(`${link(`lnk${tag}`)}/hls/master.m3u8`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("4");
      expect(await refused.json()).toEqual({
        error: { code: "rate_limited", message: "This share link is being opened too often; try again in 4 s." },
      });
      // another link, and the users, have budgets of their own
      expect((await app.request(link(`other${tag}`))).status).toBe(404);
      expect((await app.request("/jobs", { headers: { authorization: `Bearer viewer-${tag}` } })).status).toBe(200);
    });
  });

  it("two API instances over one table (two Lambda instances) share one user's limit", async () => {
    await attack("the rate limit resets per Lambda instance", async () => {
      const [a, b] = [apiInstance(), apiInstance()];
      const get = (app: typeof a) => app.request("/jobs", { headers: { authorization: `Bearer spread-${tag}` } });
      // alternating instances: the 4th request is refused wherever it lands, and so is the 5th
      const statuses = [];
      for (const app of [a, b, a, b, a]) statuses.push((await get(app)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // one counter item in the table for the window: 3 counted, expiring (TTL) a minute after it ends
      const db = new DynamoDBClient({
        region: "us-east-1",
        endpoint: dynamoEndpoint(),
        credentials: cloud().cfg.credentials!,
      });
      const scan = await db.send(
        new ScanCommand({
          TableName: cloud().cfg.table,
          FilterExpression: "#o = :o AND #k = :k",
          ExpressionAttributeNames: { "#o": "owner", "#k": "kind" },
          ExpressionAttributeValues: { ":o": { S: `spread-${tag}` }, ":k": { S: "rate" } },
        }),
      );
      expect(scan.Items?.map((i) => ({ count: i.count?.N, period: i.period?.S, expiresAt: i.expiresAt?.N }))).toEqual([
        { count: "3", period: String(at - 2000), expiresAt: String((at - 2000 + 6000) / 1000 + 60) },
      ]);
    });
  });
});

describe("finding 12: the dashboard keeps its token out of URLs sent anywhere", () => {
  it("the dashboard is served with Referrer-Policy: no-referrer and a CSP naming only itself and storage", async () => {
    await attack("token leaks through Referer", async () => {
      const dist = await mkdtemp(join(tmpdir(), "videoforge-dist-"));
      try {
        await mkdir(join(dist, "assets"));
        await writeFile(join(dist, "index.html"), "<!doctype html><title>t</title>");
        await writeFile(join(dist, "assets", "a.js"), "export {}");
        const serve = withDashboard(() => new Response("api", { status: 404 }), dist, {
          storageOrigin: "http://127.0.0.1:4999",
        });
        for (const path of ["/", "/assets/a.js"]) {
          const res = await serve(new Request(`http://127.0.0.1:8080${path}`));
          expect(res.status).toBe(200);
          expect(res.headers.get("referrer-policy")).toBe("no-referrer");
          const csp = res.headers.get("content-security-policy")!;
          expect(csp).toContain("script-src 'self'");
          expect(csp).toContain("connect-src 'self' http://127.0.0.1:4999");
          expect(csp).toContain("frame-ancestors 'none'");
          expect(csp).not.toMatch(/unsafe-eval|\*/);
        }
      } finally {
        await rm(dist, { recursive: true, force: true });
      }
    });
  });
});
