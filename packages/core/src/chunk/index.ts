/**
 * Chunk: a keyframe-aligned piece of the source, split, encoded into every rung and tracked
 * until the set is whole. Reads top to bottom: schema, events, operations. Imported as `Chunk`.
 */
import { catalog } from "@videoforge/events";

// schema
export { ChunkRow, ChunkStatus } from "../contract.ts";
export { CHUNK_STATUSES } from "../job/status.ts";

// events
export const events = {
  ChunkReady: catalog.ChunkReady,
  ChunkEncoded: catalog.ChunkEncoded,
  ChunkFailed: catalog.ChunkFailed,
  ChunksEncoded: catalog.ChunksEncoded,
};

// operations
export * from "./split.ts";
export * from "./encode.ts";
export * from "./track.ts";
