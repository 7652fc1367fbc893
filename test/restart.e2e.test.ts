import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listJobs, getJobView } from "@videoforge/core";
import { startLocalCloud } from "@videoforge/local";
import { makeFixture } from "./fixtures.ts";
import { startTestCloud } from "./helpers/cloud.ts";
import { download } from "./helpers/media.ts";

/** Everything lives in the data directory: a finished job is still there after a restart. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-restart-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("jobs, timelines and outputs survive stopping and restarting the local cloud", async () => {
  // arrange: a job processed by a cloud whose data directory we keep
  const dataDir = join(dir, "data");
  const first = await startTestCloud({ dataDir });
  const view = await first.process(await makeFixture("tiny-2s", dir), ["240p"]);
  expect(view.job.status).toBe("COMPLETED");
  await first.api.stop();
  await first.cloud.stop();

  // act: a new cloud on new ports over the same directory
  const second = await startLocalCloud({
    dataDir,
    log: {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        return this;
      },
    },
  });
  try {
    // assert: the table and the buckets still hold everything
    const jobs = await listJobs(second.deps, "local");
    expect(jobs.map((j) => [j.jobId, j.status])).toContainEqual([view.job.jobId, "COMPLETED"]);
    const again = await getJobView(second.deps, "local", view.job.jobId);
    expect(again.timeline.map((t) => t.type)).toEqual(view.timeline.map((t) => t.type));
    const output = (again.job.outputs as { key: string; bytes: number }[])[0]!;
    const url = await second.deps.store.presignGet(second.cfg.buckets.outputs, output.key, 60);
    expect(await download(url, join(dir, "after-restart.mp4"))).toBe(output.bytes);
  } finally {
    await second.stop();
  }
}, 120_000);
