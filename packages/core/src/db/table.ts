import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

/** The single table's key schema; ElectroDB's indexes map onto these attribute names. */
/**
 * The table's TTL attribute (epoch seconds): DynamoDB deletes an item some time after it
 * passes. Only the per-user counters carry it (db/counter.ts); dynalite ignores it.
 */
export const TABLE_TTL = "expiresAt";

export const TABLE_KEYS = {
  pk: "pk",
  sk: "sk",
  gsi1pk: "gsi1pk",
  gsi1sk: "gsi1sk",
  gsi1: "gsi1",
  gsi2pk: "gsi2pk",
  gsi2sk: "gsi2sk",
  gsi2: "gsi2",
} as const;

/**
 * gsi2, the sparse index of active jobs: only a job not yet ended carries `gsi2pk` (a shard,
 * `active#0`..`active#7`) and `gsi2sk` (a number: when its stage's deadline passes), so the
 * sweeper queries only active jobs, and only overdue ones (job/machine.ts).
 */
const ACTIVE_INDEX = {
  IndexName: TABLE_KEYS.gsi2,
  KeySchema: [
    { AttributeName: TABLE_KEYS.gsi2pk, KeyType: "HASH" as const },
    { AttributeName: TABLE_KEYS.gsi2sk, KeyType: "RANGE" as const },
  ],
  Projection: { ProjectionType: "ALL" as const },
};

/**
 * Create the table if it is missing (local cloud, tests), and return once it and its indexes are ACTIVE. On AWS the
 * stack creates it.
 */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  await createOrUpdateTable(client, table);
  await untilActive(client, table);
}

/**
 * A table answers "not found" while CREATING, and dynalite marks it ACTIVE a moment after CreateTable returns (a
 * timer, then a write): on a loaded machine the first query could come before that.
 */
async function untilActive(client: DynamoDBClient, table: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table })).catch((err: unknown) => {
      if (err instanceof ResourceNotFoundException) return { Table: undefined };
      throw err;
    });
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === "ACTIVE" && indexes.every((i) => i.IndexStatus === "ACTIVE")) return;
    if (Date.now() > until) throw new Error(`table ${table} is not ACTIVE after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createOrUpdateTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    // a table made before the sparse index existed gets it (jobs written since carry its keys)
    if (!Table?.GlobalSecondaryIndexes?.some((i) => i.IndexName === TABLE_KEYS.gsi2)) {
      await client.send(
        new UpdateTableCommand({
          TableName: table,
          AttributeDefinitions: [
            { AttributeName: TABLE_KEYS.gsi2pk, AttributeType: "S" },
            { AttributeName: TABLE_KEYS.gsi2sk, AttributeType: "N" },
          ],
          GlobalSecondaryIndexUpdates: [{ Create: ACTIVE_INDEX }],
        }),
      );
    }
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        ...[TABLE_KEYS.pk, TABLE_KEYS.sk, TABLE_KEYS.gsi1pk, TABLE_KEYS.gsi1sk, TABLE_KEYS.gsi2pk].map((name) => ({
          AttributeName: name,
          AttributeType: "S" as const,
        })),
        { AttributeName: TABLE_KEYS.gsi2sk, AttributeType: "N" as const },
      ],
      KeySchema: [
        { AttributeName: TABLE_KEYS.pk, KeyType: "HASH" },
        { AttributeName: TABLE_KEYS.sk, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE_KEYS.gsi1,
          KeySchema: [
            { AttributeName: TABLE_KEYS.gsi1pk, KeyType: "HASH" },
            { AttributeName: TABLE_KEYS.gsi1sk, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
        ACTIVE_INDEX,
      ],
    }),
  );
}
