import { Output } from "@videoforge/core";
import { on } from "./on.ts";

export const finisher = on("VideoAssembled", Output.finishJob);
