import { Chunk } from "@videoforge/core";
import { on } from "./on.ts";

export const encoder = on("ChunkReady", (deps, detail) => Chunk.encodeChunk(deps, detail, { signal: deps.signal }));
