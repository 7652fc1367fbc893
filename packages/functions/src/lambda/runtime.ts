import { Resource } from "sst/resource";
import { composeDeps, loadConfig, type Config, type Deps } from "@videoforge/core";
import { LINK, withLinkedResources } from "@videoforge/core/config-sources";
import { parse } from "@aws-lambda-powertools/parser";
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { parseEnvelope, type Envelope } from "@videoforge/events";
import type { ParsedEvent } from "../handlers/on.ts";

/**
 * What a Lambda entry shares: configuration from SST links (Lambda gets them in an encrypted
 * file only `Resource` reads) and the envelope parsing every EventBridge target needs.
 */
export function linkedResources(): Record<string, unknown> {
  // Resource is a proxy that throws on a name that is not linked: ask before reading
  const resources = Resource as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of Object.values(LINK)) if (name in resources) out[name] = resources[name];
  return out;
}

/** The config of this Lambda: explicit variables, then SST links, then defaults. */
export function lambdaConfig(env: Record<string, string | undefined> = process.env): Config {
  return loadConfig(withLinkedResources(env, linkedResources()));
}

let deps: Deps | undefined;
/** Built once per container and reused across invocations (clients keep their connections). */
export function lambdaDeps(): Deps {
  return (deps ??= composeDeps(lambdaConfig()));
}

/**
 * EventBridge envelope (Powertools' schema: the AWS shape, ISO time) and then the catalog's
 * schema for its detail. Either failing throws, so the event is retried, then dead-lettered.
 */
export function parseEventBridge(event: unknown): { envelope: Envelope; parsed: ParsedEvent } {
  const envelope = parse(event, undefined, EventBridgeSchema);
  return { envelope, parsed: parseEnvelope(envelope) };
}
