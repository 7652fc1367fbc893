import { Resource } from "sst/resource";
import { composeDeps, loadConfig, type Config, type Deps, type LogFields, type Logger } from "@videoforge/core";
import { LINK } from "@videoforge/core/config-sources";
import { parse } from "@aws-lambda-powertools/parser";
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/eventbridge";
import { parseEnvelope, topology, type Envelope } from "@videoforge/events";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ecsTaskStopper } from "@videoforge/core/ecs";
import type { TaskStopper } from "@videoforge/core";
import type { ParsedEvent } from "../handlers/on.ts";
import { powertoolsLogger } from "./powertools-logger.ts";

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

let lambdaCfg: Config | undefined;
/** The config of this Lambda, read once: explicit variables, then SST links, then defaults. */
export function lambdaConfig(): Config {
  return (lambdaCfg ??= loadConfig(undefined, linkedResources()));
}

/**
 * A Lambda's logger: Powertools Logger behind core's port, at the config's level
 * (VIDEOFORGE_LOG_LEVEL). Entries that log outside their deps (dead letters, stopped tasks,
 * the task launcher) make theirs here too.
 */
export function lambdaLogger(context: LogFields = {}, cfg: Pick<Config, "logLevel"> = lambdaConfig()): Logger {
  return powertoolsLogger(context, { level: cfg.logLevel });
}

let deps: Deps | undefined;
/** Built once per container and reused across invocations (clients keep their connections). */
export function lambdaDeps(): Deps {
  if (deps) return deps;
  const cfg = lambdaConfig();
  // no worker id in the context: the log stream already names the container
  return (deps = composeDeps(cfg, undefined, lambdaLogger({}, cfg)));
}

/**
 * The running-task port of a unit linked to the worker task (the API: DELETE /jobs/:id stops a
 * cancelled job's Fargate tasks): StopTask on the linked cluster, for the tasks every task rule
 * started. Undefined without the link (a unit that must not stop tasks).
 */
export function taskStopperFrom(
  resources: Record<string, unknown>,
  client: () => Pick<ECSClient, "send">,
): TaskStopper | undefined {
  const cluster = (resources[LINK.worker] as { cluster?: unknown } | undefined)?.cluster;
  if (typeof cluster !== "string" || !cluster) return undefined;
  const rules = topology.filter((s) => s.runtime === "task").map((s) => s.name);
  return ecsTaskStopper(client() as ECSClient, cluster, rules);
}

let apiDepsOnce: Deps | undefined;
/** The API function's deps: the shared ones, plus the task stopper of the linked worker cluster. */
export function apiDeps(): Deps {
  if (apiDepsOnce) return apiDepsOnce;
  const base = lambdaDeps();
  const tasks = taskStopperFrom(linkedResources(), () => new ECSClient({ region: base.cfg.region }));
  return (apiDepsOnce = tasks ? { ...base, tasks } : base);
}

/**
 * EventBridge envelope (Powertools' schema: the AWS shape, ISO time) and then the catalog's
 * schema for its detail. Either failing throws, so the event is retried, then dead-lettered.
 */
export function parseEventBridge(event: unknown): { envelope: Envelope; parsed: ParsedEvent } {
  const envelope = parse(event, undefined, EventBridgeSchema);
  return { envelope, parsed: parseEnvelope(envelope) };
}
