/**
 * The task entry point. On AWS the launcher Lambda starts the container with ECS RunTask,
 * passing the EventBridge envelope in VIDEOFORGE_EVENT, the handler in VIDEOFORGE_HANDLER and
 * its attempt budget in VIDEOFORGE_TASK_ATTEMPTS (container overrides); locally the task
 * runner starts this file the same way. Exit 0 = handled, 1 = gave up.
 */
import { composeDeps } from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { taskInput } from "./task-input.ts";

/** Errors no retry can fix: the event itself is wrong. */
const permanent = (err: unknown) => err instanceof Error && err.name === "InvalidEventError";

async function main(): Promise<void> {
  const input = taskInput(process.env);
  const deps = composeDeps();
  const handler = handlers[input.handler];
  const context = { handler: input.handler, event: input.event.name, eventId: input.event.id, jobId: input.event.detail.jobId };
  deps.log.info("task started", { ...context, attempts: input.attempts });
  // RunTask reports nothing back to EventBridge, so on Fargate the retries happen here;
  // every handler is idempotent, so running one again is safe
  for (let attempt = 1; ; attempt++) {
    try {
      await handler.handle(deps, input.event);
      return;
    } catch (err) {
      if (attempt >= input.attempts || permanent(err)) throw err;
      deps.log.warn("task attempt failed; retrying", { ...context, attempt, err: err instanceof Error ? err.message : String(err) });
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(JSON.stringify({ level: "error", msg: "task failed", err: err instanceof Error ? err.message : String(err) }) + "\n");
    process.exit(1);
  },
);
