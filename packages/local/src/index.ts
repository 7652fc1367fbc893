/** The local cloud `videoforge up` runs, composed of the services it stands in for. */
export * from "./cloud.ts";
export * from "./bus/index.ts";
export * from "./tasks/task-runner.ts";
export * from "./api-host/server.ts";
export * from "./api-host/auth.ts";
export { secureDataDir, localKeys } from "./storage/storage.ts";
