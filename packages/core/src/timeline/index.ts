/**
 * Timeline: every event that names a job, appended in order for the dashboard and `videoforge
 * events`. Reads top to bottom: schema, events, operations. Imported as `Timeline`.
 */
import { catalog } from "@videoforge/events";

// schema
export { TimelinePage, TimelineRow } from "../contract.ts";

// events: a timeline records all of them
export const events = catalog;

// operations
export * from "./record.ts";
