import { hostname } from "node:os";
import { config as defaultConfig, type Config } from "./config.ts";
import { createClients } from "./adapters/clients.ts";
import { s3Store } from "./adapters/s3-store.ts";
import { eventBridgePublisher } from "./adapters/eventbridge-publisher.ts";
import { createDb } from "./db/index.ts";
import { electroJobStore } from "./adapters/electro-job-store.ts";
import { createLogger, type Logger } from "./log.ts";
import type { Deps } from "./deps.ts";
import { createFfmpeg } from "./ffmpeg/locate.ts";
import type { Ffmpeg } from "./ffmpeg/run.ts";

/**
 * The composition root shared by every runtime: the same adapters on AWS and locally,
 * only the endpoints in the config differ. The logger is pino's at the config's level unless a
 * runtime brings its own (Lambda: Powertools, packages/functions/src/lambda/runtime.ts). The
 * ffmpeg wrapper is made here once, from the config, and injected into every step.
 */
export function composeDeps(
  cfg: Config = defaultConfig(),
  worker = `${hostname()}:${process.pid}`,
  log: Logger = createLogger({ worker }, { level: cfg.logLevel }),
  ffmpeg: Ffmpeg = createFfmpeg(cfg, log),
): Deps & { clients: ReturnType<typeof createClients> } {
  const clients = createClients(cfg);
  const db = createDb(clients.document, cfg.table);
  return {
    cfg,
    clients,
    db,
    jobs: electroJobStore(db, { client: clients.document, table: cfg.table }),
    store: s3Store(clients.s3, { idleMs: cfg.storageTimeoutMs }),
    events: eventBridgePublisher(clients.events, cfg.busName),
    log,
    ffmpeg,
    worker,
  };
}
