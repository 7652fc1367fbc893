import { Entity, Service, type EntityItem } from "electrodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JobEntity } from "../job/entity.ts";
import { ChunkEntity } from "../chunk/entity.ts";
import { TimelineEventEntity } from "../timeline/entity.ts";
import { UploadEntity } from "../upload/entity.ts";
import { QuotaEntity } from "./quota.ts";
import { CounterEntity } from "./counter.ts";
import { ShareEntity } from "../video/share-entity.ts";
import { DeliveryEntity, WebhookEntity } from "../webhook/entity.ts";

export { JOB_STATUSES, FINAL_STATUSES, type JobStatus } from "../job/entity.ts";
export { ensureTable, TABLE_KEYS, TABLE_TTL } from "./table.ts";

/** All entities over one table; `jobView` returns job + chunks + timeline in one query. */
export function createDb(client: DynamoDBDocumentClient, table: string) {
  // fresh entities per Db: a Service sets its client and table on the entities it is given, so
  // sharing the module's instances would point every Db in the process at the latest one's table
  return new Service(
    {
      job: new Entity(JobEntity.schema),
      chunk: new Entity(ChunkEntity.schema),
      timeline: new Entity(TimelineEventEntity.schema),
      upload: new Entity(UploadEntity.schema),
      quota: new Entity(QuotaEntity.schema),
      counter: new Entity(CounterEntity.schema),
      share: new Entity(ShareEntity.schema),
      webhook: new Entity(WebhookEntity.schema),
      delivery: new Entity(DeliveryEntity.schema),
    },
    { client, table },
  );
}
export type Db = ReturnType<typeof createDb>;

export type JobItem = EntityItem<typeof JobEntity>;
export type ChunkItem = EntityItem<typeof ChunkEntity>;
export type TimelineItem = EntityItem<typeof TimelineEventEntity>;
export type UploadItem = EntityItem<typeof UploadEntity>;
export type CounterItem = EntityItem<typeof CounterEntity>;
export type ShareItem = EntityItem<typeof ShareEntity>;
export type WebhookItem = EntityItem<typeof WebhookEntity>;
export type DeliveryItem = EntityItem<typeof DeliveryEntity>;

/** True when DynamoDB refused a write because its condition did not hold (someone else got there first). */
export function isConditionFailure(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === "ConditionalCheckFailedException" || /conditional request failed/i.test(e.message)) return true;
  }
  return false;
}

/** Run a conditional write; resolves true if it was applied, false if its condition did not hold. */
export async function applied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
