export * from "./cloud.ts";
export * from "./bus.ts";
export * from "./dlq.ts";
export * from "./pattern.ts";
export * from "./task-runner.ts";
export * from "./server.ts";
export * from "./auth.ts";
export * from "./journal.ts";
export { secureDataDir, localKeys } from "./storage.ts";
