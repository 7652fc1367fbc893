/**
 * Target of the stopped-worker rule (stacks/failures.ts): ECS "Task State Change" events
 * with lastStatus STOPPED. RunTask has returned long before a task dies, so a container
 * killed by the OOM killer, a Spot reclaim or a SIGKILL tells nobody; this fails its job.
 *
 * Which job: the event's `detail` mirrors DescribeTasks' Task object, including
 * `overrides.containerOverrides[].environment`, where the launcher put VIDEOFORGE_HANDLER,
 * VIDEOFORGE_EVENT and VIDEOFORGE_TASK_ATTEMPTS (adapters/ecs-task-launcher.ts). Tags are
 * not carried by these events; `startedBy` (`videoforge/<rule>`) names the rule but not
 * the job, so a task without the override is only logged.
 */
import { z } from "zod";
import { Envelope, parseEnvelope, topology, type DomainEvent, type HandlerName } from "@videoforge/events";
import { envelopeJobId, failOnDeadLetter, type Deps } from "@videoforge/core";
import { lambdaDeps, lambdaLogger } from "./runtime.ts";

/** What failOnDeadLetter is told the "queue" was: the reason then says where the event went. */
export const TASK_STOPPED_QUEUE = "(fargate task stopped)";

const KeyValue = z.object({ name: z.string().optional(), value: z.string().optional() });
const Container = z.object({
  name: z.string().optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  lastStatus: z.string().optional(),
});
/** The fields used here; ECS adds fields over time, so unknown ones pass. */
const TaskStateChange = z.object({
  "detail-type": z.literal("ECS Task State Change"),
  source: z.literal("aws.ecs"),
  detail: z.object({
    taskArn: z.string(),
    lastStatus: z.string(),
    stoppedReason: z.string().optional(),
    stopCode: z.string().optional(),
    startedBy: z.string().optional(),
    containers: z.array(Container).default([]),
    overrides: z
      .object({
        containerOverrides: z
          .array(z.object({ name: z.string().optional(), environment: z.array(KeyValue).optional() }))
          .default([]),
      })
      .optional(),
  }),
});

export type StoppedTask =
  | { outcome: "running" | "succeeded"; taskArn: string }
  | {
      outcome: "failed";
      taskArn: string;
      handler: HandlerName;
      envelope: Envelope;
      attempts: number;
      error: string;
      cause: StopCause;
    }
  /** failed, but the event does not say which job (no VIDEOFORGE_EVENT override) */
  | { outcome: "unattributed"; taskArn: string; rule: string | null; error: string };

const ESSENTIAL_EXITED = "Essential container in task exited";

/**
 * Who stopped the task: the platform (a Spot reclaim, StopTask, a host going away: the work
 * was fine, it is retried without spending an attempt), the work itself (killed, e.g. out of
 * memory: one attempt spent), or the task entry after its whole in-task budget.
 */
export type StopCause = "platform" | "work" | "gave up";
const PLATFORM_STOPS = new Set(["SpotInterruption", "TerminationNotice", "ServiceSchedulerInitiated", "UserInitiated"]);
const PLATFORM_REASON = /host|infrastructure|maintenance|retire|spot|interrupt/i;
const isHandler = (name: string | undefined): name is HandlerName => topology.some((s) => s.handler === name);

/**
 * Did the task fail, and which event was it running? Success is every container exiting 0
 * after the essential container exited on its own (the task entry exits 0 when handled).
 */
