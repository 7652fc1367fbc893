import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_KEY_VARIABLES, setLogSink } from "@videoforge/core";
import { eventHandler } from "@videoforge/functions/lambda/event-handler";
import { useTestCloud } from "../helpers/cloud.ts";
import { makeFixture } from "../fixtures.ts";
import { envelopeOf } from "./samples.ts";

/**
 * The two AWS runtimes, run here against the local cloud: Lambda entries called with an
 * EventBridge event, and the Fargate entry as a plain process with the environment a task
 * gets (SST_RESOURCE_* links from the task definition + the launcher's overrides).
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TASK_ENTRY = "packages/worker/src/main.ts";

// names unlike the defaults, so a task that ignored its links would miss the table and buckets
const NAMES = {
  VIDEOFORGE_TABLE: "vf-infra-table",
  VIDEOFORGE_UPLOADS_BUCKET: "vf-infra-uploads",
  VIDEOFORGE_WORK_BUCKET: "vf-infra-work",
  VIDEOFORGE_OUTPUTS_BUCKET: "vf-infra-outputs",
  VIDEOFORGE_BUS: "vf-infra-bus",
};
beforeAll(() => void Object.assign(process.env, NAMES));
afterAll(() => {
  for (const k of Object.keys(NAMES)) delete process.env[k];
});
const t = useTestCloud();

/** What Fargate gives the container: the task definition's variables, the run's overrides. */
function fargateEnv(overrides: Record<string, string>): Record<string, string> {
  const { cfg, env } = t.cloud.cloud;
  const pick = (k: string) => (env[k] ? { [k]: env[k] } : {});
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    ...(process.env.FFMPEG_PATH ? { FFMPEG_PATH: process.env.FFMPEG_PATH } : {}),
    AWS_REGION: cfg.region,
    // the task role's credentials; here the local cloud's gate key pair
    AWS_ACCESS_KEY_ID: env[LOCAL_KEY_VARIABLES.accessKeyId] ?? "",
    AWS_SECRET_ACCESS_KEY: env[LOCAL_KEY_VARIABLES.secretAccessKey] ?? "",
    // endpoints: the local cloud standing in for the AWS services
    ...pick("VIDEOFORGE_DYNAMODB_ENDPOINT"),
    ...pick("VIDEOFORGE_S3_ENDPOINT"),
    ...pick("VIDEOFORGE_EVENTS_ENDPOINT"),
    ...pick("VIDEOFORGE_TMP_DIR"),
    // task definition: SST links as JSON, and the stack's one plain variable
    SST_RESOURCE_App: JSON.stringify({ name: "videoforge", stage: "ci" }),
    SST_RESOURCE_Table: JSON.stringify({ name: cfg.table }),
    SST_RESOURCE_Uploads: JSON.stringify({ name: cfg.buckets.uploads }),
    SST_RESOURCE_Work: JSON.stringify({ name: cfg.buckets.work }),
    SST_RESOURCE_Outputs: JSON.stringify({ name: cfg.buckets.outputs }),
    SST_RESOURCE_Bus: JSON.stringify({ name: cfg.busName }),
    VIDEOFORGE_ENCODER_THREADS: "1",
    ...overrides,
  };
}

