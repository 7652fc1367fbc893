import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { SOURCE as EVENT_SOURCE, type Envelope } from "@videoforge/events";
import { taskOverrides } from "@videoforge/core/ecs";
import { taskStoppedHandler } from "@videoforge/functions/lambda/task-stopped";
import { chunkReady, memoryWorld } from "./memory-world.ts";
import { tally } from "./tally.ts";

/**
 * A killed worker task on AWS: a Spot reclaim or StopTask is retried without spending an attempt;
 * an OOM kill spends one.
 */
const worker = {
  cluster: "c",
  taskDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/w:1",
  containers: ["Worker"],
  subnets: ["s"],
  securityGroups: [],
  assignPublicIp: true,
};

async function setup() {
  const w = memoryWorld();
  const { jobId } = await w.chunkingJob([]);
  // the encoder in the task spent an attempt before it was stopped
  await w.mem.startChunkAttempt(jobId, 0, "task", Date.now(), true);
  const { detail } = chunkReady(jobId, 1);
  const envelope: Envelope = {
    id: randomUUID(),
    "detail-type": "ChunkReady",
    source: EVENT_SOURCE,
    time: new Date().toISOString(),
    detail,
  } as Envelope;
  const stop = (stopCode: string, stoppedReason: string, exitCode: number, reason?: string) => ({
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    detail: {
      taskArn: "arn:aws:ecs:eu-west-1:1:task/c/abc",
      lastStatus: "STOPPED",
      stopCode,
      stoppedReason,
      startedBy: "videoforge/encode-chunk",
      containers: [{ name: "Worker", exitCode, reason }],
      overrides: taskOverrides(worker, { rule: "encode-chunk", handler: "encoder", envelope, attempts: 3 }),
    },
  });
  return { w, jobId, stop, handle: taskStoppedHandler(() => w.deps) };
}

describe("a stopped worker task", () => {
  it("a Spot reclaim re-publishes the chunk and gives its attempt back; the job stays ENCODING-bound", async () => {
    const { w, jobId, stop, handle } = await setup();
    expect(await handle(stop("SpotInterruption", "Your Spot Task was interrupted.", 143))).toBe("redriven");
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(0);
    expect(w.published.named("ChunkReady")).toHaveLength(1);
    expect((await w.mem.getJob(jobId))?.status).toBe("CHUNKING");
    expect(await handle(stop("UserInitiated", "Task stopped by user", 0))).toBe("redriven");
    tally("fault", "Fargate task stopped by the platform (Spot, StopTask)", 2);
  });

  it("an OOM kill re-publishes the chunk with its attempt spent, and does not fail the job", async () => {
    const { w, jobId, stop, handle } = await setup();
    expect(
      await handle(
        stop(
          "EssentialContainerExited",
          "Essential container in task exited",
          137,
          "OutOfMemoryError: Container killed due to memory usage",
        ),
      ),
    ).toBe("redriven");
    expect((await w.mem.getChunk(jobId, 0))?.attempts).toBe(1);
    expect(w.published.named("ChunkReady")).toHaveLength(1);
    expect((await w.mem.getJob(jobId))?.status).not.toBe("FAILED");
    tally("fault", "Fargate task OOM-killed (attempt spent, re-run)");
  });

  it("an entry that gave up after its budget fails the job with the reason", async () => {
    const { w, jobId, stop, handle } = await setup();
    expect(await handle(stop("EssentialContainerExited", "Essential container in task exited", 1))).toBe("failed");
    const job = await w.mem.getJob(jobId);
    expect(job?.status).toBe("FAILED");
    expect(job?.errorReason).toMatch(/could not be encoded: 3 attempts failed/);
  });
});
