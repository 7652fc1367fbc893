import { Chunk } from "@videoforge/core";
import { on } from "./on.ts";

export const chunkFailures = on("ChunkFailed", Chunk.failOnChunk);
