import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ffmpeg } from "@videoforge/core";
import { startApiServer, startLocalCloud } from "@videoforge/local";
import { apiClient } from "@videoforge/cli/api-client";
import { untilJob } from "../helpers/cloud.ts";
import { decodedVideo, download } from "../helpers/media.ts";
import { tally } from "./tally.ts";

/**
 * The resume sweep: a job whose next event was never published (a crash between a table
 * write and its PutEvents, the one window the delivery journal cannot cover) is moved on
 * by the next start, from what the table and storage hold.
 */
let dir: string;
let source: string;
const FRAMES = 150;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-resume-"));
  source = join(dir, "source.mp4");
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=640x360:rate=30:duration=5",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "30",
    "-pix_fmt",
    "yuv420p",
    source,
  ]);
  process.env.VIDEOFORGE_CHUNK_SECONDS = "1";
});
afterAll(async () => {
  delete process.env.VIDEOFORGE_CHUNK_SECONDS;
  await rm(dir, { recursive: true, force: true });
});

async function start(dataDir: string) {
  const cloud = await startLocalCloud({ dataDir, backoffMs: 50, onTaskLog: () => undefined });
  const api = await startApiServer(cloud, { port: 0 });
  return {
    cloud,
    api,
    client: apiClient(api.url, cloud.auth.token),
    stop: async () => (await api.stop(), await cloud.stop()),
  };
}

describe("resume after lost deliveries", () => {
  it("a job left mid-encoding, no delivery pending, is re-announced on next start, completes frame-exact", async () => {
    const dataDir = join(dir, "data");
    const first = await start(dataDir);
    const { jobId } = await first.client.upload(source, ["240p"]);
    // chunks are encoded while the chunker still runs (CHUNKING) or after it (ENCODING): either is mid-job
    await untilJob(
      first.client,
      jobId,
      (v) => ["CHUNKING", "ENCODING"].includes(v.job.status) && v.timeline.some((e) => e.type === "ChunkEncoded"),
    );
    await first.stop();
    // what a crash between a state write and its publish leaves: the table moved on, no event is on its way
    const pending = join(dataDir, "bus", "pending");
    for (const f of await readdir(pending)) await rm(join(pending, f));

    const second = await start(dataDir);
    try {
      expect(second.cloud.resumed.map((r) => r.jobId)).toEqual([jobId]);
      const ended = await untilJob(second.client, jobId, (v) => ["COMPLETED", "FAILED"].includes(v.job.status));
      expect(ended.job.status, ended.job.error?.reason).toBe("COMPLETED");
      // the recorder writes the last events to the timeline just after the status flips
      await second.cloud.bus.idle();
      const view = await second.client.job(jobId);
      const { outputs } = await second.client.outputs(jobId);
      const file = join(dir, "240p.mp4");
      expect(await download(outputs[0]!.url, file)).toBe(outputs[0]!.bytes);
      expect((await decodedVideo(file)).frames).toBe(FRAMES);
      // one assembly: exactly one VideoAssembled and one JobCompleted on the timeline
      expect(view.timeline.filter((e) => e.type === "VideoAssembled")).toHaveLength(1);
      expect(view.timeline.filter((e) => e.type === "JobCompleted")).toHaveLength(1);
      tally("fault", "deliveries lost between a state write and its publish");
      tally("jobCompleted", "after the resume sweep");
    } finally {
      await second.stop();
    }
  });
});
