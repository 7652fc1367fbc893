import { deleteVideo } from "@videoforge/core";
import { on } from "./on.ts";

export const deleter = on("VideoDeleteRequested", deleteVideo);
