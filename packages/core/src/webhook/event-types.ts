/**
 * What a webhook can hear. `video.ready` is "first playable" (a preview, or else completion). Imports nothing,
 * so the dashboard can list them without bundling the contract's schemas.
 */
export const WEBHOOK_EVENT_TYPES = [
  "video.ready",
  "job.completed",
  "job.failed",
  "job.cancelled",
  "video.deleted",
] as const;
