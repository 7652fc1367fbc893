import { finishJob } from "@videoforge/core";
import { on } from "./on.ts";

export const finisher = on("VideoAssembled", finishJob);
