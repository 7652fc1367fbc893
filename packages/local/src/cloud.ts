import { mkdir } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import {
  childEnv,
  composeDeps,
  ConflictError,
  createLogger,
  ensureTable,
  envelopeJobId,
  failOnDeadLetter,
  loadConfig,
  resumeStalledJobs,
  sweepStalledJobs,
  NotFoundError,
  reopenForRedrive,
  type Deps,
  type Logger,
} from "@videoforge/core";
import { handlers } from "@videoforge/functions";
import { parseEnvelope, topology, type HandlerName } from "@videoforge/events";
import { startLocalServices } from "./storage/storage.ts";
import { createLocalBus, type BusOptions, type LocalBus } from "./bus/bus.ts";
import { deadLetterStore, type DeadLetter } from "./bus/dlq.ts";
import { deliveryJournal } from "./bus/journal.ts";
import { startEventsEndpoint } from "./bus/events-endpoint.ts";
import { createTaskRunner } from "./tasks/task-runner.ts";
import { artifactRuntime, MEDIA_HANDLERS, type ArtifactRuntimeOptions } from "./tasks/runtimes/dispatch.ts";
import { loadLocalAuth } from "./api-host/auth.ts";
import type { StorageFaults } from "./storage/s3-gate.ts";

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
  /** How often the sweeper looks for jobs past their stage's deadline (default 60 s). */
  sweepEveryMs?: number;
  /** Where task processes' log lines go (default: this process's log sink). */
  onTaskLog?: (line: string) => void;
  /**
   * `local` (default): media handlers in worker processes, the rest in process.
   * `artifacts`: every handler from its built artifact under its AWS runtime's limits
   * (`npm run build:aws` first; runtimes/dispatch.ts).
   */
  runtime?: "local" | "artifacts";
  artifacts?: ArtifactRuntimeOptions;
  /** Target chunk length in seconds (the CLI's `--chunk-seconds`); default the config's. */
  chunkSeconds?: number;
  /**
   * More VIDEOFORGE_* settings for every process of this cloud, over this process's
   * environment (tests: a short URL lifetime, a rate limit a burst of checks stays under).
   */
  settings?: Record<string, string>;
}

/**
 * The local cloud: dynalite, s3rver, the bus with its PutEvents endpoint, in-process
 * "Lambdas" and child-process "tasks", all wired from the topology in events/.
 */
