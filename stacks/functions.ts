import { handlerAccess, type Grant } from "./access.ts";
import { permissionsFor, type StoreArns } from "./permissions.ts";
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

/** Handlers that run ffmpeg on Lambda: the npm-shipped static build goes into their bundle. */
const needsFfmpeg: ReadonlySet<HandlerName> = new Set(["chunker", "assembler"]);

/** Lambda settings per handler: ffmpeg steps get the maximum time and /tmp. */
export function lambdaSizing(handler: HandlerName): Pick<sst.aws.FunctionArgs, "timeout" | "memory" | "storage" | "nodejs"> {
  if (!needsFfmpeg.has(handler)) return { timeout: "1 minute", memory: "512 MB" };
  return {
    timeout: "15 minutes",
    memory: "3008 MB",
    storage: "10 GB",
    // npm installs the static build for the deploying machine's platform: deploy from linux-x64
    nodejs: { install: ["@ffmpeg-installer/ffmpeg", "@ffprobe-installer/ffprobe"] },
  };
}

export function handlerPermissions(grants: readonly Grant[]) {
  return permissionsFor(grants, storeArns);
}

export const handlerGrants = (handler: HandlerName) => handlerAccess[handler];
