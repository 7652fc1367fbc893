/**
 * `sst.config.ts` for `--stage prod` and a dev stage (`sst dev` as alice), run under Pulumi's
 * mocks (test/infra/stacks-harness.ts, one child process per stage) and asserted on the
 * resource graph it records: what `sst deploy` would ask AWS to create, without an account.
 *
 * Run with `npm run test:stacks` (not part of `npm test`: ~20-60 s of CPU for both stages).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { topology } from "@videoforge/events";
import { requiredActions, unitCalls, type Unit } from "@videoforge/core/handler-calls";
import { taskStopperFrom } from "@videoforge/functions/lambda/runtime";
import { DEV_TASK_SIZE, TASK_SIZES } from "@videoforge/functions/lambda/task-policy";
import { BUILD_DIR, functionArtifacts, handlerArtifact, LAMBDA_RUNTIME, NODE_MAJOR } from "../../stacks/artifacts.ts";
import { HANDLER_ENTRY } from "../../stacks/rules.ts";
import { REPO_ROOT, type RecordedResource, type Recording } from "./stacks-harness.ts";

const run = promisify(execFile);

async function record(stage: string, dev: boolean, deployEnv: Record<string, string> = {}): Promise<Recording> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "videoforge-graph-")), `${stage}.json`);
  await run(
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "test/infra/stacks-harness.ts"), stage, dev ? "1" : "0", out],
    {
      cwd: REPO_ROOT,
      timeout: 540_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        VIDEOFORGE_OPEN_SIGNUP: "",
        VIDEOFORGE_ALARM_EMAIL: "",
        VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: "",
        ...deployEnv,
      },
    },
  );
  return JSON.parse(fs.readFileSync(out, "utf8")) as Recording;
}

/** The recorded graph with lookups the assertions share. */
class Graph {
  constructor(readonly rec: Recording) {}
  of(type: string): RecordedResource[] {
    return this.rec.resources.filter((r) => r.custom && r.type === type);
  }
  one(type: string, name: string): RecordedResource {
    const found = this.of(type).filter((r) => r.name === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0]!;
  }
  byArn(type: string, arn: string): RecordedResource | undefined {
    return this.of(type).find((r) => r.state.arn === arn);
  }
  count(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.rec.resources) if (r.custom) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }
  /** A role's statements, from SST's and our inline policies alike (getPolicyDocument's shape). */
  statements(role: RecordedResource): { actions: string[]; resources: string[] }[] {
    return (role.inputs.inlinePolicies ?? []).flatMap((p: { policy: string }) => JSON.parse(p.policy).Statement);
  }
  roleOf(fn: RecordedResource): RecordedResource {
    const role = this.byArn("aws:iam/role:Role", fn.inputs.role);
    expect(role, `the role of ${fn.name}`).toBeDefined();
    return role!;
  }
  /** Which artifact each Lambda runs: the bundle SST was asked to ship, or the image's handler. */
  artifactOf(fn: RecordedResource): string {
    if (fn.inputs.packageType === "Image") return fn.inputs.environment.variables.VIDEOFORGE_HANDLER;
    const id = fn.name.replace(/Function$/, "");
    const build = this.rec.rpc.find(
      (c) => (c.method === "Runtime.Build" || c.method === "Runtime.AddTarget") && c.args?.functionID === id,
    );
    expect(build, `the build of ${fn.name}`).toBeDefined();
    if (build!.args.bundle) return path.basename(build!.args.bundle);
    // `sst dev` runs the TypeScript entry: packages/functions/src/lambda/<entry>.handler, the
    // generic one for a topology handler, named by the function's VIDEOFORGE_HANDLER
    const entry = path.basename(String(build!.args.handler)).replace(/\.handler$/, "");
    if (entry === HANDLER_ENTRY) return handlerArtifact(fn.inputs.environment.variables.VIDEOFORGE_HANDLER);
    return Object.entries(functionArtifacts).find(([, a]) => "entry" in a && a.entry === entry)![0];
  }
  policyOfQueue(queueArn: string): Record<string, any> | undefined {
    const policy = this.of("aws:sqs/queuePolicy:QueuePolicy").find(
      (p) => JSON.parse(p.inputs.policy).Statement[0].Resource === queueArn,
    );
    return policy && JSON.parse(policy.inputs.policy);
  }
}

