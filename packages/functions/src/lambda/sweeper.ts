/**
 * The scheduled sweeper on AWS (an EventBridge schedule, stacks): the same core sweep the
 * local cloud runs at start and periodically. It reads only the sparse index of active
 * jobs, re-drives each job that has not moved for longer than its stage's deadline from
 * its stored state, or fails it with a reason (core/src/job/sweep.ts).
 */
import { sweepStalledJobs, type Deps } from "@videoforge/core";
import { lambdaDeps } from "./runtime.ts";

/** `clock` is when the sweep runs (tests move it past the stage deadlines). */
export function sweeperHandler(deps: () => Deps = lambdaDeps, clock: () => number = Date.now) {
  return async (): Promise<{ swept: number; redriven: number; failed: number }> => {
    const report = await sweepStalledJobs(deps(), { now: clock() });
    return { swept: report.examined, redriven: report.redriven.length, failed: report.failed.length };
  };
}

export const handler = sweeperHandler();
