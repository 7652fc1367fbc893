import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { ecsTaskStopper } from "./ecs-task-stopper.ts";

const ecs = mockClient(ECSClient);
// the test files share one module cache (isolate: false): the real client's send comes back for the next file
afterAll(() => {
  ecs.restore();
});
const client = new ECSClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/videoforge-prod-Cluster";
const arn = (n: string) => `arn:aws:ecs:eu-west-1:123456789012:task/videoforge-prod-Cluster/${n}`;
const task = (n: string, jobId: string) => ({
  taskArn: arn(n),
  overrides: {
    containerOverrides: [
      {
        name: "Worker",
        environment: [
          { name: "VIDEOFORGE_HANDLER", value: "encoder" },
          { name: "VIDEOFORGE_EVENT", value: JSON.stringify({ detail: { jobId } }) },
        ],
      },
    ],
  },
});
afterEach(() => ecs.reset());

describe("ecsTaskStopper", () => {
  it("stops exactly the cancelled job's running tasks, with the reason", async () => {
    ecs
      .on(ListTasksCommand, { startedBy: "videoforge/encode-chunk" })
      .resolvesOnce({ taskArns: [arn("a"), arn("b")], nextToken: "t" })
      .resolvesOnce({ taskArns: [arn("c")] });
    ecs.on(ListTasksCommand, { startedBy: "videoforge/chunk-large-source" }).resolves({ taskArns: [] });
    ecs
      .on(DescribeTasksCommand)
      .resolves({ tasks: [task("a", "job_cancel_1"), task("b", "job_other_1"), task("c", "job_cancel_1")] });
    ecs.on(StopTaskCommand).resolves({});
    const stopped = await ecsTaskStopper(client, CLUSTER, ["encode-chunk", "chunk-large-source"]).stopJobTasks(
      "job_cancel_1",
    );
    expect(stopped).toBe(2);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, startedBy: "videoforge/encode-chunk", desiredStatus: "RUNNING", nextToken: undefined },
      { cluster: CLUSTER, startedBy: "videoforge/encode-chunk", desiredStatus: "RUNNING", nextToken: "t" },
      { cluster: CLUSTER, startedBy: "videoforge/chunk-large-source", desiredStatus: "RUNNING", nextToken: undefined },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, tasks: [arn("a"), arn("b"), arn("c")] },
    ]);
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, task: arn("a"), reason: "videoforge: job job_cancel_1 was cancelled" },
      { cluster: CLUSTER, task: arn("c"), reason: "videoforge: job job_cancel_1 was cancelled" },
    ]);
  });
});
