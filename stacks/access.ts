/**
 * Who may do what, per compute unit. Pure, so the stacks turn it into IAM statements and
 * docs/deploy-aws.md and test/infra read the same table. The stacks link properties-only
 * resources (names) and grant exactly these actions, instead of SST's default
 * `s3:*` / `dynamodb:*` link permissions.
 */
import { byHandler, handlerSpecs, type HandlerName } from "@videoforge/events";
import { requiredActions, type UnitCalls } from "@videoforge/core/handler-calls";

export type Store = "uploads" | "work" | "outputs" | "table" | "bus";

export interface Grant {
  store: Store;
  actions: readonly string[];
}

const S3_READ = ["s3:GetObject", "s3:ListBucket"] as const;
const S3_WRITE = ["s3:PutObject", "s3:AbortMultipartUpload"] as const;
const TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"] as const;
const TABLE_WRITE = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
] as const;
const PUBLISH = ["events:PutEvents"] as const;

const table: Grant = { store: "table", actions: [...TABLE_READ, ...TABLE_WRITE] };
const bus: Grant = { store: "bus", actions: PUBLISH };

/**
 * A topology handler's grants, from the calls it declares (events/src/handlers.ts): each
 * store it calls gets the store's whole read set, plus the write set if any call writes.
 * Coarser than the call list on purpose: a conditional write or a batch is still a write,
 * and a grant one action short fails in production only. test/infra/stacks.mock.test.ts
 * proves every declared call is granted.
 */
function grantsOf(calls: UnitCalls): Grant[] {
  const needed = requiredActions(calls);
  const level = (store: Store): readonly string[] => {
    if (store === "table") return [...TABLE_READ, ...TABLE_WRITE];
    if (store === "bus") return PUBLISH;
    const writes = needed[store]!.some((a) => (S3_WRITE as readonly string[]).includes(a));
    return writes ? [...S3_READ, ...S3_WRITE] : S3_READ;
  };
  const stores = (["uploads", "work", "outputs", "table", "bus"] as const).filter((s) => needed[s]);
  return stores.map((store) => ({ store, actions: [...new Set([...level(store), ...needed[store]!])] }));
}

/** Each handler's needs, from what its core operation touches. */
export const handlerAccess: Record<HandlerName, readonly Grant[]> = byHandler((name) =>
  grantsOf(handlerSpecs[name].calls),
);

/** The HTTP API: multipart uploads into uploads, presigned downloads and playlists from outputs. */
export const apiAccess: readonly Grant[] = [
  { store: "uploads", actions: [...S3_READ, ...S3_WRITE] },
  { store: "outputs", actions: S3_READ },
  table,
  bus,
];

/**
 * The failure watchers (stacks/failures.ts): a dead letter or a stopped worker task fails
 * its job (read and write the job row) and announces JobFailed. Their SQS consume rights on
 * the dead-letter queues are granted in the stack, next to the queues.
 */
export const deadLetterAccess: readonly Grant[] = [table, bus];
export const taskStoppedAccess: readonly Grant[] = [table, bus];

/**
 * The scheduled sweeper re-drives stalled jobs from their stored state (job rows, the sparse
 * index gsi2, PutEvents) and aborts abandoned multipart uploads.
 */
export const sweeperAccess: readonly Grant[] = [table, bus, { store: "uploads", actions: ["s3:AbortMultipartUpload"] }];

/** A unit's grants merged per store, actions sorted: what one IAM statement per store holds. */
export function mergeGrants(grants: readonly Grant[]): Grant[] {
  const byStore = new Map<Store, Set<string>>();
  for (const g of grants) {
    const set = byStore.get(g.store) ?? new Set<string>();
    for (const a of g.actions) set.add(a);
    byStore.set(g.store, set);
  }
  return [...byStore].map(([store, actions]) => ({ store, actions: [...actions].sort() }));
}

/** The one task definition runs every task-runtime handler, so its role holds their union. */
export function taskAccess(handlers: readonly HandlerName[]): Grant[] {
  return mergeGrants(handlers.flatMap((h) => handlerAccess[h]));
}
