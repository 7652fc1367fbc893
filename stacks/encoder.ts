import { topology } from "@videoforge/events";
import { LINK } from "@videoforge/core/config-sources";
import { DEV_TASK_SIZE, TASK_SIZES } from "@videoforge/functions/lambda/task-policy";
import { taskAccess } from "./access.ts";
import { permissionsFor } from "./permissions.ts";
import { bus, eventBus } from "./bus.ts";
import { isDevStage, mediaEnvironment } from "./config.ts";
import { outputs, outputsBucket, uploads, uploadsBucket, work, workBucket } from "./storage.ts";
import { jobTable, table } from "./table.ts";

/**
 * No NAT gateway (SST's default): tasks sit in public subnets with a public IP for S3,
 * DynamoDB and EventBridge, so the VPC costs nothing while no task runs. SST's Cluster
 * associates the FARGATE and FARGATE_SPOT capacity providers; the launcher picks one per step.
 */
export const vpc = new sst.aws.Vpc("Vpc");
export const cluster = new sst.aws.Cluster("Cluster", { vpc });

const taskHandlers = [...new Set(topology.filter((s) => s.runtime === "task").map((s) => s.handler))];

/** CPU units / MiB → the Task component's size strings. */
const vcpu = (units: number) => `${units / 1024} vCPU` as "1 vCPU" | "2 vCPU" | "4 vCPU";
const gb = (mib: number) => `${mib / 1024} GB` as const;
const defaultSize = isDevStage ? DEV_TASK_SIZE : TASK_SIZES.encoder;

/**
 * One task definition for every task-runtime handler (encoder; chunker and assembler for
 * large sources); the launcher picks the handler, the size and the capacity provider per
 * run (RunTask overrides, packages/functions/src/lambda/task-policy.ts). The definition's
 * own size is the encoder's in prod and the small dev size elsewhere.
 *
 * Its image is also the image of the ffmpeg Lambdas (stacks/subscriptions.ts): one build of
 * `packages/worker/Dockerfile`, one ffmpeg for every runtime.
 */
export const worker = new sst.aws.Task(LINK.worker, {
  cluster,
  image: { context: ".", dockerfile: "packages/worker/Dockerfile" },
  architecture: "x86_64",
  cpu: vcpu(defaultSize.cpu),
  memory: gb(defaultSize.memoryMiB),
  environment: { VIDEOFORGE_ENCODER_THREADS: String(defaultSize.cpu / 1024), ...mediaEnvironment },
  link: [table, uploads, work, outputs, bus],
  permissions: permissionsFor(taskAccess(taskHandlers), {
    uploads: uploadsBucket.arn,
    work: workBucket.arn,
    outputs: outputsBucket.arn,
    table: jobTable.arn,
    bus: eventBus.arn,
  }),
  logging: { retention: "1 month" },
  // `sst dev`: the stub task forwards each run here, with the same environment
  dev: { command: "node --import tsx packages/worker/src/main.ts", directory: "." },
});

/**
 * The worker image as built and pushed for the task definition (`<ecr repo>@sha256:…`):
 * read back from the definition, so the Lambdas run exactly the digest the task runs.
 */
export const workerImage = $util.unsecret(worker.nodes.taskDefinition.containerDefinitions).apply((json) => {
  const [container] = JSON.parse(json) as { image?: string }[];
  if (!container?.image) throw new Error("the Worker task definition has no container image");
  return container.image;
});