export function readStoppedTask(event: unknown): StoppedTask {
  const { detail } = TaskStateChange.parse(event);
  const { taskArn, containers } = detail;
  if (detail.lastStatus !== "STOPPED") return { outcome: "running", taskArn };
  const exitedOnItsOwn =
    detail.stopCode === "EssentialContainerExited" || detail.stoppedReason?.startsWith(ESSENTIAL_EXITED) === true;
  if (exitedOnItsOwn && containers.length > 0 && containers.every((c) => c.exitCode === 0))
    return { outcome: "succeeded", taskArn };

  const failing = containers.find((c) => c.exitCode !== 0) ?? containers[0];
  const why = [
    failing?.exitCode !== undefined ? `exit code ${failing.exitCode}` : "no exit code",
    failing?.reason,
  ].filter(Boolean);
  const stopped = detail.stoppedReason ?? detail.stopCode ?? "task stopped";
  const which = [failing?.name, why.join(", ")].filter(Boolean).join(": ");
  const error = `${stopped} (${which})`.replace(/\s+/g, " ");

  const env = new Map<string, string>();
  for (const o of detail.overrides?.containerOverrides ?? [])
    for (const kv of o.environment ?? []) if (kv.name && kv.value !== undefined) env.set(kv.name, kv.value);
  const handler = env.get("VIDEOFORGE_HANDLER");
  const raw = env.get("VIDEOFORGE_EVENT");
  const rule = detail.startedBy?.startsWith("videoforge/") ? detail.startedBy.slice("videoforge/".length) : null;
  if (!isHandler(handler) || raw === undefined) return { outcome: "unattributed", taskArn, rule, error };
  const envelope = Envelope.parse(JSON.parse(raw));
  // exit 1 is the entry giving up after its whole budget; anything else killed one run
  const budget = Number(env.get("VIDEOFORGE_TASK_ATTEMPTS"));
  const attempts = failing?.exitCode === 1 && Number.isInteger(budget) && budget > 0 ? budget : 1;
  const cause: StopCause =
    PLATFORM_STOPS.has(detail.stopCode ?? "") ||
    (!exitedOnItsOwn && detail.stopCode !== "TaskFailedToStart" && PLATFORM_REASON.test(detail.stoppedReason ?? ""))
      ? "platform"
      : attempts > 1
        ? "gave up"
        : "work";
  return { outcome: "failed", taskArn, handler, envelope, attempts, error, cause };
}

const log = lambdaLogger({ fn: "task-stopped" });

/**
 * A worker task stopped without succeeding. Idempotent (ECS may repeat events; a second
 * ChunkReady finds the chunk encoded or its attempts counted).
 * - the platform stopped it: the event is published again and, for a chunk, the attempt its
 *   encoder spent is given back, so a Spot reclaim among thousands of chunks costs one re-run;
 * - the work was killed (OOM): a chunk is published again with its attempt spent, and the
 *   encoder fails the job with the reason once the chunk's attempts are used up;
 * - otherwise (the entry gave up after its budget, a chunker or assembler killed): the job fails.
 */
export function taskStoppedHandler(deps: () => Deps = lambdaDeps) {
  return async (event: unknown): Promise<StoppedTask["outcome"] | "redriven"> => {
    const stopped = readStoppedTask(event);
    if (stopped.outcome === "unattributed") {
      log.error("worker task failed; its job is unknown (no VIDEOFORGE_EVENT override)", {
        taskArn: stopped.taskArn,
        rule: stopped.rule,
        error: stopped.error,
      });
    } else if (stopped.outcome === "failed") {
      const { handler, envelope, attempts, error, taskArn, cause } = stopped;
      log.warn("worker task failed", {
        taskArn,
        handler,
        jobId: envelopeJobId(envelope),
        error,
        attempts,
        cause,
        envelope,
      });
      const parsed = parseEnvelope(envelope);
      if (cause === "platform" || (cause === "work" && parsed.name === "ChunkReady")) {
        const d = deps();
        if (cause === "platform" && parsed.name === "ChunkReady")
          await d.jobs.refundChunkAttempt(parsed.detail.jobId, parsed.detail.chunk.index);
        await d.events.publish({ name: parsed.name, detail: parsed.detail } as DomainEvent);
        return "redriven";
      }
      await failOnDeadLetter(deps(), {
        handler,
        queue: TASK_STOPPED_QUEUE,
        envelope,
        error,
        attempts,
        nextStep:
          "The Fargate task stopped before it finished (see the Worker log group). " +
          "Retry the job with POST /jobs/:id/retry.",
      });
    }
    return stopped.outcome;
  };
}

export const handler = taskStoppedHandler();
