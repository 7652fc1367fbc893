/** What runs a delivery locally: the warm worker pool, task processes, or the built AWS artifacts. */
export * from "./task-runner.ts";
export * from "./worker-pool.ts";
export * from "./slots.ts";
export * from "./runtimes/dispatch.ts";
export * from "./runtimes/artifact-runner.ts";
