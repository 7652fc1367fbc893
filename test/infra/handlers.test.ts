import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { handlerNames, handlerSpecs, hasLambda, kebab, topology, type HandlerName } from "@videoforge/events";
import { requiredActions, unitCalls, type Unit } from "@videoforge/core/handler-calls";
import { handlers } from "@videoforge/functions";
import { functionArtifacts, handlerArtifact } from "../../stacks/artifacts.ts";
import { handlerAccess, mergeGrants, taskAccess } from "../../stacks/access.ts";
import { ruleSpecs } from "../../stacks/rules.ts";

/**
 * The claim of events/src/handlers.ts: adding a handler is one entry there, a subscription in
 * the topology and one file in packages/functions/src/handlers/; everything the local bus and
 * the stacks need follows from those.
 */
const root = resolve(import.meta.dirname, "../..");
const handlersDir = join(root, "packages/functions/src/handlers");
const lambdaDir = join(root, "packages/functions/src/lambda");
const specs = ruleSpecs();

/** A unit's granted actions per store, as one IAM statement per store holds them. */
const granted = (name: HandlerName) =>
  Object.fromEntries(mergeGrants(handlerAccess[name]).map((g) => [g.store, g.actions]));

describe.each(handlerNames)("handler %s", (name) => {
  const spec = handlerSpecs[name];

  it("has its code in handlers/<kebab-name>.ts, loaded by the registry", () => {
    expect(existsSync(join(handlersDir, `${kebab(name)}.ts`))).toBe(true);
    expect(typeof handlers[name].handle).toBe("function");
  });

  it("is subscribed, and every rule for it has a target that runs it", () => {
    const rules = specs.filter((s) => s.handler === name);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      if (rule.target.kind === "task") expect(rule.target.taskHandler).toBe(name);
      else expect(rule.target.artifact).toBe(handlerArtifact(name));
    }
  });

  it("has a Lambda artifact with its declared limits when it can run on Lambda, none otherwise", () => {
    const lambdaRules = specs.filter((s) => s.handler === name && s.runtime === "lambda");
    if (!hasLambda(name)) {
      expect(lambdaRules).toEqual([]);
      expect(() => handlerArtifact(name)).toThrow(/runs only as a task/);
      return;
    }
    expect(functionArtifacts[handlerArtifact(name)]).toEqual({ ...handlerSpecs[name].lambda, handler: name });
    // no per-handler entry file: the build bundles the generic entry with the name
    expect(existsSync(join(lambdaDir, `${kebab(name)}.ts`))).toBe(false);
  });

  it("is granted every IAM action its declared calls need, and the calls are the IAM test's", () => {
    expect(unitCalls[kebab(name) as Unit]).toEqual(spec.calls);
    const grants = granted(name);
    for (const [store, actions] of Object.entries(requiredActions(spec.calls))) {
      expect(grants[store] ?? [], `${name} on ${store}`).toEqual(expect.arrayContaining(actions));
    }
    // nothing on a store it never calls
    expect(Object.keys(grants).sort()).toEqual(Object.keys(spec.calls).sort());
  });
});

describe("the handler table", () => {
  it("names exactly the handlers the topology routes to", () => {
    expect([...new Set(topology.map((s) => s.handler))].sort()).toEqual([...handlerNames].sort());
  });

  it("keeps least privilege where the pipeline relies on it", () => {
    // the recorder only appends to the timeline; the finisher only reads what the assembler wrote
    expect(granted("recorder")).toEqual({ table: expect.any(Array) });
    expect(granted("finisher").outputs).toEqual(["s3:GetObject", "s3:ListBucket"]);
    expect(granted("assembler").work).not.toContain("s3:PutObject");
    // the task role holds the union of what the task-runtime handlers need
    const task = taskAccess(["encoder", "chunker", "assembler"])
      .map((g) => g.store)
      .sort();
    expect(task).toEqual(["bus", "outputs", "table", "uploads", "work"]);
  });

  it("has only handler modules in handlers/: the registry's import is a glob that esbuild bundles whole", () => {
    const files = readdirSync(handlersDir)
      .filter((f) => f.endsWith(".ts"))
      .sort();
    expect(files).toEqual([...handlerNames.map((h) => `${kebab(h)}.ts`), "on.ts"].sort());
  });
});
