/**
 * Every handler the topology routes to, and what deploying it needs. One entry per handler;
 * everything else derives from it: the registry (packages/functions/src/registry.ts), the
 * Lambda artifacts and their bundles (stacks/artifacts.ts, stacks/build-artifacts.ts), the
 * rules and targets (stacks/rules.ts, stacks/subscriptions.ts), IAM (stacks/access.ts) and
 * the calls the IAM test checks (packages/core/src/adapters/handler-calls.ts).
 *
 * To add a handler: add it here, subscribe it in topology.ts, and write
 * packages/functions/src/handlers/<kebab-name>.ts exporting a `Handler` named after it
 * (`chunkFailures` → handlers/chunk-failures.ts, `export const chunkFailures`).
 * test/infra/handlers.test.ts proves each entry has its code, its rules, its artifact and its grants.
 */
import type { EventDetail } from "./catalog.ts";

/** How a handler runs on Lambda, when a rule targets one (stacks/artifacts.ts). */
export interface LambdaLimits {
  /**
   * `zip`: an esbuild bundle of the generic entry (packages/functions/src/lambda/event-handler.ts)
   * on the managed Node runtime. `image`: the worker image in Lambda mode, for steps that run
   * ffmpeg, so one ffmpeg build serves every runtime.
   */
  kind: "zip" | "image";
  memoryMB: number;
  timeoutSeconds: number;
  /** /tmp size; Lambda's default is 512 MB. */
  ephemeralMB?: number;
}

/** The stores a handler's code reaches through the ports. */
export type HandlerStore = "uploads" | "work" | "outputs" | "table" | "bus";

export interface HandlerSpec {
  /** Absent: the handler only runs as a task (the worker image on Fargate). */
  lambda?: LambdaLimits;
  /**
   * The port calls its core operation makes, per store, by the adapters' own names
   * (ObjectStore methods, ElectroDB operations, `publish`); core checks the names
   * (adapters/handler-calls.ts) and IAM grants follow from them (stacks/access.ts).
   */
  calls: Readonly<Partial<Record<HandlerStore, readonly string[]>>>;
  /** The stage a dead letter of this handler fails its job at; null: losing it leaves the video right. */
  stage: EventDetail<"JobFailed">["stage"] | null;
}

/** The steps that run ffmpeg run the worker's image on Lambda too, so one ffmpeg build serves every runtime. */
const ffmpegLambda = { kind: "image", memoryMB: 3008, timeoutSeconds: 900, ephemeralMB: 10240 } as const;
const jobState = ["get", "query", "create", "patch"] as const;

/**
 * To add a handler: add it here, subscribe it in topology.ts, and write
 * packages/functions/src/handlers/<kebab-name>.ts. Nothing else names it.
 */
export const handlerSpecs = {
  importer: {
    // a stream from the URL into the uploads bucket, through memory only (8 MiB parts, two in flight)
    lambda: { kind: "zip", memoryMB: 1024, timeoutSeconds: 900 },
    // a file that arrived short or empty is removed again
    calls: { uploads: ["uploadStream", "remove"], table: ["get", "patch"], bus: ["publish"] },
    stage: "upload",
  },
  chunker: {
    lambda: ffmpegLambda,
    // download the source, store chunks and audio, plan and announce; charge the day's encode work
    calls: { uploads: ["download", "head"], work: ["upload", "head", "list"], table: jobState, bus: ["publish"] },
    stage: "chunking",
  },
  encoder: {
    // light chunks and the lead one on Lambda (encode-light-chunk), at 10 GB for six vCPUs; the rest on Fargate
    lambda: { ...ffmpegLambda, memoryMB: 10240 },
    // decode the chunk (and the next one's head) through presigned reads, write encoded pieces
    calls: { work: ["download", "upload", "presignGet", "head"], table: jobState, bus: ["publish"] },
    stage: "encoding",
  },
  tracker: {
    lambda: { kind: "zip", memoryMB: 512, timeoutSeconds: 60 },
    calls: { table: ["get", "patch"], bus: ["publish"] },
    stage: "encoding",
  },
  chunkFailures: {
    lambda: { kind: "zip", memoryMB: 512, timeoutSeconds: 60 },
    calls: { table: ["get", "patch"], bus: ["publish"] },
    stage: "encoding",
  },
  assembler: {
    lambda: ffmpegLambda,
    // join encoded pieces from work into outputs
    calls: {
      work: ["head", "download", "list"],
      outputs: ["upload", "putText", "head"],
      table: jobState,
      bus: ["publish"],
    },
    stage: "assembly",
  },
  finisher: {
    lambda: ffmpegLambda,
    // decode every stored output through presigned URLs
    calls: { outputs: ["head", "presignGet"], table: ["get", "patch"], bus: ["publish"] },
    stage: "finishing",
  },
  deleter: {
    lambda: { kind: "zip", memoryMB: 512, timeoutSeconds: 300 },
    // every object under the job's prefix in outputs and work, the source unless shared, the job's rows
    calls: {
      uploads: ["head", "remove"],
      work: ["list", "remove"],
      outputs: ["list", "remove"],
      table: ["get", "query", "delete", "batchWrite"],
      bus: ["publish"],
    },
    // a lost deletion leaves files behind, not a wrong video: a repeated DELETE starts it again
    stage: null,
  },
  webhookSender: {
    // one event's deliveries: each endpoint gets at most a 10 s attempt per invocation
    lambda: { kind: "zip", memoryMB: 256, timeoutSeconds: 120 },
    // the owner's webhooks, each one's delivery row (made once), every attempt recorded on it
    calls: { table: ["get", "query", "create", "patch"] },
    // a lost delivery does not make a video wrong; its row shows it failed and it can be sent again
    stage: null,
  },
  recorder: {
    lambda: { kind: "zip", memoryMB: 256, timeoutSeconds: 60 },
    calls: { table: ["put"] },
    // a lost timeline entry does not make the video wrong
    stage: null,
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof handlerSpecs;
export const handlerNames = Object.keys(handlerSpecs) as HandlerName[];
export const isHandlerName = (name: string): name is HandlerName => Object.hasOwn(handlerSpecs, name);

/** One value per handler, e.g. its grants (stacks/access.ts). */
export function byHandler<T>(fn: (name: HandlerName) => T): Record<HandlerName, T> {
  const out = {} as Record<HandlerName, T>;
  for (const name of handlerNames) out[name] = fn(name);
  return out;
}

/** Handlers that can run on Lambda. */
export type LambdaHandlerName = {
  [H in HandlerName]: (typeof handlerSpecs)[H] extends { lambda: LambdaLimits } ? H : never;
}[HandlerName];
export const hasLambda = (name: HandlerName): name is LambdaHandlerName => "lambda" in handlerSpecs[name];

/** `chunkFailures` → `chunk-failures`: the handler's file, artifact and IAM unit name. */
export type Kebab<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `-${Lowercase<C>}`}${Kebab<Rest>}`
  : S;
export const kebab = <S extends string>(name: S): Kebab<S> =>
  name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) as Kebab<S>;
