import { Entity } from "electrodb";

/**
 * A user's active-job slots: one item per owner whose `active` map holds the jobs that count
 * against the limit (job id → when the slot was reserved). Reserving adds a key under a
 * condition on the map's size, in one UpdateItem; releasing removes the key, which is
 * idempotent by construction (a second release removes nothing), so no transaction and no
 * "released" flag are needed. The job store writes it (job/store-*.ts).
 */
export const QuotaEntity = new Entity({
  model: { entity: "quota", version: "1", service: "videoforge" },
  attributes: {
    owner: { type: "string", required: true },
    /** job id → epoch ms of the reservation */
    active: { type: "any" },
  },
  indexes: {
    byOwner: {
      pk: { field: "pk", composite: ["owner"] },
      sk: { field: "sk", composite: [] },
    },
  },
});
