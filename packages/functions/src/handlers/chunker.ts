import { Chunk } from "@videoforge/core";
import { on } from "./on.ts";

export const chunker = on("VideoUploaded", Chunk.chunkSource);
