import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { makeFixture } from "../../../../test/fixtures.ts";
import { startTestCloud, type TestCloud } from "../../../../test/helpers/cloud.ts";

/**
 * The HTTP API over real HTTP against a real local cloud (dynalite, s3rver, the local bus
 * and task runner): no mocks. Every error is checked for its status and its
 * `{error: {code, message}}` body.
 */
let cloud: TestCloud;
let dir: string;
let clip: Buffer;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-api-"));
  cloud = await startTestCloud();
  clip = await readFile(await makeFixture("tiny-2s", dir));
});
afterAll(async () => {
  await cloud?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

/** One request to the API; `body` is sent as JSON unless it is already a string. */
async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(cloud.api.url + path, {
    method,
    headers: {
      authorization: `Bearer ${cloud.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (the HTML page): callers look at `text`
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/** The response is an error with this status and code and a message a person can read. */
function expectError(reply: Reply, status: number, code: string, message?: RegExp): string {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get("content-type")).toMatch(/application\/json/);
  expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  const text = (reply.body as unknown as { error: { message: string } }).error.message;
  expect(text.length).toBeGreaterThan(5);
  if (message) expect(text).toMatch(message);
  return text;
}

async function expectHealthy() {
  const health = await api("GET", "/health");
  expect(health.status).toBe(200);
  expect(health.body.ok).toBe(true);
}

interface Created {
  jobId: string;
  uploadId: string;
  partSize: number;
  parts: { partNumber: number; url: string }[];
  expiresIn: number;
}
type Job = { jobId: string; status: string; name: string; size: number | null; ladder: string[] };
interface JobView {
  job: Job;
  chunks: { index: number; status: string; frames: number }[];
  timeline: { at: string; type: string }[];
}
interface Outputs {
  status: string;
  outputs: { rendition: string; key: string; bytes: number; width: number; height: number; url: string }[];
  hls: string | null;
  poster: string | null;
}

async function createUpload(input: Record<string, unknown>): Promise<Created> {
  const reply = await api<Created>("POST", "/uploads", input);
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

/** PUT `bytes` as part 1 through its presigned URL, as a browser would; returns the ETag. */
async function putPart(created: Created, bytes: Buffer): Promise<string> {
  const part = created.parts[0]!;
  const res = await fetch(part.url, { method: "PUT", body: bytes });
  expect(res.status, await res.text()).toBe(200);
  const etag = res.headers.get("etag");
  expect(etag).toBeTruthy();
  return etag!;
}

const complete = (uploadId: string, parts: { partNumber: number; etag: string }[]) =>
  api<{ jobId: string }>("POST", `/uploads/${uploadId}/complete`, { parts });

async function waitForStatus(jobId: string, statuses: string[], timeoutMs = 90_000): Promise<JobView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const reply = await api<JobView>("GET", `/jobs/${jobId}`);
    expect(reply.status, reply.text).toBe(200);
    if (statuses.includes(reply.body.job.status)) return reply.body;
    if (Date.now() > until) throw new Error(`job ${jobId} still ${reply.body.job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("service routes", () => {
  it("GET /health reports ok and which ffmpeg runs", async () => {
    const reply = await api("GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      ok: true,
      ffmpeg: {
        origin: expect.stringMatching(/^(env|system|npm)$/),
        version: expect.any(Number),
        build: expect.any(String),
      },
    });
  });

  it("GET / serves the HTML page", async () => {
    const reply = await api("GET", "/");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toMatch(/text\/html/);
    expect(reply.text).toMatch(/^<!doctype html>/i);
    expect(reply.text).toContain("videoforge");
  });

  it("an unknown route is 404 not_found", async () => {
    expectError(await api("GET", "/nope"), 404, "not_found", /GET \/nope/);
    expectError(await api("POST", "/jobs"), 404, "not_found");
  });
});

describe("POST /uploads", () => {
  it("creates a job and one presigned part for a small file", async () => {
    // act
    const reply = await api<Created>("POST", "/uploads", {
      name: "small.mp4",
      size: 1234,
      contentType: "video/mp4",
      ladder: ["360p"],
    });

    // assert: the upload
    expect(reply.status, reply.text).toBe(201);
    const created = reply.body;
    expect(created.jobId).toMatch(/^[A-Za-z0-9_-]{6,64}$/);
    expect(created.uploadId).toMatch(/^[A-Za-z0-9_-]{6,64}$/);
    expect(created.uploadId).not.toBe(created.jobId);
    expect(created.partSize).toBeGreaterThanOrEqual(8 * MiB);
    expect(created.expiresIn).toBeGreaterThan(0);
    expect(created.parts).toHaveLength(1);
    expect(created.parts[0]!.partNumber).toBe(1);
    const url = new URL(created.parts[0]!.url);
    expect(url.protocol).toBe("http:");
    expect(url.searchParams.get("partNumber")).toBe("1");
    expect(url.searchParams.get("uploadId")).toBeTruthy();
    expect(url.searchParams.get("X-Amz-Signature")).toBeTruthy();

    // assert: the job is listed and readable, still waiting for its bytes
    const list = await api<{ jobs: Job[] }>("GET", "/jobs");
    expect(list.status).toBe(200);
    const listed = list.body.jobs.find((j) => j.jobId === created.jobId);
    expect(listed).toMatchObject({ status: "UPLOADING", name: "small.mp4", size: 1234, ladder: ["360p"] });
    const view = await api<JobView>("GET", `/jobs/${created.jobId}`);
    expect(view.status).toBe(200);
    expect(view.body.job).toMatchObject({ jobId: created.jobId, status: "UPLOADING", name: "small.mp4", size: 1234 });
    expect(view.body.chunks).toEqual([]);
  });

  it("splits a 100 MiB file into ceil(size / partSize) numbered parts", async () => {
    const size = 100 * MiB;
    const created = await createUpload({ name: "big.mov", size });

    expect(created.partSize).toBeGreaterThanOrEqual(8 * MiB);
    expect(created.parts).toHaveLength(Math.ceil(size / created.partSize));
    expect(created.parts.map((p) => p.partNumber)).toEqual(created.parts.map((_, i) => i + 1));
    expect(created.parts.map((p) => new URL(p.url).searchParams.get("partNumber"))).toEqual(
      created.parts.map((_, i) => String(i + 1)),
    );
    expect(new Set(created.parts.map((p) => p.url)).size).toBe(created.parts.length);
  });

  const invalid: { case: string; body: Record<string, unknown>; message?: RegExp }[] = [
    { case: "missing name", body: { size: 100 }, message: /name/ },
    { case: "empty name", body: { name: "", size: 100 }, message: /name/ },
    { case: "missing size", body: { name: "a.mp4" }, message: /size/ },
    { case: "size 0", body: { name: "a.mp4", size: 0 }, message: /size/ },
    { case: "negative size", body: { name: "a.mp4", size: -5 }, message: /size/ },
    { case: "non-integer size", body: { name: "a.mp4", size: 10.5 }, message: /size/ },
    { case: "size as a string", body: { name: "a.mp4", size: "100" }, message: /size/ },
    { case: "size over 50 GiB", body: { name: "a.mp4", size: 50 * GiB + 1 }, message: /size must be at most/ },
    { case: "name with /", body: { name: "dir/a.mp4", size: 100 }, message: /path separators/ },
    { case: "name with \\", body: { name: "dir\\a.mp4", size: 100 }, message: /path separators/ },
    { case: "name with a NUL", body: { name: "a\u0000.mp4", size: 100 }, message: /control characters/ },
    { case: "name with a newline", body: { name: "a\n.mp4", size: 100 }, message: /control characters/ },
    { case: "name with DEL", body: { name: "a\u007f.mp4", size: 100 }, message: /control characters/ },
    { case: "name over 255 characters", body: { name: "a".repeat(256), size: 100 }, message: /name/ },
    { case: "empty ladder", body: { name: "a.mp4", size: 100, ladder: [] }, message: /ladder/ },
    {
      case: "unknown rung",
      body: { name: "a.mp4", size: 100, ladder: ["720p", "999p"] },
      message: /"999p".*2160p, 1440p, 1080p, 720p, 480p, 360p, 240p/,
    },
    {
      case: "unknown format",
      body: { name: "a.mp4", size: 100, formats: ["h264", "h266"] },
      message: /"h266".*h264, hevc, vp9, av1, m4a, mp3/,
    },
    {
      case: "a picture option on an audio-only job",
      body: { name: "a.mp4", size: 100, formats: ["m4a", "mp3"], trim: { start: 1 }, posterAt: 2 },
      message: /trim, posterAt need a video format, and this job makes audio only \(m4a, mp3\)/,
    },
    {
      case: "MPEG-TS packaging with VP9",
      body: { name: "a.mp4", size: 100, formats: ["h264", "vp9"], packaging: "ts" },
      message: /carry H\.264 and HEVC only, not vp9/,
    },
    { case: "empty formats", body: { name: "a.mp4", size: 100, formats: [] }, message: /formats/ },
    { case: "negative posterAt", body: { name: "a.mp4", size: 100, posterAt: -1 }, message: /posterAt/ },
    {
      case: "a target SSIM of 1",
      body: { name: "a.mp4", size: 100, targetSsim: 1 },
      message: /targetSsim must be between 0\.8 and 0\.995/,
    },
    {
      case: "a target SSIM on an audio-only job",
      body: { name: "a.mp4", size: 100, formats: ["m4a"], targetSsim: 0.97 },
      message: /targetSsim needs a video format/,
    },
  ];

  it.each(invalid)("rejects $case with 400 invalid_request", async ({ body, message }) => {
    const before = (await api<{ jobs: Job[] }>("GET", "/jobs")).body.jobs.length;

    expectError(await api("POST", "/uploads", body), 400, "invalid_request", message);

    // nothing was created, and the stack still answers
    expect((await api<{ jobs: Job[] }>("GET", "/jobs")).body.jobs.length).toBe(before);
    await expectHealthy();
  });

  it.each(["null", "[]", '"text"', "42"])("rejects the JSON value %s with 400 invalid_request", async (json) => {
    expectError(await api("POST", "/uploads", json), 400, "invalid_request");
    await expectHealthy();
  });

  it("rejects malformed JSON with 400 invalid_json", async () => {
    expectError(await api("POST", "/uploads", '{"name": "a.mp4", "size": '), 400, "invalid_json", /not valid JSON/);
    await expectHealthy();
  });

  it("rejects a body over 1 MiB with 413 body_too_large", async () => {
    const huge = JSON.stringify({ name: "a.mp4", size: 100, contentType: "x".repeat(MiB) });
    const reply = await api("POST", "/uploads", huge);

    expectError(reply, 413, "body_too_large");
    // the server drops the connection with the unread body: keep-alive clients must be told not to reuse it
    expect(reply.headers.get("connection")).toBe("close");
    for (let i = 0; i < 5; i++) await expectHealthy();
  });

  it("rejects a streamed body over 1 MiB (chunked, no content-length) with 413 body_too_large", async () => {
    // node:http, not fetch: undici drops the reply when the server answers before the upload is over
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${cloud.api.url}/uploads`,
        { method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      const chunk = "x".repeat(64 * 1024);
      let sent = 0;
      const write = () => {
        while (sent < 2 * MiB) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", write);
        }
        req.end();
      };
      write();
    });
    expect(status, text).toBe(413);
    expect(JSON.parse(text)).toEqual({ error: { code: "body_too_large", message: expect.any(String) } });
    await expectHealthy();
  });
});

describe("upload, process and download", () => {
  it("runs a real upload through the pipeline to downloadable outputs", async () => {
    // arrange: an upload for the 2 s clip, its bytes PUT to the presigned URL
    const created = await createUpload({
      name: "tiny clip.mp4",
      size: clip.length,
      contentType: "video/mp4",
      ladder: ["240p"],
    });
    expect(created.parts).toHaveLength(1);
    const etag = await putPart(created, clip);

    // act: complete it, then complete it again
    const first = await complete(created.uploadId, [{ partNumber: 1, etag }]);
    const again = await complete(created.uploadId, [{ partNumber: 1, etag }]);

    // assert: both accepted with the same job
    expect(first.status, first.text).toBe(202);
    expect(first.body).toEqual({ jobId: created.jobId });
    expect(again.status, again.text).toBeGreaterThanOrEqual(200);
    expect(again.status).toBeLessThan(300);
    expect(again.body).toEqual({ jobId: created.jobId });

    // act: wait for the pipeline
    const view = await waitForStatus(created.jobId, ["COMPLETED", "FAILED", "CANCELLED"]);
    await cloud.cloud.bus.idle();
    const final = (await api<JobView & { job: { error: unknown } }>("GET", `/jobs/${created.jobId}`)).body;

    // assert: the job, all chunks encoded, the timeline in time order
    expect(view.job.status).toBe("COMPLETED");
    expect(final.job).toMatchObject({
      jobId: created.jobId,
      status: "COMPLETED",
      name: "tiny clip.mp4",
      size: clip.length,
      error: null,
    });
    expect(final.chunks.length).toBeGreaterThanOrEqual(1);
    expect(final.chunks.map((c) => c.status)).toEqual(final.chunks.map(() => "ENCODED"));
    expect(final.chunks.map((c) => c.index)).toEqual(final.chunks.map((_, i) => i));
    const ats = final.timeline.map((t) => t.at);
    expect(ats).toEqual([...ats].sort());
    const types = final.timeline.map((t) => t.type);
    expect(types[0]).toBe("VideoUploaded");
    expect(types).toContain("JobCompleted");
    // the repeated completion may announce again while the job is still QUEUED (announcements follow state; the
    // chunker is idempotent)
    expect(types.filter((t) => t === "VideoUploaded").length).toBeGreaterThanOrEqual(1);
    expect(types.filter((t) => t === "VideoUploaded").length).toBeLessThanOrEqual(2);
    for (const t of ["ChunkReady", "ChunkEncoded", "VideoAssembled"]) {
      expect(types.indexOf(t), t).toBeGreaterThan(types.indexOf("VideoUploaded"));
      expect(types.indexOf(t), t).toBeLessThan(types.indexOf("JobCompleted"));
    }

    // assert: every output downloads through its presigned URL, at its announced size, as an MP4
    const outputs = await api<Outputs>("GET", `/jobs/${created.jobId}/outputs`);
    expect(outputs.status).toBe(200);
    expect(outputs.body.status).toBe("COMPLETED");
    expect(outputs.body.outputs.map((o) => `${o.rendition}:${o.width}x${o.height}`)).toEqual(["240p:320x240"]);
    for (const o of outputs.body.outputs) {
      const res = await fetch(o.url);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length).toBe(o.bytes);
      expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    }
    expect(outputs.body.poster).toMatch(/^http/);

    // the completed job is a video in its owner's library: titled by its file name until edited
    type Video = { videoId: string; title: string; description: string; bytes: number; poster: string | null };
    const library = await api<{ videos: Video[]; storageBytes: number }>("GET", "/videos");
    expect(library.status, library.text).toBe(200);
    const video = library.body.videos.find((v) => v.videoId === created.jobId)!;
    expect(video).toMatchObject({ title: "tiny clip.mp4", description: "", renditions: ["240p"], formats: ["h264"] });
    expect(video.bytes).toBe(outputs.body.outputs[0]!.bytes);
    expect(library.body.storageBytes).toBeGreaterThanOrEqual(video.bytes);
    expect((await fetch(video.poster!)).headers.get("content-type")).toBe("image/jpeg");
    // the title and the description stick; the search finds it by the new title, not the old
    const edited = await api<Video>("PATCH", `/videos/${created.jobId}`, { title: "  Beach day ", description: "🌊" });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body).toMatchObject({ title: "Beach day", description: "🌊" });
    expect((await api<Video>("GET", `/videos/${created.jobId}`)).body.title).toBe("Beach day");
    const titles = async (q: string) =>
      (await api<{ videos: Video[] }>("GET", `/videos?q=${encodeURIComponent(q)}`)).body.videos.map((v) => v.title);
    expect(await titles("BEACH")).toEqual(["Beach day"]);
    expect(await titles("tiny clip")).toEqual([]);
    expectError(await api("PATCH", `/videos/${created.jobId}`, { title: " " }), 400, "invalid_request", /title/);
    expectError(await api("PATCH", `/videos/${created.jobId}`, {}), 400, "invalid_request", /title, a description/);
    // a job that has not completed is no video
    const pending = await createUpload({ name: "pending.mp4", size: 10 });
    expectError(await api("GET", `/videos/${pending.jobId}`), 404, "not_found", /has not completed/);
    expectError(await api("PATCH", `/videos/${pending.jobId}`, { title: "x" }), 404, "not_found");

    // share links: anyone with the link watches this video, without a token, until it is revoked or expires
    type Share = { shareId: string; token: string; path: string; expiresAt: number; revokedAt: number | null };
    const share = (await api<Share>("POST", `/videos/${created.jobId}/shares`, {})).body;
    expect(share.path).toBe(`/s/${share.token}`);
    expect(share.expiresAt - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const anonymous = (path: string) => fetch(cloud.api.url + path);
    const shared = await anonymous(`/shared/${share.token}`);
    expect(shared.status).toBe(200);
    expect(await shared.json()).toMatchObject({
      video: { videoId: created.jobId, title: "Beach day" },
      hls: `/shared/${share.token}/hls/master.m3u8`,
    });
    const master = await (await anonymous(`/shared/${share.token}/hls/master.m3u8`)).text();
    const variant = master.split("\n").find((l) => l.endsWith(".m3u8") && !l.startsWith("#"))!;
    const media = await anonymous(`/shared/${share.token}/hls/${variant}`);
    expect(media.status).toBe(200);
    expect(await media.text()).toMatch(/^#EXTM3U[\s\S]*X-Amz-Signature/);
    // a wrong secret for a real link is no link; the link opens nothing but its video
    const forged = `${share.shareId}.${"A".repeat(43)}`;
    expect((await anonymous(`/shared/${forged}`)).status).toBe(404);
    expect((await anonymous(`/jobs/${pending.jobId}?share=${share.token}`)).status).toBe(401);
    // the owner lists it; revoked, it stops at once and says so
    const listed = (await api<{ shares: Share[] }>("GET", `/videos/${created.jobId}/shares`)).body.shares;
    expect(listed.map((s) => [s.shareId, s.revokedAt, "token" in s])).toEqual([[share.shareId, null, false]]);
    expect((await api("DELETE", `/videos/${created.jobId}/shares/${share.shareId}`)).status).toBe(200);
    const revoked = await anonymous(`/shared/${share.token}/hls/master.m3u8`);
    expect(revoked.status).toBe(404);
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toMatch(/was revoked/);
    // one that has expired says when
    const brief = (await api<Share>("POST", `/videos/${created.jobId}/shares`, { expiresInDays: 0.00001 })).body;
    await new Promise((r) => setTimeout(r, 1000));
    const expired = await anonymous(`/shared/${brief.token}`);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired on \d{4}-/);

    // delete: a running job is refused; an ended one leaves the library at once, then every file and row goes
    expectError(await api("DELETE", `/videos/${pending.jobId}`), 409, "conflict", /cancel it before deleting/);
    const { deps, cfg } = cloud.cloud;
    const job = (await deps.jobs.getJob(created.jobId))!;
    // a retry of it would read the same stored source: while one exists, the source stays
    const retry = `${created.jobId}-r1`;
    await deps.jobs.createJob({
      jobId: retry,
      owner: job.owner,
      status: "FAILED",
      sourceName: job.sourceName,
      sourceBucket: job.sourceBucket!,
      sourceKey: job.sourceKey!,
      ladder: job.ladder,
      createdAt: Date.now(),
    });
    const files = async (id: string) =>
      [
        ...(await deps.store.list(cfg.buckets.outputs, `jobs/${id}/`)),
        ...(await deps.store.list(cfg.buckets.work, `jobs/${id}/`)),
      ].length;
    expect(await files(created.jobId)).toBeGreaterThan(0);
    const deleting = await api("DELETE", `/videos/${created.jobId}`);
    expect(deleting.status, deleting.text).toBe(202);
    expect(deleting.body).toEqual({ videoId: created.jobId, status: "DELETING" });
    await cloud.cloud.bus.idle();
    expect(await files(created.jobId)).toBe(0);
    expect(await deps.jobs.getJob(created.jobId)).toBeNull();
    // its share links went with it
    expect((await deps.db.entities.share.get({ shareId: share.shareId }).go()).data).toBeNull();
    expect((await deps.db.collections.jobView({ jobId: created.jobId }).go()).data).toEqual({
      job: [],
      chunk: [],
      timeline: [],
    });
    expectError(await api("GET", `/jobs/${created.jobId}`), 404, "not_found");
    expectError(await api("DELETE", `/videos/${created.jobId}`), 404, "not_found");
    expect((await api<{ jobs: { jobId: string }[] }>("GET", "/jobs")).body.jobs.map((j) => j.jobId)).not.toContain(
      created.jobId,
    );
    expect(await deps.store.head(job.sourceBucket!, job.sourceKey!)).not.toBeNull();
    // the last job naming the source takes it with it
    expect((await api("DELETE", `/videos/${retry}`)).status).toBe(202);
    await cloud.cloud.bus.idle();
    expect(await deps.store.head(job.sourceBucket!, job.sourceKey!)).toBeNull();
    expect(await deps.jobs.getJob(retry)).toBeNull();
  });

  it("GET /jobs/:id/outputs of an unfinished job has no outputs yet", async () => {
    const created = await createUpload({ name: "pending.mp4", size: 10 });
    const outputs = await api<Outputs>("GET", `/jobs/${created.jobId}/outputs`);
    expect(outputs.status).toBe(200);
    expect(outputs.body).toEqual({
      status: "UPLOADING",
      outputs: [],
      audio: [],
      captions: [],
      hls: null,
      dash: null,
      poster: null,
    });
  });

  it("completing with fewer bytes than announced is 409 conflict, fails the job, and stays 409 on retry", async () => {
    // arrange: announce 1000 bytes more than are sent
    const created = await createUpload({ name: "short.mp4", size: clip.length + 1000 });
    const etag = await putPart(created, clip);

    // act
    const reply = await complete(created.uploadId, [{ partNumber: 1, etag }]);
    const retry = await complete(created.uploadId, [{ partNumber: 1, etag }]);

    // assert: a conflict that names both sizes, the same answer on retry, and a job that says why it ended
    expectError(reply, 409, "conflict", new RegExp(`${clip.length} bytes; ${clip.length + 1000} were announced`));
    expectError(retry, 409, "conflict", /start a new upload/);
    const view = await api<JobView & { job: { error: unknown } }>("GET", `/jobs/${created.jobId}`);
    expect(view.body.job.status).toBe("FAILED");
    expect(view.body.job.error).toEqual({ stage: "upload", reason: expect.stringMatching(/were announced/) });
  });

  it("completing an unknown upload is 404 not_found", async () => {
    expectError(
      await complete("doesnotexist0000", [{ partNumber: 1, etag: '"x"' }]),
      404,
      "not_found",
      /doesnotexist0000/,
    );
    expectError(await complete("bad!id", [{ partNumber: 1, etag: '"x"' }]), 404, "not_found");
  });

  it("completing without parts is 400 invalid_request", async () => {
    const created = await createUpload({ name: "noparts.mp4", size: 100 });
    expectError(
      await api("POST", `/uploads/${created.uploadId}/complete`, { parts: [] }),
      400,
      "invalid_request",
      /parts/,
    );
    expectError(await api("POST", `/uploads/${created.uploadId}/complete`, {}), 400, "invalid_request", /parts/);
  });
});

describe("GET /jobs/:id", () => {
  it("an unknown id is 404 not_found", async () => {
    expectError(await api("GET", "/jobs/unknownjob000000"), 404, "not_found", /unknownjob000000/);
    expectError(await api("GET", "/jobs/unknownjob000000/outputs"), 404, "not_found");
  });

  it.each(["..%2F..%2Fetc", "../../etc", "a", "bad%20id", "x".repeat(65)])(
    "an invalid id %s is 404 not_found",
    async (id) => {
      expectError(await api("GET", `/jobs/${id}`), 404, "not_found");
    },
  );
});

describe("DELETE /jobs/:id", () => {
  it("cancels a job that is still uploading, once", async () => {
    // arrange
    const created = await createUpload({ name: "cancel-me.mp4", size: 1000 });

    // act
    const reply = await api("DELETE", `/jobs/${created.jobId}`);

    // assert: cancelled, and it reads so
    expect(reply.status, reply.text).toBe(202);
    expect(reply.body).toEqual({ jobId: created.jobId, status: "CANCELLED" });
    const view = await api<JobView>("GET", `/jobs/${created.jobId}`);
    expect(view.body.job.status).toBe("CANCELLED");
    expect((await api<{ jobs: Job[] }>("GET", "/jobs")).body.jobs.find((j) => j.jobId === created.jobId)?.status).toBe(
      "CANCELLED",
    );

    // assert: a retried cancel answers the same (it announces JobCancelled again, in case the first publish failed)
    const again = await api("DELETE", `/jobs/${created.jobId}`);
    expect(again.status, again.text).toBe(202);
    expect(again.body).toEqual({ jobId: created.jobId, status: "CANCELLED" });
    expect((await api<JobView>("GET", `/jobs/${created.jobId}`)).body.job.status).toBe("CANCELLED");
  });

  it("an unknown or invalid id is 404 not_found", async () => {
    expectError(await api("DELETE", "/jobs/unknownjob000000"), 404, "not_found");
    expectError(await api("DELETE", "/jobs/..%2Fetc"), 404, "not_found");
  });
});
