import { execFileSync } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { verifySignature } from "@videoforge/core";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionArtifacts } from "../../stacks/artifacts.ts";
import { readManifest } from "../../stacks/build-artifacts.ts";
import { createArtifactRunner } from "@videoforge/local/tasks";
import { startTestCloud, type TestCloud } from "../helpers/cloud.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { decodedVideo, download } from "../helpers/media.ts";

/**
 * Production parity: a real clip goes through the local cloud to COMPLETED with every handler
 * run from its built artifact (`npm run build:aws`) in a child process under its AWS runtime's
 * constraints (packages/local/src/tasks/runtimes/artifact-runner.ts): zip Lambdas from a root-owned
 * copy outside the repository, as `nobody`, with SST's encrypted links; chunker, assembler and
 * finisher from the worker bundle in Lambda mode against a local Runtime API; the encoder from
 * the worker bundle in task mode with the launcher's overrides; ffmpeg only the collected build.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const manifest = readManifest(ROOT);
// names unlike the defaults: an artifact that ignored its SST links would miss the table and buckets
const NAMES = {
  VIDEOFORGE_TABLE: "vf-parity-table",
  VIDEOFORGE_UPLOADS_BUCKET: "vf-parity-uploads",
  VIDEOFORGE_WORK_BUCKET: "vf-parity-work",
  VIDEOFORGE_OUTPUTS_BUCKET: "vf-parity-outputs",
  VIDEOFORGE_BUS: "vf-parity-bus",
};

const PARITY_LAMBDA_CPU_SECONDS = 0.01;

let cloud: TestCloud;
let scratch: string;
const lines: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, NAMES);
  scratch = await mkdtemp(join(tmpdir(), "vf-parity-"));
  cloud = await startTestCloud({
    runtime: "artifacts",
    concurrency: 2,
    onTaskLog: (line) => lines.push(line),
    // a 4 s clip in 1 s chunks; the stacks' environment would set the same variable
    // the receiver of the webhook test is on loopback: the operator's development flag lets the sender reach it
    artifacts: {
      environment: {
        VIDEOFORGE_CHUNK_SECONDS: "1",
        VIDEOFORGE_ENCODER_THREADS: "1",
        VIDEOFORGE_ALLOW_PRIVATE_URLS: "1",
        // a limit under every chunk's estimate: the lead goes to the encoder's Lambda whatever its estimate, the
        // rest to tasks, so both of the encoder's artifacts run (at the default all these tiny chunks are light)
        VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: String(PARITY_LAMBDA_CPU_SECONDS),
      },
    },
  });
});

afterAll(async () => {
  await cloud?.stop();
  for (const k of Object.keys(NAMES)) delete process.env[k];
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** 4 s of 640x360 at 25 fps (a keyframe each second) with a tone: 100 frames. */
function makeClip(file: string): void {
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=640x360:rate=25:duration=4",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:duration=4",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "25",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
    file,
  ]);
}

const logged = (pred: (l: Record<string, unknown>) => boolean) =>
  lines
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter(pred);

