/**
 * Job: one video's trip through the pipeline, from QUEUED to COMPLETED, FAILED or CANCELLED.
 * Reads top to bottom: schema, events, the store port, operations. Imported as `Job` from
 * @videoforge/core; the ElectroDB and in-memory stores are adapters (../adapters/).
 */
import { catalog } from "@videoforge/events";

// schema
export { Cancelled, JobList, JobStatus, JobSummary, JobView, OutputLinks } from "../contract.ts";
export { FINAL_STATUSES, JOB_STATUSES } from "./status.ts";
export * from "./machine.ts";

// events: the catalog in events/ is their one source; these are the ones a job's end announces
export const events = {
  JobCompleted: catalog.JobCompleted,
  JobFailed: catalog.JobFailed,
  JobCancelled: catalog.JobCancelled,
};

// the store port
export type * from "./store.ts";

// operations
export * from "./lifecycle.ts";
export * from "./limits.ts";
export * from "./quota.ts";
export * from "./queries.ts";
export * from "./retry.ts";
export * from "./sweep.ts";
export * from "./resume.ts";
export * from "./dead-letters.ts";
export * from "./failures.ts";
