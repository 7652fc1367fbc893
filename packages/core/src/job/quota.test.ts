import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { LimitError } from "../errors.ts";
import { memoryJobStore } from "../adapters/memory-job-store.ts";
import { chargeDailyWork, checkDailyWork, dailyWorkUsedUp, reserveActiveJob } from "./quota.ts";

/**
 * The active-job slots on the in-memory job store: the same contract as the ElectroDB adapter's
 * (api/quota.int.test.ts).
 */
function world(limit: number) {
  const jobs = memoryJobStore();
  const base = loadConfig({});
  const deps = {
    jobs,
    cfg: { ...base, limits: { ...base.limits, maxActiveJobsPerUser: limit } },
    log: createLogger({}),
  };
  const open = async (jobId: string) => {
    await reserveActiveJob(deps, "alice", jobId);
    await jobs.createJob({
      jobId,
      owner: "alice",
      status: "QUEUED",
      sourceName: "a.mp4",
      ladder: ["360p"],
      createdAt: Date.now(),
    });
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

describe("daily encode-work budget", () => {
  const budget = (maxDailyWork: number) => {
    const jobs = memoryJobStore();
    const base = loadConfig({});
    return { jobs, cfg: { ...base, limits: { ...base.limits, maxDailyWork } }, log: createLogger({}) };
  };
  // 2026-12-02 21:30 UTC: the day resets in 2 h 30 min
  const evening = Date.parse("2026-12-02T21:30:00Z");

  it("charges each job once, refuses a job that would pass it, and then refuses new work with the reason", async () => {
    const deps = budget(1000);
    expect(await chargeDailyWork(deps, "alice", "j1", 600, evening)).toBe(true);
    // a redelivered chunking of j1 pays nothing more
    expect(await chargeDailyWork(deps, "alice", "j1", 600, evening)).toBe(true);
    expect(await deps.jobs.counted({ owner: "alice", kind: "work", period: "2026-12-02" })).toBe(600);
    await checkDailyWork(deps, "alice", evening);
    // j2 would pass the budget: refused, nothing charged; a smaller j3 still fits exactly
    expect(await chargeDailyWork(deps, "alice", "j2", 401, evening)).toBe(false);
    expect(await chargeDailyWork(deps, "alice", "j3", 400, evening)).toBe(true);
    const refused = checkDailyWork(deps, "alice", evening);
    await expect(refused).rejects.toThrow(LimitError);
    await expect(refused).rejects.toMatchObject({
      code: "quota_exceeded",
      message: "Your daily encoding budget is used up; it resets at 00:00 UTC (in 2 h 30 min). Try again after that.",
    });
    // another user, and the next UTC day, have their own budget
    await checkDailyWork(deps, "bob", evening);
    await checkDailyWork(deps, "alice", evening + 3 * 3600_000);
    expect(await chargeDailyWork(deps, "alice", "j4", 1000, evening + 3 * 3600_000)).toBe(true);
  });

  it("a single job larger than the whole budget is refused", async () => {
    const deps = budget(1000);
    expect(await chargeDailyWork(deps, "alice", "huge", 1001, evening)).toBe(false);
    expect(await deps.jobs.counted({ owner: "alice", kind: "work", period: "2026-12-02" })).toBe(0);
    expect(dailyWorkUsedUp(Date.parse("2026-12-02T23:59:30Z"))).toBe(
      "Your daily encoding budget is used up; it resets at 00:00 UTC (in 1 min). Try again after that.",
    );
  });
});
