/**
 * Runs `sst.config.ts` the way the SST CLI's deploy would, but against Pulumi's mocks, and
 * writes the resource graph it recorded to a JSON file. One process per stage: the stacks
 * are modules with top-level side effects and SST keeps state in globals.
 *
 *   node --import tsx test/infra/stacks-harness.ts <stage> <dev: 0|1> <out.json>
 *
 * What it stands in for (SST 4.17 internals, pinned by package.json; expect to touch this
 * file on an SST upgrade): the globals the CLI's shim injects (`$app`, `$dev`, `$cli`,
 * `$util`, `sst`, `aws`…), and the CLI's RPC server (`Runtime.Build`, `Provider.Aws.*`,
 * `Runtime.AddTarget`). `Runtime.Build` answers with a one-file stand-in bundle in a
 * scratch directory and records what it was asked to build (the `bundle` directory each
 * function ships). The scratch directory is also `$cli.paths.root` and the working
 * directory, so nothing is written into the repository (SST writes a .dockerignore and
 * the dashboard's sst-env.d.ts there).
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

export interface RecordedResource {
  type: string;
  name: string;
  /** A custom resource (an AWS resource), or a component (e.g. `sst:aws:Function`). */
  custom: boolean;
  parent: string;
  inputs: Record<string, any>;
  /** The state the mock returned: inputs plus the ids, ARNs and URLs it made up. */
  state: Record<string, any>;
  retainOnDelete: boolean;
}

export interface Recording {
  stage: string;
  dev: boolean;
  app: { name: string; removal: string; home: string };
  resources: RecordedResource[];
  rpc: { method: string; args: any }[];
  outputs: Record<string, unknown>;
  errors: string[];
  /** Whether Pulumi's RPC queue drained (else the run ended after 3 quiet seconds). */
  drained: boolean;
}

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** `STACKS_HARNESS_DEBUG=1` prints how long each phase took (stderr). */
const trace = (...args: unknown[]) =>
  process.env.STACKS_HARNESS_DEBUG && console.error(`[stacks-harness ${Math.round(performance.now())} ms]`, ...args);

