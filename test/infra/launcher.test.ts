import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { ECSClient, ListTasksCommand, RunTaskCommand, type RunTaskCommandInput } from "@aws-sdk/client-ecs";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  DEFERRALS_ATTRIBUTE,
  ecsTaskLauncher,
  RUN_TASK_OVERRIDE_LIMIT,
  runTaskInput,
  sqsDeferral,
  type WorkerTask,
} from "@videoforge/core/ecs";
import { deferralDelaySeconds, launchFromQueue, launchTask, taskRule } from "@videoforge/functions/lambda/launch-task";
import { DEV_TASK_SIZE, MAX_RUNNING, TASK_SIZES } from "@videoforge/functions/lambda/task-policy";
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
const envOf = (input: RunTaskCommandInput) =>
  Object.fromEntries((input.overrides?.containerOverrides?.[0]?.environment ?? []).map((e) => [e.name, e.value]));
const sqs = mockClient(SQSClient);
// the test files share one module cache (isolate: false): the real client's send comes back for the next file
afterAll(() => {
  ecs.restore();
  sqs.restore();
});
afterEach(() => {
  ecs.reset();
  sqs.reset();
});

describe("task launcher Lambda", () => {
  it("starts the encoder for a ChunkReady with the envelope, handler and the rule's attempt budget", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/x/1" }] });
    const event = envelopeOf("ChunkReady", largestChunkReady());
    const res = await launchTask(
      ecsTaskLauncher(client, worker),
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
    )(event);
    expect(res.taskArn).toBe("arn:aws:ecs:eu-west-1:123456789012:task/x/1");
    expect(calls()).toHaveLength(1);
    const env = envOf(calls()[0]!);
    expect(env).toEqual({
      VIDEOFORGE_HANDLER: "encoder",
      VIDEOFORGE_EVENT: expect.any(String),
      VIDEOFORGE_TASK_ATTEMPTS: "3",
    });
    expect(JSON.parse(env.VIDEOFORGE_EVENT!)).toEqual(event);
    expect(calls()[0]!.overrides?.ephemeralStorage).toBeUndefined();
  });

  it("starts the chunker with 200 GiB for a large upload", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/x/2" }] });
    await launchTask(
      ecsTaskLauncher(client, worker),
      taskRule({ VIDEOFORGE_TASK_RULE: "chunk-large-source" }),
    )(envelopeOf("VideoUploaded", samples.VideoUploaded[1]!));
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
    await expect(
      launch({ ...good, detail: { ...(good.detail as Record<string, unknown>), renditions: "all" } }),
    ).rejects.toThrow(/ChunkReady detail is invalid/);
    expect(calls()).toEqual([]);
  });

  it("refuses a rule name that is not a task rule of the topology", () => {
    expect(() => taskRule({ VIDEOFORGE_TASK_RULE: "track-chunk" })).toThrow(/names no task rule/);
    expect(() => taskRule({})).toThrow(/VIDEOFORGE_TASK_RULE=""/);
  });

  it("fits the largest realistic event in RunTask's 8,192-character overrides with room to spare", () => {
    // 7 rungs, long bucket names, a next-chunk key: payloads carry keys, so this stays small
    const input = runTaskInput(worker, {
      rule: "encode-chunk",
      handler: "encoder",
      envelope: envelopeOf("ChunkReady", largestChunkReady()),
      attempts: 3,
    });
    const size = JSON.stringify(input.overrides).length;
    expect(size).toBeLessThan(RUN_TASK_OVERRIDE_LIMIT / 2);
  });
});

describe("task launcher as its work queue's consumer (back-pressure)", () => {
  const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/videoforge-prod-EncodeChunkQueue";
  const deferral = sqsDeferral(
    new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
    queueUrl,
  );
  const record = (body: unknown, messageId: string, deferrals?: number): SQSRecord =>
    ({
      messageId,
      body: JSON.stringify(body),
      messageAttributes: deferrals
        ? { [DEFERRALS_ATTRIBUTE]: { dataType: "Number", stringValue: String(deferrals) } }
        : {},
    }) as unknown as SQSRecord;
  const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
  const sent = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
  const chunkReady = envelopeOf("ChunkReady", largestChunkReady());

  it("starts an encoder on FARGATE_SPOT at the encoder's size when the rule is under its cap", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: ["t1"] });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/x/3" }] });
    const res = await launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
    )(batch(record(chunkReady, "m1")));
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls()).toHaveLength(1);
    expect(calls()[0]!.capacityProviderStrategy).toEqual([{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    expect(calls()[0]!.overrides).toMatchObject({
      cpu: String(TASK_SIZES.encoder.cpu),
      memory: String(TASK_SIZES.encoder.memoryMiB),
    });
    expect(sent()).toEqual([]);
  });

  it("puts the event back, delayed, when the rule already runs its cap of tasks: no RunTask, no failure", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: Array.from({ length: MAX_RUNNING.encoder }, (_, i) => `t${i}`) });
    sqs.on(SendMessageCommand).resolves({ MessageId: "m1-again" });
    const res = await launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
    )(batch(record(chunkReady, "m1", 2)));
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls()).toEqual([]);
    expect(sent()).toHaveLength(1);
    expect(sent()[0]).toMatchObject({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(chunkReady),
      MessageAttributes: { [DEFERRALS_ATTRIBUTE]: { DataType: "Number", StringValue: "3" } },
    });
    expect(sent()[0]!.DelaySeconds).toBeGreaterThanOrEqual(96);
  });

  it("turns Fargate capacity and RunTask throttling into a delay, never into a failed job", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [], failures: [{ reason: "Capacity is unavailable at this time" }] })
      .rejectsOnce(
        Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }),
      );
    sqs.on(SendMessageCommand).resolves({ MessageId: "again" });
    const consume = launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
    );
    const res = await consume(batch(record(chunkReady, "m1"), record(chunkReady, "m2")));
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls()).toHaveLength(2);
    expect(sent().map((m) => m.MessageAttributes?.[DEFERRALS_ATTRIBUTE]?.StringValue)).toEqual(["1", "1"]);
  });

  it("reports an invalid event or failed deferral as a batch item failure (receive limit dead-letters)", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: "Capacity is unavailable at this time" }] });
    sqs.on(SendMessageCommand).rejects(new Error("sqs down"));
    const consume = launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
    );
    const { account: _dropped, ...invalid } = chunkReady;
    const res = await consume(batch(record(invalid, "bad"), record(chunkReady, "undeferrable")));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: "bad" }, { itemIdentifier: "undeferrable" }] });
    expect(calls()).toHaveLength(1);
  });

  it("runs small tasks, at most two at a time, in a dev stage", async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: ["t1"] });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: "t" }] });
    await launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
      { dev: true },
    )(batch(record(chunkReady, "m1")));
    expect(calls()[0]!.overrides).toMatchObject({
      cpu: String(DEV_TASK_SIZE.cpu),
      memory: String(DEV_TASK_SIZE.memoryMiB),
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: ["t1", "t2"] });
    sqs.on(SendMessageCommand).resolves({ MessageId: "x" });
    await launchFromQueue(
      ecsTaskLauncher(client, worker),
      deferral,
      taskRule({ VIDEOFORGE_TASK_RULE: "encode-chunk" }),
      { dev: true },
    )(batch(record(chunkReady, "m2")));
    expect(calls()).toHaveLength(1);
    expect(sent()).toHaveLength(1);
  });

  it("waits 30 s after the first refusal, doubling to SQS's 15-minute ceiling", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 5, 12].map((d) => deferralDelaySeconds(d, mid))).toEqual([30, 60, 120, 900, 900]);
  });
});
