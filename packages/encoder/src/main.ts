/**
 * The task entry point. On AWS, ECS RunTask starts the container with the EventBridge
 * envelope in VIDEOFORGE_EVENT (a container override) and the handler name in
 * VIDEOFORGE_HANDLER; locally the task runner starts this file the same way.
 */
import { composeDeps } from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { parseEnvelope, type HandlerName } from "@videoforge/events";

async function main(): Promise<void> {
  const name = (process.env.VIDEOFORGE_HANDLER ?? "encoder") as HandlerName;
  const handler = handlers[name];
  if (!handler) throw new Error(`unknown handler "${name}"; expected one of ${Object.keys(handlers).join(", ")}`);
  const raw = process.env.VIDEOFORGE_EVENT;
  if (!raw) throw new Error("VIDEOFORGE_EVENT is not set: the task needs the event it should handle");
  const event = parseEnvelope(JSON.parse(raw) as unknown);
  const deps = composeDeps();
  deps.log.info("task started", { handler: name, event: event.name, jobId: event.detail.jobId });
  await handler.handle(deps, event);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(JSON.stringify({ level: "error", msg: "task failed", err: err instanceof Error ? err.message : String(err) }) + "\n");
    process.exit(1);
  },
);
