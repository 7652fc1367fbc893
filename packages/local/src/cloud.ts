import { mkdir } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { composeDeps, createLogger, ensureTable, loadConfig, type Deps, type Logger } from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { parseEnvelope, topology } from "@videoforge/events";
import { startDynalite, startS3rver } from "./storage.ts";
import { createLocalBus, type BusOptions, type LocalBus } from "./bus.ts";
import { deadLetterStore } from "./dlq.ts";
import { startEventsEndpoint } from "./events-endpoint.ts";
import { createTaskRunner } from "./task-runner.ts";

export interface LocalCloudOptions {
  /** Everything persistent lives here: table, buckets, dead letters, scratch space. */
  dataDir: string;
  concurrency?: number;
  backoffMs?: number;
  faults?: BusOptions["faults"];
  log?: Logger;
  /** Where task processes' log lines go (default: this process's log sink). */
  onTaskLog?: (line: string) => void;
}

/**
 * The local cloud: dynalite, s3rver, the bus with its PutEvents endpoint, in-process
 * "Lambdas" and child-process "tasks", all wired from the topology in events/.
 */
export async function startLocalCloud(opts: LocalCloudOptions) {
  const dataDir = resolve(opts.dataDir);
  const log = opts.log ?? createLogger({ component: "local-cloud" });
  const tmpDir = join(dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const base = loadConfig({ ...process.env, VIDEOFORGE_LOCAL: "1" });
  const buckets = Object.values(base.buckets);
  const [db, s3] = await Promise.all([startDynalite(join(dataDir, "dynamodb")), startS3rver(join(dataDir, "s3"), buckets)]);

  // the endpoint's address goes into the config the bus's handlers use, so it starts first
  let bus: LocalBus | undefined;
  const events = await startEventsEndpoint({
    putEvents: (entries) => {
      if (!bus) throw new Error("bus not ready");
      return bus.putEvents(entries);
    },
  });

  const concurrency = opts.concurrency ?? cpus().length;
  const env: Record<string, string> = {
    VIDEOFORGE_LOCAL: "1",
    VIDEOFORGE_DYNAMODB_ENDPOINT: db.endpoint,
    VIDEOFORGE_S3_ENDPOINT: s3.endpoint,
    VIDEOFORGE_EVENTS_ENDPOINT: events.endpoint,
    VIDEOFORGE_TABLE: base.table,
    VIDEOFORGE_UPLOADS_BUCKET: base.buckets.uploads,
    VIDEOFORGE_WORK_BUCKET: base.buckets.work,
    VIDEOFORGE_OUTPUTS_BUCKET: base.buckets.outputs,
    VIDEOFORGE_BUS: base.busName,
    VIDEOFORGE_TMP_DIR: tmpDir,
    // threads per ffmpeg × parallel tasks ≈ cores
    VIDEOFORGE_ENCODER_THREADS: process.env.VIDEOFORGE_ENCODER_THREADS ?? String(Math.max(1, Math.floor(cpus().length / concurrency))),
  };
  const cfg = loadConfig({ ...process.env, ...env });
  const { clients, ...deps } = composeDeps(cfg, `local:${process.pid}`);
  await ensureTable(clients.dynamodb, cfg.table);

  const tasks = createTaskRunner({ env, concurrency, onLog: opts.onTaskLog ?? ((line) => process.stderr.write(line + "\n")) });
  const dlq = deadLetterStore(join(dataDir, "dlq"));
  bus = createLocalBus({
    topology,
    dlq,
    log,
    backoffMs: opts.backoffMs,
    faults: opts.faults,
    deliver: async (sub, envelope, attempt) => {
      if (sub.runtime === "task") return tasks.run(sub.handler, envelope, attempt);
      await handlers[sub.handler].handle(deps, parseEnvelope(envelope));
    },
  });
  const localBus = bus;

  return {
    cfg,
    env,
    deps,
    bus: localBus,
    tasks,
    dlq,
    dataDir,
    async stop() {
      localBus.close();
      tasks.stopAll();
      await Promise.all([events.stop(), s3.stop(), db.stop()]);
    },
  };
}
export type LocalCloud = Awaited<ReturnType<typeof startLocalCloud>>;
