import { parseEnvelope, type HandlerName } from "@videoforge/events";
import type { ProcessSettings } from "@videoforge/core";
import { handlers, type ParsedEvent } from "@videoforge/functions";

/**
 * The task's contract, the same on Fargate (RunTask container overrides, set by
 * adapters/ecs-task-launcher.ts) and locally (packages/local/src/tasks/task-runner.ts):
 * VIDEOFORGE_HANDLER, VIDEOFORGE_EVENT (the EventBridge envelope as JSON) and, on AWS,
 * VIDEOFORGE_TASK_ATTEMPTS, parsed by the config module (`processSettings().task`), like the
 * endpoints and names.
 */
export interface TaskInput {
  handler: HandlerName;
  event: ParsedEvent;
  /** How many times to run the handler in this process; 1 locally, where the bus retries. */
  attempts: number;
}

/** The handler and event a task runs: names checked against the registry, the event against its schema. */
export function taskInput(task: ProcessSettings["task"]): TaskInput {
  const name = task.handler ?? "encoder";
  if (!(name in handlers))
    throw new Error(`unknown handler "${name}"; expected one of ${Object.keys(handlers).join(", ")}`);
  if (!task.event) throw new Error("VIDEOFORGE_EVENT is not set: the task needs the event it should handle");
  return {
    handler: name as HandlerName,
    event: parseEnvelope(JSON.parse(task.event) as unknown),
    attempts: task.attempts,
  };
}
