import { sweepStalledJobs } from "./sweep.ts";
import type { Deps } from "../deps.ts";

/**
 * After a restart of the local cloud: every active job that no pending delivery drives is
 * re-driven at once (the process that drove it is gone), through the same sweeper that runs
 * periodically and on AWS (sweep.ts), reading the sparse index of active jobs (no Scan).
 */
export async function resumeStalledJobs(
  deps: Deps,
  isDriven: (jobId: string) => boolean,
): Promise<{ jobId: string; status: string; action: string }[]> {
  const report = await sweepStalledJobs(deps, { now: Date.now(), all: true, isDriven });
  return report.redriven;
}
