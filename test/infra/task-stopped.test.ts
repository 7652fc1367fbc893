import { describe, expect, it } from "vitest";
import type { Envelope } from "@videoforge/events";
import { matches, type EventPattern } from "@videoforge/local";
import { taskOverrides, type WorkerTask } from "@videoforge/core/ecs";
import { readStoppedTask } from "@videoforge/functions/lambda/task-stopped";
import { taskStoppedPattern } from "../../stacks/rules.ts";
import { envelopeOf, largestChunkReady, samples } from "./samples.ts";

const CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/videoforge-prod-ClusterCluster-kdjfhe";
const FAMILY = "arn:aws:ecs:eu-west-1:123456789012:task-definition/videoforge-prod-Worker";
const TASK =
  "arn:aws:ecs:eu-west-1:123456789012:task/videoforge-prod-ClusterCluster-kdjfhe/6f1c0b7e2a0d4b7e9f3c1d2e3f4a5b6c";
const worker: WorkerTask = {
  cluster: CLUSTER,
  taskDefinition: `${FAMILY}:7`,
  containers: ["Worker"],
  subnets: ["subnet-0a"],
  securityGroups: ["sg-01"],
  assignPublicIp: true,
};

const chunkReady = envelopeOf("ChunkReady", largestChunkReady());

type Container = { name?: string; exitCode?: number; reason?: string; lastStatus?: string };
interface Stop {
  stoppedReason?: string;
  stopCode?: string;
  containers?: Container[];
  lastStatus?: string;
  revision?: number;
  cluster?: string;
  /** what the launcher passed; null = a task started without our overrides */
  launched?: {
    rule: string;
    handler: "encoder" | "chunker" | "assembler";
    envelope: Envelope;
    attempts: number;
  } | null;
}

/**
 * An ECS "Task State Change" event as EventBridge delivers it for a Fargate task (the
 * documented shape: detail mirrors DescribeTasks' Task), with the overrides the launcher set.
 */
function stopEvent(s: Stop = {}) {
  const launched =
    s.launched === undefined
      ? { rule: "encode-chunk", handler: "encoder" as const, envelope: chunkReady, attempts: 3 }
      : s.launched;
  const overrides = launched ? taskOverrides(worker, launched) : { containerOverrides: [{ name: "Worker" }] };
  return {
    version: "0",
    id: "3317b2af-7005-947d-b652-f55e762e571a",
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    account: "123456789012",
    time: "2026-11-24T17:57:58Z",
    region: "eu-west-1",
    resources: [TASK],
    detail: {
      attachments: [
        {
          id: "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8",
          type: "eni",
          status: "DELETED",
          details: [{ name: "subnetId", value: "subnet-0a" }],
        },
      ],
      availabilityZone: "eu-west-1a",
      capacityProviderName: "FARGATE",
      clusterArn: s.cluster ?? CLUSTER,
      containers: (s.containers ?? [{ exitCode: 0 }]).map((c) => ({
        containerArn:
          "arn:aws:ecs:eu-west-1:123456789012:container/videoforge-prod-ClusterCluster-kdjfhe/6f1c0b7e/2b9c",
        lastStatus: "STOPPED",
        name: "Worker",
        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sst-asset:worker",
        taskArn: TASK,
        cpu: "0",
        ...c,
      })),
      createdAt: "2026-11-24T17:56:34.402Z",
      launchType: "FARGATE",
      cpu: "4096",
      memory: "8192",
      desiredStatus: "STOPPED",
      group: "family:videoforge-prod-Worker",
      lastStatus: s.lastStatus ?? "STOPPED",
      overrides,
      startedBy: launched ? `videoforge/${launched.rule}` : "videoforge/encode-chunk",
      stopCode: s.stopCode ?? "EssentialContainerExited",
      stoppedAt: "2026-11-24T17:57:58.103Z",
      stoppedReason: s.stoppedReason ?? "Essential container in task exited",
      stoppingAt: "2026-11-24T17:57:57.103Z",
      taskArn: TASK,
      taskDefinitionArn: `${FAMILY}:${s.revision ?? 7}`,
      updatedAt: "2026-11-24T17:57:58.103Z",
      version: 5,
      platformVersion: "1.4.0",
    },
  };
}

