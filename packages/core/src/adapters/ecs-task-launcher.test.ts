import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ECSClient, ListTasksCommand, RunTaskCommand, type RunTaskCommandInput } from "@aws-sdk/client-ecs";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { makeEvent, SOURCE, type Envelope } from "@videoforge/events";
import {
  DEFERRALS_ATTRIBUTE,
  ecsTaskLauncher,
  isCapacityError,
  OverrideTooLargeError,
  RUN_TASK_OVERRIDE_LIMIT,
  runTaskToken,
  sqsDeferral,
  TaskNotStartedError,
  type WorkerTask,
} from "./ecs-task-launcher.ts";

const ecs = mockClient(ECSClient);
const client = new ECSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });

const worker: WorkerTask = {
  cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/videoforge-prod-ClusterCluster",
  taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/videoforge-prod-Worker:7",
  containers: ["Worker"],
  subnets: ["subnet-0a", "subnet-0b"],
  securityGroups: ["sg-01"],
  assignPublicIp: true,
};

function envelope(reason = "x"): Envelope {
  const { detail } = makeEvent("JobFailed", { jobId: "job_ecs_0001", stage: "encoding", reason });
  return {
    version: "0",
    id: "0d4c2a9e-5f0b-4f5e-9a43-1c2f0e9b7a11",
    "detail-type": "JobFailed",
    source: SOURCE,
    account: "123456789012",
    time: "2024-05-01T12:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail,
  };
}
const calls = (): RunTaskCommandInput[] => ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
const started = { tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/videoforge/abc" }], failures: [] };

const sqs = mockClient(SQSClient);
// the test files share one module cache (isolate: false): the real client's send comes back for the next file
afterAll(() => {
  ecs.restore();
  sqs.restore();
});
beforeEach(() => ecs.reset());
afterEach(() => {
  ecs.reset();
  sqs.reset();
});

describe("ecsTaskLauncher", () => {
  it("sends one exact RunTask request with the envelope as a container override", async () => {
    ecs.on(RunTaskCommand).resolves(started);
    const env = envelope();
    const res = await ecsTaskLauncher(client, worker).launch({
      rule: "encode-chunk",
      handler: "encoder",
      envelope: env,
      attempts: 3,
    });
    expect(res).toEqual({ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/videoforge/abc" });
    expect(calls()).toEqual([
      {
        cluster: worker.cluster,
        taskDefinition: worker.taskDefinition,
        count: 1,
        capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }],
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ["subnet-0a", "subnet-0b"],
            securityGroups: ["sg-01"],
            assignPublicIp: "ENABLED",
          },
        },
        overrides: {
          containerOverrides: [
            {
              name: "Worker",
              environment: [
                { name: "VIDEOFORGE_HANDLER", value: "encoder" },
                { name: "VIDEOFORGE_EVENT", value: JSON.stringify(env) },
                { name: "VIDEOFORGE_TASK_ATTEMPTS", value: "3" },
              ],
            },
          ],
        },
        startedBy: "videoforge/encode-chunk",
        clientToken: runTaskToken("encode-chunk", env.id),
        propagateTags: "TASK_DEFINITION",
      },
    ]);
    // the container reads back exactly the envelope EventBridge delivered
    const value = calls()[0]!.overrides!.containerOverrides![0]!.environment![1]!.value!;
    expect(JSON.parse(value)).toEqual(env);
  });

  it("asks for extra ephemeral storage, Spot capacity and a private IP when told", async () => {
    ecs.on(RunTaskCommand).resolves(started);
    await ecsTaskLauncher(client, { ...worker, assignPublicIp: false }).launch({
      rule: "chunk-large-source",
      handler: "chunker",
      envelope: envelope(),
      attempts: 4,
      storageGiB: 200,
      capacity: "FARGATE_SPOT",
    });
    const input = calls()[0]!;
    expect(input.overrides?.ephemeralStorage).toEqual({ sizeInGiB: 200 });
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    expect(input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe("DISABLED");
    expect(input.overrides?.containerOverrides?.[0]?.environment?.[0]).toEqual({
      name: "VIDEOFORGE_HANDLER",
      value: "chunker",
    });
  });

  it("uses the same idempotency token for a redelivered event, a different one per rule", async () => {
    ecs.on(RunTaskCommand).resolves(started);
    const env = envelope();
    const launcher = ecsTaskLauncher(client, worker);
    await launcher.launch({ rule: "encode-chunk", handler: "encoder", envelope: env, attempts: 3 });
    await launcher.launch({ rule: "encode-chunk", handler: "encoder", envelope: env, attempts: 3 });
    await launcher.launch({ rule: "assemble-large", handler: "assembler", envelope: env, attempts: 4 });
    const tokens = calls().map((c) => c.clientToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses an event whose overrides exceed 8,192 characters, before calling ECS", async () => {
    ecs.on(RunTaskCommand).resolves(started);
    const launching = ecsTaskLauncher(client, worker).launch({
      rule: "encode-chunk",
      handler: "encoder",
      envelope: envelope("x".repeat(RUN_TASK_OVERRIDE_LIMIT)),
      attempts: 3,
    });
    await expect(launching).rejects.toBeInstanceOf(OverrideTooLargeError);
    await expect(launching).rejects.toThrow(/JobFailed .* needs \d+ characters of RunTask overrides, over the 8192/);
    expect(calls()).toEqual([]);
  });

  it("fails with ECS's reasons when RunTask starts nothing, so the invocation is retried", async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ arn: worker.taskDefinition, reason: "Capacity is unavailable at this time", detail: "FARGATE" }],
    });
    const launching = ecsTaskLauncher(client, worker).launch({
      rule: "encode-chunk",
      handler: "encoder",
      envelope: envelope(),
      attempts: 3,
    });
    await expect(launching).rejects.toBeInstanceOf(TaskNotStartedError);
    await expect(launching).rejects.toThrow(
      "RunTask started no task for encode-chunk: Capacity is unavailable at this time (FARGATE)",
    );
  });

  it("sets the step's CPU and memory as task-level overrides, and a new token per deferral", async () => {
    ecs.on(RunTaskCommand).resolves(started);
    const env = envelope();
    const launcher = ecsTaskLauncher(client, worker);
    await launcher.launch({
      rule: "encode-chunk",
      handler: "encoder",
      envelope: env,
      attempts: 3,
      size: { cpu: 1024, memoryMiB: 2048 },
    });
    await launcher.launch({ rule: "encode-chunk", handler: "encoder", envelope: env, attempts: 3, deferrals: 1 });
    expect(calls()[0]!.overrides).toMatchObject({ cpu: "1024", memory: "2048" });
    expect(calls()[1]!.overrides?.cpu).toBeUndefined();
    expect(calls()[0]!.clientToken).toBe(runTaskToken("encode-chunk", env.id));
    expect(calls()[1]!.clientToken).toBe(runTaskToken("encode-chunk", env.id, 1));
    expect(calls()[1]!.clientToken).not.toBe(calls()[0]!.clientToken);
  });

  it("marks a RunTask that started nothing for capacity or quota as 'try later', other refusals not", async () => {
    ecs
      .on(RunTaskCommand)
      .resolvesOnce({
        tasks: [],
        failures: [
          {
            reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone",
          },
        ],
      })
      .resolvesOnce({
        tasks: [],
        failures: [{ reason: "You've reached the limit on the number of vCPUs you can run concurrently" }],
      })
      .resolvesOnce({ tasks: [], failures: [{ reason: "MISSING", detail: "subnet not found" }] });
    const launch = () =>
      ecsTaskLauncher(client, worker).launch({
        rule: "encode-chunk",
        handler: "encoder",
        envelope: envelope(),
        attempts: 3,
      });
    const errors = [await launch().catch((e) => e), await launch().catch((e) => e), await launch().catch((e) => e)];
    expect(errors.map(isCapacityError)).toEqual([true, true, false]);
  });

  it("treats throttling and 5xx from the API as capacity, a bad request and a too-large event not", () => {
    // what the SDK throws for ECS's ThrottlingException (name, $retryable) and for a plain 429
    expect(
      isCapacityError(
        Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }),
      ),
    ).toBe(true);
    expect(
      isCapacityError(Object.assign(new Error("slow down"), { name: "Unknown", $retryable: { throttling: true } })),
    ).toBe(true);
    expect(
      isCapacityError(
        Object.assign(new Error("internal"), { name: "ServerException", $metadata: { httpStatusCode: 500 } }),
      ),
    ).toBe(true);
    expect(
      isCapacityError(
        Object.assign(new Error("bad subnet"), {
          name: "InvalidParameterException",
          $metadata: { httpStatusCode: 400 },
        }),
      ),
    ).toBe(false);
    expect(isCapacityError(new OverrideTooLargeError("too big"))).toBe(false);
    expect(isCapacityError("nope")).toBe(false);
  });

  it("counts a rule's running tasks across ListTasks pages", async () => {
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: ["a", "b"], nextToken: "p2" })
      .resolvesOnce({ taskArns: ["c"] });
    expect(await ecsTaskLauncher(client, worker).running("encode-chunk")).toBe(3);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: worker.cluster, startedBy: "videoforge/encode-chunk", desiredStatus: "RUNNING", nextToken: undefined },
      { cluster: worker.cluster, startedBy: "videoforge/encode-chunk", desiredStatus: "RUNNING", nextToken: "p2" },
    ]);
  });

  it("puts a deferred event back in its queue as a new, delayed message counting its deferrals", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m2" });
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/videoforge-prod-EncodeChunkQueue";
    const deferral = sqsDeferral(
      new SQSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } }),
      queueUrl,
    );
    await deferral.defer('{"id":"e"}', 2, 61.4);
    await deferral.defer('{"id":"e"}', 9, 5000);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: queueUrl,
        MessageBody: '{"id":"e"}',
        DelaySeconds: 61,
        MessageAttributes: { [DEFERRALS_ATTRIBUTE]: { DataType: "Number", StringValue: "2" } },
      },
      {
        QueueUrl: queueUrl,
        MessageBody: '{"id":"e"}',
        DelaySeconds: 900,
        MessageAttributes: { [DEFERRALS_ATTRIBUTE]: { DataType: "Number", StringValue: "9" } },
      },
    ]);
  });
});
