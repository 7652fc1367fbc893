// Only run on Lambda in a deployment that routes ChunkReady to a function instead of the task.
import { eventHandler } from "./event-handler.ts";

export const handler = eventHandler("encoder");
