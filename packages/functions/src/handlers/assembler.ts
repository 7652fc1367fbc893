import { Output } from "@videoforge/core";
import { on } from "./on.ts";

export const assembler = on("ChunksEncoded", Output.assembleJob);
