/**
 * What AWS runs, as one table: every Lambda and the worker image, with the runtime limits
 * the stacks configure. Pure (no SST globals), so the artifact build (`npm run build:aws`),
 * the stacks and the parity test (which runs each artifact under these limits) read the
 * same numbers and cannot drift.
 */

/** Node major of every Lambda, the worker image and the parity test. */
export const NODE_MAJOR = 22;
export const LAMBDA_RUNTIME = `nodejs${NODE_MAJOR}.x` as const;

/** Where `npm run build:aws` writes everything, relative to the repository root. */
export const BUILD_DIR = ".build/aws";

export interface FunctionArtifact {
  /** Entry file under packages/functions/src/lambda/ (without `.ts`). */
  entry: string;
  /**
   * `zip`: an esbuild bundle in `${BUILD_DIR}/functions/<name>/index.mjs`, handler `index.handler`,
   * on the managed Node runtime. `image`: the worker image in Lambda mode (it carries ffmpeg).
   */
  kind: "zip" | "image";
  memoryMB: number;
  timeoutSeconds: number;
  /** /tmp size; Lambda's default is 512 MB. */
  ephemeralMB?: number;
}

/** Every function the stacks create, by artifact name. */
export const functionArtifacts = {
  api: { entry: "api", kind: "zip", memoryMB: 512, timeoutSeconds: 30 },
  tracker: { entry: "tracker", kind: "zip", memoryMB: 512, timeoutSeconds: 60 },
  "chunk-failures": { entry: "chunk-failures", kind: "zip", memoryMB: 512, timeoutSeconds: 60 },
  recorder: { entry: "recorder", kind: "zip", memoryMB: 256, timeoutSeconds: 60 },
  "launch-task": { entry: "launch-task", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  "dead-letters": { entry: "dead-letters", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  "task-stopped": { entry: "task-stopped", kind: "zip", memoryMB: 256, timeoutSeconds: 30 },
  sweeper: { entry: "sweeper", kind: "zip", memoryMB: 512, timeoutSeconds: 300 },
  // the steps that run ffmpeg on Lambda run the worker's image, so one ffmpeg build serves every runtime
  chunker: { entry: "chunker", kind: "image", memoryMB: 3008, timeoutSeconds: 900, ephemeralMB: 10240 },
  assembler: { entry: "assembler", kind: "image", memoryMB: 3008, timeoutSeconds: 900, ephemeralMB: 10240 },
  finisher: { entry: "finisher", kind: "image", memoryMB: 3008, timeoutSeconds: 900, ephemeralMB: 10240 },
} as const satisfies Record<string, FunctionArtifact>;

export type FunctionArtifactName = keyof typeof functionArtifacts;
