import { DescribeTasksCommand, ListTasksCommand, StopTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import type { TaskStopper } from "../ports.ts";

/** IAM actions of the calls ecsTaskStopper makes (the API function needs them to stop a cancelled job's tasks). */
export const ECS_STOP_ACTIONS = ["ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask"] as const;

/** StopTask's reason is shown in the console and the task's stopped event (255 characters at most). */
export const stopReason = (jobId: string) => `videoforge: job ${jobId} was cancelled`.slice(0, 255);

/**
 * Stops a cancelled job's running Fargate tasks: the tasks each task rule started
 * (ListTasks by `startedBy` = `videoforge/<rule>`), described in pages of 100, and those whose
 * VIDEOFORGE_EVENT override names the job are stopped. The task-stopped function then sees
 * them as stopped by the platform and re-publishes their event, which finds the job ended.
 */
export function ecsTaskStopper(client: ECSClient, cluster: string, rules: readonly string[]): TaskStopper {
  return {
    async stopJobTasks(jobId) {
      const arns: string[] = [];
      for (const rule of rules) {
        let nextToken: string | undefined;
        do {
          const res = await client.send(
            new ListTasksCommand({
              cluster,
              startedBy: `videoforge/${rule}`.slice(0, 128),
              desiredStatus: "RUNNING",
              nextToken,
            }),
          );
          arns.push(...(res.taskArns ?? []));
          nextToken = res.nextToken;
        } while (nextToken);
      }
      let stopped = 0;
      for (let i = 0; i < arns.length; i += 100) {
        const { tasks = [] } = await client.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
        for (const t of tasks) {
          const env = t.overrides?.containerOverrides?.flatMap((o) => o.environment ?? []) ?? [];
          const raw = env.find((kv) => kv.name === "VIDEOFORGE_EVENT")?.value;
          if (!raw || !t.taskArn) continue;
          let id: unknown;
          try {
            id = (JSON.parse(raw) as { detail?: { jobId?: unknown } }).detail?.jobId;
          } catch {
            continue;
          }
          if (id !== jobId) continue;
          await client.send(new StopTaskCommand({ cluster, task: t.taskArn, reason: stopReason(jobId) }));
          stopped++;
        }
      }
      return stopped;
    },
  };
}
