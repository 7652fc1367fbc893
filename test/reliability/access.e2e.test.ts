import { beforeAll, describe, expect, it } from "vitest";
import { request, type IncomingHttpHeaders } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId } from "@videoforge/core";
import { createApi } from "@videoforge/functions";
import { InsecureBindError, startApiServer, startLocalCloud } from "@videoforge/local";
import { makeFixture } from "../fixtures.ts";
import { useTestCloud } from "../helpers/cloud.ts";
import { tally } from "./tally.ts";

/**
 * Issue #5, access control: without a token nothing but /health answers; another user's ids
 * answer exactly like ids that do not exist; no path reaches outside what a route serves; a
 * presigned URL opens one object, for one operation, for a limited time; and the API will not
 * listen on the network without tokens. Every refused request also leaves the state as it was.
 */

const env = useTestCloud();

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: unknown;
}

/**
 * One HTTP request with its target sent byte for byte: fetch() would resolve `..` and
 * `%2e%2e` segments itself, and the point here is what the server does with them.
 */
function send(
  base: string,
  method: string,
  target: string,
  opts: { authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { hostname, port } = new URL(base);
  const payload =
    opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string | number> = { ...opts.headers };
  if (payload !== undefined)
    Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const bearer = (token: string) => `Bearer ${token}`;
const api = (
  method: string,
  target: string,
  opts: { authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
) => send(env.cloud.api.url, method, target, opts);
const asOwner = (method: string, target: string, body?: unknown, headers?: Record<string, string>) =>
  api(method, target, { authorization: bearer(env.cloud.token), body, headers });
const asMallory = (method: string, target: string, body?: unknown, headers?: Record<string, string>) =>
  api(method, target, { authorization: bearer(state.mallory), body, headers });

/** The reply is exactly `{error: {code, message}}` with this status and code. */
function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
}

/**
 * What another user gets for a real id must be what anyone gets for an id that does not
 * exist: same status, same code, and the same message once the id itself is blanked out.
 */
function expectIndistinguishable(theirs: Reply, realId: string, unknown: Reply, unknownId: string): void {
  expectError(theirs, 404, "not_found");
  expectError(unknown, 404, "not_found");
  const blank = (r: Reply, id: string) =>
    (r.body as { error: { message: string } }).error.message.replaceAll(id, "<id>");
  expect(blank(theirs, realId)).toBe(blank(unknown, unknownId));
  expect(theirs.text).not.toMatch(/COMPLETED|UPLOADING|tiny-2s|in-progress/);
}

interface State {
  mallory: string;
  /** The owner's job that went through the whole pipeline. */
  completed: string;
  /** The owner's upload that was started and never finished (3 parts, none sent). */
  open: { uploadId: string; jobId: string; parts: { partNumber: number; url: string }[] };
  /** Mallory's own (unfinished) job: her list is not empty by accident. */
  mallorysJob: string;
  /** The media playlist path of the completed job, as its master names it (`240p/index.m3u8`). */
  mediaPlaylist: string;
}
const state = {} as State;

/** The owner's view of the jobs every refused request must leave alone. */
async function ownerState() {
  const [completed, open, upload, jobs] = await Promise.all([
    asOwner("GET", `/jobs/${state.completed}`),
    asOwner("GET", `/jobs/${state.open.jobId}`),
    asOwner("GET", `/uploads/${state.open.uploadId}`),
    asOwner("GET", "/jobs"),
  ]);
  return {
    completed: (completed.body as { job: { status: string } }).job.status,
    outputs: (completed.body as { job: { outputs: unknown[] } }).job.outputs.length,
    openJob: (open.body as { job: { status: string } }).job.status,
    upload: (upload.body as { status: string }).status,
    jobs: (jobs.body as { jobs: unknown[] }).jobs.length,
  };
}
let before: Awaited<ReturnType<typeof ownerState>>;
/** Nothing a refused request touched has changed. */
async function expectUnchanged() {
  expect(await ownerState()).toEqual(before);
}

beforeAll(async () => {
  const { cloud } = env;
  state.mallory = await cloud.cloud.auth.addUser("mallory");
  const file = await makeFixture("tiny-2s", env.dir);
  const done = await cloud.process(file, ["360p"]);
  expect(done.job.status).toBe("COMPLETED");
  state.completed = done.job.jobId;

  const open = await asOwner("POST", "/uploads", { name: "in-progress.mp4", size: 20 * 1024 * 1024 });
  expect(open.status, open.text).toBe(201);
  state.open = open.body as State["open"];
  expect(state.open.parts).toHaveLength(3);

  const mine = await asMallory("POST", "/uploads", { name: "mallory.mp4", size: 1000 });
  expect(mine.status, mine.text).toBe(201);
  state.mallorysJob = (mine.body as { jobId: string }).jobId;

  const master = await asOwner("GET", `/jobs/${state.completed}/hls/master.m3u8`);
  expect(master.status, master.text).toBe(200);
  state.mediaPlaylist = master.text.split("\n").find((l) => l.endsWith(".m3u8") && !l.startsWith("#"))!;
  // a 320x240 source: the 360p rung is clamped to the source and named for it (240p)
  expect(state.mediaPlaylist).toMatch(/^240p\/[\w-]+\.m3u8$/);

  before = await ownerState();
  expect(before).toMatchObject({ completed: "COMPLETED", outputs: 1, openJob: "UPLOADING", upload: "OPEN", jobs: 2 });
}, 90_000);

describe("without a valid token only /health answers", () => {
  // every guarded route, including ones that would change something if they ran
  const routes: [string, string, () => string, unknown?][] = [
    ["list jobs", "GET", () => "/jobs"],
    ["read a job", "GET", () => `/jobs/${state.completed}`],
    ["read a job's outputs", "GET", () => `/jobs/${state.completed}/outputs`],
    ["read a job's HLS master", "GET", () => `/jobs/${state.completed}/hls/master.m3u8`],
    ["start an upload", "POST", () => "/uploads", { name: "x.mp4", size: 1000 }],
    ["resume an upload", "GET", () => `/uploads/${state.open.uploadId}`],
    [
      "complete an upload",
      "POST",
      () => `/uploads/${state.open.uploadId}/complete`,
      { parts: [{ partNumber: 1, etag: "x" }] },
    ],
    ["cancel a completed job", "DELETE", () => `/jobs/${state.completed}`],
    ["cancel an uploading job", "DELETE", () => `/jobs/${state.open.jobId}`],
    ["retry a job", "POST", () => `/jobs/${state.completed}/retry`],
    ["list videos", "GET", () => "/videos"],
    ["read a video", "GET", () => `/videos/${state.completed}`],
    ["edit a video", "PATCH", () => `/videos/${state.completed}`, { title: "mine now" }],
    ["list dead letters", "GET", () => "/admin/dead-letters"],
    ["redrive a dead letter", "POST", () => "/admin/dead-letters/anything/redrive"],
  ];

  it.each(routes)("no token: %s → 401", async (what, method, target, body) => {
    expectError(await api(method, target(), { body }), 401, "unauthorized");
    await expectUnchanged();
    tally("ownership", `no token: ${what}`);
  });

  const wrong: [string, () => string][] = [
    ["a made-up token", () => bearer(`vf_${"A".repeat(32)}`)],
    ["the token missing its last character", () => bearer(env.cloud.token.slice(0, -1))],
    ["the token with a character added", () => bearer(env.cloud.token + "x")],
    ["two tokens", () => `Bearer ${env.cloud.token} ${state.mallory}`],
    ["the token under Basic", () => `Basic ${Buffer.from(`local:${env.cloud.token}`).toString("base64")}`],
    ["the bare token, no scheme", () => env.cloud.token],
    ["Bearer with no token", () => "Bearer"],
    ["Bearer and a space", () => "Bearer "],
    ["an empty header", () => ""],
  ];

  it.each(wrong)("wrong credentials (%s) → 401 on reads, deletes and uploads", async (what, authorization) => {
    for (const [method, target] of [
      ["GET", "/jobs"],
      ["DELETE", `/jobs/${state.open.jobId}`],
      ["GET", "/admin/dead-letters"],
    ] as const) {
      expectError(await api(method, target, { authorization: authorization() }), 401, "unauthorized");
    }
    expectError(
      await api("POST", "/uploads", { authorization: authorization(), body: { name: "x.mp4", size: 1000 } }),
      401,
      "unauthorized",
    );
    await expectUnchanged();
    tally("ownership", `wrong credentials: ${what}`);
  });

  it("/health stays open", async () => {
    const reply = await api("GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ ok: true });
    tally("ownership", "health open without a token");
  });

  it("the token is kept in a 0600 file and only its hash in auth.json", async () => {
    const dataDir = env.cloud.cloud.dataDir;
    const tokenFile = join(dataDir, "token");
    const usersFile = join(dataDir, "auth.json");
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(tokenFile, "utf8")).trim()).toBe(env.cloud.token);
    const users = await readFile(usersFile, "utf8");
    expect(Object.keys((JSON.parse(users) as { users: object }).users).sort()).toEqual(["local", "mallory"]);
    expect(users).not.toContain(env.cloud.token);
    expect(users).not.toContain(state.mallory);
    tally("ownership", "tokens stored hashed, files 0600");
  });
});

describe("another user's ids answer exactly like unknown ids", () => {
  const body = { parts: [{ partNumber: 1, etag: "x" }] };
  // [what, method, path for an id, body, the id it names, a route the owner can read to prove the id is real]
  const cases: [string, string, (id: string) => string, unknown, () => string, (() => string) | null][] = [
    ["GET /jobs/:id", "GET", (id) => `/jobs/${id}`, undefined, () => state.completed, () => `/jobs/${state.completed}`],
    [
      "GET /jobs/:id/outputs",
      "GET",
      (id) => `/jobs/${id}/outputs`,
      undefined,
      () => state.completed,
      () => `/jobs/${state.completed}/outputs`,
    ],
    [
      "GET /jobs/:id/hls/master.m3u8",
      "GET",
      (id) => `/jobs/${id}/hls/master.m3u8`,
      undefined,
      () => state.completed,
      () => `/jobs/${state.completed}/hls/master.m3u8`,
    ],
    [
      "GET /jobs/:id/hls/:rendition/:file",
      "GET",
      (id) => `/jobs/${id}/hls/${state.mediaPlaylist}`,
      undefined,
      () => state.completed,
      () => `/jobs/${state.completed}/hls/${state.mediaPlaylist}`,
    ],
    ["DELETE /jobs/:id (completed)", "DELETE", (id) => `/jobs/${id}`, undefined, () => state.completed, null],
    [
      "DELETE /jobs/:id (uploading, cancellable)",
      "DELETE",
      (id) => `/jobs/${id}`,
      undefined,
      () => state.open.jobId,
      null,
    ],
    ["POST /jobs/:id/retry", "POST", (id) => `/jobs/${id}/retry`, undefined, () => state.completed, null],
    [
      "GET /videos/:id",
      "GET",
      (id) => `/videos/${id}`,
      undefined,
      () => state.completed,
      () => `/videos/${state.completed}`,
    ],
    ["PATCH /videos/:id", "PATCH", (id) => `/videos/${id}`, { title: "mine now" }, () => state.completed, null],
    ["POST /uploads/:id/complete", "POST", (id) => `/uploads/${id}/complete`, body, () => state.open.uploadId, null],
    [
      "GET /uploads/:id",
      "GET",
      (id) => `/uploads/${id}`,
      undefined,
      () => state.open.uploadId,
      () => `/uploads/${state.open.uploadId}`,
    ],
  ];

  it.each(cases)("mallory: %s → 404 like an unknown id", async (what, method, path, reqBody, realId, ownerRoute) => {
    if (ownerRoute) expect((await asOwner("GET", ownerRoute())).status).toBe(200);
    const unknownId = newId();
    const theirs = await asMallory(method, path(realId()), reqBody);
    const unknown = await asMallory(method, path(unknownId), reqBody);
    expectIndistinguishable(theirs, realId(), unknown, unknownId);
    // no part URLs, outputs or playlist lines leak in the refusal
    expect(theirs.text).not.toMatch(/X-Amz-Signature|#EXTM3U/);
    await expectUnchanged();
    tally("ownership", `another user's id: ${what}`);
  });

  it("mallory's job list holds only her job; the owner's holds none of hers", async () => {
    const theirs = await asMallory("GET", "/jobs");
    expect(theirs.status).toBe(200);
    expect((theirs.body as { jobs: { jobId: string }[] }).jobs.map((j) => j.jobId)).toEqual([state.mallorysJob]);
    const owners = await asOwner("GET", "/jobs");
    const ids = (owners.body as { jobs: { jobId: string }[] }).jobs.map((j) => j.jobId);
    expect(ids).toEqual(expect.arrayContaining([state.completed, state.open.jobId]));
    expect(ids).not.toContain(state.mallorysJob);
    tally("ownership", "job lists are per user");
  });

  it("the owner's ETag does not make mallory's request a 304", async () => {
    const owners = await asOwner("GET", `/jobs/${state.completed}`);
    const tag = owners.headers.etag;
    expect(tag).toBeTruthy();
    expect((await asOwner("GET", `/jobs/${state.completed}`, undefined, { "if-none-match": String(tag) })).status).toBe(
      304,
    );
    const unknownId = newId();
    const theirs = await asMallory("GET", `/jobs/${state.completed}`, undefined, { "if-none-match": String(tag) });
    const unknown = await asMallory("GET", `/jobs/${unknownId}`, undefined, { "if-none-match": String(tag) });
    expectIndistinguishable(theirs, state.completed, unknown, unknownId);
    tally("ownership", "another user's ETag gives no 304");
  });

  it("mallory cannot use the operator routes: 404 as if they did not exist", async () => {
    const owners = await asOwner("GET", "/admin/dead-letters");
    expect(owners.status).toBe(200);
    expect(owners.body).toEqual({ deadLetters: expect.any(Array) });
    const noRoute = await asMallory("GET", "/admin/no-such-route");
    for (const [method, target] of [
      ["GET", "/admin/dead-letters"],
      ["POST", "/admin/dead-letters/anything/redrive"],
    ] as const) {
      const reply = await asMallory(method, target);
      expectError(reply, 404, "not_found");
      expect((reply.body as { error: { message: string } }).error.message).toBe(`No route ${method} ${target}.`);
    }
    expectError(noRoute, 404, "not_found");
    tally("ownership", "operator routes hidden from other users");
  });
});

describe("no path reaches outside what its route serves", () => {
  const leaked = /root:|"workspaces"|#EXTM3U|X-Amz-Signature/;

  it.each([
    ["/jobs/..%2F..%2Fetc%2Fpasswd"],
    ["/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd"],
    ["/jobs/%2e%2e/%2e%2e/etc/passwd"],
    ["/jobs/../../etc/passwd"],
    ["/uploads/..%2F..%2Fetc%2Fpasswd"],
  ])("GET %s → 404, no file contents", async (target) => {
    const reply = await asOwner("GET", target);
    expectError(reply, 404, "not_found");
    expect(reply.text).not.toMatch(leaked);
    tally("ownership", `traversal: ${target}`);
  });

  it.each([["/jobs/%2e%2e"], ["/jobs/.."], ["/jobs/%2E%2E/"]])(
    "GET %s is a dot segment: it resolves to / (the dashboard), no job data",
    async (target) => {
      const root = await asOwner("GET", "/");
      const reply = await asOwner("GET", target);
      expect(reply.status).toBe(root.status);
      expect(reply.text).toBe(root.text);
      expect(reply.text).not.toContain(state.completed);
      expect(reply.text).not.toMatch(leaked);
      tally("ownership", `dot segment: ${target}`);
    },
  );

  it.each([
    ["rendition ..%2F..", (id: string) => `/jobs/${id}/hls/..%2F..%2Fsource/index.m3u8`],
    ["rendition with encoded slashes", (id: string) => `/jobs/${id}/hls/240p%2F..%2F..%2Fsource/index.m3u8`],
    ["rendition %2e%2e", (id: string) => `/jobs/${id}/hls/%2e%2e/master.m3u8`],
    ["file ..%2F..", (id: string) => `/jobs/${id}/hls/240p/..%2F..%2F360p.mp4`],
    ["file with encoded slash to a playlist", (id: string) => `/jobs/${id}/hls/240p/..%2Fmaster.m3u8`],
    ["file not a playlist", (id: string) => `/jobs/${id}/hls/240p/segment_000.ts`],
    ["rendition of a rung never made", (id: string) => `/jobs/${id}/hls/1080p/index.m3u8`],
  ])("HLS %s → 404, no file contents", async (what, target) => {
    const reply = await asOwner("GET", target(state.completed));
    expectError(reply, 404, "not_found");
    expect(reply.text).not.toMatch(leaked);
    tally("ownership", `HLS traversal: ${what}`);
  });

  it.each([
    ["/assets/..%2F..%2F..%2Fpackage.json"],
    ["/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json"],
    ["/..%2F..%2Fpackage.json"],
    ["/assets/..%5C..%5C..%5Cpackage.json"],
    ["/assets/%E0%A4%A"],
  ])("dashboard files: GET %s → 404, no file contents", async (target) => {
    const reply = await api("GET", target);
    expectError(reply, 404, "not_found");
    expect(reply.text).not.toMatch(leaked);
    tally("ownership", `dashboard traversal: ${target}`);
  });

  it.each([["../../etc/passwd"], ["a/b.mp4"], ["a\\b.mp4"], ["clip\u0000.mp4"]])(
    "POST /uploads with name %j → 400 invalid_request, no job made",
    async (name) => {
      const reply = await asOwner("POST", "/uploads", { name, size: 1000 });
      expectError(reply, 400, "invalid_request");
      await expectUnchanged();
      tally("ownership", `upload name ${JSON.stringify(name)}`);
    },
  );

  it("stored keys come from the job id, never from the file name", async () => {
    const { cloud } = env.cloud;
    const bucket = cloud.cfg.buckets.uploads;
    // a name that is harmless as a name but would climb out of a folder if it were a key
    const reply = await asOwner("POST", "/uploads", { name: "..", size: 1000 });
    expect(reply.status, reply.text).toBe(201);
    const { jobId, uploadId, parts } = reply.body as State["open"];
    expect(new URL(parts[0]!.url).pathname).toBe(`/${bucket}/jobs/${jobId}/source`);
    const stored = await cloud.deps.store.list(bucket, "");
    expect(stored.map((o) => o.key)).toContain(`jobs/${state.completed}/source`);
    for (const o of stored) expect(o.key).toMatch(/^jobs\/[A-Za-z0-9]{20}\/source$/);
    // cancel it: one more (ended) job for the owner and nothing else changed
    expect((await asOwner("DELETE", `/jobs/${jobId}`)).status).toBe(202);
    expect((await asOwner("GET", `/uploads/${uploadId}`)).body).toMatchObject({ jobStatus: "CANCELLED", parts: [] });
    const after = await ownerState();
    expect(after).toEqual({ ...before, jobs: before.jobs + 1 });
    before = after;
    tally("ownership", "stored key derived from the job id");
  });
});

describe("a presigned URL opens one object, for one operation, for a limited time", () => {
  const endpoint = () => env.cloud.cloud.env.VIDEOFORGE_S3_ENDPOINT!;
  async function ownerOutputs() {
    const reply = await asOwner("GET", `/jobs/${state.completed}/outputs`);
    expect(reply.status).toBe(200);
    const out = reply.body as {
      outputs: { rendition: string; key: string; bytes: number; url: string }[];
      poster: string;
    };
    expect(out.outputs.map((o) => o.rendition)).toEqual(["240p"]);
    return { output: out.outputs[0]!, poster: out.poster };
  }
  /** The gate's refusal: a 403 whose S3 XML error names `code`. */
  async function expectDenied(res: Response, code: string, message?: RegExp) {
    const text = await res.text();
    expect(res.status, text).toBe(403);
    expect(text).toContain(`<Code>${code}</Code>`);
    if (message) expect(text).toMatch(message);
  }
  const outputsBucket = () => env.cloud.cloud.cfg.buckets.outputs;
  const storedSize = async (key: string) => (await env.cloud.cloud.deps.store.head(outputsBucket(), key))?.size;

  it("the URL for a rendition downloads exactly the stored object", async () => {
    const { output } = await ownerOutputs();
    const res = await fetch(output.url);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(output.bytes);
    expect(bytes.length).toBe(await storedSize(output.key));
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    tally("ownership", "presigned GET downloads its object");
  });

  it.each([
    ["the poster of the same job", (u: URL) => u.pathname.replace(/\/[^/]+$/, "/poster.jpg")],
    [
      "the job's source in the uploads bucket",
      (u: URL, jobId: string) => `/${env.cloud.cloud.cfg.buckets.uploads}/jobs/${jobId}/source`,
    ],
  ])("the same URL pointed at %s → 403 SignatureDoesNotMatch", async (what, otherPath) => {
    const { output } = await ownerOutputs();
    const u = new URL(output.url);
    u.pathname = otherPath(u, state.completed);
    const res = await fetch(u);
    await expectDenied(res, "SignatureDoesNotMatch");
    tally("ownership", `presigned URL moved to ${what}`);
  });

  it("the poster and the source that those URLs aimed at do exist", async () => {
    // otherwise the two refusals above would prove nothing about signatures
    expect(await storedSize(`jobs/${state.completed}/poster.jpg`)).toBeGreaterThan(0);
    expect(
      (await env.cloud.cloud.deps.store.head(env.cloud.cloud.cfg.buckets.uploads, `jobs/${state.completed}/source`))
        ?.size,
    ).toBeGreaterThan(0);
  });

  it("the URL with X-Amz-Expires raised → 403 SignatureDoesNotMatch", async () => {
    const { output } = await ownerOutputs();
    const u = new URL(output.url);
    expect(Number(u.searchParams.get("X-Amz-Expires"))).toBe(env.cloud.cloud.cfg.urlSeconds.download);
    u.searchParams.set("X-Amz-Expires", "604800");
    await expectDenied(await fetch(u), "SignatureDoesNotMatch");
    tally("ownership", "presigned URL with expiry raised");
  });

  it("the URL with its signature removed → 403 AccessDenied", async () => {
    const { output } = await ownerOutputs();
    const u = new URL(output.url);
    u.searchParams.delete("X-Amz-Signature");
    await expectDenied(await fetch(u), "AccessDenied");
    tally("ownership", "presigned URL without its signature");
  });

  it("a GET URL used to PUT → 403 and the object is unchanged", async () => {
    const { output } = await ownerOutputs();
    const res = await fetch(output.url, { method: "PUT", body: "overwritten" });
    await expectDenied(res, "SignatureDoesNotMatch");
    expect(await storedSize(output.key)).toBe(output.bytes);
    tally("ownership", "presigned GET used for PUT");
  });

  it("unsigned requests to the S3 endpoint → 403 AccessDenied", async () => {
    const { output } = await ownerOutputs();
    const objectUrl = `${endpoint()}/${outputsBucket()}/${output.key}`;
    await expectDenied(await fetch(objectUrl), "AccessDenied", /Anonymous access/);
    await expectDenied(await fetch(`${endpoint()}/${outputsBucket()}`), "AccessDenied");
    await expectDenied(await fetch(objectUrl, { method: "PUT", body: "overwritten" }), "AccessDenied");
    await expectDenied(await fetch(objectUrl, { method: "DELETE" }), "AccessDenied");
    // CORS preflights pass the gate unsigned by design: they must carry no object bytes
    const preflight = await fetch(objectUrl, {
      method: "OPTIONS",
      headers: { origin: "http://elsewhere.example", "access-control-request-method": "GET" },
    });
    expect(await preflight.text()).toBe("");
    expect(await storedSize(output.key)).toBe(output.bytes);
    tally("ownership", "unsigned S3 requests");
  });

  it.each([
    ["another part number", (u: URL) => u.searchParams.set("partNumber", "2")],
    ["another upload id", (u: URL) => u.searchParams.set("uploadId", "0".repeat(32))],
    ["another key", (u: URL) => (u.pathname = u.pathname.replace(state.open.jobId, state.completed))],
  ])("a presigned part URL reused for %s → 403, no part stored", async (what, change) => {
    const u = new URL(state.open.parts[0]!.url);
    expect(u.searchParams.get("partNumber")).toBe("1");
    change(u);
    // SignatureDoesNotMatch comes from the gate: s3rver never checks signatures, so it never saw the body
    await expectDenied(await fetch(u, { method: "PUT", body: Buffer.alloc(1024, 1) }), "SignatureDoesNotMatch");
    await expectUnchanged();
    tally("ownership", `presigned part URL reused for ${what}`);
  });

  it("the part URL as issued is accepted (so the refusals above are about the change)", async () => {
    const res = await fetch(state.open.parts[0]!.url, { method: "PUT", body: Buffer.alloc(1024, 1) });
    expect(res.status, await res.text()).toBe(200);
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
    await expectUnchanged();
  });

  it("a URL past its configured lifetime → 403 expired", async () => {
    // a second cloud whose download URLs live 1 s; the config is read when the cloud starts
    const dir = await mkdtemp(join(tmpdir(), "videoforge-expiry-"));
    const short = await startLocalCloud({
      dataDir: dir,
      onTaskLog: () => {},
      settings: { VIDEOFORGE_DOWNLOAD_URL_SECONDS: "1" },
    });
    try {
      expect(short.cfg.urlSeconds.download).toBe(1);
      const bucket = short.cfg.buckets.outputs;
      await short.deps.store.putText(bucket, "jobs/expiry/poster.txt", "still here", "text/plain");
      // X-Amz-Date has whole seconds: sign just after a second starts, so the fresh fetch is inside the 1 s
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
      const url = await short.deps.store.presignGet(bucket, "jobs/expiry/poster.txt", short.cfg.urlSeconds.download);
      expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("1");
      const fresh = await fetch(url);
      expect(fresh.status).toBe(200);
      expect(await fresh.text()).toBe("still here");
      await new Promise((r) => setTimeout(r, 2200));
      await expectDenied(await fetch(url), "AccessDenied", /expired/);
    } finally {
      await short.stop();
      await rm(dir, { recursive: true, force: true });
    }
    tally("ownership", "expired presigned URL");
  });
});

describe("the API will not listen on the network without tokens", () => {
  it.each([["0.0.0.0"], ["::"]])("host %s with auth off is refused, naming the token", async (host) => {
    const started = startApiServer(env.cloud.cloud, { port: 0, host, auth: "off" });
    await expect(started).rejects.toBeInstanceOf(InsecureBindError);
    await expect(started).rejects.toThrow(/token/);
    tally("ownership", `refuse ${host} without auth`);
  });

  it("the API app built without an identity check (as the Lambda builds it) lets nobody in", async () => {
    const app = createApi(env.cloud.cloud.deps);
    for (const [method, path] of [
      ["GET", "/jobs"],
      ["GET", `/jobs/${state.completed}`],
      ["DELETE", `/jobs/${state.open.jobId}`],
    ] as const) {
      const res = await app.request(path, { method, headers: { authorization: bearer(env.cloud.token) } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    }
    expect((await app.request("/health")).status).toBe(200);
    await expectUnchanged();
    tally("ownership", "API without an identity check fails closed");
  });

  it("0.0.0.0 with tokens starts, and still wants the token", async () => {
    const server = await startApiServer(env.cloud.cloud, { port: 0, host: "0.0.0.0", auth: "token" });
    try {
      const local = `http://127.0.0.1:${new URL(server.url).port}`;
      expectError(await send(local, "GET", "/jobs"), 401, "unauthorized");
      const owners = await send(local, "GET", "/jobs", { authorization: bearer(env.cloud.token) });
      expect(owners.status).toBe(200);
      expect((owners.body as { jobs: { jobId: string }[] }).jobs.map((j) => j.jobId)).toContain(state.completed);
    } finally {
      await server.stop();
    }
    tally("ownership", "0.0.0.0 with tokens");
  });
});
