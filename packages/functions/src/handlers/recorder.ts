import { recordEvent } from "@videoforge/core";
import type { Handler } from "./on.ts";

/** Subscribed to every job event: the timeline is the product's memory. */
export const recorder: Handler = { handle: (deps, event) => recordEvent(deps, event) };
