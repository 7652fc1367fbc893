import { eventHandler } from "./event-handler.ts";

export const handler = eventHandler("recorder");
