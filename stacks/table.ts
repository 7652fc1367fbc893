import { LINK } from "@videoforge/core/config-sources";
import { TABLE_KEYS } from "@videoforge/core/db/table";

const prod = $app.stage === "prod";

/** The single table ElectroDB maps every entity onto; on demand, so idle costs storage only. */
export const jobTable = new sst.aws.Dynamo("JobTable", {
  fields: { [TABLE_KEYS.pk]: "string", [TABLE_KEYS.sk]: "string", [TABLE_KEYS.gsi1pk]: "string", [TABLE_KEYS.gsi1sk]: "string" },
  primaryIndex: { hashKey: TABLE_KEYS.pk, rangeKey: TABLE_KEYS.sk },
  globalIndexes: { [TABLE_KEYS.gsi1]: { hashKey: TABLE_KEYS.gsi1pk, rangeKey: TABLE_KEYS.gsi1sk } },
  deletionProtection: prod,
  transform: { table: { pointInTimeRecovery: { enabled: prod } } },
});

export const table = new sst.Linkable(LINK.table, { properties: { name: jobTable.name } });
