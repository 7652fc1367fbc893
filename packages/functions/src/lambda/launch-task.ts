import { z } from "zod";
import { ECSClient } from "@aws-sdk/client-ecs";
import { Resource } from "sst/resource";
import { topology, type Subscription } from "@videoforge/events";
import { ecsTaskLauncher, type EcsTaskLauncher, type WorkerTask } from "@videoforge/core/adapters/ecs-task-launcher";
import { LINK } from "@videoforge/core/config-sources";
import { createLogger } from "@videoforge/core";
import { lambdaConfig, parseEventBridge } from "./runtime.ts";
import { taskLaunchPolicy, TASK_RULE_VARIABLE } from "./task-policy.ts";

/** The properties SST's Task component links (`Resource.Worker`). */
const WorkerLink = z.object({
  cluster: z.string().min(1),
  taskDefinition: z.string().min(1),
  containers: z.array(z.string()).min(1),
  subnets: z.array(z.string()).min(1),
  securityGroups: z.array(z.string()),
  assignPublicIp: z.boolean(),
});

/** The rule this launcher serves, named by the stack (one launcher per task rule). */
export function taskRule(env: Record<string, string | undefined>): Subscription {
  const name = env[TASK_RULE_VARIABLE];
  const sub = topology.find((s) => s.name === name && s.runtime === "task");
  if (!sub) throw new Error(`${TASK_RULE_VARIABLE}="${name ?? ""}" names no task rule in events/topology.ts`);
  return sub;
}

/**
 * The target of a task rule: validate the event (no task is paid for a bad one), then
 * RunTask with the envelope, handler and attempt budget as container overrides.
 */
export function launchTask(launcher: EcsTaskLauncher, sub: Subscription) {
  const policy = taskLaunchPolicy(sub);
  const log = createLogger({ rule: sub.name });
  return async (event: unknown): Promise<{ taskArn: string }> => {
    const { envelope, parsed } = parseEventBridge(event);
    const { taskArn } = await launcher.launch({ rule: sub.name, handler: sub.handler, envelope, attempts: policy.attempts, storageGiB: policy.storageGiB });
    log.info("task started", { taskArn, event: parsed.name, eventId: parsed.id, jobId: parsed.detail.jobId });
    return { taskArn };
  };
}

function linkedWorker(): WorkerTask {
  const resources = Resource as unknown as Record<string, unknown>;
  return WorkerLink.parse(resources[LINK.worker]);
}

let run: ((event: unknown) => Promise<{ taskArn: string }>) | undefined;
export const handler = (event: unknown) => {
  run ??= launchTask(ecsTaskLauncher(new ECSClient({ region: lambdaConfig().region }), linkedWorker()), taskRule(process.env));
  return run(event);
};
