import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ffmpeg } from "@videoforge/core";
import { startApiServer, startLocalCloud } from "@videoforge/local";
import { sweeperHandler } from "@videoforge/functions/lambda/sweeper";
import { apiClient, type JobView } from "@videoforge/cli/api-client";
import type { DomainEvent } from "@videoforge/events";
import { untilJob } from "../helpers/cloud.ts";
import { decodedVideo, download } from "../helpers/media.ts";
import { tally } from "./tally.ts";

/**
 * The fault matrix's real-media cases through the local cloud: the tracker's ChunksEncoded
 * publish fails once right after its state write (the redelivery announces it from state,
 * no sweeper), and is lost outright (the sweeper's scheduled function re-drives the job).
 */
let dir: string;
let source: string;
const FRAMES = 90;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-announce-"));
  source = join(dir, "source.mp4");
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x180:rate=30:duration=3",
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

const until = (client: ReturnType<typeof apiClient>, jobId: string, done: (v: JobView) => boolean) =>
  untilJob(client, jobId, done, { timeoutMs: 100_000, intervalMs: 100 });

describe("announcements on real media", () => {
  it("a failed ChunksEncoded publish and a lost one both end COMPLETED, frame-exact", {
    timeout: 240_000,
  }, async () => {
    const cloud = await startLocalCloud({ dataDir: join(dir, "data"), backoffMs: 50, onTaskLog: () => undefined });
    const api = await startApiServer(cloud, { port: 0 });
    const client = apiClient(api.url, cloud.auth.token);
    // the in-process steps (the tracker) publish through these deps: fault the publisher there
    const publish = cloud.deps.events.publish.bind(cloud.deps.events);
    let mode: "fail once" | "lose" | "off" = "fail once";
    const faulted: string[] = [];
    cloud.deps.events.publish = async (...events: DomainEvent[]) => {
      if (mode !== "off" && events.some((e) => e.name === "ChunksEncoded")) {
        faulted.push(mode);
        const m = mode;
        mode = "off";
        if (m === "fail once") throw new Error("PutEvents failed (injected)");
        return; // lost: the caller thinks it went out
      }
      return publish(...events);
    };
    try {
      // arrange/act 1: the publish fails once, right after the set ADD that made the set whole
      const first = (await client.upload(source, ["240p"])).jobId;
      const done1 = await until(client, first, (v) => ["COMPLETED", "FAILED"].includes(v.job.status));
      expect(faulted).toEqual(["fail once"]);
      expect(done1.job.status, done1.job.error?.reason).toBe("COMPLETED");

      // arrange/act 2: the publish is lost; the job waits ENCODING until the sweeper's function runs
      mode = "lose";
      const second = (await client.upload(source, ["240p"])).jobId;
      await until(
        client,
        second,
        (v) => v.job.status === "ENCODING" && v.job.chunksEncoded === v.job.chunkCount && faulted.length === 2,
      );
      await cloud.bus.idle();
      expect((await client.job(second)).job.status).toBe("ENCODING");
      const sweep = sweeperHandler(
        () => cloud.deps,
        () => Date.now() + 3 * 3_600_000,
      );
      const report = await sweep();
      expect(report.redriven).toBe(1);
      const done2 = await until(client, second, (v) => ["COMPLETED", "FAILED"].includes(v.job.status));
      expect(done2.job.status, done2.job.error?.reason).toBe("COMPLETED");

      // assert: both frame-exact, each assembled once
      await cloud.bus.idle();
      for (const jobId of [first, second]) {
        const { outputs } = await client.outputs(jobId);
        const file = join(dir, `${jobId}.mp4`);
        expect(await download(outputs[0]!.url, file)).toBe(outputs[0]!.bytes);
        expect((await decodedVideo(file)).frames).toBe(FRAMES);
        const view = await client.job(jobId);
        expect(view.timeline.filter((e) => e.type === "VideoAssembled")).toHaveLength(1);
      }
      tally("fault", "ChunksEncoded publish failed after the write (real media)");
      tally("fault", "ChunksEncoded lost; the sweeper's scheduled function re-drove it (real media)");
      tally("jobCompleted", "announcement faults on real media", 2);
    } finally {
      cloud.deps.events.publish = publish;
      await api.stop();
      await cloud.stop();
    }
  });
});
