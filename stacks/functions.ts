import { handlerAccess, type Grant } from "./access.ts";
import { permissionsFor, type Permission, type StoreArns } from "./permissions.ts";
import { BUILD_DIR, LAMBDA_RUNTIME, functionArtifacts, isHandlerArtifact } from "./artifacts.ts";
import type { FunctionArtifact, FunctionArtifactName } from "./artifacts.ts";
import { HANDLER_ENTRY, LAMBDA_DIR } from "./rules.ts";
import { bus, eventBus } from "./bus.ts";
import { outputs, outputsBucket, uploads, uploadsBucket, work, workBucket } from "./storage.ts";
import { jobTable, table } from "./table.ts";
import type { HandlerName } from "@videoforge/events";

export const storeArns: StoreArns = {
  uploads: uploadsBucket.arn,
  work: workBucket.arn,
  outputs: outputsBucket.arn,
  table: jobTable.arn,
  bus: eventBus.arn,
};

/** Every Lambda sees the same names; what it may do with them is its own grant list. */
export const dataLinks = [table, uploads, work, outputs, bus];

/** Structured JSON logs (the app already writes JSON lines); a month is enough to debug a job. */
export const logging = { format: "json", retention: "1 month" } as const;

export function handlerPermissions(grants: readonly Grant[]) {
  return permissionsFor(grants, storeArns);
}

export const handlerGrants = (handler: HandlerName) => handlerAccess[handler];

/** The artifacts that are esbuild bundles on the managed Node runtime, and those that are the worker image. */
export type ZipArtifact = {
  [K in FunctionArtifactName]: (typeof functionArtifacts)[K]["kind"] extends "zip" ? K : never;
}[FunctionArtifactName];
export type ImageArtifact = Exclude<FunctionArtifactName, ZipArtifact>;

type SizedArgs = Omit<
  sst.aws.FunctionArgs,
  "handler" | "bundle" | "runtime" | "memory" | "timeout" | "storage" | "logging"
>;

function sizing(artifact: FunctionArtifactName) {
  const a: FunctionArtifact = functionArtifacts[artifact];
  return {
    memory: `${a.memoryMB} MB` as const,
    timeout: `${a.timeoutSeconds} seconds` as const,
    ...(a.ephemeralMB ? { storage: `${a.ephemeralMB} MB` as const } : {}),
  };
}

/**
 * A Lambda from the project's own bundle: `npm run build:aws` writes
 * `.build/aws/functions/<artifact>/index.mjs`, and SST uploads that directory as it is
 * (`bundle`), so the deploy runs the files the parity test ran. Under `sst dev` the
 * function runs live on the developer's machine from its TypeScript entry instead.
 */
export function bundledFunction(id: string, artifact: FunctionArtifactName, args: SizedArgs = {}) {
  const fn: FunctionArtifact = functionArtifacts[artifact];
  const code = $dev
    ? devEntry(fn, args.environment)
    : { bundle: `${BUILD_DIR}/functions/${artifact}`, handler: "index.handler" };
  return new sst.aws.Function(id, { ...args, ...code, runtime: LAMBDA_RUNTIME, ...sizing(artifact), logging });
}

/** `sst dev` runs an entry file; a handler's is the generic one, told its handler by VIDEOFORGE_HANDLER. */
function devEntry(fn: FunctionArtifact, environment: SizedArgs["environment"]) {
  if (!isHandlerArtifact(fn)) return { handler: `${LAMBDA_DIR}/${fn.entry}.handler` };
  const named = $resolve(environment ?? {}).apply((env) => ({ ...env, VIDEOFORGE_HANDLER: fn.handler }));
  return { handler: `${LAMBDA_DIR}/${HANDLER_ENTRY}.handler`, environment: named };
}

export interface ImageFunctionArgs {
  /** The worker image's URI (its digest): the same image the Fargate task runs. */
  image: $util.Input<string>;
  /** What the image's entry runs (VIDEOFORGE_HANDLER). */
  handler: HandlerName;
  permissions: Permission[];
  link: sst.Linkable<Record<string, unknown>>[];
  retries?: number;
  /** Runtime variables beside the links' (the operator's, stacks/config.ts). */
  environment?: Record<string, string>;
}

/** `SST_RESOURCE_<Name>` variables, as SST's Task sets them: what `Resource` reads in the image. */
function linkEnvironment(links: sst.Linkable<Record<string, unknown>>[]) {
  return $resolve(links.map((l) => $resolve([l.name, $jsonStringify(l.properties)]))).apply((pairs) => ({
    SST_RESOURCE_App: JSON.stringify({ name: $app.name, stage: $app.stage }),
    ...Object.fromEntries(pairs.map(([name, props]) => [`SST_RESOURCE_${name}`, props])),
  }));
}

/**
 * A Lambda that runs the worker's container image (chunker, assembler, finisher: the steps
 * that run ffmpeg). Lambda starts the image's entry, which serves the Lambda Runtime API
 * when `AWS_LAMBDA_RUNTIME_API` is set and runs `VIDEOFORGE_HANDLER`, so one ffmpeg build
 * serves the task and these functions. Under `sst dev` it runs live from TypeScript with
 * the developer's ffmpeg, like every other function.
 */
export function imageFunction(
  id: string,
  artifact: ImageArtifact,
  args: ImageFunctionArgs,
): { arn: $util.Output<string>; name: $util.Output<string> } {
  if ($dev) {
    const fn = bundledFunction(id, artifact, {
      link: args.link,
      permissions: args.permissions,
      retries: args.retries,
      environment: args.environment,
    });
    return { arn: fn.arn, name: fn.name };
  }
  const spec: FunctionArtifact = functionArtifacts[artifact];
  const name = `${$app.name}-${$app.stage}-${id}`.slice(0, 64);
  const role = new aws.iam.Role(`${id}Role`, {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
    inlinePolicies: [
      {
        name: "inline",
        policy: aws.iam.getPolicyDocumentOutput({
          statements: args.permissions.map((p) => ({ effect: "Allow", actions: p.actions, resources: p.resources })),
        }).json,
      },
    ],
    managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
  });
  const logGroup = new aws.cloudwatch.LogGroup(`${id}LogGroup`, { name: `/aws/lambda/${name}`, retentionInDays: 30 });
  const fn = new aws.lambda.Function(
    `${id}Function`,
    {
      name,
      packageType: "Image",
      imageUri: args.image,
      architectures: ["x86_64"],
      role: role.arn,
      memorySize: spec.memoryMB,
      timeout: spec.timeoutSeconds,
      ephemeralStorage: { size: spec.ephemeralMB ?? 512 },
      environment: {
        variables: linkEnvironment(args.link).apply((env) => ({
          ...env,
          ...args.environment,
          VIDEOFORGE_HANDLER: args.handler,
        })),
      },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
    },
    { dependsOn: [logGroup] },
  );
  return { arn: fn.arn, name: fn.name };
}
