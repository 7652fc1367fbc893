import { afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ECSClient, RunTaskCommand, type RunTaskCommandInput } from "@aws-sdk/client-ecs";
import { ecsTaskLauncher, RUN_TASK_OVERRIDE_LIMIT, runTaskInput, type WorkerTask } from "@videoforge/core/adapters/ecs-task-launcher";
import { launchTask, taskRule } from "@videoforge/functions/lambda/launch-task";
import { envelopeOf, largestChunkReady, samples } from "./samples.ts";

const ecs = mockClient(ECSClient);
const client = new ECSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const worker: WorkerTask = {
  cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/videoforge-prod-Cluster",
  taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/videoforge-prod-Worker:3",
  containers: ["Worker"],
  subnets: ["subnet-0a"],
  securityGroups: ["sg-01"],
  assignPublicIp: true,
};
const calls = (): RunTaskCommandInput[] => ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
const envOf = (input: RunTaskCommandInput) => Object.fromEntries((input.overrides?.containerOverrides?.[0]?.environment ?? []).map((e) => [e.name, e.value]));
afterEach(() => ecs.reset());

describe("task launcher Lambda", () => {
  it("starts the encoder for a ChunkReady with the envelope, handler and the rule's attempt budget", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/x/1" }] });
    const event = envelopeOf("ChunkReady", largestChunkReady());
    const res = await launchTask(ecsTaskLauncher(client, worker), taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }))(event);
    expect(res.taskArn).toBe("arn:aws:ecs:eu-west-1:123456789012:task/x/1");
    expect(calls()).toHaveLength(1);
    const env = envOf(calls()[0]!);
    expect(env).toEqual({ VIDEOFORGE_HANDLER: "encoder", VIDEOFORGE_EVENT: expect.any(String), VIDEOFORGE_TASK_ATTEMPTS: "3" });
    expect(JSON.parse(env.VIDEOFORGE_EVENT!)).toEqual(event);
    expect(calls()[0]!.overrides?.ephemeralStorage).toBeUndefined();
  });

  it("starts the chunker with 200 GiB for a large upload", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/x/2" }] });
    await launchTask(ecsTaskLauncher(client, worker), taskRule({ VIDEOFORGE_TASK_RULE: "chunk-large-source" }))(envelopeOf("VideoUploaded", samples.VideoUploaded[1]!));
    expect(envOf(calls()[0]!).VIDEOFORGE_HANDLER).toBe("chunker");
    expect(envOf(calls()[0]!).VIDEOFORGE_TASK_ATTEMPTS).toBe("4");
    expect(calls()[0]!.overrides?.ephemeralStorage).toEqual({ sizeInGiB: 200 });
  });

  it("pays for no task when the event is not a valid EventBridge envelope or detail", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "t" }] });
    const launch = launchTask(ecsTaskLauncher(client, worker), taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }));
    const good = envelopeOf("ChunkReady", largestChunkReady());
    const { account: _dropped, ...noAccount } = good;
    await expect(launch(noAccount)).rejects.toThrow();
    await expect(launch({ ...good, detail: { ...(good.detail as Record<string, unknown>), renditions: "all" } })).rejects.toThrow(/ChunkReady detail is invalid/);
    expect(calls()).toEqual([]);
  });

  it("refuses a rule name that is not a task rule of the topology", () => {
    expect(() => taskRule({ VIDEOFORGE_TASK_RULE: "track-chunk" })).toThrow(/names no task rule/);
    expect(() => taskRule({})).toThrow(/VIDEOFORGE_TASK_RULE=""/);
  });

  it("fits the largest realistic event in RunTask's 8,192-character overrides with room to spare", () => {
    // 7 rungs, long bucket names, a next-chunk key: payloads carry keys, so this stays small
    const input = runTaskInput(worker, { rule: "encode-chunk", handler: "encoder", envelope: envelopeOf("ChunkReady", largestChunkReady()), attempts: 3 });
    const size = JSON.stringify(input.overrides).length;
    expect(size).toBeLessThan(RUN_TASK_OVERRIDE_LIMIT / 2);
  });
});
