import { describe, expect, it } from "vitest";
import { DescribeTasksCommand, ListTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { topology } from "@videoforge/events";
import { taskStopperFrom } from "./runtime.ts";

/** An ECS client stand-in: one running task per task rule, the first of them working for job-1. */
function fakeEcs() {
  const sent: object[] = [];
  const client = {
    async send(cmd: object) {
      sent.push(cmd);
      if (cmd instanceof ListTasksCommand) return { taskArns: [`arn:task/${cmd.input.startedBy}`] };
      if (cmd instanceof DescribeTasksCommand) {
        return {
          tasks: (cmd.input.tasks ?? []).map((taskArn, i) => ({
            taskArn,
            overrides: {
              containerOverrides: [
                {
                  environment: [
                    {
                      name: "VIDEOFORGE_EVENT",
                      value: JSON.stringify({ detail: { jobId: i === 0 ? "job-1" : "job-2" } }),
                    },
                  ],
                },
              ],
            },
          })),
        };
      }
      return {};
    },
  };
  return { client, sent };
}

describe("the API Lambda's task stopper (deps.tasks)", () => {
  it("stops a cancelled job's running tasks on the linked worker cluster, for every task rule", async () => {
    const ecs = fakeEcs();
    const tasks = taskStopperFrom(
      { Worker: { cluster: "arn:aws:ecs:us-east-1:123:cluster/videoforge" } },
      () => ecs.client as never,
    );
    expect(tasks).toBeDefined();
    expect(await tasks!.stopJobTasks("job-1")).toBe(1);
    const rules = topology.filter((s) => s.runtime === "task").map((s) => `videoforge/${s.name}`);
    const listed = ecs.sent.filter((c) => c instanceof ListTasksCommand).map((c) => (c as ListTasksCommand).input);
    expect(listed.map((i) => i.startedBy)).toEqual(rules);
    expect(listed.every((i) => i.cluster === "arn:aws:ecs:us-east-1:123:cluster/videoforge")).toBe(true);
    const stopped = ecs.sent.filter((c) => c instanceof StopTaskCommand).map((c) => (c as StopTaskCommand).input);
    expect(stopped).toEqual([
      expect.objectContaining({
        cluster: "arn:aws:ecs:us-east-1:123:cluster/videoforge",
        task: `arn:task/${rules[0]}`,
      }),
    ]);
  });

  it("is absent for a function not linked to the worker task", () => {
    expect(taskStopperFrom({ Table: { name: "t" } }, () => fakeEcs().client as never)).toBeUndefined();
  });
});