async function main() {
  const [stage = "prod", devFlag = "0", outFile] = process.argv.slice(2);
  if (!outFile) throw new Error("usage: stacks-harness.ts <stage> <0|1> <out.json>");
  const dev = devFlag === "1";
  const platform = path.join(REPO_ROOT, ".sst/platform");
  const fromPlatform = createRequire(path.join(platform, "package.json"));
  const pulumi = fromPlatform("@pulumi/pulumi");

  // a scratch root: the dashboard's "build output" and the stand-in bundles live here
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "videoforge-stacks-"));
  fs.mkdirSync(path.join(scratch, "web/dist"), { recursive: true });
  fs.writeFileSync(path.join(scratch, "web/dist/index.html"), "<!doctype html>\n");
  process.chdir(scratch);

  const rpc: Recording["rpc"] = [];
  let builds = 0;
  const answer = (method: string, args: any): unknown => {
    switch (method) {
      case "Provider.Aws.Bootstrap":
        return {
          asset: "sst-asset-mock",
          assetEcrRegistryId: ACCOUNT,
          assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
          state: "sst-state-mock",
          appsyncHttp: "mock.appsync-api",
          appsyncRealtime: "mock.appsync-realtime",
        };
      case "Provider.Aws.Appsync":
        return { http: "mock.appsync-api", realtime: "mock.appsync-realtime" };
      case "Runtime.Build": {
        const out = path.join(scratch, "build", String(builds++));
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(path.join(out, "index.mjs"), "export const handler = async () => ({});\n");
        return { handler: args?.bundle ? args.handler : "index.handler", out, errors: [], sourcemaps: [] };
      }
      default:
        return null;
    }
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { method, params, id } = JSON.parse(body);
      const args = params?.[0];
      rpc.push({ method, args });
      // one connection per call: a kept-alive socket the server times out while the loaded
      // machine is slow to reuse it resets the next call (ECONNRESET), and that build hangs
      res.writeHead(200, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ result: answer(method, args), error: null, id }));
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  process.env.SST_AWS_REGION = REGION;

  // --- Pulumi's mocks: every resource gets the identifiers AWS would give it ------------
  const resources: RecordedResource[] = [];
  const retain = new Map<string, boolean>();
  const parents = new Map<string, string>();
  const arn = (svc: string, rest: string) => `arn:aws:${svc}:${REGION}:${ACCOUNT}:${rest}`;
  await pulumi.runtime.setMocks(
    {
      newResource(args: { type: string; name: string; inputs: any; custom?: boolean }) {
        const t = args.type;
        const state: Record<string, any> = { ...args.inputs };
        const physical = args.inputs.name ?? `${args.name}-${stage}`;
        state.name ??= physical;
        state.arn ??= arn(t.split(":")[1]?.split("/")[0] ?? "x", physical);
        if (t === "random:index/randomBytes:RandomBytes") state.base64 = Buffer.alloc(32, 7).toString("base64");
        if (t === "random:index/randomString:RandomString") state.result = "abc123";
        if (t === "aws:ecs/taskDefinition:TaskDefinition")
          state.arn = arn("ecs", `task-definition/${args.inputs.family ?? args.name}:7`);
        if (t === "aws:ecs/cluster:Cluster") state.arn = arn("ecs", `cluster/${physical}`);
        if (t === "aws:cloudwatch/eventRule:EventRule")
          state.arn = arn("events", `rule/${args.inputs.eventBusName ?? "default"}/${physical}`);
        if (t === "aws:sqs/queue:Queue") {
          state.arn = arn("sqs", physical);
          state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`;
        }
        if (t === "aws:lambda/function:Function") {
          state.arn = arn("lambda", `function:${physical}`);
          state.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
          state.qualifiedArn = `${state.arn}:$LATEST`;
        }
        if (t === "aws:iam/role:Role") state.arn = `arn:aws:iam::${ACCOUNT}:role/${physical}`;
        if (t === "aws:apigatewayv2/api:Api") {
          state.apiEndpoint = `https://${args.name.toLowerCase()}.execute-api.${REGION}.amazonaws.com`;
          state.executionArn = arn("execute-api", args.name);
        }
        if (t === "aws:cognito/userPool:UserPool")
          state.endpoint = `cognito-idp.${REGION}.amazonaws.com/${args.name}-id`;
        if (t === "aws:ec2/vpc:Vpc") state.cidrBlock = args.inputs.cidrBlock ?? "10.0.0.0/16";
        if (t === "docker-build:index:Image") state.digest = `sha256:${"ab".repeat(32)}`;
        if (t === "aws:cloudfront/distribution:Distribution")
          state.domainName = `${args.name.toLowerCase()}.cloudfront.net`;
        if (t === "aws:sns/topic:Topic") state.arn = arn("sns", physical);
        resources.push({
          type: t,
          name: args.name,
          custom: args.custom !== false,
          parent: "",
          inputs: args.inputs,
          state,
          retainOnDelete: false,
        });
        return { id: `${args.name}-id`, state };
      },
      call(args: { token: string; inputs: any }) {
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { name: REGION, region: REGION, id: REGION };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "ci" };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: [`${REGION}a`, `${REGION}b`], zoneIds: ["use1-az1", "use1-az2"] };
          case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
              proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
              password: "x",
              userName: "AWS",
            };
          case "aws:iam/getPolicyDocument:getPolicyDocument":
            return {
              ...args.inputs,
              json: JSON.stringify({ Version: "2012-10-17", Statement: args.inputs.statements ?? [] }),
            };
          default:
            return args.inputs;
        }
      },
    },
    "videoforge",
    stage,
    false,
  );
  // the mock monitor hands newResource no resource options: read retainOnDelete and the parent here
  const monitor = pulumi.runtime.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    retain.set(`${req.getType()}::${req.getName()}`, Boolean(req.getRetainondelete()));
    parents.set(`${req.getType()}::${req.getName()}`, String(req.getParent() ?? ""));
    return register(req, callback);
  };

  // --- the globals the CLI's shim defines -----------------------------------------------
  const g = globalThis as Record<string, unknown>;
  g.$config = (await import(path.join(platform, "src/config.ts"))).$config;
  const config = (await import(path.join(REPO_ROOT, "sst.config.ts"))).default as {
    app(input: { stage: string }): { name: string; removal: string; home: string };
    run(): Promise<Record<string, unknown>>;
  };
  const app = config.app({ stage });
  g.$app = { name: app.name, stage, removal: app.removal, providers: { aws: true }, protect: false };
  g.$dev = dev;
  g.$cli = {
    command: dev ? "dev" : "deploy",
    rpc: process.env.SST_SERVER,
    paths: { home: os.homedir(), root: scratch, work: path.join(scratch, ".sst"), platform },
    state: { version: {} },
  };
  Object.assign(g, {
    $util: pulumi,
    $output: pulumi.output,
    $apply: pulumi.apply,
    $resolve: pulumi.all,
    $interpolate: pulumi.interpolate,
    $concat: pulumi.concat,
    $jsonParse: pulumi.jsonParse,
    $jsonStringify: pulumi.jsonStringify,
    $secrets: {},
    aws: fromPlatform("@pulumi/aws"),
  });
  const component = await import(path.join(platform, "src/components/component.ts"));
  g.$transform = component.$transform;
  g.$asset = component.$asset;
  g.sst = await import(path.join(platform, "src/components/index.ts"));
  g.$linkable = (await import(path.join(platform, "src/components/link.ts"))).Link.makeLinkable;

  // --- run() and let every apply settle -------------------------------------------------
  trace("globals ready");
  const errors: string[] = [];
  process.on("unhandledRejection", (e: any) => errors.push(`unhandled: ${e?.stack ?? e}`));
  let outputs: Record<string, unknown> = {};
  try {
    outputs = await pulumi.output(await config.run()).promise();
  } catch (e: any) {
    errors.push(`run(): ${e?.stack ?? e}`);
  }
  trace("run() done", resources.length, "resources");
  // registrations still waiting on applies: wait until the RPC queue drains, or, should it
  // never drain (seen rarely under heavy load), until no resource has appeared for 3 s
  const settings = fromPlatform("@pulumi/pulumi/runtime/settings");
  let drained = false;
  const quietFor = async (ms: number) => {
    for (let seen = -1, since = Date.now(); Date.now() - since < ms; await new Promise((r) => setTimeout(r, 100))) {
      if (seen !== resources.length) [seen, since] = [resources.length, Date.now()];
    }
  };
  for (let seen = -1; seen !== resources.length; ) {
    seen = resources.length;
    drained = await Promise.race([settings.waitForRPCs().then(() => true), quietFor(3000).then(() => false)]);
    await new Promise((r) => setTimeout(r, 200));
  }
  trace("settled", resources.length, "resources; rpc queue drained:", drained);
  for (const r of resources) {
    r.retainOnDelete = retain.get(`${r.type}::${r.name}`) ?? false;
    r.parent = parents.get(`${r.type}::${r.name}`) ?? "";
  }

  const recording: Recording = { stage, dev, app, resources, rpc, outputs, errors, drained };
  // secrets arrive wrapped in Pulumi's signature object: record the plain value
  const SECRET_SIG = "4dabf18193072939515e22adb298388d";
  const SECRET = "1b47061264138c4ac30d75fd1eb44270";
  const json = JSON.stringify(recording, (_k, v) => {
    if (typeof v === "bigint") return String(v);
    if (v && typeof v === "object" && v[SECRET_SIG] === SECRET) return v.value;
    return v;
  });
  fs.writeFileSync(outFile, json);
  server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
