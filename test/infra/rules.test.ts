import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventNames, OUTWARD_EVENTS, topology, type EventName, type Envelope } from "@videoforge/events";
import { createLogger } from "@videoforge/core";
import { createLocalBus, deadLetterStore, matches, type EventPattern } from "@videoforge/local";
import { handlers } from "@videoforge/functions";
import { LAMBDA_MAX_ASYNC_RETRIES, ruleSpecs, type RuleSpec } from "../../stacks/rules.ts";
import { samples, envelopeOf } from "./samples.ts";

const specs = ruleSpecs();
const root = resolve(import.meta.dirname, "../..");
const scratch = await mkdtemp(join(tmpdir(), "videoforge-rules-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const allSamples = eventNames.flatMap((name) =>
  (samples[name] as never[]).map((p) => ({ name, env: envelopeOf(name, p) })),
);
/** Rules whose deployed pattern (the JSON the stack sets, parsed back) matches the event. */
const deployedMatches = (env: Envelope) =>
  specs
    .filter((s) => matches(JSON.parse(s.patternJson) as EventPattern, env))
    .map((s) => s.name)
    .sort();

/** What the local bus dispatches for one event: it is fed the same entry a publisher sends. */
async function localDispatch(env: Envelope): Promise<string[]> {
  const delivered: string[] = [];
  const bus = createLocalBus({
    topology,
    dlq: deadLetterStore(scratch),
    log: createLogger({ test: "rules" }),
    deliver: async (sub) => {
      delivered.push(sub.name);
    },
  });
  const res = bus.putEvents([
    {
      Source: env.source,
      DetailType: env["detail-type"],
      Detail: JSON.stringify(env.detail),
      EventBusName: "videoforge",
    },
  ]);
  expect(res.FailedEntryCount).toBe(0);
  await bus.idle();
  bus.close();
  return delivered.sort();
}

describe("rule specs derived from the topology", () => {
  it("gives every subscription exactly one rule, with the same pattern the local bus matches", () => {
    expect(specs.map((s) => s.name)).toEqual(topology.map((s) => s.name));
    for (const [i, sub] of topology.entries()) {
      const spec = specs[i]!;
      expect(JSON.parse(spec.patternJson), sub.name).toEqual(sub.pattern);
      expect(spec.runtime, sub.name).toBe(sub.runtime);
      expect(spec.handler, sub.name).toBe(sub.handler);
    }
    expect(new Set(specs.map((s) => s.id)).size).toBe(specs.length);
  });

  it("has exactly one rule per subscriber for every catalog event that has a consumer", () => {
    for (const name of eventNames) {
      const declared = topology
        .filter((s) => s.events.includes(name))
        .map((s) => s.name)
        .sort();
      const rules = specs
        .filter((s) => s.events.includes(name))
        .map((s) => s.name)
        .sort();
      expect({ name, rules }).toEqual({ name, rules: declared });
    }
    // every event is consumed by someone (at least the recorder), but the announcements for outside listeners
    for (const name of eventNames)
      expect(
        specs.some((s) => s.events.includes(name)),
        name,
      ).toBe(!OUTWARD_EVENTS.includes(name));
  });

  it("gives every rule a retry policy EventBridge accepts and its own dead-letter queue", () => {
    const queues = specs.map((s) => s.deadLetter.name);
    expect(new Set(queues).size).toBe(specs.length);
    for (const [i, spec] of specs.entries()) {
      const sub = topology[i]!;
      expect(spec.retryPolicy, spec.name).toEqual({
        maximumRetryAttempts: sub.retry.maximumRetryAttempts,
        maximumEventAgeInSeconds: sub.retry.maximumEventAgeSeconds,
      });
      expect(spec.retryPolicy.maximumRetryAttempts).toBeLessThanOrEqual(185);
      expect(spec.retryPolicy.maximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
      expect(spec.retryPolicy.maximumEventAgeInSeconds).toBeLessThanOrEqual(86_400);
      expect(spec.deadLetter.name, spec.name).toBe(sub.deadLetter);
      // Lambda's own async retries cap at 2; the rule's budget is honoured up to that
      expect(spec.invoke.maximumRetryAttempts, spec.name).toBe(
        Math.min(sub.retry.maximumRetryAttempts, LAMBDA_MAX_ASYNC_RETRIES),
      );
      expect(spec.invoke.maximumEventAgeInSeconds, spec.name).toBe(sub.retry.maximumEventAgeSeconds);
    }
  });

  it("targets a Lambda entry that exists for lambda and queue rules and the task launcher for task rules", async () => {
    for (const spec of specs) {
      const file = join(root, spec.target.handler.replace(/\.handler$/, ".ts"));
      expect((await stat(file)).isFile(), file).toBe(true);
      if (spec.runtime === "lambda") {
        expect(spec.target.kind, spec.name).toBe("lambda");
        expect(handlers[spec.handler], spec.name).toBeDefined();
      } else if (spec.runtime === "queue") {
        // the generic entry, in its SQS mode; the queue keeps a message longer than a day of retries
        expect(spec.target, spec.name).toMatchObject({
          kind: "queue",
          handler: "packages/functions/src/lambda/event-handler.handler",
          receives: 100,
          retentionSeconds: 4 * 86_400,
        });
        expect(handlers[spec.handler], spec.name).toBeDefined();
      } else {
        const target = spec.target as Extract<RuleSpec["target"], { kind: "task" }>;
        expect(target.kind, spec.name).toBe("task");
        expect(target.taskHandler).toBe(spec.handler);
        expect(target.environment).toEqual({ VIDEOFORGE_TASK_RULE: spec.name });
        expect(target.attempts).toBe(1 + spec.retryPolicy.maximumRetryAttempts);
      }
    }
    // large sources split and assemble on the task with room on disk; encoding keeps the default
    const task = (name: string) =>
      specs.find((s) => s.name === name)!.target as Extract<RuleSpec["target"], { kind: "task" }>;
    expect(task("encode-chunk").storageGiB).toBeUndefined();
    expect(task("chunk-large-source").storageGiB).toBe(200);
    expect(task("assemble-large").storageGiB).toBe(200);
  });

  it("routes every sample of every catalog type to the same rules as the local bus", async () => {
    const seen = new Set<EventName>();
    for (const { name, env } of allSamples) {
      const local = await localDispatch(env);
      expect({ name, rules: deployedMatches(env) }).toEqual({ name, rules: local });
      expect(local.length > 0, name).toBe(!OUTWARD_EVENTS.includes(name));
      seen.add(name);
    }
    expect([...seen].sort()).toEqual([...eventNames].sort());
  });

  it("sends small and large uploads to different runtimes, as the local bus does", async () => {
    const small = envelopeOf("VideoUploaded", samples.VideoUploaded[2]!); // 999 MB
    const large = envelopeOf("VideoUploaded", samples.VideoUploaded[3]!); // 1000 MB
    expect(await localDispatch(small)).toEqual(["chunk-small-source", "record-timeline"]);
    expect(deployedMatches(large)).toEqual(["chunk-large-source", "record-timeline"]);
    expect(specs.find((s) => s.name === "chunk-large-source")!.target.kind).toBe("task");
  });
});
