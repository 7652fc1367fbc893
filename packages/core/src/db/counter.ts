import { Entity } from "electrodb";

/**
 * A per-user counter for one period: API requests in a rate window (`rate`, period = the
 * window's start in epoch ms) or encode work in a UTC day (`work`, period = `2026-12-02`).
 * Charged with one conditional UpdateItem (ADD under `count <= limit - amount`), so every API
 * process and Lambda instance shares it. `expiresAt` (epoch seconds) is the table's TTL
 * attribute: a finished period's item goes away by itself. `jobs` (work only) names the jobs
 * already charged, so a redelivered chunking pays once. The job store writes it (job/store-*.ts).
 */
export const CounterEntity = new Entity({
  model: { entity: "counter", version: "1", service: "videoforge" },
  attributes: {
    owner: { type: "string", required: true },
    kind: { type: ["rate", "work"] as const, required: true },
    period: { type: "string", required: true },
    count: { type: "number" },
    jobs: { type: "set", items: "string" },
    expiresAt: { type: "number" },
  },
  indexes: {
    byOwner: {
      pk: { field: "pk", composite: ["owner"] },
      sk: { field: "sk", composite: ["kind", "period"] },
    },
  },
});
