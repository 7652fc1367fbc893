import { Entity } from "electrodb";

/** One domain event as it happened to a job; keyed by event id so redelivery writes the same item. */
export const TimelineEventEntity = new Entity({
  model: { entity: "timeline", version: "1", service: "videoforge" },
  attributes: {
    jobId: { type: "string", required: true },
    at: { type: "string", required: true },
    eventId: { type: "string", required: true },
    type: { type: "string", required: true },
    chunk: { type: "number" },
    detail: { type: "any" },
  },
  indexes: {
    byJob: {
      collection: "jobView",
      pk: { field: "pk", composite: ["jobId"] },
      sk: { field: "sk", composite: ["at", "eventId"] },
    },
  },
});
