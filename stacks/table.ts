import { LINK } from "@videoforge/core/config-sources";
import { TABLE_KEYS, TABLE_TTL } from "@videoforge/core/table";

const prod = $app.stage === "prod";

/**
 * The single table ElectroDB maps every entity onto; on demand, so idle costs storage only.
 * gsi1: a user's jobs by creation time. gsi2: the sparse index of active jobs the sweeper
 * reads (only a job not yet ended carries its keys; the sort key is a number, when its stage's
 * deadline passes), the same index `ensureTable` makes locally (core/src/db/table.ts).
 * TTL on `expiresAt`: the per-user rate and work counters expire once their period is over.
 */
export const jobTable = new sst.aws.Dynamo(
  "JobTable",
  {
    fields: {
      [TABLE_KEYS.pk]: "string",
      [TABLE_KEYS.sk]: "string",
      [TABLE_KEYS.gsi1pk]: "string",
      [TABLE_KEYS.gsi1sk]: "string",
      [TABLE_KEYS.gsi2pk]: "string",
      [TABLE_KEYS.gsi2sk]: "number",
    },
    primaryIndex: { hashKey: TABLE_KEYS.pk, rangeKey: TABLE_KEYS.sk },
    globalIndexes: {
      [TABLE_KEYS.gsi1]: { hashKey: TABLE_KEYS.gsi1pk, rangeKey: TABLE_KEYS.gsi1sk },
      [TABLE_KEYS.gsi2]: { hashKey: TABLE_KEYS.gsi2pk, rangeKey: TABLE_KEYS.gsi2sk, projection: "all" },
    },
    ttl: TABLE_TTL,
    deletionProtection: prod,
    transform: { table: { pointInTimeRecovery: { enabled: prod } } },
  },
  { retainOnDelete: prod },
);

export const table = new sst.Linkable(LINK.table, { properties: { name: jobTable.name } });
