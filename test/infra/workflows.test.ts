/**
 * The GitHub Actions workflow cannot run here: check it offline. Every file under
 * .github/workflows is valid against the published workflow schema (action-validator), and
 * the deploy holds the facts the project relies on: tests on every push, prod deployed
 * from main only after them, AWS credentials from OIDC (a role, never stored keys), Node 22.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { NODE_MAJOR } from "../../stacks/artifacts.ts";

const dir = path.resolve(import.meta.dirname, "../../.github/workflows");
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const source = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  container?: string;
  steps: Step[];
}
const workflow = parse(source("ci.yml")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const steps = (job: string) => workflow.jobs[job]!.steps;

describe("GitHub Actions workflows", () => {
  it.each(files)("%s is valid against the workflow schema", (f) => {
    const { errors } = validateWorkflow(source(f));
    expect(errors).toEqual([]);
  });

  it("the schema check refuses a broken workflow (it is not a no-op)", () => {
    const broken = source("ci.yml")
      .replace("runs-on: ubuntu-24.04", "runs-on: [ubuntu-24.04")
      .replace("steps:", "stepz:");
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
    const typo = source("ci.yml").replace(/^permissions:\n  contents: read/m, "permissions:\n  contents: maybe");
    expect(validateWorkflow(typo).errors.length).toBeGreaterThan(0);
  });

  it("runs .ci/run on every push, on Node 22", () => {
    expect(workflow.on).toHaveProperty("push");
    expect((workflow.on.push as { branches?: unknown } | null)?.branches).toBeUndefined();
    expect(
      steps("test")
        .map((s) => s.run)
        .filter(Boolean),
    ).toEqual(["bash .ci/run"]);
    for (const job of Object.keys(workflow.jobs)) {
      const node = steps(job).find((s) => s.uses?.startsWith("actions/setup-node@"));
      expect(node?.with?.["node-version"], job).toBe(NODE_MAJOR);
    }
    expect(workflow.jobs.test!.container).toMatch(new RegExp(`^node:${NODE_MAJOR}-`));
  });

  it("deploys prod from main only, after the tests, with an OIDC role and no stored keys", () => {
    const deploy = workflow.jobs.deploy!;
    expect(deploy.needs).toBe("test");
    expect(deploy.if).toBe("github.ref == 'refs/heads/main' && github.event_name == 'push'");
    expect(deploy.permissions).toEqual({ contents: "read", "id-token": "write" });
    // no other job may mint an OIDC token
    expect(workflow.permissions).toEqual({ contents: "read" });
    const creds = steps("deploy").find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(creds?.with).toMatchObject({ "role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}" });
    expect(Object.keys(creds!.with!)).not.toEqual(expect.arrayContaining(["aws-access-key-id"]));
    const runs = steps("deploy").map((s) => s.run ?? "");
    const credsAt = steps("deploy").indexOf(creds!);
    const deployAt = runs.findIndex((r) => r === "npx sst deploy --stage prod");
    expect(deployAt).toBeGreaterThan(credsAt);
    expect(runs.indexOf("npm run build:aws")).toBeGreaterThan(-1);
    expect(runs.indexOf("npm run build:aws")).toBeLessThan(deployAt);
  });

  it.each(files)("%s holds no AWS keys or secrets", (f) => {
    const text = source(f);
    expect(text).not.toMatch(
      /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AKIA[0-9A-Z]{16}/,
    );
    expect(text).not.toMatch(/secrets\./);
  });
});
