import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { LimitError } from "../errors.ts";
import { memoryJobStore } from "./store-memory.ts";
import { reserveActiveJob } from "./quota.ts";

/** The active-job slots on the in-memory job store: the same contract as the ElectroDB adapter's (api/quota.int.test.ts). */
function world(limit: number) {
  const jobs = memoryJobStore();
  const base = loadConfig({});
  const deps = { jobs, cfg: { ...base, limits: { ...base.limits, maxActiveJobsPerUser: limit } }, log: createLogger({}) };
  const open = async (jobId: string) => {
    await reserveActiveJob(deps, "alice", jobId);
    await jobs.createJob({ jobId, owner: "alice", status: "QUEUED", sourceName: "a.mp4", ladder: ["360p"], createdAt: Date.now() });
  };
  return { jobs, deps, open };
}

describe("active-job slots", () => {
  it("hold the limit, come back once when a job ends, and are taken again when a redrive reopens it", async () => {
    const { jobs, open } = world(2);
    await open("j1");
    await open("j2");
    await expect(open("j3")).rejects.toThrow(LimitError);
    await expect(open("j3")).rejects.toThrow("You have 2 jobs in progress; the limit is 2.");

    // ending j1 twice (a redelivered failure) frees one slot, not two
    expect(await jobs.transition("j1", "FAILED", ["QUEUED"])).not.toBeNull();
    expect(await jobs.transition("j1", "FAILED", ["QUEUED"])).toBeNull();
    await jobs.releaseSlot("alice", "j1");
    expect(Object.keys(await jobs.heldSlots("alice"))).toEqual(["j2"]);
    await open("j3");
    await expect(open("j4")).rejects.toThrow(LimitError);

    // an operator's dead-letter redrive reopens j1: it counts again, past the limit
    expect(await jobs.transition("j1", "QUEUED", ["FAILED"])).not.toBeNull();
    expect(Object.keys(await jobs.heldSlots("alice")).sort()).toEqual(["j1", "j2", "j3"]);
  });

  it("a second reservation for the same job holds the same slot", async () => {
    const { jobs, deps } = world(1);
    await reserveActiveJob(deps, "alice", "retry-of-x");
    await reserveActiveJob(deps, "alice", "retry-of-x");
    expect(Object.keys(await jobs.heldSlots("alice"))).toEqual(["retry-of-x"]);
  });
});
