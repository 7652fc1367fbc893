import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeFixture } from "./fixtures.ts";
import { startTestCloud, type TestCloud } from "./helpers/cloud.ts";

/**
 * Upload from a URL, end to end: a real HTTP server on loopback serves the files, the API takes the URL, the
 * importer streams it into storage and the pipeline runs. Loopback is reachable only because this cloud's
 * operator passed the development flag (VIDEOFORGE_ALLOW_PRIVATE_URLS); a cloud without it refuses such URLs.
 */
let cloud: TestCloud;
let strict: TestCloud;
let roomy: TestCloud;
let dir: string;
let clip: Buffer;
let server: Server;
let base: string;
const hits: string[] = [];

const LIMIT = 2 * 1024 * 1024;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-import-"));
  clip = await readFile(await makeFixture("tiny-2s", dir));
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/media/clip.mp4") return res.writeHead(200, { "content-type": "video/mp4" }).end(clip);
    if (path === "/go/clip.mp4") return res.writeHead(302, { location: "/media/clip.mp4" }).end();
    if (path === "/to-metadata")
      return res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    if (path === "/watch") return res.writeHead(200, { "content-type": "text/html" }).end("<html>a player</html>");
    if (path === "/huge.mp4") {
      // announces 1.2 GB (past the task-runtime threshold), sends the clip, and hangs up
      res.writeHead(200, { "content-type": "video/mp4", "content-length": "1200000000" });
      res.write(clip);
      return void setTimeout(() => res.destroy(), 50);
    }
    if (path === "/noise.mp4")
      return res.writeHead(200, { "content-type": "application/octet-stream" }).end(randomBytes(50_000));
    if (path === "/empty.mp4") return res.writeHead(200, { "content-type": "video/mp4" }).end();
    if (path === "/endless.mp4") {
      // no length announced: the cap must stop it while it streams
      res.writeHead(200, { "content-type": "video/mp4" });
      const chunk = Buffer.alloc(256 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 10 * LIMIT && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      return more();
    }
    res.writeHead(404).end("no such file");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings = { VIDEOFORGE_MAX_UPLOAD_BYTES: String(LIMIT) };
  cloud = await startTestCloud({ settings: { ...settings, VIDEOFORGE_ALLOW_PRIVATE_URLS: "1" } });
  strict = await startTestCloud({ settings });
  roomy = await startTestCloud({ settings: { VIDEOFORGE_ALLOW_PRIVATE_URLS: "1" } });
});
afterAll(async () => {
  await cloud?.stop();
  await strict?.stop();
  await roomy?.stop();
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function post(on: TestCloud, body: unknown) {
  const res = await fetch(`${on.api.url}/uploads/from-url`, {
    method: "POST",
    headers: { authorization: `Bearer ${on.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as { jobId: string; error?: { message: string } }, text };
}

describe("POST /uploads/from-url", () => {
  it("fetches through a redirect, names the video after the file, and runs the pipeline", async () => {
    const res = await post(cloud, { url: `${base}/go/clip.mp4`, ladder: ["240p"] });
    expect(res.status, res.text).toBe(202);
    const view = await cloud.waitForEnd(res.body.jobId);
    expect({ status: view.job.status, error: view.job.error }).toEqual({ status: "COMPLETED", error: null });
    expect(view.job.name).toBe("clip.mp4");
    expect(view.chunks.reduce((n, c) => n + c.frames, 0)).toBe(50);
    const { outputs } = await cloud.client.outputs(res.body.jobId);
    expect(outputs.map((o) => [o.rendition, o.frames])).toEqual([["240p", 50]]);
    // the stored source is the served file, byte for byte in count
    const { deps, cfg } = cloud.cloud;
    const stored = await deps.store.head(cfg.buckets.uploads, (await deps.jobs.getJob(res.body.jobId))!.sourceKey!);
    expect(stored?.size).toBe(clip.length);
  });

  const failures: [string, string, RegExp][] = [
    ["a missing file", "/media/gone.mp4", /answered 404 .*public and points at the file itself/],
    ["a web page", "/watch", /sent a web page \(text\/html\), not a video file/],
    ["a redirect to the metadata service", "/to-metadata", /169\.254\.169\.254.*link-local/],
    [
      "a file past the upload limit",
      "/endless.mp4",
      /The file at 127\.0\.0\.1:\d+ is larger than the 2 MiB limit: an import has the size limit of an upload/,
    ],
    ["bytes that are not a video", "/noise.mp4", /./],
    ["an empty file", "/empty.mp4", /sent an empty file: there is no video to process/],
  ];
  it.each(failures)("fails the job with the reason for %s", async (_what, path, reason) => {
    const res = await post(cloud, { url: base + path, name: "my video" });
    expect(res.status, res.text).toBe(202);
    const view = await cloud.waitForEnd(res.body.jobId);
    expect(view.job.status).toBe("FAILED");
    expect(view.job.error?.reason).toMatch(reason);
    expect(view.job.name).toBe("my video");
    if (path === "/noise.mp4") expect(view.job.error?.stage).toBe("chunking");
    else expect(view.job.error?.stage).toBe("upload");
    // nothing was kept of what was refused
    const job = (await cloud.cloud.deps.jobs.getJob(res.body.jobId))!;
    if (path !== "/noise.mp4") expect(await cloud.cloud.deps.store.head(job.sourceBucket!, job.sourceKey!)).toBeNull();
  });

  it("hands a file announced as large to the task runtime, which fails the job when the server hangs up", async () => {
    const res = await post(roomy, { url: `${base}/huge.mp4` });
    expect(res.status, res.text).toBe(202);
    const view = await roomy.waitForEnd(res.body.jobId);
    expect(view.job.status).toBe("FAILED");
    expect(view.job.error?.stage).toBe("upload");
    expect(view.job.error?.reason).toMatch(/download from 127\.0\.0\.1:\d+ broke off|cut short/);
    // asked twice: by the API (not known to be large), then by the Lambda-runtime importer for the task runtime
    const asks = view.timeline.filter((t) => t.type === "SourceImportRequested").map((t) => t.detail.large);
    expect(asks.sort()).toEqual([false, true]);
    // the task ran it: its own process logged the import (the task runner's lines carry the handler)
    const log = await readFile(join(roomy.dir, "log.jsonl"), "utf8");
    expect(log).toMatch(
      new RegExp(
        `"handler":"importer"[^\n]*"jobId":"${res.body.jobId}"|"jobId":"${res.body.jobId}"[^\n]*"handler":"importer"`,
      ),
    );
  });

  it("without the development flag refuses http and loopback before making a job", async () => {
    const before = hits.length;
    for (const [url, message] of [
      [`${base}/media/clip.mp4`, /Only https URLs are allowed/],
      [`https://127.0.0.1:${new URL(base).port}/media/clip.mp4`, /loopback/],
      ["https://10.1.2.3/v.mp4", /private/],
      ["https://[::1]/v.mp4", /loopback/],
      ["file:///etc/passwd", /https/],
      ["not a url", /absolute URL/],
    ] as const) {
      const res = await post(strict, { url });
      expect(res.status, `${url}: ${res.text}`).toBe(400);
      expect(res.body.error?.message).toMatch(message);
    }
    expect(hits.length).toBe(before);
    const { jobs } = await strict.client.jobs();
    expect(jobs).toEqual([]);
  });
});

describe("videoforge submit https://…", () => {
  it("hands the URL to the platform and follows the job", async () => {
    const bin = fileURLToPath(new URL("../packages/cli/bin/videoforge.js", import.meta.url));
    const child = spawn(process.execPath, [bin, "submit", `${base}/media/clip.mp4`, "--ladder", "240p", "--wait"], {
      env: { ...process.env, VIDEOFORGE_API: cloud.api.url, VIDEOFORGE_TOKEN: cloud.token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code, stderr).toBe(0);
    const jobId = stdout.trim().split("\n")[0]!;
    const view = await cloud.client.job(jobId);
    expect(view.job.status).toBe("COMPLETED");
    expect((await cloud.client.outputs(jobId)).outputs.map((o) => o.frames)).toEqual([50]);
  });
});