describe("every handler from its built artifact", () => {
  it("takes a clip to COMPLETED with frame-exact outputs", async () => {
    // arrange
    const runner = cloud.cloud.artifacts!;
    const source = join(scratch, "clip.mp4");
    makeClip(source);
    const src = await decodedVideo(source);
    expect(src.frames).toBe(100);

    // a webhook endpoint on loopback: the sender's bundle signs and POSTs what happens to the video
    const receiver = await startReceiver();
    const received = receiver.got;
    const hook = await cloud.client.webhooks.add({
      url: receiver.url,
      events: ["video.ready", "job.completed", "video.deleted"],
    });

    // act: upload through the API, as a client would; the bus runs the rest from the artifacts
    const { jobId } = await cloud.client.upload(source, ["360p", "240p"]);
    const view = await cloud.waitForEnd(jobId, 200_000);

    // assert: the job, its chunks and its timeline (written by the recorder's bundle)
    expect({ status: view.job.status, error: view.job.error }).toEqual({ status: "COMPLETED", error: null });
    expect(view.chunks.length).toBeGreaterThanOrEqual(3);
    expect(view.chunks.reduce((n, c) => n + c.frames, 0)).toBe(src.frames);
    const types = view.timeline.map((t) => t.type);
    for (const t of [
      "VideoUploaded",
      "ChunkReady",
      "ChunkEncoded",
      "PlaybackReady",
      "ChunksEncoded",
      "VideoAssembled",
      "JobCompleted",
    ])
      expect(types).toContain(t);
    // the chunker's bundle cut the preview's sound with the image's ffmpeg
    const { work } = cloud.cloud.cfg.buckets;
    expect(await cloud.cloud.deps.store.head(work, `jobs/${jobId}/preview/audio/preview.m3u8`)).not.toBeNull();

    // assert: each rendition, downloaded and decoded: exactly the source's frames
    const outputs = await cloud.client.outputs(jobId);
    expect(outputs.outputs.map((o) => o.rendition)).toEqual(["360p", "240p"]);
    for (const o of outputs.outputs) {
      const file = join(scratch, `${o.rendition}.mp4`);
      expect(await download(o.url, file)).toBeGreaterThan(10_000);
      expect((await decodedVideo(file)).frames).toBe(src.frames);
    }

    // assert: the media steps ran the collected ffmpeg (their logs name it), from the image's bundle
    const ffmpegOf = (msg: string) =>
      logged((l) => l.msg === msg && l.jobId === jobId).map(
        (l) => (l.ffmpeg as { build: string; ffmpeg: string }) ?? null,
      );
    const lambdaRuns = logged((l) => l.msg === "invocation started" && l.jobId === jobId).map((l) => l.handler);
    // the lead chunk on the encoder's Lambda, the others as tasks: as the chunker marked and estimated them
    const ready = view.timeline
      .filter((t) => t.type === "ChunkReady")
      .map((t) => t.detail.chunk as { index: number; lead?: true; lambda?: true; cpuSeconds: number });
    expect(ready).toHaveLength(view.chunks.length);
    for (const c of ready) {
      expect(c.cpuSeconds).toBeGreaterThan(PARITY_LAMBDA_CPU_SECONDS);
      expect({ index: c.index, lambda: c.lambda ?? false }).toEqual({ index: c.index, lambda: c.lead === true });
    }
    expect(new Set(lambdaRuns)).toEqual(new Set(["chunker", "encoder", "assembler", "finisher"]));
    const taskRuns = ffmpegOf("task started");
    expect(taskRuns.length).toBe(view.chunks.length - 1);
    expect(lambdaRuns.filter((h) => h === "encoder")).toHaveLength(1);
    for (const f of [...ffmpegOf("invocation started"), ...taskRuns]) {
      expect(f.build).toBe(manifest.ffmpeg!.version);
      expect(f.ffmpeg).toBe(join(ROOT, ".build/aws/ffmpeg/bin/ffmpeg"));
    }
    console.log(
      `parity: job ${jobId} COMPLETED, ${view.chunks.length} chunks; isolation ${JSON.stringify(runner.isolation)}`,
    );

    // act: delete the video; the deleter's bundle removes every file and row, then announces it
    const res = await fetch(new URL(`/videos/${jobId}`, cloud.api.url), {
      method: "DELETE",
      headers: { authorization: `Bearer ${cloud.token}` },
    });
    expect(res.status, await res.text()).toBe(202);
    await cloud.cloud.bus.idle();
    const { deps, cfg } = cloud.cloud;
    expect(await deps.jobs.getJob(jobId)).toBeNull();
    for (const bucket of [cfg.buckets.outputs, cfg.buckets.work])
      expect(await deps.store.list(bucket, `jobs/${jobId}/`)).toEqual([]);
    const deleted = logged((l) => l.msg === "video deleted" && l.jobId === jobId);
    expect(deleted).toEqual([expect.objectContaining({ sourceRemoved: true, bytes: expect.any(Number) })]);

    // assert: the sender's bundle delivered each event once, signed with the endpoint's secret
    await receiver.close();
    const bodies = received.map((r) => JSON.parse(r.body) as { type: string; data: { jobId: string } });
    const busLog = readFileSync(join(cloud.dir, "log.jsonl"), "utf8").split("\n");
    const said = [
      ...logged((l) => /webhook|queue|deliver/i.test(`${l.msg} ${l.rule ?? ""} ${l.handler ?? ""}`)),
      ...busLog.filter((l) => l.includes("deliver-webhooks")),
    ];
    expect(bodies.map((b) => b.type).sort(), JSON.stringify(said).slice(0, 3000)).toEqual([
      "job.completed",
      "video.deleted",
      "video.ready",
    ]);
    // first playable: the preview, before the job completed
    const order = bodies.map((b) => b.type);
    expect(order.indexOf("video.ready")).toBeLessThan(order.indexOf("job.completed"));
    expect(bodies.find((b) => b.type === "video.ready")!.data).toMatchObject({
      preview: true,
      segments: expect.any(Number),
    });
    for (const [i, r] of received.entries()) {
      expect(bodies[i]!.data.jobId).toBe(jobId);
      expect(verifySignature(r.signature, r.body, hook.secret!)).toMatchObject({ ok: true });
    }
    expect(logged((l) => l.msg === "webhook delivered" && l.jobId === jobId)).toHaveLength(3);
  });

  it("searches each chunk's CRF to a target SSIM with the image's ffmpeg, on Lambda and in tasks alike", async () => {
    const source = join(scratch, "clip-target.mp4");
    makeClip(source);
    const { jobId } = await cloud.client.upload(source, ["240p"], { targetSsim: 0.97 });
    const view = await cloud.waitForEnd(jobId, 200_000);
    expect({ status: view.job.status, error: view.job.error }).toEqual({ status: "COMPLETED", error: null });
    expect(view.job.targetSsim).toBe(0.97);
    // every chunk, the lead one on the encoder's Lambda among them: its kept encode measured at or above 0.97
    const qualities = view.chunks.map((c) => c.outputs?.[0]?.quality);
    expect(qualities.length).toBeGreaterThanOrEqual(3);
    for (const q of qualities) {
      expect(q).toMatchObject({ met: true, probes: expect.any(Number), crf: expect.any(Number) });
      expect(q!.ssim).toBeGreaterThanOrEqual(0.97);
      expect(q!.probes).toBeLessThanOrEqual(6);
    }
    console.log(
      `parity target 0.97: ${qualities.map((q) => `CRF ${q!.crf} SSIM ${q!.ssim} (${q!.probes} encodes)`).join("; ")}`,
    );
    const lambdaEncodes = logged((l) => l.msg === "invocation started" && l.jobId === jobId && l.handler === "encoder");
    expect(lambdaEncodes).toHaveLength(1);
    const [output] = (await cloud.client.outputs(jobId)).outputs;
    const file = join(scratch, "target-240p.mp4");
    await download(output!.url, file);
    expect((await decodedVideo(file)).frames).toBe(100);
  });

  it("the API function's bundle answers /health naming the worker image's ffmpeg", async () => {
    const runner = cloud.cloud.artifacts!;
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/health",
      rawQueryString: "",
      headers: { host: "api.example.com", "user-agent": "parity" },
      requestContext: {
        accountId: "000000000000",
        apiId: "parity",
        domainName: "api.example.com",
        http: { method: "GET", path: "/health", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "parity" },
        requestId: "r1",
        routeKey: "$default",
        stage: "$default",
        time: "01/Jan/2026:00:00:00 +0000",
        timeEpoch: 0,
      },
      isBase64Encoded: false,
    };
    const res = (await runner.invoke("api", event)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      ok: true,
      ffmpeg: { origin: "worker-image", build: manifest.ffmpeg!.version },
    });
  });

  it("the sweeper's bundle runs as a scheduled event and finds nothing stalled", async () => {
    expect(existsSync(join(ROOT, ".build/aws/functions/sweeper/index.mjs"))).toBe(true);
    const scheduled = {
      version: "0",
      id: "sched-1",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/sweeper"],
      detail: {},
    };
    const report = (await cloud.cloud.artifacts!.invoke("sweeper", scheduled)) as {
      swept: number;
      redriven: number;
      failed: number;
    };
    expect(report).toMatchObject({ redriven: 0, failed: 0 });
    expect(report.swept).toBeGreaterThanOrEqual(0);
  });
});