/** Whether a statement list allows `action` on `resource` (exact ARNs or a trailing `*`, action wildcards). */
function allows(statements: { actions: string[]; resources: string[] }[], action: string, resource: string): boolean {
  const match = (pattern: string, value: string) =>
    pattern === value || (pattern.endsWith("*") && value.startsWith(pattern.slice(0, -1)));
  return statements.some((s) => s.actions.some((a) => match(a, action)) && s.resources.some((r) => match(r, resource)));
}

let prod: Graph;
let dev: Graph;

beforeAll(async () => {
  // prod's operator moved the Lambda routing limit; alice left it at the default
  const [p, d] = await Promise.all([
    record("prod", false, { VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: "12" }),
    record("alice", true),
  ]);
  prod = new Graph(p);
  dev = new Graph(d);
  // the figures the issue's closing note asks for
  console.log(JSON.stringify({ prod: prod.count(), alice: dev.count() }, null, 1));
}, 600_000);

describe.each([
  ["prod", () => prod],
  ["alice (sst dev)", () => dev],
])("stacks under Pulumi's mocks: %s", (_stage, graph) => {
  it("runs sst.config.ts to the end without an error", () => {
    expect(graph().rec.errors).toEqual([]);
    // every registration finished: nothing waits on an output that never resolves
    expect(graph().rec.drained).toBe(true);
    expect(graph().rec.outputs).toMatchObject({ rules: String(topology.length) });
  });

  it("gives every EventBridge target a retry policy and a dead-letter queue whose policy names that rule", () => {
    const g = graph();
    const targets = g
      .of("aws:cloudwatch/eventTarget:EventTarget")
      .filter(
        (t) =>
          !g
            .of("aws:cloudwatch/eventRule:EventRule")
            .some((r) => r.state.name === t.inputs.rule && r.inputs.scheduleExpression),
      );
    // one per topology rule, plus WorkerTaskStopped on the default bus
    expect(targets).toHaveLength(topology.length + 1);
    for (const target of targets) {
      const rule = g.of("aws:cloudwatch/eventRule:EventRule").find((r) => r.state.name === target.inputs.rule);
      expect(rule, `the rule of ${target.name}`).toBeDefined();
      expect(target.inputs.retryPolicy?.maximumRetryAttempts, target.name).toBeGreaterThan(0);
      expect(target.inputs.retryPolicy?.maximumEventAgeInSeconds, target.name).toBeGreaterThan(0);
      const dlq = target.inputs.deadLetterConfig?.arn;
      expect(dlq, `${target.name} has a dead-letter queue`).toMatch(/^arn:aws:sqs:/);
      const policy = g.policyOfQueue(dlq);
      expect(policy, `the policy of ${dlq}`).toBeDefined();
      expect(policy!.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Condition: { ArnEquals: { "aws:SourceArn": rule!.state.arn } },
        }),
      ]);
    }
    const stopped = targets.find((t) => t.inputs.eventBusName === "default");
    expect(stopped?.inputs.deadLetterConfig.arn).toMatch(/task-stopped-dlq$/);
  });

  it("routes every topology rule with its pattern verbatim and its retry budget", () => {
    const g = graph();
    for (const sub of topology) {
      const rule = g
        .of("aws:cloudwatch/eventRule:EventRule")
        .find((r) => r.inputs.eventPattern === JSON.stringify(sub.pattern));
      expect(rule, sub.name).toBeDefined();
      const target = g.of("aws:cloudwatch/eventTarget:EventTarget").find((t) => t.inputs.rule === rule!.state.name)!;
      expect(target.inputs.retryPolicy).toEqual({
        maximumRetryAttempts: sub.retry.maximumRetryAttempts,
        maximumEventAgeInSeconds: sub.retry.maximumEventAgeSeconds,
      });
      expect(target.inputs.deadLetterConfig.arn).toMatch(new RegExp(`-${sub.deadLetter}$`));
    }
  });

  it("creates exactly one API function, routed for every path, the token-less health check and share links", () => {
    const g = graph();
    const fns = g.of("aws:lambda/function:Function").filter((f) => g.artifactOf(f) === "api");
    expect(fns).toHaveLength(1);
    const integrations = g.of("aws:apigatewayv2/integration:Integration");
    expect(integrations.length).toBeGreaterThanOrEqual(2);
    for (const i of integrations) expect(i.inputs.integrationUri).toContain(fns[0]!.state.arn);
    const routes = g.of("aws:apigatewayv2/route:Route").map((r) => [r.inputs.routeKey, r.inputs.authorizationType]);
    expect(routes).toEqual(
      expect.arrayContaining([
        ["$default", "JWT"],
        ["GET /health", "NONE"],
        ["GET /shared/{proxy+}", "NONE"],
      ]),
    );
    // nothing else goes around the authorizer
    expect(
      routes
        .filter(([, auth]) => auth !== "JWT")
        .map(([key]) => key)
        .sort(),
    ).toEqual(["GET /health", "GET /shared/{proxy+}"]);
  });

  it("lets only the dashboard call the API cross-origin, exposing ETag and allowing If-None-Match", () => {
    const g = graph();
    const [api] = g.of("aws:apigatewayv2/api:Api");
    const cors = api!.inputs.corsConfiguration;
    const dashboard = g.of("aws:cloudfront/distribution:Distribution").map((d) => `https://${d.state.domainName}`);
    expect(cors.allowOrigins).not.toContain("*");
    expect(cors.allowOrigins[0]).toBe(dashboard[0]);
    expect(cors.exposeHeaders.map((h: string) => h.toLowerCase())).toContain("etag");
    expect(cors.allowHeaders.map((h: string) => h.toLowerCase())).toEqual(
      expect.arrayContaining(["if-none-match", "authorization"]),
    );
    // browsers PUT upload parts straight to the uploads bucket: the same origins, ETag exposed
    const uploads = g.one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "UploadsBucketCors").inputs
      .corsRules[0];
    expect(uploads.allowedOrigins).toEqual(cors.allowOrigins);
    expect(uploads.exposeHeaders).toContain("ETag");
  });

  it("signs in through a hosted UI with the PKCE code flow; sign-up is for administrators only", () => {
    const g = graph();
    const [pool] = g.of("aws:cognito/userPool:UserPool");
    expect(pool!.inputs.adminCreateUserConfig).toEqual({ allowAdminCreateUserOnly: true });
    expect(g.of("aws:cognito/userPoolDomain:UserPoolDomain")).toHaveLength(1);
    const [client] = g.of("aws:cognito/userPoolClient:UserPoolClient");
    expect(client!.inputs).toMatchObject({
      allowedOauthFlows: ["code"],
      allowedOauthFlowsUserPoolClient: true,
      generateSecret: false,
    });
    const dashboard = `https://${g.of("aws:cloudfront/distribution:Distribution")[0]!.state.domainName}`;
    expect(client!.inputs.callbackUrls).toEqual(
      expect.arrayContaining([dashboard, `${dashboard}/`, "http://localhost:8765/callback"]),
    );
    expect(client!.inputs.logoutUrls).toContain(`${dashboard}/`);
    for (const url of client!.inputs.callbackUrls)
      expect(url).toMatch(/^(https:\/\/|http:\/\/(localhost|127\.0\.0\.1):)/);
    const site = g.rec.resources.find((r) => r.type === "command:local:Command");
    const outputs = g.rec.outputs as Record<string, string>;
    expect(outputs.authDomain).toMatch(/^https:\/\/videoforge-.+\.auth\.us-east-1\.amazoncognito\.com$/);
    expect(outputs.authClientId).toBe(client!.state.id ?? "WebClient-id");
    expect(outputs.authIssuer).toMatch(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//);
    if (site)
      expect(site.inputs.environment).toMatchObject({
        VITE_COGNITO_DOMAIN: outputs.authDomain,
        VITE_COGNITO_CLIENT_ID: outputs.authClientId,
        VITE_COGNITO_ISSUER: outputs.authIssuer,
      });
  });

  it("sweeps stalled jobs every 5 minutes with the sweeper artifact", () => {
    const g = graph();
    const schedule = g
      .of("aws:cloudwatch/eventRule:EventRule")
      .find((r) => r.inputs.scheduleExpression === "rate(5 minutes)");
    expect(schedule).toBeDefined();
    const target = g.of("aws:cloudwatch/eventTarget:EventTarget").find((t) => t.inputs.rule === schedule!.state.name)!;
    const fn = g.of("aws:lambda/function:Function").find((f) => f.state.arn === target.inputs.arn)!;
    expect(g.artifactOf(fn)).toBe("sweeper");
  });

  it("tells the operator: alarms on failed-job rate, dead-letter errors, sweeper re-drives, to one SNS topic", () => {
    const g = graph();
    const [topic] = g.of("aws:sns/topic:Topic");
    const alarms = g.of("aws:cloudwatch/metricAlarm:MetricAlarm");
    const watched = alarms
      .flatMap((a) => [a.inputs.metricName, ...(a.inputs.metricQueries ?? []).map((q: any) => q.metric?.metricName)])
      .filter(Boolean);
    expect(watched).toEqual(
      expect.arrayContaining(["JobsFailed", "JobsCompleted", "DeadLetterErrors", "SweeperRedrives"]),
    );
    for (const a of alarms) {
      expect(a.inputs.alarmActions, a.name).toEqual([topic!.state.arn]);
      const namespaces = [
        a.inputs.namespace,
        ...(a.inputs.metricQueries ?? []).map((q: any) => q.metric?.namespace),
      ].filter(Boolean);
      for (const ns of namespaces) expect(["videoforge", "AWS/Lambda", "AWS/SQS"]).toContain(ns);
    }
    // no address configured: no subscription is made up
    expect(g.of("aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
  });
});

describe("prod", () => {
  it(`runs every zip function on ${LAMBDA_RUNTIME} from the project's bundle, ffmpeg steps from worker image`, () => {
    const fns = prod.of("aws:lambda/function:Function");
    expect(fns.map((f) => prod.artifactOf(f)).sort()).toEqual(
      [
        ...Object.keys(functionArtifacts).filter((a) => a !== "launch-task"),
        // one launcher per task rule: chunk, encode, assemble and import large sources
        ...topology.filter((s) => s.runtime === "task").map(() => "launch-task"),
      ].sort(),
    );
    const [image] = prod.of("docker-build:index:Image");
    expect(image!.inputs.dockerfile.location).toMatch(/packages\/worker\/Dockerfile$/);
    const definitions = prod.of("aws:ecs/taskDefinition:TaskDefinition")[0]!.inputs.containerDefinitions;
    const taskImage = (typeof definitions === "string" ? JSON.parse(definitions) : definitions)[0].image;
    expect(taskImage).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const fn of fns) {
      const artifact = prod.artifactOf(fn) as keyof typeof functionArtifacts;
      const spec: { kind: string; memoryMB: number; timeoutSeconds: number; ephemeralMB?: number } =
        functionArtifacts[artifact];
      expect(fn.inputs.memorySize, fn.name).toBe(spec.memoryMB);
      expect(fn.inputs.timeout, fn.name).toBe(spec.timeoutSeconds);
      if (spec.kind === "image") {
        expect(fn.inputs).toMatchObject({
          packageType: "Image",
          imageUri: taskImage,
          ephemeralStorage: { size: spec.ephemeralMB },
        });
        expect(fn.inputs.runtime).toBeUndefined();
      } else {
        expect(fn.inputs).toMatchObject({ packageType: "Zip", runtime: LAMBDA_RUNTIME, handler: "index.handler" });
      }
    }
    const media = ["chunker", "encoder", "assembler", "finisher"] as const;
    expect(media.every((a) => functionArtifacts[a].kind === "image")).toBe(true);
    // the light chunks' Lambda: six vCPUs (10 GB) to encode them as fast as a Lambda can
    expect(fns.find((f) => prod.artifactOf(f) === "encoder")!.inputs.memorySize).toBe(10240);
    expect(LAMBDA_RUNTIME).toBe(`nodejs${NODE_MAJOR}.x`);
    const bundles = prod.rec.rpc.filter((c) => c.method === "Runtime.Build").map((c) => c.args);
    for (const b of bundles) expect(b.bundle).toBe(`${BUILD_DIR}/functions/${path.basename(b.bundle)}`);
  });

  it("grants every function the IAM actions of every SDK call its handler makes, on the right resource", () => {
    const arnOf = (type: string, name: string) => prod.one(type, name).state.arn as string;
    const stores: Record<string, string> = {
      uploads: arnOf("aws:s3/bucket:Bucket", "UploadsBucketBucket"),
      work: arnOf("aws:s3/bucket:Bucket", "WorkBucketBucket"),
      outputs: arnOf("aws:s3/bucket:Bucket", "OutputsBucketBucket"),
      table: arnOf("aws:dynamodb/table:Table", "JobTableTable"),
      bus: arnOf("aws:cloudwatch/eventBus:EventBus", "EventBusBus"),
    };
    const taskDefinition = prod.of("aws:ecs/taskDefinition:TaskDefinition")[0]!.state.arn as string;
    const cluster = prod.of("aws:ecs/cluster:Cluster")[0]!.state.arn as string;
    const resourceFor = (store: string, action: string, fn: RecordedResource): string => {
      if (store in stores && store !== "table" && store !== "bus")
        return action === "s3:ListBucket" ? stores[store]! : `${stores[store]}/*`;
      if (store === "table" || store === "bus") return stores[store]!;
      if (store === "worker")
        return action === "ecs:RunTask"
          ? taskDefinition
          : action === "ecs:ListTasks"
            ? "*"
            : prod.one("aws:iam/role:Role", "WorkerTaskRole").state.arn;
      // a running worker task of this cluster
      if (store === "tasks")
        return action === "ecs:ListTasks" ? "*" : `${cluster.replace(":cluster/", ":task/")}/0123456789abcdef`;
      // the launcher's own work queue
      const url = fn.inputs.environment.variables.VIDEOFORGE_TASK_QUEUE_URL;
      return prod.of("aws:sqs/queue:Queue").find((q) => q.state.url === url)!.state.arn;
    };
    const missing: string[] = [];
    const check = (
      label: string,
      unit: Unit,
      statements: { actions: string[]; resources: string[] }[],
      fn: RecordedResource,
    ) => {
      for (const [store, actions] of Object.entries(requiredActions(unitCalls[unit]))) {
        for (const action of actions)
          if (!allows(statements, action, resourceFor(store, action, fn)))
            missing.push(`${label}: ${action} on ${store}`);
      }
    };
    for (const fn of prod.of("aws:lambda/function:Function"))
      check(fn.name, prod.artifactOf(fn) as Unit, prod.statements(prod.roleOf(fn)), fn);
    // the worker task role runs every task-runtime handler
    const taskRole = prod.statements(prod.one("aws:iam/role:Role", "WorkerTaskRole"));
    for (const unit of ["encoder", "chunker", "assembler", "importer"] as const)
      check(`Worker task (${unit})`, unit, taskRole, prod.one("aws:iam/role:Role", "WorkerTaskRole"));
    expect(missing).toEqual([]);
  });

  it("keeps the sweeper's sparse index of active jobs: gsi2, gsi2pk (S) / gsi2sk (N), every attribute", () => {
    const table = prod.one("aws:dynamodb/table:Table", "JobTableTable").inputs;
    expect(table.attributes).toEqual(
      expect.arrayContaining([
        { name: "gsi2pk", type: "S" },
        { name: "gsi2sk", type: "N" },
      ]),
    );
    expect(table.globalSecondaryIndexes).toContainEqual(
      expect.objectContaining({ name: "gsi2", hashKey: "gsi2pk", rangeKey: "gsi2sk", projectionType: "ALL" }),
    );
  });

  it("expires the per-user rate and work counters: TTL on expiresAt; API and chunker may read and update them", () => {
    expect(prod.one("aws:dynamodb/table:Table", "JobTableTable").inputs.ttl).toEqual({
      attributeName: "expiresAt",
      enabled: true,
    });
    const table = prod.one("aws:dynamodb/table:Table", "JobTableTable").state.arn as string;
    for (const unit of ["api", "chunker"]) {
      const fn = prod.of("aws:lambda/function:Function").find((f) => prod.artifactOf(f) === unit)!;
      const statements = prod.statements(prod.roleOf(fn));
      // one conditional UpdateItem per request (rate) or per job (work), one GetItem to read the day's total
      expect(allows(statements, "dynamodb:UpdateItem", table)).toBe(true);
      expect(allows(statements, "dynamodb:GetItem", table)).toBe(true);
    }
  });

  it("lets the sweeper query the sparse index, read/update job rows, publish, abort abandoned uploads; no more", () => {
    const fn = prod.of("aws:lambda/function:Function").find((f) => prod.artifactOf(f) === "sweeper")!;
    const statements = prod.statements(prod.roleOf(fn));
    const table = prod.one("aws:dynamodb/table:Table", "JobTableTable").state.arn as string;
    const uploads = prod.one("aws:s3/bucket:Bucket", "UploadsBucketBucket").state.arn as string;
    const bus = prod.one("aws:cloudwatch/eventBus:EventBus", "EventBusBus").state.arn as string;
    expect(allows(statements, "dynamodb:Query", `${table}/index/gsi2`)).toBe(true);
    expect(allows(statements, "dynamodb:GetItem", table)).toBe(true);
    expect(allows(statements, "dynamodb:UpdateItem", table)).toBe(true);
    expect(allows(statements, "events:PutEvents", bus)).toBe(true);
    expect(allows(statements, "s3:AbortMultipartUpload", `${uploads}/jobs/abc/source`)).toBe(true);
    expect(allows(statements, "dynamodb:Scan", table)).toBe(false);
    expect(allows(statements, "s3:GetObject", `${uploads}/jobs/abc/source`)).toBe(false);
  });

  it("wires the API's task stopper: linked to the worker cluster; ListTasks, DescribeTasks and StopTask", async () => {
    const fn = prod.of("aws:lambda/function:Function").find((f) => prod.artifactOf(f) === "api")!;
    const statements = prod.statements(prod.roleOf(fn));
    const cluster = prod.of("aws:ecs/cluster:Cluster")[0]!.state.arn as string;
    const task = `${cluster.replace(":cluster/", ":task/")}/0123456789abcdef`;
    expect(allows(statements, "ecs:ListTasks", "*")).toBe(true);
    expect(allows(statements, "ecs:DescribeTasks", task)).toBe(true);
    expect(allows(statements, "ecs:StopTask", task)).toBe(true);
    // the links the API Lambda gets at run time build `deps.tasks` (lambda/runtime.ts apiDeps)
    const build = prod.rec.rpc.find(
      (c) => c.method === "Runtime.Build" && c.args?.functionID === fn.name.replace(/Function$/, ""),
    );
    const links = build!.args.links as Record<string, unknown>;
    const listed: string[] = [];
    const tasks = taskStopperFrom(
      links,
      () =>
        ({
          send: async (cmd: { input: { cluster?: string } }) => (
            listed.push(cmd.input.cluster ?? ""), { taskArns: [] }
          ),
        }) as never,
    );
    expect(tasks).toBeDefined();
    expect(await tasks!.stopJobTasks("job-1")).toBe(0);
    expect(listed.length).toBeGreaterThan(0);
    expect(new Set(listed)).toEqual(new Set([(links.Worker as { cluster: string }).cluster]));
  });

  it("queues task work: EventBridge → work queue → capped launcher that dead-letters only real failures", () => {
    for (const sub of topology.filter((s) => s.runtime === "task")) {
      const rule = prod
        .of("aws:cloudwatch/eventRule:EventRule")
        .find((r) => r.inputs.eventPattern === JSON.stringify(sub.pattern))!;
      const target = prod.of("aws:cloudwatch/eventTarget:EventTarget").find((t) => t.inputs.rule === rule.state.name)!;
      const queue = prod.byArn("aws:sqs/queue:Queue", target.inputs.arn);
      expect(queue, `${sub.name} targets a queue`).toBeDefined();
      expect(JSON.parse(queue!.inputs.redrivePolicy)).toEqual({
        deadLetterTargetArn: target.inputs.deadLetterConfig.arn,
        maxReceiveCount: 3,
      });
      const policy = prod.policyOfQueue(queue!.state.arn)!;
      expect(policy.Statement[0].Condition).toEqual({ ArnEquals: { "aws:SourceArn": rule.state.arn } });
      const mapping = prod
        .of("aws:lambda/eventSourceMapping:EventSourceMapping")
        .find((m) => m.inputs.eventSourceArn === queue!.state.arn)!;
      expect(mapping.inputs).toMatchObject({
        batchSize: 1,
        functionResponseTypes: ["ReportBatchItemFailures"],
        scalingConfig: { maximumConcurrency: 2 },
      });
      const launcher = prod
        .of("aws:lambda/function:Function")
        .find((f) => f.state.arn === mapping.inputs.functionName)!;
      expect(prod.artifactOf(launcher)).toBe("launch-task");
      expect(launcher.inputs.environment.variables).toMatchObject({
        VIDEOFORGE_TASK_RULE: sub.name,
        VIDEOFORGE_TASK_QUEUE_URL: queue!.state.url,
      });
      expect(launcher.inputs.environment.variables.VIDEOFORGE_TASK_STAGE).toBeUndefined();
      // the visibility timeout covers six launcher timeouts, as Lambda asks
      expect(queue!.inputs.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(
        6 * functionArtifacts["launch-task"].timeoutSeconds,
      );
    }
  });

  it("sends webhooks through a queue: EventBridge → queue → the sender, which hides a record until its retry", () => {
    const sub = topology.find((s) => s.runtime === "queue" && s.handler === "webhookSender")!;
    expect(sub.events).toEqual([
      "PlaybackReady",
      "JobCompleted",
      "JobFailed",
      "JobCancelled",
      "VideoDeleted",
      "WebhookRedeliveryRequested",
    ]);
    const rule = prod
      .of("aws:cloudwatch/eventRule:EventRule")
      .find((r) => r.inputs.eventPattern === JSON.stringify(sub.pattern))!;
    const target = prod.of("aws:cloudwatch/eventTarget:EventTarget").find((t) => t.inputs.rule === rule.state.name)!;
    // not API destinations: they cannot sign each request nor report each attempt
    expect(prod.of("aws:cloudwatch/eventApiDestination:EventApiDestination")).toEqual([]);
    const queue = prod.byArn("aws:sqs/queue:Queue", target.inputs.arn);
    expect(queue, "the rule targets a queue").toBeDefined();
    expect(JSON.parse(queue!.inputs.redrivePolicy)).toEqual({
      deadLetterTargetArn: target.inputs.deadLetterConfig.arn,
      maxReceiveCount: 100,
    });
    expect(target.inputs.deadLetterConfig.arn).toMatch(/-deliver-webhooks-dlq$/);
    // a message outlives a day of retries; visibility covers six function timeouts, as Lambda asks
    expect(queue!.inputs.messageRetentionSeconds).toBe(4 * 86_400);
    expect(queue!.inputs.visibilityTimeoutSeconds).toBe(6 * functionArtifacts["webhook-sender"].timeoutSeconds);
    expect(prod.policyOfQueue(queue!.state.arn)!.Statement[0].Condition).toEqual({
      ArnEquals: { "aws:SourceArn": rule.state.arn },
    });
    const mapping = prod
      .of("aws:lambda/eventSourceMapping:EventSourceMapping")
      .find((m) => m.inputs.eventSourceArn === queue!.state.arn)!;
    expect(mapping.inputs).toMatchObject({ batchSize: 1, functionResponseTypes: ["ReportBatchItemFailures"] });
    const sender = prod.of("aws:lambda/function:Function").find((f) => f.state.arn === mapping.inputs.functionName)!;
    expect(prod.artifactOf(sender)).toBe("webhook-sender");
    expect(sender.inputs).toMatchObject({ packageType: "Zip", runtime: LAMBDA_RUNTIME, timeout: 120 });
    const statements = prod.statements(prod.roleOf(sender));
    expect(allows(statements, "sqs:ChangeMessageVisibility", queue!.state.arn)).toBe(true);
    expect(
      allows(statements, "dynamodb:PutItem", prod.one("aws:dynamodb/table:Table", "JobTableTable").state.arn),
    ).toBe(true);
    // no other queue may be touched, and EventBridge does not invoke the sender directly
    const other = prod.of("aws:sqs/queue:Queue").find((q) => q.state.arn !== queue!.state.arn)!;
    expect(allows(statements, "sqs:ChangeMessageVisibility", other.state.arn)).toBe(false);
    expect(prod.of("aws:lambda/permission:Permission").some((p) => p.inputs.function === sender.state.arn)).toBe(false);
  });

  it("passes the operator's chunk-routing limit to every runtime of the chunker, and nothing when it is unset", () => {
    const containerEnv = (g: Graph) => {
      const defs = g.of("aws:ecs/taskDefinition:TaskDefinition")[0]!.inputs.containerDefinitions;
      const env: { name: string; value: string }[] = (typeof defs === "string" ? JSON.parse(defs) : defs)[0]
        .environment;
      return Object.fromEntries(env.map((e) => [e.name, e.value]));
    };
    const chunkerLambda = prod
      .of("aws:lambda/function:Function")
      .find((f) => f.inputs.packageType === "Image" && prod.artifactOf(f) === "chunker");
    expect(chunkerLambda!.inputs.environment.variables.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS).toBe("12");
    // the large-source chunker runs in the worker task
    expect(containerEnv(prod).VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS).toBe("12");
    expect(containerEnv(dev).VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS).toBeUndefined();
    for (const fn of dev.of("aws:lambda/function:Function"))
      expect(fn.inputs.environment?.variables?.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS).toBeUndefined();
  });

  it("sizes the worker task for the encoder and runs it in a cluster with FARGATE_SPOT", () => {
    const [td] = prod.of("aws:ecs/taskDefinition:TaskDefinition");
    expect([Number(td!.inputs.cpu), Number(td!.inputs.memory)]).toEqual([
      TASK_SIZES.encoder.cpu,
      TASK_SIZES.encoder.memoryMiB,
    ]);
    expect(prod.of("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")[0]!.inputs.capacityProviders).toEqual(
      expect.arrayContaining(["FARGATE", "FARGATE_SPOT"]),
    );
  });

  it("keeps exactly the buckets, the table and the user pool when the stage is removed", () => {
    expect(prod.rec.app.removal).toBe("remove");
    const kept = prod.rec.resources.filter((r) => r.custom && r.retainOnDelete);
    // the data and its owners, with the settings that belong to them (CORS, lifecycle, domain…)
    const keepers = [
      "sst:aws:Bucket::UploadsBucket",
      "sst:aws:Bucket::WorkBucket",
      "sst:aws:Bucket::OutputsBucket",
      "sst:aws:Dynamo::JobTable",
      "sst:aws:CognitoUserPool::Users",
    ];
    for (const r of kept)
      expect(
        keepers.some((k) => r.parent.endsWith(`::${k}`)),
        `${r.type} ${r.name} (${r.parent})`,
      ).toBe(true);
    expect(kept.map((r) => `${r.type} ${r.name}`)).toEqual(
      expect.arrayContaining([
        "aws:cognito/userPool:UserPool UsersUserPool",
        "aws:dynamodb/table:Table JobTableTable",
        "aws:s3/bucket:Bucket OutputsBucketBucket",
        "aws:s3/bucket:Bucket UploadsBucketBucket",
        "aws:s3/bucket:Bucket WorkBucketBucket",
      ]),
    );
    for (const type of ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:s3/bucket:Bucket"]) {
      const dropped = prod
        .of(type)
        .filter((r) => !r.retainOnDelete)
        .map((r) => r.name);
      if (type === "aws:s3/bucket:Bucket") expect(dropped).toEqual(["WebAssetsBucket"]);
      else expect(dropped.length, type).toBe(prod.of(type).length);
    }
    expect(prod.one("aws:dynamodb/table:Table", "JobTableTable").inputs).toMatchObject({
      deletionProtectionEnabled: true,
      pointInTimeRecovery: { enabled: true },
    });
  });
});

describe("dev stage (sst dev, alice)", () => {
  it("runs every function live from its TypeScript entry on the same Node major", () => {
    const targets = dev.rec.rpc.filter((c) => c.method === "Runtime.AddTarget").map((c) => c.args);
    expect(targets).toHaveLength(dev.of("aws:lambda/function:Function").length);
    for (const t of targets) {
      expect(t.runtime, t.functionID).toBe(LAMBDA_RUNTIME);
      expect(t.handler).toMatch(/^packages\/functions\/src\/lambda\/[a-z-]+\.handler$/);
    }
    expect(dev.rec.rpc.some((c) => c.method === "Runtime.Build")).toBe(false);
  });

  it("keeps tasks small and few", () => {
    const [td] = dev.of("aws:ecs/taskDefinition:TaskDefinition");
    expect([Number(td!.inputs.cpu), Number(td!.inputs.memory)]).toEqual([DEV_TASK_SIZE.cpu, DEV_TASK_SIZE.memoryMiB]);
    expect(DEV_TASK_SIZE.cpu).toBeLessThan(TASK_SIZES.encoder.cpu);
    const launchers = dev.of("aws:lambda/function:Function").filter((f) => dev.artifactOf(f) === "launch-task");
    expect(launchers).toHaveLength(4);
    for (const l of launchers) expect(l.inputs.environment.variables.VIDEOFORGE_TASK_STAGE).toBe("dev");
  });

  it("retains nothing, and accepts sign-ins from `videoforge up`'s dashboard too", () => {
    expect(dev.rec.resources.filter((r) => r.custom && r.retainOnDelete)).toEqual([]);
    const [client] = dev.of("aws:cognito/userPoolClient:UserPoolClient");
    expect(client!.inputs.callbackUrls).toContain("http://127.0.0.1:8080");
    const [api] = dev.of("aws:apigatewayv2/api:Api");
    expect(api!.inputs.corsConfiguration.allowOrigins).toContain("http://127.0.0.1:8080");
    expect(dev.one("aws:dynamodb/table:Table", "JobTableTable").inputs.deletionProtectionEnabled).toBe(false);
  });
});
