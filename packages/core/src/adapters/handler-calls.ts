/**
 * Which calls each deployed unit makes, per store, named by the adapters' own call names,
 * so the IAM actions it needs follow from the adapters' action tables. The Pulumi-mock
 * suite (test/infra/stacks.mock.test.ts) checks every function's role grants these on the
 * right resource: a new call listed here without a grant fails it.
 *
 * A topology handler's calls are declared with the handler (events/src/handlers.ts); the
 * other units' are here. When a step starts calling another ObjectStore method or table
 * operation, add it there in the same change.
 */
import { handlerSpecs, kebab, type HandlerName, type Kebab } from "@videoforge/events";
import type { ObjectStore } from "../ports.ts";
import { S3_STORE_ACTIONS } from "./s3-store.ts";
import { EVENTBRIDGE_PUBLISHER_ACTIONS } from "./eventbridge-publisher.ts";
import { ECS_LAUNCHER_ACTIONS, SQS_DEFERRAL_ACTIONS } from "./ecs-task-launcher.ts";
import { ECS_STOP_ACTIONS } from "./ecs-task-stopper.ts";

/** ElectroDB operations → the DynamoDB API calls (and so the IAM actions) they make. */
export const ELECTRODB_ACTIONS = {
  get: ["dynamodb:GetItem"],
  query: ["dynamodb:Query"],
  scan: ["dynamodb:Scan"],
  create: ["dynamodb:PutItem"],
  put: ["dynamodb:PutItem"],
  patch: ["dynamodb:UpdateItem"],
  update: ["dynamodb:UpdateItem"],
  delete: ["dynamodb:DeleteItem"],
  batchGet: ["dynamodb:BatchGetItem"],
  batchWrite: ["dynamodb:BatchWriteItem"],
} as const;

export type Bucket = "uploads" | "work" | "outputs";
export interface UnitCalls {
  uploads?: readonly (keyof ObjectStore)[];
  work?: readonly (keyof ObjectStore)[];
  outputs?: readonly (keyof ObjectStore)[];
  table?: readonly (keyof typeof ELECTRODB_ACTIONS)[];
  bus?: readonly (keyof typeof EVENTBRIDGE_PUBLISHER_ACTIONS)[];
  /** The worker task, through the launcher (RunTask, ListTasks, PassRole). */
  worker?: readonly (keyof typeof ECS_LAUNCHER_ACTIONS)[];
  /** The unit's own work queue (deferring an event for capacity). */
  queue?: readonly (keyof typeof SQS_DEFERRAL_ACTIONS)[];
  /** Running worker tasks (stopping a cancelled job's tasks, adapters/ecs-task-stopper.ts). */
  tasks?: readonly "stopJobTasks"[];
}

const jobState = ["get", "query", "create", "patch"] as const;

type HandlerCalls = { [H in HandlerName as Kebab<H>]: (typeof handlerSpecs)[H]["calls"] };
/**
 * The topology handlers' calls, declared with the handler (events/src/handlers.ts), by unit
 * name. The annotation is the check: a call name no adapter has is a type error here.
 */
const handlerCalls: { [U in keyof HandlerCalls]: UnitCalls } = Object.fromEntries(
  Object.entries(handlerSpecs).map(([name, spec]) => [kebab(name), spec.calls]),
) as HandlerCalls;

/**
 * Per deployed unit: a topology handler's artifact name (`chunk-failures`; also `encoder` for
 * the task role), or a function of stacks/artifacts.ts that is not a handler.
 */
export const unitCalls = {
  ...handlerCalls,
  api: {
    uploads: ["createMultipart", "presignPart", "completeMultipart", "abortMultipart", "head"],
    outputs: ["presignGet", "head", "download"],
    // jobs, uploads, active-job slots; the rate counter (one UpdateItem per request) and the day's work (GetItem)
    table: jobState,
    bus: ["publish"],
    // DELETE /jobs/:id stops the job's running tasks
    tasks: ["stopJobTasks"],
  },
  "dead-letters": { table: ["get", "patch"], bus: ["publish"] },
  "task-stopped": { table: ["get", "patch"], bus: ["publish"] },
  // query the sparse index gsi2, re-drive or end jobs, abort abandoned uploads
  sweeper: { uploads: ["abortMultipart"], table: ["get", "query", "patch"], bus: ["publish"] },
  "launch-task": { worker: ["launch", "running"], queue: ["defer"] },
} as const satisfies Record<string, UnitCalls>;
export type Unit = keyof typeof unitCalls;

/** The IAM actions one unit needs, per store. */
export function requiredActions(calls: UnitCalls): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  const add = (store: string, actions: readonly string[]) => {
    out[store] ??= new Set();
    for (const a of actions) out[store].add(a);
  };
  for (const bucket of ["uploads", "work", "outputs"] as const)
    for (const m of calls[bucket] ?? []) add(bucket, S3_STORE_ACTIONS[m]);
  for (const op of calls.table ?? []) add("table", ELECTRODB_ACTIONS[op]);
  for (const m of calls.bus ?? []) add("bus", EVENTBRIDGE_PUBLISHER_ACTIONS[m]);
  for (const m of calls.worker ?? []) add("worker", ECS_LAUNCHER_ACTIONS[m]);
  for (const m of calls.queue ?? []) add("queue", SQS_DEFERRAL_ACTIONS[m]);
  for (const _ of calls.tasks ?? []) add("tasks", ECS_STOP_ACTIONS);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
