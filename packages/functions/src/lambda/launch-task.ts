import { z } from "zod";
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ECSClient } from "@aws-sdk/client-ecs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Resource } from "sst/resource";
import { topology, type Subscription } from "@videoforge/events";
import {
  DEFERRALS_ATTRIBUTE,
  ecsTaskLauncher,
  isCapacityError,
  sqsDeferral,
  type EcsTaskLauncher,
  type SqsDeferral,
  type WorkerTask,
} from "@videoforge/core/ecs";
import { LINK } from "@videoforge/core/config-sources";
import { processSettings } from "@videoforge/core";
import { lambdaConfig, lambdaLogger, parseEventBridge } from "./runtime.ts";
import { taskLaunchPolicy, TASK_QUEUE_VARIABLE, TASK_RULE_VARIABLE } from "./task-policy.ts";

/** The properties SST's Task component links (`Resource.Worker`). */
const WorkerLink = z.object({
  cluster: z.string().min(1),
  taskDefinition: z.string().min(1),
  containers: z.array(z.string()).min(1),
  subnets: z.array(z.string()).min(1),
  securityGroups: z.array(z.string()),
  assignPublicIp: z.boolean(),
});

/** The rule this launcher serves, named by the stack (one launcher per task rule) in its environment. */
export function taskRule(env: Record<string, string | undefined>): Subscription {
  return ruleNamed(env[TASK_RULE_VARIABLE]);
}

/** The task rule of that name in events/topology.ts; anything else is an error. */
export function ruleNamed(name: string | undefined): Subscription {
  const sub = topology.find((s) => s.name === name && s.runtime === "task");
  if (!sub) throw new Error(`${TASK_RULE_VARIABLE}="${name ?? ""}" names no task rule in events/topology.ts`);
  return sub;
}

/**
 * Start one task for one event: validate the event (no task is paid for a bad one), then
 * RunTask with the envelope, handler and attempt budget as container overrides, at the
 * step's size and capacity provider.
 */
export function launchTask(launcher: EcsTaskLauncher, sub: Subscription, stage = { dev: false }) {
  const policy = taskLaunchPolicy(sub, stage);
  const log = lambdaLogger({ rule: sub.name });
  return async (event: unknown, deferrals = 0): Promise<{ taskArn: string }> => {
    const { envelope, parsed } = parseEventBridge(event);
    const { taskArn } = await launcher.launch({
      rule: sub.name,
      handler: sub.handler,
      envelope,
      attempts: policy.attempts,
      storageGiB: policy.storageGiB,
      size: policy.size,
      capacity: policy.capacity,
      deferrals,
    });
    log.info("task started", {
      taskArn,
      event: parsed.name,
      eventId: parsed.id,
      jobId: parsed.detail.jobId,
      deferrals,
    });
    return { taskArn };
  };
}

/** Waiting for capacity: 30 s, doubling, at most SQS's 15-minute delay, with jitter. */
export function deferralDelaySeconds(deferrals: number, random = Math.random): number {
  return Math.min(900, 30 * 2 ** Math.min(deferrals, 5)) * (0.8 + random() * 0.4);
}

/**
 * The launcher as the consumer of its rule's work queue (EventBridge → SQS → here, with a
 * concurrency cap on the event source mapping). Each record is one event:
 *  - the rule already runs its cap of tasks, or RunTask reports capacity, quota or
 *    throttling: the event is put back, delayed, as a new message. Work waits; no retry
 *    budget is spent and no job fails for it;
 *  - any other error is a batch item failure: the message returns after the visibility
 *    timeout and, after the queue's receive limit, lands in the rule's dead-letter queue,
 *    where DeadLetters fails the job.
 */
export function launchFromQueue(
  launcher: EcsTaskLauncher,
  deferral: SqsDeferral,
  sub: Subscription,
  stage = { dev: false },
) {
  const launch = launchTask(launcher, sub, stage);
  const { maxRunning } = taskLaunchPolicy(sub, stage);
  const log = lambdaLogger({ rule: sub.name });
  const deferralsOf = (r: SQSRecord) => Number(r.messageAttributes?.[DEFERRALS_ATTRIBUTE]?.stringValue ?? "0") || 0;

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    for (const record of event.Records) {
      const deferrals = deferralsOf(record);
      const later = async (why: string) => {
        const delay = deferralDelaySeconds(deferrals);
        await deferral.defer(record.body, deferrals + 1, delay);
        log.warn("task deferred", {
          why,
          messageId: record.messageId,
          deferrals: deferrals + 1,
          delaySeconds: Math.round(delay),
        });
      };
      try {
        if ((await launcher.running(sub.name)) >= maxRunning) {
          await later(`${maxRunning} ${sub.name} tasks already running`);
          continue;
        }
        await launch(JSON.parse(record.body), deferrals);
      } catch (err) {
        try {
          if (isCapacityError(err)) {
            await later(err instanceof Error ? err.message : String(err));
            continue;
          }
        } catch (deferErr) {
          log.error("could not defer the event", { messageId: record.messageId, err: deferErr });
        }
        log.error("task not started", { messageId: record.messageId, err });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

function linkedWorker(): WorkerTask {
  const resources = Resource as unknown as Record<string, unknown>;
  return WorkerLink.parse(resources[LINK.worker]);
}

let run: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;
export const handler = (event: SQSEvent) => {
  if (!run) {
    const { region } = lambdaConfig();
    const { queueUrl, rule, stage } = processSettings().launcher;
    if (!queueUrl) throw new Error(`${TASK_QUEUE_VARIABLE} is not set: the stack names the rule's work queue`);
    const launcher = ecsTaskLauncher(new ECSClient({ region }), linkedWorker());
    const deferral = sqsDeferral(new SQSClient({ region }), queueUrl);
    run = launchFromQueue(launcher, deferral, ruleNamed(rule), { dev: stage === "dev" });
  }
  return run(event);
};