export async function startLocalCloud(opts: LocalCloudOptions) {
  const dataDir = resolve(opts.dataDir);
  const tmpDir = join(dataDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const concurrency = opts.concurrency ?? cpus().length;
  // what every process of this cloud is told besides the endpoints: options win over this process's variables
  const settings: Record<string, string> = {
    VIDEOFORGE_LOCAL: "1",
    // the chunker plans equal work per worker
    VIDEOFORGE_PARALLEL_TASKS: String(concurrency),
    ...(opts.chunkSeconds !== undefined ? { VIDEOFORGE_CHUNK_SECONDS: String(opts.chunkSeconds) } : {}),
    ...opts.settings,
  };
  const base = loadConfig(childEnv(settings));
  const log = opts.log ?? createLogger({ component: "local-cloud" }, { level: base.logLevel });
  const buckets = Object.values(base.buckets);
  // dynalite and s3rver on private sockets; every request (SDK and presigned) passes a gate that
  // checks its signature against this data directory's key pair (storage.ts)
  const services = await startLocalServices({ dataDir, buckets, storageFaults: opts.storageFaults });
  const gate = services.storage;

  // the endpoint's address goes into the config the bus's handlers use, so it starts first
  let bus: LocalBus | undefined;
  // cancel stops work: a JobCancelled on the bus aborts that job's running tasks (set once tasks exist)
  let abortJob: ((jobId: string) => void) | undefined;
  const events = await startEventsEndpoint(
    {
      putEvents: (entries) => {
        if (!bus) throw new Error("bus not ready");
        for (const e of entries) if (e.DetailType === "JobCancelled") abortJob?.(cancelledJobId(e.Detail));
        return bus.putEvents(entries);
      },
    },
    0,
    { credentials: { [services.keys.accessKeyId]: services.keys.secretAccessKey } },
  );

  const env: Record<string, string> = {
    ...settings,
    ...services.env,
    VIDEOFORGE_DYNAMODB_ENDPOINT: services.dynamodb.endpoint,
    VIDEOFORGE_S3_ENDPOINT: gate.endpoint,
    VIDEOFORGE_EVENTS_ENDPOINT: events.endpoint,
    VIDEOFORGE_TABLE: base.table,
    VIDEOFORGE_UPLOADS_BUCKET: base.buckets.uploads,
    VIDEOFORGE_WORK_BUCKET: base.buckets.work,
    VIDEOFORGE_OUTPUTS_BUCKET: base.buckets.outputs,
    VIDEOFORGE_BUS: base.busName,
    VIDEOFORGE_TMP_DIR: tmpDir,
    // VIDEOFORGE_ENCODER_THREADS if set, else threads per ffmpeg × parallel tasks ≈ cores (config.ts)
    VIDEOFORGE_ENCODER_THREADS: String(base.encoderThreads),
  };
  // the in-process handlers see what a child started with `env` sees
  const cfg = loadConfig(childEnv(env));
  const { clients, ...deps } = composeDeps(cfg, `local:${process.pid}`);
  await ensureTable(clients.dynamodb, cfg.table).catch(async (err: unknown) => {
    // a cloud that cannot start leaves nothing listening behind it
    await events.stop();
    await services.stop();
    throw err;
  });

  const onTaskLog = opts.onTaskLog ?? ((line: string) => process.stderr.write(line + "\n"));
  const artifacts =
    opts.runtime === "artifacts"
      ? artifactRuntime(cfg, env, { concurrency, ...opts.artifacts, onLog: onTaskLog })
      : undefined;
  // each encoder's threads are its share of the cores when it starts, unless a fixed count was asked for
  const cores = base.encoderThreadsFixed ? undefined : cpus().length;
  const tasks =
    artifacts?.tasks ?? createTaskRunner({ env, concurrency, mode: opts.taskMode, onLog: onTaskLog, cores });
  abortJob = (jobId) => {
    // the artifact runtime has no per-job abort yet: its tasks end when they see the job ended
    if (jobId)
      log.info("cancel: aborting the job's running tasks", {
        jobId,
        tasks: (tasks as { abortJob?: (id: string) => number }).abortJob?.(jobId) ?? 0,
      });
  };
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
      if (artifacts) return void (await artifacts.deliver(sub, envelope));
      // a step that runs ffmpeg runs in a child process: its crash cannot take the server down
      if (sub.runtime === "task" || MEDIA_HANDLERS.has(sub.handler)) return tasks.run(sub.handler, envelope, attempt);
      await handlers[sub.handler].handle(deps, event);
    },
  });
  const localBus = bus;
  // jobs a pending delivery will move on, read before those deliveries start (and finish)
  const pending = journal
    .list()
    .filter((p) => topology.find((s) => s.name === p.subscription && s.handler !== "recorder"));
  const driven = new Set(pending.map((p) => envelopeJobId(p.envelope)));
  // what the previous process accepted and did not finish (a crash, a kill) goes out again
  const recovered = localBus.recover();
  if (recovered) log.info("resuming deliveries from the journal", { deliveries: recovered });
  // jobs nothing would move (a crash between a table write and its publish)
  const resumed = await resumeStalledJobs(deps, (jobId) => driven.has(jobId));
  // then the same sweeper as on AWS, periodically: jobs past their stage's deadline, abandoned uploads
  const sweep = (now = Date.now()) => sweepStalledJobs(deps, { now });
  const sweeper = setInterval(
    () => void sweep().catch((err: unknown) => log.error("sweep failed", { err })),
    opts.sweepEveryMs ?? 60_000,
  );
  sweeper.unref();

  /** Put a dead letter back on its rule, reopening the job it failed. */
  async function redrive(letterId: string): Promise<{ letter: DeadLetter; reopened: boolean }> {
    const letter = (await dlq.list()).find((l) => l.id === letterId);
    if (!letter) throw new NotFoundError(`No dead letter ${letterId}.`);
    const reopened = await reopenForRedrive(deps, letter.envelope);
    if (!reopened)
      throw new ConflictError(
        `The job of dead letter ${letterId} has ended for another reason ` +
          "(completed, cancelled or failed elsewhere); redriving it would change nothing.",
      );
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
    /** The artifact runner, in `runtime: "artifacts"` (invoke any function, e.g. the sweeper). */
    artifacts: artifacts?.runner,
    dlq,
    redrive,
    resumed,
    auth,
    storage: gate,
    dataDir,
    sweep,
    async stop() {
      clearInterval(sweeper);
      localBus.close();
      tasks.stopAll();
      await events.stop();
      await services.stop();
    },
  };
}
/** The job id of a JobCancelled entry's detail ("" when it has none: the bus refuses it anyway). */
function cancelledJobId(detail: unknown): string {
  try {
    const id = (JSON.parse(String(detail)) as { jobId?: unknown }).jobId;
    return typeof id === "string" ? id : "";
  } catch {
    return "";
  }
}
function handlerOf(subscription: string): HandlerName {
  const sub = topology.find((s) => s.name === subscription);
  if (!sub) throw new Error(`no rule named ${subscription}`);
  return sub.handler;
}

export type LocalCloud = Awaited<ReturnType<typeof startLocalCloud>>;
