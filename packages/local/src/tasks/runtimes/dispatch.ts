/**
 * Which process runs a delivery of the local bus. Two runtimes:
 *
 * - `local` (default, `videoforge up`): handlers that touch no media run in process; those
 *   that run ffmpeg or ffprobe (chunker, encoder, assembler, finisher) run in child processes
 *   (the warm worker pool), so a crash or a runaway child there cannot take the server down.
 * - `artifacts` (the parity test): every handler runs from its built artifact
 *   (`npm run build:aws`) under its AWS runtime's limits (artifact-runner.ts): Lambda rules
 *   invoke the function's bundle or the worker image in Lambda mode, task rules run the
 *   worker image as a task with the launcher's overrides.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Config } from "@videoforge/core";
import { LOCAL_KEY_VARIABLES } from "@videoforge/core";
import { LINK } from "@videoforge/core/config-sources";
import {
  handlerNames,
  handlerSpecs,
  hasLambda,
  type Envelope,
  type HandlerName,
  type Subscription,
} from "@videoforge/events";
import { taskLaunchPolicy } from "@videoforge/functions/lambda/task-policy";
import {
  artifactOf,
  createArtifactRunner,
  type ArtifactRunner,
  type ArtifactRunnerOptions,
} from "./artifact-runner.ts";

/**
 * Handlers that start ffmpeg/ffprobe: never in the server's own process. The handler table
 * says it already: they run the worker image on Lambda (it carries ffmpeg) or only as tasks.
 */
export const MEDIA_HANDLERS: ReadonlySet<HandlerName> = new Set(
  handlerNames.filter((name) => !hasLambda(name) || handlerSpecs[name].lambda.kind === "image"),
);

export type ArtifactRuntimeOptions = Pick<
  ArtifactRunnerOptions,
  "buildDir" | "limits" | "environment" | "user" | "app" | "concurrency"
>;

/** SST links as the stacks declare them (`{ name }` each; the bus also has its ARN). */
export function linksOf(cfg: Config): Record<string, Record<string, unknown>> {
  return {
    [LINK.table]: { name: cfg.table, type: "sst.aws.Dynamo" },
    [LINK.uploads]: { name: cfg.buckets.uploads, type: "sst.aws.Bucket" },
    [LINK.work]: { name: cfg.buckets.work, type: "sst.aws.Bucket" },
    [LINK.outputs]: { name: cfg.buckets.outputs, type: "sst.aws.Bucket" },
    [LINK.bus]: {
      name: cfg.busName,
      arn: `arn:aws:events:${cfg.region}:000000000000:event-bus/${cfg.busName}`,
      type: "sst.aws.Bus",
    },
  };
}

/**
 * The artifact runtime of a local cloud: names reach the artifacts only as SST links, the
 * endpoints as the app's endpoint variables, the gates' key pair as the AWS_* credentials a
 * Lambda or task role would give.
 */
export function artifactRuntime(
  cfg: Config,
  env: Record<string, string>,
  opts: ArtifactRuntimeOptions & { onLog?: (line: string) => void },
) {
  const endpoints: Record<string, string> = { AWS_REGION: cfg.region };
  for (const k of ["VIDEOFORGE_DYNAMODB_ENDPOINT", "VIDEOFORGE_S3_ENDPOINT", "VIDEOFORGE_EVENTS_ENDPOINT"])
    if (env[k]) endpoints[k] = env[k];
  const accessKeyId = env[LOCAL_KEY_VARIABLES.accessKeyId];
  const secretAccessKey = env[LOCAL_KEY_VARIABLES.secretAccessKey];
  if (!accessKeyId || !secretAccessKey) throw new Error("the local cloud gave no key pair for its gates");
  const runner: ArtifactRunner = createArtifactRunner({
    ...opts,
    endpoints,
    links: linksOf(cfg),
    credentials: { accessKeyId, secretAccessKey },
    environment: { VIDEOFORGE_ENCODER_THREADS: env.VIDEOFORGE_ENCODER_THREADS ?? "1", ...opts.environment },
  });
  return {
    runner,
    /** One delivery: the rule's target, as AWS would run it. */
    async deliver(sub: Subscription, envelope: Envelope): Promise<unknown> {
      if (sub.runtime === "task") return runner.runTask(sub.handler, envelope, taskLaunchPolicy(sub).attempts);
      if (sub.runtime === "lambda") return runner.invoke(artifactOf(sub.handler), envelope);
      // a queue rule's function gets what SQS sends it: a batch of one record whose body is the event
      const answer = (await runner.invoke(artifactOf(sub.handler), sqsBatchOf(sub, envelope))) as {
        batchItemFailures?: unknown[];
      } | null;
      if (answer?.batchItemFailures?.length) throw new Error(`${sub.name}: the function handed the message back`);
      return answer;
    },
    /** The task-runner face the local cloud exposes (`tasks.pids()` for fault tests). */
    tasks: {
      run: (handler: HandlerName, envelope: Envelope) => runner.runTask(handler, envelope, 1),
      pids: runner.pids,
      stopAll: runner.stop,
    },
  };
}
export type ArtifactRuntime = ReturnType<typeof artifactRuntime>;

/** One SQS record as Lambda's event source mapping delivers it, carrying an EventBridge event. */
export function sqsBatchOf(sub: Subscription, envelope: Envelope) {
  const messageId = randomUUID();
  return {
    Records: [
      {
        messageId,
        receiptHandle: `local-${messageId}`,
        body: JSON.stringify(envelope),
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(Date.now()),
          SenderId: "events.amazonaws.com",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash("md5").update(JSON.stringify(envelope)).digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${envelope.region ?? "local"}:000000000000:${sub.name}-queue`,
        awsRegion: envelope.region ?? "local",
      },
    ],
  };
}
