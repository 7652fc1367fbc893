import { topology } from "@videoforge/events";
import { LINK } from "@videoforge/core/config-sources";
import { taskAccess } from "./access.ts";
import { permissionsFor } from "./permissions.ts";
import { bus, eventBus } from "./bus.ts";
import { outputs, outputsBucket, uploads, uploadsBucket, work, workBucket } from "./storage.ts";
import { jobTable, table } from "./table.ts";

/**
 * No NAT gateway (SST's default): tasks sit in public subnets with a public IP for S3,
 * DynamoDB and EventBridge, so the VPC costs nothing while no task runs.
 */
export const vpc = new sst.aws.Vpc("Vpc");
export const cluster = new sst.aws.Cluster("Cluster", { vpc });

const taskHandlers = [...new Set(topology.filter((s) => s.runtime === "task").map((s) => s.handler))];

/**
 * One task definition for every task-runtime handler (encoder; chunker and assembler for
 * large sources); the launcher picks the handler per run. Sized for the encoder: x264 on
 * 4 vCPU; large chunking/assembly add ephemeral storage per run.
 */
export const worker = new sst.aws.Task(LINK.worker, {
  cluster,
  image: { context: ".", dockerfile: "packages/encoder/Dockerfile" },
  architecture: "x86_64",
  cpu: "4 vCPU",
  memory: "8 GB",
  environment: { VIDEOFORGE_ENCODER_THREADS: "4" },
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
  dev: { command: "node --import tsx packages/encoder/src/main.ts", directory: "." },
});
