import { afterAll, beforeAll } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogSink, type RungName } from "@videoforge/core";
import type { FormatName } from "@videoforge/core/contract";
import { startApiServer, startLocalCloud, type LocalCloudOptions } from "@videoforge/local";
import { apiClient, type JobView } from "@videoforge/cli/api-client";

/** A throwaway local cloud + API for one test file; logs go to a file in its data dir. */
export async function startTestCloud(opts: Partial<LocalCloudOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "videoforge-test-"));
  const log = createWriteStream(join(dir, "log.jsonl"));
  setLogSink((line) => log.write(line + "\n"));
  const cloud = await startLocalCloud({
    dataDir: dir,
    backoffMs: 50,
    onTaskLog: (line) => log.write(line + "\n"),
    ...opts,
    // suites send bursts of checks as one user; whether a fixed window's 200 requests fill
    // depends on where the window falls, so the limit (tested on its own in
    // test/security/services.e2e.test.ts) is out of their way
    settings: { VIDEOFORGE_RATE_BURST: "100000", ...opts.settings },
  });
  const api = await startApiServer(cloud, { port: 0 });
  const token = cloud.auth.token;
  const client = apiClient(api.url, token);

  async function waitForEnd(jobId: string, timeoutMs = 120_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      // a job announced straight on the bus appears only once the chunker adopts it
      const view = await client.job(jobId).catch((err: Error) => {
        if (/404/.test(err.message) && Date.now() < until) return null;
        throw err;
      });
      if (!view) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (["COMPLETED", "FAILED", "CANCELLED"].includes(view.job.status)) {
        await cloud.bus.idle();
        return client.job(jobId);
      }
      if (Date.now() > until) throw new Error(`job ${jobId} still ${view.job.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    dir,
    cloud,
    api,
    token,
    client,
    waitForEnd,
    async process(file: string, ladder?: RungName[], formats?: FormatName[]) {
      const { jobId } = await client.upload(file, ladder, { formats });
      return waitForEnd(jobId);
    },
    async stop() {
      await api.stop();
      await cloud.stop();
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type TestCloud = Awaited<ReturnType<typeof startTestCloud>>;

/**
 * One test cloud and one scratch folder for a whole test file, with an optional chunk
 * length (short chunks so short clips still split into several).
 */
export function useTestCloud(opts: { chunkSeconds?: number; cloud?: Partial<LocalCloudOptions> } = {}) {
  const state: { cloud?: TestCloud; dir?: string } = {};
  beforeAll(async () => {
    state.dir = await mkdtemp(join(tmpdir(), "videoforge-files-"));
    // the chunk length reaches the cloud's processes as an option, as the CLI's --chunk-seconds does
    state.cloud = await startTestCloud({
      ...(opts.chunkSeconds ? { chunkSeconds: opts.chunkSeconds } : {}),
      ...opts.cloud,
    });
  });
  afterAll(async () => {
    await state.cloud?.stop();
    if (state.dir) await rm(state.dir, { recursive: true, force: true });
  });
  return {
    get cloud(): TestCloud {
      if (!state.cloud) throw new Error("the test cloud starts in beforeAll");
      return state.cloud;
    },
    get dir(): string {
      if (!state.dir) throw new Error("the scratch folder is made in beforeAll");
      return state.dir;
    },
  };
}

/**
 * Poll one job through the API until `done` holds for its page; throws with the status it
 * was stuck at after `timeoutMs`.
 */
export async function untilJob(
  client: ReturnType<typeof apiClient>,
  jobId: string,
  done: (v: JobView) => boolean,
  { timeoutMs = 90_000, intervalMs = 50 } = {},
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await client.job(jobId);
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`job ${jobId} stuck at ${view.job.status}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
