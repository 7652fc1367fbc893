/**
 * What AWS runs, as one table: every Lambda and the worker image, with the runtime limits
 * the stacks configure. Pure (no SST globals), so the artifact build (`npm run build:aws`),
 * the stacks and the parity test (which runs each artifact under these limits) read the
 * same numbers and cannot drift. The topology handlers' functions come from
 * events/src/handlers.ts; only the functions that are not handlers are listed here.
 */
import { handlerNames, handlerSpecs, hasLambda, kebab } from "@videoforge/events";
import type { HandlerName, Kebab, LambdaHandlerName, LambdaLimits } from "@videoforge/events";

/** Node major of every Lambda, the worker image and the parity test. */
export const NODE_MAJOR = 22;
export const LAMBDA_RUNTIME = `nodejs${NODE_MAJOR}.x` as const;

/** Where `npm run build:aws` writes everything, relative to the repository root. */
export const BUILD_DIR = ".build/aws";

/** A function that is not a topology handler: its own entry file. */
export interface EntryArtifact extends LambdaLimits {
  /** Entry file under packages/functions/src/lambda/ (without `.ts`). */
  entry: string;
  /** An esbuild bundle in `${BUILD_DIR}/functions/<name>/index.mjs`, handler `index.handler`, on managed Node. */
  kind: "zip";
}

/** A topology handler on Lambda: its limits as events/src/handlers.ts declares them. */
export interface HandlerArtifact extends LambdaLimits {
  /** What the generic entry (packages/functions/src/lambda/event-handler.ts) runs; the image's VIDEOFORGE_HANDLER. */
  handler: LambdaHandlerName;
}

export type FunctionArtifact = EntryArtifact | HandlerArtifact;

const entryArtifacts = {
  api: { entry: "api", kind: "zip", memoryMB: 512, timeoutSeconds: 30 },
  "launch-task": { entry: "launch-task", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  "dead-letters": { entry: "dead-letters", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  "task-stopped": { entry: "task-stopped", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  sweeper: { entry: "sweeper", kind: "zip", memoryMB: 512, timeoutSeconds: 300 },
} as const satisfies Record<string, EntryArtifact>;

type HandlerArtifacts = {
  [H in LambdaHandlerName as Kebab<H>]: (typeof handlerSpecs)[H]["lambda"] & { handler: H };
};

/** Every topology handler that can run on Lambda, by artifact name (`chunkFailures` → `chunk-failures`). */
const handlerArtifacts = Object.fromEntries(
  handlerNames.filter(hasLambda).map((handler) => [kebab(handler), { ...handlerSpecs[handler].lambda, handler }]),
) as HandlerArtifacts;

/** Every function the stacks create, by artifact name. */
export const functionArtifacts = { ...entryArtifacts, ...handlerArtifacts } satisfies Record<string, FunctionArtifact>;

export type FunctionArtifactName = keyof typeof functionArtifacts;

/** The artifact that runs a handler on Lambda. */
export function handlerArtifact(handler: HandlerName): FunctionArtifactName {
  if (!hasLambda(handler)) throw new Error(`${handler} has no Lambda (events/src/handlers.ts): it runs only as a task`);
  return kebab(handler);
}

export const isHandlerArtifact = (a: FunctionArtifact): a is HandlerArtifact => "handler" in a;
