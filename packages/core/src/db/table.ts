import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** The single table's key schema; ElectroDB's indexes map onto these attribute names. */
export const TABLE_KEYS = { pk: "pk", sk: "sk", gsi1pk: "gsi1pk", gsi1sk: "gsi1sk", gsi1: "gsi1" } as const;

/** Create the table if it is missing (local cloud, tests). On AWS the stack creates it. */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: Object.values({ a: TABLE_KEYS.pk, b: TABLE_KEYS.sk, c: TABLE_KEYS.gsi1pk, d: TABLE_KEYS.gsi1sk }).map((name) => ({ AttributeName: name, AttributeType: "S" })),
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
      ],
    }),
  );
}
