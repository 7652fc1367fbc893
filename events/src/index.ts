export * from "./catalog.ts";
export * from "./envelope.ts";
export * from "./handlers.ts";
export * from "./topology.ts";
