/**
 * Output: the renditions, HLS ladder and poster joined from encoded chunks, verified, and
 * played back through presigned playlists. Reads top to bottom: schema, events, operations.
 * Imported as `Output`.
 */
import { catalog } from "@videoforge/events";

// schema
export { Output as OutputSchema, OutputLinks } from "../contract.ts";

// events
export const events = { VideoAssembled: catalog.VideoAssembled };

// operations
export * from "./assemble.ts";
export * from "./finish.ts";
export * from "./hls-urls.ts";
export * from "./preview.ts";
export * from "./captions.ts";
