import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeFixture } from "./fixtures.ts";
import { startTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, download } from "./helpers/media.ts";

/**
 * At-least-once, unordered delivery: with every event delivered twice, or in a random
 * order with random delays, a job still assembles exactly once and yields the same outputs.
 */
let dir: string;
let source: string;
const baseline = new Map<string, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-delivery-"));
  source = await makeFixture("h264-single-keyframe", dir);
  process.env.VIDEOFORGE_CHUNK_SECONDS = "1";
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  delete process.env.VIDEOFORGE_CHUNK_SECONDS;
});

async function run(name: string, faults: { duplicate?: boolean; shuffleMs?: number }) {
  const cloud = await startTestCloud({ faults });
  try {
    const view = await cloud.process(await makeFixture("h264-vfr", dir), ["360p", "240p"]);
    const outputs = await cloud.client.outputs(view.job.jobId);
    const digests = new Map<string, string>();
    for (const o of outputs.outputs) {
      const file = join(dir, `${name}-${o.rendition}.mp4`);
      await download(o.url, file);
      digests.set(
        o.rendition,
        createHash("sha256")
          .update(await readFile(file))
          .digest("hex"),
      );
      expect((await decodedVideo(file)).frames).toBe(112);
    }
    return { view, digests };
  } finally {
    await cloud.stop();
  }
}

describe("delivery semantics", () => {
  it("baseline run", async () => {
    const { view, digests } = await run("baseline", {});
    expect(view.job.status).toBe("COMPLETED");
    for (const [k, v] of digests) baseline.set(k, v);
    expect(baseline.size).toBe(2);
  }, 120_000);

  it("every event delivered twice → one assembly, same outputs", async () => {
    const { view, digests } = await run("twice", { duplicate: true });
    expect(view.job.status).toBe("COMPLETED");
    // announcements are derived from state: a redelivery that finds the assembly recorded
    // announces it again, so VideoAssembled may repeat, always with the one recorded assembly
    const assembled = view.timeline.filter((t) => t.type === "VideoAssembled");
    expect(assembled.length).toBeGreaterThanOrEqual(1);
    expect(new Set(assembled.map((t) => JSON.stringify((t.detail as { outputs: unknown }).outputs))).size).toBe(1);
    expect(view.timeline.filter((t) => t.type === "ChunksEncoded").length).toBeGreaterThanOrEqual(1);
    expect(view.timeline.filter((t) => t.type === "JobCompleted").length).toBeGreaterThanOrEqual(1);
    expect(view.job.chunksEncoded).toBe(view.chunks.length);
    expect(digests).toEqual(baseline);
  }, 180_000);

  it("events shuffled with random delays → one assembly, same outputs", async () => {
    const { view, digests } = await run("shuffled", { shuffleMs: 400 });
    expect(view.job.status).toBe("COMPLETED");
    expect(view.timeline.filter((t) => t.type === "VideoAssembled")).toHaveLength(1);
    expect(digests).toEqual(baseline);
  }, 180_000);
});