describe("stopped worker tasks", () => {
  it("counts a task whose container exited 0 on its own as a success", () => {
    expect(readStoppedTask(stopEvent()).outcome).toBe("succeeded");
  });

  it("fails a container the OOM killer stopped, with the launcher's envelope and handler, as one attempt", () => {
    const stopped = readStoppedTask(
      stopEvent({ containers: [{ exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" }] }),
    );
    expect(stopped).toEqual({
      outcome: "failed",
      taskArn: TASK,
      handler: "encoder",
      envelope: chunkReady,
      attempts: 1,
      error:
        "Essential container in task exited " +
        "(Worker: exit code 137, OutOfMemoryError: Container killed due to memory usage)",
      cause: "work",
    });
  });

  it("fails a Spot reclaim and a task stopped from outside, even when the container exited 0", () => {
    const spot = readStoppedTask(
      stopEvent({
        stopCode: "SpotInterruption",
        stoppedReason: "Your Spot Task was interrupted.",
        containers: [{ exitCode: 143 }],
      }),
    );
    expect(spot).toMatchObject({ outcome: "failed", error: "Your Spot Task was interrupted. (Worker: exit code 143)" });
    const stopped = readStoppedTask(
      stopEvent({ stopCode: "UserInitiated", stoppedReason: "Task stopped by user", containers: [{ exitCode: 0 }] }),
    );
    expect(stopped).toMatchObject({ outcome: "failed", error: "Task stopped by user (Worker: exit code 0)" });
  });

  it("counts the whole in-task budget when the entry gave up (exit 1), for a large-source chunker too", () => {
    const uploaded = envelopeOf("VideoUploaded", samples.VideoUploaded[1]!);
    const stopped = readStoppedTask(
      stopEvent({
        containers: [{ exitCode: 1 }],
        launched: { rule: "chunk-large-source", handler: "chunker", envelope: uploaded, attempts: 4 },
      }),
    );
    expect(stopped).toMatchObject({ outcome: "failed", handler: "chunker", envelope: uploaded, attempts: 4 });
  });

  it("fails a task whose container never started (no exit code)", () => {
    const stopped = readStoppedTask(
      stopEvent({
        stopCode: "TaskFailedToStart",
        stoppedReason:
          "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref",
        containers: [{ reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)" }],
      }),
    );
    expect(stopped).toMatchObject({ outcome: "failed", handler: "encoder", attempts: 1 });
    expect(stopped.outcome === "failed" && stopped.error).toMatch(
      /^CannotPullContainerError: .*\(Worker: no exit code, CannotPullContainerError/,
    );
  });

  it("cannot name the job of a failed task that carries no VIDEOFORGE_EVENT override, but names its rule", () => {
    const stopped = readStoppedTask(stopEvent({ containers: [{ exitCode: 137 }], launched: null }));
    expect(stopped).toEqual({
      outcome: "unattributed",
      taskArn: TASK,
      rule: "encode-chunk",
      error: "Essential container in task exited (Worker: exit code 137)",
    });
  });

  it("ignores a task that has not stopped, and refuses an event that is not an ECS task state change", () => {
    expect(readStoppedTask(stopEvent({ lastStatus: "RUNNING", containers: [{ lastStatus: "RUNNING" }] })).outcome).toBe(
      "running",
    );
    expect(() => readStoppedTask(chunkReady)).toThrow();
  });

  it("routes stopped worker tasks of any revision in our cluster to the Lambda, and nothing else", () => {
    const pattern = taskStoppedPattern(CLUSTER, FAMILY) as EventPattern;
    const match = (e: ReturnType<typeof stopEvent>) => matches(pattern, e as unknown as Envelope);
    expect(match(stopEvent())).toBe(true);
    expect(match(stopEvent({ containers: [{ exitCode: 137 }], revision: 6 }))).toBe(true);
    expect(match(stopEvent({ lastStatus: "RUNNING" }))).toBe(false);
    expect(match(stopEvent({ cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/other" }))).toBe(false);
    const otherFamily = stopEvent();
    otherFamily.detail.taskDefinitionArn = `${FAMILY}Other:1`;
    expect(match(otherFamily)).toBe(false);
  });
});
