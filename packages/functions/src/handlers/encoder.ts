import { encodeChunk } from "@videoforge/core";
import { on } from "./on.ts";

export const encoder = on("ChunkReady", (deps, detail) => encodeChunk(deps, detail, { signal: deps.signal }));
