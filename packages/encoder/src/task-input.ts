import { z } from "zod";
import { parseEnvelope, type HandlerName } from "@videoforge/events";
import { handlers, type ParsedEvent } from "@videoforge/functions";

/**
 * The task's contract, the same on Fargate (RunTask container overrides, set by
 * adapters/ecs-task-launcher.ts) and locally (packages/local/src/task-runner.ts):
 * VIDEOFORGE_HANDLER, VIDEOFORGE_EVENT (the EventBridge envelope as JSON) and, on AWS,
 * VIDEOFORGE_TASK_ATTEMPTS. Endpoints and names come through the config module.
 */
export interface TaskInput {
  handler: HandlerName;
  event: ParsedEvent;
  /** How many times to run the handler in this process; 1 locally, where the bus retries. */
  attempts: number;
}

const Attempts = z.coerce.number().int().min(1).max(10);

export function taskInput(env: Record<string, string | undefined>): TaskInput {
  const name = env.VIDEOFORGE_HANDLER ?? "encoder";
  if (!(name in handlers)) throw new Error(`unknown handler "${name}"; expected one of ${Object.keys(handlers).join(", ")}`);
  const raw = env.VIDEOFORGE_EVENT;
  if (!raw) throw new Error("VIDEOFORGE_EVENT is not set: the task needs the event it should handle");
  const attempts = Attempts.safeParse(env.VIDEOFORGE_TASK_ATTEMPTS ?? "1");
  if (!attempts.success) throw new Error(`VIDEOFORGE_TASK_ATTEMPTS must be an integer from 1 to 10, got "${env.VIDEOFORGE_TASK_ATTEMPTS}"`);
  return { handler: name as HandlerName, event: parseEnvelope(JSON.parse(raw) as unknown), attempts: attempts.data };
}
