import { handlerNames, kebab, type HandlerName } from "@videoforge/events";
import type { Handler } from "./handlers/on.ts";

const isHandler = (value: unknown): value is Handler =>
  typeof value === "object" && value !== null && typeof (value as Partial<Handler>).handle === "function";

/**
 * Each handler's code, from `handlers/<kebab-name>.ts`, export `<name>`. Loaded by name so a
 * handler in events/src/handlers.ts needs no line here; esbuild bundles the template import
 * as a glob over handlers/ (so only handler modules belong there). A missing file or export
 * fails this module's load, and with it test/infra/handlers.test.ts and every build
 * that is tested, never a deployed function on its first event.
 */
async function load(name: HandlerName): Promise<[HandlerName, Handler]> {
  const file = kebab(name);
  const mod = (await import(`./handlers/${file}.ts`)) as Record<string, unknown>;
  const handler = mod[name];
  if (!isHandler(handler))
    throw new Error(`packages/functions/src/handlers/${file}.ts exports no Handler named ${name}`);
  return [name, handler];
}

/** Handler code by the name the topology uses; the local bus, the task entry and Lambda entries look here. */
export const handlers = Object.fromEntries(await Promise.all(handlerNames.map(load))) as Record<HandlerName, Handler>;
