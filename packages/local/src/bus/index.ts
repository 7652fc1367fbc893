/** The local EventBridge: the bus and its routing by the topology, its journal, dead letters and PutEvents endpoint. */
export * from "./bus.ts";
export * from "./pattern.ts";
export * from "./journal.ts";
export * from "./dlq.ts";
export * from "./events-endpoint.ts";
