import { Entity } from "electrodb";

/**
 * A share link of one video: whoever holds its token may watch that video (and only it) until it expires
 * or its owner revokes it. Only a hash of the token's secret is stored.
 */
export const ShareEntity = new Entity({
  model: { entity: "share", version: "1", service: "videoforge" },
  attributes: {
    shareId: { type: "string", required: true },
    videoId: { type: "string", required: true },
    owner: { type: "string", required: true },
    /** SHA-256 of the token's secret part, hex. */
    secretHash: { type: "string", required: true },
    createdAt: { type: "number", required: true },
    expiresAt: { type: "number", required: true },
    revokedAt: { type: "number" },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["shareId"] },
      sk: { field: "sk", composite: [] },
    },
    byVideo: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["videoId"] },
      sk: { field: "gsi1sk", composite: ["createdAt"] },
    },
  },
});
