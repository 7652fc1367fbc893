import { mkdir } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { composeDeps, ConflictError, createLogger, ensureTable, envelopeJobId, failOnDeadLetter, loadConfig, resumeStalledJobs, LOCAL_CREDENTIALS, NotFoundError, reopenForRedrive, type Deps, type Logger } from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { parseEnvelope, topology, type HandlerName } from "@videoforge/events";
import { startDynalite, startS3rver } from "./storage.ts";
import { createLocalBus, type BusOptions, type LocalBus } from "./bus.ts";
import { deadLetterStore, type DeadLetter } from "./dlq.ts";
import { deliveryJournal } from "./journal.ts";
import { startEventsEndpoint } from "./events-endpoint.ts";
import { createTaskRunner } from "./task-runner.ts";
import { loadLocalAuth } from "./auth.ts";
import { startS3Gate, type StorageFaults } from "./s3-gate.ts";

export interface LocalCloudOptions {
  /** Everything persistent lives here: table, buckets, dead letters, scratch space. */
  dataDir: string;
  concurrency?: number;
  /** Task processes: warm pooled workers (default) or one fresh process per task, as on Fargate. */
  taskMode?: "pool" | "process";
  backoffMs?: number;
  faults?: BusOptions["faults"];
  /** Injected storage failures (tests): see s3-gate.ts. */
  storageFaults?: StorageFaults;
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
  // every S3 request (SDK and presigned) goes through the gate, which checks signatures like S3 does
  const gate = await startS3Gate(s3.endpoint, { [LOCAL_CREDENTIALS.accessKeyId]: LOCAL_CREDENTIALS.secretAccessKey }, opts.storageFaults);

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
    VIDEOFORGE_S3_ENDPOINT: gate.endpoint,
    VIDEOFORGE_EVENTS_ENDPOINT: events.endpoint,
    VIDEOFORGE_TABLE: base.table,
    VIDEOFORGE_UPLOADS_BUCKET: base.buckets.uploads,
    VIDEOFORGE_WORK_BUCKET: base.buckets.work,
    VIDEOFORGE_OUTPUTS_BUCKET: base.buckets.outputs,
    VIDEOFORGE_BUS: base.busName,
    VIDEOFORGE_TMP_DIR: tmpDir,
    // threads per ffmpeg × parallel tasks ≈ cores
    VIDEOFORGE_ENCODER_THREADS: process.env.VIDEOFORGE_ENCODER_THREADS ?? String(Math.max(1, Math.floor(cpus().length / concurrency))),
    // the chunker plans equal work per worker
    VIDEOFORGE_PARALLEL_TASKS: String(concurrency),
  };
  const cfg = loadConfig({ ...process.env, ...env });
  const { clients, ...deps } = composeDeps(cfg, `local:${process.pid}`);
  await ensureTable(clients.dynamodb, cfg.table);

  const tasks = createTaskRunner({ env, concurrency, mode: opts.taskMode, onLog: opts.onTaskLog ?? ((line) => process.stderr.write(line + "\n")) });
  const dlq = deadLetterStore(join(dataDir, "dlq"));
  const auth = await loadLocalAuth(dataDir);
  const journal = deliveryJournal(join(dataDir, "bus", "pending"));
  bus = createLocalBus({
    topology,
    dlq,
    log,
    backoffMs: opts.backoffMs,
    faults: opts.faults,
    journal,
    onDeadLetter: (letter) => failOnDeadLetter(deps, { ...letter, handler: handlerOf(letter.subscription) }),
    deliver: async (sub, envelope, attempt) => {
      // an event that fails its schema throws InvalidEventError here, for tasks too: the bus
      // dead-letters it at once instead of starting a process per retry that cannot succeed
      const event = parseEnvelope(envelope);
      if (sub.runtime === "task") return tasks.run(sub.handler, envelope, attempt);
      await handlers[sub.handler].handle(deps, event);
    },
  });
  const localBus = bus;
  // jobs a pending delivery will move on, read before those deliveries start (and finish)
  const pending = journal.list().filter((p) => topology.find((s) => s.name === p.subscription && s.handler !== "recorder"));
  const driven = new Set(pending.map((p) => envelopeJobId(p.envelope)));
  // what the previous process accepted and did not finish (a crash, a kill) goes out again
  const recovered = localBus.recover();
  if (recovered) log.info("resuming deliveries from the journal", { deliveries: recovered });
  // jobs nothing would move (a crash between a table write and its publish)
  const resumed = await resumeStalledJobs(deps, (jobId) => driven.has(jobId));

  /** Put a dead letter back on its rule, reopening the job it failed. */
  async function redrive(letterId: string): Promise<{ letter: DeadLetter; reopened: boolean }> {
    const letter = (await dlq.list()).find((l) => l.id === letterId);
    if (!letter) throw new NotFoundError(`No dead letter ${letterId}.`);
    const reopened = await reopenForRedrive(deps, letter.envelope);
    if (!reopened) throw new ConflictError(`The job of dead letter ${letterId} has ended for another reason (completed, cancelled or failed elsewhere); redriving it would change nothing.`);
    await dlq.remove(letter);
    localBus.redeliver(letter.subscription, letter.envelope);
    log.info("dead letter redriven", { letter: letter.id, rule: letter.subscription });
    return { letter, reopened };
  }

  return {
    cfg,
    env,
    deps,
    bus: localBus,
    tasks,
    dlq,
    redrive,
    resumed,
    auth,
    storage: gate,
    dataDir,
    async stop() {
      localBus.close();
      tasks.stopAll();
      await Promise.all([events.stop(), gate.stop()]);
      await Promise.all([s3.stop(), db.stop()]);
    },
  };
}
function handlerOf(subscription: string): HandlerName {
  const sub = topology.find((s) => s.name === subscription);
  if (!sub) throw new Error(`no rule named ${subscription}`);
  return sub.handler;
}

export type LocalCloud = Awaited<ReturnType<typeof startLocalCloud>>;
