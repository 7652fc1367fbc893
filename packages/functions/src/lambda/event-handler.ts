import type { HandlerName } from "@videoforge/events";
import { handlers } from "../registry.ts";
import { lambdaDeps, parseEventBridge } from "./runtime.ts";
import type { Deps } from "@videoforge/core";

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
