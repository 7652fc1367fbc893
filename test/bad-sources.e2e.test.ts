import { describe, expect, it } from "vitest";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keys } from "@videoforge/core";
import { makeEvent, toMegabytes } from "@videoforge/events";
import { makeFixture, type FixtureName } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";

/** Broken sources end as FAILED with a reason a person can act on; the stack keeps working. */
const env = useTestCloud();

const bad: { fixture: FixtureName; reason: RegExp }[] = [
  { fixture: "bad-text", reason: /not a video format we can read/i },
  { fixture: "bad-truncated", reason: /truncated or incomplete/i },
];

describe("bad sources", () => {
  it("fail with readable reasons while a good job alongside completes", async () => {
    const { cloud, dir } = env;
    // arrange: two broken files and one good one, submitted together
    const good = await makeFixture("tiny-2s", dir);
    const files = await Promise.all(bad.map((b) => makeFixture(b.fixture, dir)));

    // act
    const jobs = await Promise.all([...files, good].map((f) => cloud.client.upload(f)));
    const views = await Promise.all(jobs.map((j) => cloud.waitForEnd(j.jobId)));

    // assert
    bad.forEach((b, i) => {
      const { job, timeline } = views[i]!;
      expect(job.status, b.fixture).toBe("FAILED");
      expect(job.error?.stage).toBe("chunking");
      expect(job.error?.reason).toMatch(b.reason);
      const failed = timeline.filter((t) => t.type === "JobFailed");
      expect(failed).toHaveLength(1);
      expect(failed[0]!.detail.reason).toBe(job.error?.reason);
    });
    expect(views[bad.length]!.job.status).toBe("COMPLETED");
    expect(await cloud.cloud.dlq.list()).toEqual([]);
    expect((await cloud.client.health()).ok).toBe(true);
  }, 180_000);

  it("a zero-byte upload is refused at the API", async () => {
    const { cloud } = env;
    const res = await fetch(new URL("/uploads", cloud.api.url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${cloud.token}` },
      body: JSON.stringify({ name: "empty.mp4", size: 0 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toMatch(/size/);
  });

  it("a zero-byte object announced by event (not through the API) fails the job, not the stack", async () => {
    const { cloud, dir } = env;
    // arrange: an empty object in the uploads bucket, announced directly on the bus
    const empty = await makeFixture("bad-zero-byte", dir);
    expect((await stat(empty)).size).toBe(0);
    const { cfg, deps } = cloud.cloud;
    const key = "jobs/zerobyte01/source";
    await deps.store.upload(cfg.buckets.uploads, key, empty);

    // act
    await deps.events.publish(
      makeEvent("VideoUploaded", {
        jobId: "zerobyte01",
        owner: "local",
        source: { bucket: cfg.buckets.uploads, key, size: 0, megabytes: toMegabytes(0), name: "empty.mp4" },
        ladder: ["360p"],
      }),
    );
    const view = await cloud.waitForEnd("zerobyte01");

    // assert
    expect(view.job.status).toBe("FAILED");
    expect(view.job.error?.reason).toMatch(/empty \(0 bytes\)/);
  }, 60_000);

  it("encoded chunks ffmpeg cannot join fail the job at assembly, without retries", async () => {
    const { cloud, dir } = env;
    // arrange: a finished job's record copied to a new job whose one encoded chunk is garbage
    const done = await cloud.process(await makeFixture("tiny-2s", dir), ["240p"]);
    const { deps, cfg } = cloud.cloud;
    const original = (await deps.db.entities.job.get({ jobId: done.job.jobId }).go()).data!;
    const jobId = "garbledjob01";
    await deps.db.entities.job
      .create({
        ...original,
        jobId,
        status: "ENCODING",
        chunkCount: 1,
        createdAt: Date.now(),
        assembledAt: undefined,
        outputs: undefined,
      })
      .go();
    const garbage = join(dir, "garbage.ts");
    await writeFile(garbage, "this is not MPEG-TS ".repeat(500));
    const rendition = (original.renditions as { name: string }[])[0]!.name;
    await deps.store.upload(cfg.buckets.work, keys.encoded(keys.encodedPrefix(jobId), rendition, 0), garbage);

    // act
    await deps.events.publish(makeEvent("ChunksEncoded", { jobId, chunkCount: 1, sourceMegabytes: 1 }));
    const view = await cloud.waitForEnd(jobId);

    // assert
    expect(view.job.status).toBe("FAILED");
    expect(view.job.error).toMatchObject({ stage: "assembly" });
    expect(view.job.error?.reason).toMatch(/^Joining the encoded chunks failed: /);
    expect(await cloud.cloud.dlq.list()).toEqual([]);
  }, 60_000);
});
