export * from "./endpoints.ts";
export * from "./send.ts";
export * from "./signature.ts";
