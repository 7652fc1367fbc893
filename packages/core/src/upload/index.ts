/**
 * Upload: a source arriving as a multipart upload through presigned part URLs, until it
 * becomes a job. Reads top to bottom: schema, events, operations. Imported as `Upload`.
 */
import { catalog } from "@videoforge/events";

// schema
export { PartPage, UploadCreated, UploadParts, UploadState, UploadStatus } from "../contract.ts";
export { UPLOAD_STATUSES } from "../job/status.ts";

// events
export const events = { VideoUploaded: catalog.VideoUploaded };

// operations
export * from "./lifecycle.ts";
export * from "./parts.ts";
export * from "./resume.ts";
