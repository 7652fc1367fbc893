import { trackChunk } from "@videoforge/core";
import { on } from "./on.ts";

export const tracker = on("ChunkEncoded", trackChunk);
