import { Entity } from "electrodb";

/**
 * An endpoint a user registered: which webhook events it hears and the secret its deliveries are signed with.
 * The secret is kept as given (signing needs it, a hash would not do); only the answer that created it shows it.
 */
export const WebhookEntity = new Entity({
  model: { entity: "webhook", version: "1", service: "videoforge" },
  attributes: {
    webhookId: { type: "string", required: true },
    owner: { type: "string", required: true },
    url: { type: "string", required: true },
    events: { type: "list", items: { type: "string" }, required: true },
    secret: { type: "string", required: true },
    createdAt: { type: "number", required: true },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["webhookId"] },
      sk: { field: "sk", composite: [] },
    },
    byOwner: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["owner"] },
      sk: { field: "gsi1sk", composite: ["createdAt"] },
    },
  },
});

/**
 * One webhook event for one endpoint, with every attempt at it. Made once per (endpoint, event id): a republished
 * event or a redelivered queue message finds the row and sends the same body, with the same `id`.
 */
export const DeliveryEntity = new Entity({
  model: { entity: "delivery", version: "1", service: "videoforge" },
  attributes: {
    webhookId: { type: "string", required: true },
    /** The event's `id` in the body: derived from the job and the webhook event type. */
    deliveryId: { type: "string", required: true },
    owner: { type: "string", required: true },
    jobId: { type: "string", required: true },
    type: { type: "string", required: true },
    /** The exact JSON sent every time (signatures cover these bytes). */
    body: { type: "string", required: true },
    status: { type: ["pending", "delivered", "failed"] as const, required: true },
    attempts: {
      type: "list",
      required: true,
      items: {
        type: "map",
        properties: {
          at: { type: "number", required: true },
          /** The endpoint's HTTP status; 0 when it gave none (refused, timed out, not allowed). */
          status: { type: "number", required: true },
          /** Empty on success; else what went wrong, for a person. */
          error: { type: "string", required: true },
          ms: { type: "number", required: true },
        },
      },
    },
    createdAt: { type: "number", required: true },
    /** When the next attempt is due (pending only). */
    nextAttemptAt: { type: "number", required: true },
    /** No attempt after this: the delivery is dead-lettered (failed) instead. */
    windowEndsAt: { type: "number", required: true },
    /** DynamoDB's TTL (epoch seconds): a delivery's record is kept 30 days. */
    expiresAt: { type: "number", required: true },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["webhookId", "deliveryId"] },
      sk: { field: "sk", composite: [] },
    },
    byWebhook: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["webhookId"] },
      sk: { field: "gsi1sk", composite: ["createdAt"] },
    },
  },
});