describe("the runtime's limits are enforced", () => {
  // a table endpoint that accepts connections and never answers: a call to it hangs, as a
  // throttled or unreachable service would, however fast this machine loads the bundle
  const silent = createServer(() => {});
  let endpoint = "";
  beforeAll(async () => {
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(() => void silent.close());

  // a runner of its own: the limits are what is tested
  const runner = () =>
    createArtifactRunner({
      endpoints: { AWS_REGION: "us-east-1", VIDEOFORGE_DYNAMODB_ENDPOINT: endpoint },
      links: { Table: { name: "t" } },
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      limits: { sweeper: { timeoutSeconds: 1 }, recorder: { memoryMB: 8 } },
    });

  it("kills an invocation at its timeout, as Lambda does", async () => {
    const r = runner();
    const started = Date.now();
    const scheduled = {
      version: "0",
      id: "sched-2",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: [],
      detail: {},
    };
    await expect(r.invoke("sweeper", scheduled)).rejects.toThrow(/Task timed out after 1\.00 seconds/);
    expect(Date.now() - started).toBeLessThan(10_000);
    r.stop();
  });

  it("caps the heap at the function's memory", async () => {
    const r = runner();
    // 8 MB of old space cannot even load a 2.8 MB bundle
    await expect(r.invoke("recorder", {})).rejects.toThrow(/runtime (exited|killed|out of memory)|heap/i);
    r.stop();
  });

  it("knows every function the stacks create", () => {
    expect(Object.keys(functionArtifacts).sort()).toEqual([
      "api",
      "assembler",
      "chunk-failures",
      "chunker",
      "dead-letters",
      "deleter",
      "encoder",
      "finisher",
      "importer",
      "launch-task",
      "recorder",
      "sweeper",
      "task-stopped",
      "tracker",
      "webhook-sender",
    ]);
  });
});
