import { assembleJob } from "@videoforge/core";
import { on } from "./on.ts";

export const assembler = on("ChunksEncoded", assembleJob);
