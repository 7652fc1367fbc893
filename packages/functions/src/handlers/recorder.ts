import { Timeline } from "@videoforge/core";
import type { Handler } from "./on.ts";

/** Subscribed to every job event: the timeline is the product's memory. */
export const recorder: Handler = { handle: (deps, event) => Timeline.recordEvent(deps, event) };
