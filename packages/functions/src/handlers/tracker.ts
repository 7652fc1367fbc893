import { Chunk } from "@videoforge/core";
import { on } from "./on.ts";

export const tracker = on("ChunkEncoded", Chunk.trackChunk);
