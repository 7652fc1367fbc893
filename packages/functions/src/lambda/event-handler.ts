/**
 * The one Lambda entry of every topology handler. `npm run build:aws` bundles it once per
 * handler with the name fixed at build time (stacks/build-artifacts.ts); `sst dev`, which runs
 * TypeScript files, calls `handler` here, and the stacks name the handler in VIDEOFORGE_HANDLER.
 */
import { isHandlerName, type HandlerName } from "@videoforge/events";
import { processSettings, type Deps } from "@videoforge/core";
import { handlers } from "../registry.ts";
import { lambdaDeps, parseEventBridge } from "./runtime.ts";

/**
 * A Lambda target of one EventBridge rule: parse, then the same handler code the local bus
 * calls in process. A throw fails the invocation, which is what makes Lambda retry it.
 */
export function eventHandler(name: HandlerName, deps: () => Deps = lambdaDeps) {
  const handler = handlers[name];
  return async (event: unknown): Promise<void> => {
    const { parsed } = parseEventBridge(event);
    await handler.handle(deps(), parsed);
  };
}

/** The handler VIDEOFORGE_HANDLER names; an unknown name fails the first invocation loudly. */
function namedHandler(): (event: unknown) => Promise<void> {
  const name = processSettings().task.handler ?? "";
  if (!isHandlerName(name)) throw new Error(`VIDEOFORGE_HANDLER names no handler: "${name}" (events/src/handlers.ts)`);
  return eventHandler(name);
}

let named: ((event: unknown) => Promise<void>) | undefined;

/** `sst dev`'s entry (`packages/functions/src/lambda/event-handler.handler`). */
export const handler = (event: unknown): Promise<void> => (named ??= namedHandler())(event);