function runTask(env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", TASK_ENTRY], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}

async function jobStatus(jobId: string, want: string[], timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = (await t.cloud.cloud.deps.db.entities.job.get({ jobId }).go()).data;
    if (job && want.includes(job.status)) return job;
    if (Date.now() > until) throw new Error(`job ${jobId} is ${job?.status ?? "missing"} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("Fargate task entry as a process", () => {
  it("chunks a large-source upload from links alone; its ChunkReady events drive the job to COMPLETED", async () => {
    // arrange: a source in the uploads bucket and the VideoUploaded the large-source rule routes to the task
    const { cfg, deps } = t.cloud.cloud;
    expect(cfg.table).toBe("vf-infra-table");
    const jobId = `job_task_${Date.now()}`;
    const file = await makeFixture("tiny-2s", t.dir);
    const key = `raw/${jobId}.mp4`;
    const { bytes } = await deps.store.upload(cfg.buckets.uploads, key, file, "video/mp4");
    const event = envelopeOf("VideoUploaded", {
      jobId,
      owner: "local",
      source: { bucket: cfg.buckets.uploads, key, size: bytes, megabytes: 1, name: "tiny.mp4" },
      ladder: ["240p"],
    });

    // act: what RunTask starts, with the launcher's overrides
    const run = await runTask(
      fargateEnv({
        VIDEOFORGE_HANDLER: "chunker",
        VIDEOFORGE_EVENT: JSON.stringify(event),
        VIDEOFORGE_TASK_ATTEMPTS: "2",
        VIDEOFORGE_CHUNK_SECONDS: "1",
      }),
    );

    // assert: the task succeeded, its chunks are in the linked work bucket, and the rest of the pipeline ran on them
    expect(run.code, run.output).toBe(0);
    const chunks = (await deps.store.list(cfg.buckets.work, "")).filter((o) => o.key.includes(jobId));
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    const job = await jobStatus(jobId, ["COMPLETED", "FAILED"], 90_000);
    expect({ status: job.status, error: job.errorReason }).toEqual({ status: "COMPLETED", error: undefined });
    expect(job.chunkCount).toBeGreaterThanOrEqual(2);
    expect([...(job.encodedChunks ?? [])].sort()).toEqual(Array.from({ length: job.chunkCount ?? 0 }, (_, i) => i));
    const outputs = (await deps.store.list(cfg.buckets.outputs, "")).filter(
      // the rendition files, not the streaming segments' init.mp4
      (o) => o.key.includes(jobId) && o.key.endsWith(".mp4") && !o.key.includes("/hls/"),
    );
    expect(outputs.map((o) => o.size > 1000)).toEqual([true]);
  });

  it("exits 1 at once on an event that fails its schema, without spending its retries", async () => {
    const event = envelopeOf("JobCancelled", { jobId: "job_task_invalid", by: "user-1" });
    const bad = { ...event, "detail-type": "VideoUploaded" };
    const run = await runTask(
      fargateEnv({
        VIDEOFORGE_HANDLER: "chunker",
        VIDEOFORGE_EVENT: JSON.stringify(bad),
        VIDEOFORGE_TASK_ATTEMPTS: "3",
      }),
    );
    expect(run.code).toBe(1);
    // one log line, whatever order the logger writes its fields in
    const failed = run.output.split("\n").filter((l) => l.includes('"msg":"task failed"'));
    expect(
      failed.some((l) => l.includes("VideoUploaded detail is invalid")),
      run.output,
    ).toBe(true);
    expect(run.output).not.toMatch(/retrying/);
  });
});

describe("Lambda entry", () => {
  it("records an EventBridge event in the job's timeline through the same handler code", async () => {
    const { deps } = t.cloud.cloud;
    const jobId = `job_lambda_${Date.now()}`;
    const event = envelopeOf("JobCancelled", { jobId, by: "user-1" });
    const lambda = eventHandler("recorder", () => deps);
    await lambda(event);
    await lambda(event); // a redelivery rewrites the same row
    const rows = (await deps.db.entities.timeline.query.byJob({ jobId }).go()).data;
    expect(rows.map((r) => [r.eventId, r.type])).toEqual([[event.id, "JobCancelled"]]);
  });

  it("rejects what is not an EventBridge event, so Lambda retries it and then dead-letters it", async () => {
    const { deps } = t.cloud.cloud;
    const jobId = `job_lambda_bad_${Date.now()}`;
    const { region: _r, ...noRegion } = envelopeOf("JobCancelled", { jobId, by: "user-1" });
    await expect(eventHandler("recorder", () => deps)(noRegion)).rejects.toThrow();
    expect((await deps.db.entities.timeline.query.byJob({ jobId }).go()).data).toEqual([]);
  });
});

// keep the test's own log lines out of the console
setLogSink(() => {});
