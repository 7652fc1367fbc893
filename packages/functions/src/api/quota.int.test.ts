import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chargeDailyWork, failJob, sweepStalledJobs } from "@videoforge/core";
import { startApiOnDynalite, type ApiOnDynalite } from "../../../../test/helpers/api-on-dynalite.ts";

/**
 * The active-job limit through the real API on dynalite: a per-owner slot item reserved with
 * one conditional write (upload creation and retry), given back when the job ends. Parallel
 * requests never pass the limit; the rest get 429 with the reason.
 */
const LIMIT = 20;
let api: ApiOnDynalite;

beforeAll(async () => {
  api = await startApiOnDynalite({ maxActiveJobsPerUser: LIMIT, rateBurst: 1000 });
});
afterAll(async () => {
  await api?.stop();
});

type Reply = Awaited<ReturnType<ApiOnDynalite["call"]>>;

/** The owner's jobs not yet ended, as stored (the table, not the API's answers). */
async function activeJobs(owner: string) {
  const res = await api.deps.db.entities.job.query.byOwner({ owner }).go({ pages: "all" });
  return res.data.filter((j) => !["COMPLETED", "FAILED", "CANCELLED"].includes(j.status));
}

function expectRefused(reply: Reply) {
  expect(reply.status, reply.text).toBe(429);
  expect(reply.body).toEqual({
    error: { code: "too_many_jobs", message: expect.stringMatching(new RegExp(`the limit is ${LIMIT}`)) },
  });
}

const upload = (user: string, n: number) => api.call(user, "POST", "/uploads", { name: `clip-${n}.mp4`, size: 1000 });

describe("active-job limit on POST /uploads", () => {
  it("60 parallel uploads: exactly the limit is accepted, the rest get 429 with the reason", async () => {
    const replies = await Promise.all(Array.from({ length: 60 }, (_, n) => upload("alice", n)));
    const accepted = replies.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(LIMIT);
    for (const r of replies.filter((r) => r.status !== 201)) expectRefused(r);
    expect(await activeJobs("alice")).toHaveLength(LIMIT);
    expect(Object.keys(await api.deps.jobs.heldSlots("alice")).sort()).toEqual(
      accepted.map((r) => r.body.jobId as string).sort(),
    );
  });

  it("a job that ends frees its slot, once", async () => {
    const [first] = await activeJobs("alice");
    const cancelled = await api.call("alice", "DELETE", `/jobs/${first!.jobId}`);
    expect(cancelled.status, cancelled.text).toBe(202);
    // a retried DELETE must not free a second slot
    expect((await api.call("alice", "DELETE", `/jobs/${first!.jobId}`)).status).toBe(202);
    expect(await api.deps.jobs.heldSlots("alice")).not.toHaveProperty(first!.jobId);

    const replies = await Promise.all([upload("alice", 100), upload("alice", 101), upload("alice", 102)]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 429, 429]);
    expect(await activeJobs("alice")).toHaveLength(LIMIT);
  });

  it("another user's slots are their own", async () => {
    expect((await upload("carol", 1)).status).toBe(201);
  });

  it("the sweeper's cancellation of an abandoned upload frees its slot", async () => {
    const created = await upload("dave", 1);
    expect(created.status).toBe(201);
    const jobId = created.body.jobId as string;
    expect(await api.deps.jobs.heldSlots("dave")).toHaveProperty(jobId);
    const report = await sweepStalledJobs(api.deps, { now: Date.now() + 25 * 3600_000 });
    expect(report.failed.map((f) => f.jobId)).toContain(jobId);
    expect((await api.deps.jobs.getJob(jobId))?.status).toBe("CANCELLED");
    expect(await api.deps.jobs.heldSlots("dave")).toEqual({});
  });

  it("a slot whose release was lost (the process died after the final write) is repaired at the limit", async () => {
    const owner = "erin";
    for (let n = 0; n < LIMIT; n++) expect((await upload(owner, n)).status).toBe(201);
    const [victim] = await activeJobs(owner);
    // the job ended, but its release never happened; its slot was taken two minutes ago
    await api.deps.db.entities.job.patch({ jobId: victim!.jobId }).set({ status: "FAILED" }).go();
    await api.deps.jobs.releaseSlot(owner, victim!.jobId);
    await api.deps.jobs.reserveSlot(owner, victim!.jobId, LIMIT, Date.now() - 120_000);
    expect(Object.keys(await api.deps.jobs.heldSlots(owner))).toHaveLength(LIMIT);

    expect((await upload(owner, 99)).status).toBe(201);
    expect(await api.deps.jobs.heldSlots(owner)).not.toHaveProperty(victim!.jobId);
    expectRefused(await upload(owner, 100));
  });
});

describe("active-job limit on POST /jobs/:id/retry", () => {
  const owner = "bob";
  const failed: string[] = [];

  beforeAll(async () => {
    // 30 failed jobs with a stored source each, as a day of bad uploads would leave them
    for (let n = 0; n < 30; n++) {
      const jobId = `failedjob${String(n).padStart(3, "0")}`;
      const key = `jobs/${jobId}/source`;
      api.store.put(api.deps.cfg.buckets.uploads, key, 1000);
      await api.deps.jobs.createJob({
        jobId,
        owner,
        status: "FAILED",
        sourceName: `f${n}.mp4`,
        sourceBucket: api.deps.cfg.buckets.uploads,
        sourceKey: key,
        sourceSize: 1000,
        ladder: ["360p"],
        createdAt: Date.now(),
      });
      failed.push(jobId);
    }
  });

  it("30 parallel retries: exactly the limit accepted, others get 429; retried POSTs hold no extra slot", async () => {
    const replies = await Promise.all(failed.map((id) => api.call(owner, "POST", `/jobs/${id}/retry`)));
    const accepted = replies.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(LIMIT);
    for (const r of replies.filter((r) => r.status !== 201)) expectRefused(r);
    expect(await activeJobs(owner)).toHaveLength(LIMIT);

    // the accepted ones, POSTed again in parallel: the same jobs, no new slot
    const again = await Promise.all(failed.map((id) => api.call(owner, "POST", `/jobs/${id}/retry`)));
    const acceptedAgain = again
      .filter((r) => r.status === 201)
      .map((r) => r.body.jobId)
      .sort();
    expect(acceptedAgain).toEqual(accepted.map((r) => r.body.jobId).sort());
    expect(Object.keys(await api.deps.jobs.heldSlots(owner))).toHaveLength(LIMIT);
  });

  it("a retry job that fails frees its slot for a refused retry", async () => {
    const [running] = await activeJobs(owner);
    await failJob(api.deps, running!.jobId, "chunking", "The file is not a video.");
    expect(Object.keys(await api.deps.jobs.heldSlots(owner))).toHaveLength(LIMIT - 1);
    const replies = await Promise.all(failed.map((id) => api.call(owner, "POST", `/jobs/${id}/retry`)));
    // the 19 running retries answer again, one refused one now fits, the other 9 are still refused
    expect(replies.filter((r) => r.status === 201)).toHaveLength(LIMIT + 1);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(30 - LIMIT - 1);
    expect(await activeJobs(owner)).toHaveLength(LIMIT);
  });
});

describe("daily encode-work budget on POST /uploads and POST /jobs/:id/retry", () => {
  const owner = "frank";
  const today = () => ({ owner, kind: "work" as const, period: new Date().toISOString().slice(0, 10) });

  it("charged once per job in the table; then uploads and retries get 429 quota_exceeded with the reason", async () => {
    // arrange: a failed job to retry, and most of the day's budget spent by one job
    const budget = api.deps.cfg.limits.maxDailyWork;
    const key = "jobs/frankfailed/source";
    api.store.put(api.deps.cfg.buckets.uploads, key, 1000);
    await api.deps.jobs.createJob({
      jobId: "frankfailed",
      owner,
      status: "FAILED",
      sourceName: "f.mp4",
      sourceBucket: api.deps.cfg.buckets.uploads,
      sourceKey: key,
      sourceSize: 1000,
      ladder: ["360p"],
      createdAt: Date.now(),
    });
    expect(await chargeDailyWork(api.deps, owner, "big", budget - 10)).toBe(true);
    // a redelivered chunking of the same job is not charged again
    expect(await chargeDailyWork(api.deps, owner, "big", budget - 10)).toBe(true);
    expect(await api.deps.jobs.counted(today())).toBe(budget - 10);
    expect((await upload(owner, 1)).status).toBe(201);

    // act: a job that would pass the budget is refused; one that fits exactly uses it up
    expect(await chargeDailyWork(api.deps, owner, "next", 11)).toBe(false);
    expect(await chargeDailyWork(api.deps, owner, "last", 10)).toBe(true);

    // assert
    const item = (await api.deps.db.entities.counter.get(today()).go()).data;
    expect(item).toMatchObject({ count: budget, jobs: expect.arrayContaining(["big", "last"]) });
    expect(item?.jobs).toHaveLength(2);
    // the item expires (TTL, epoch seconds) a day after the UTC day ends
    expect(item!.expiresAt! * 1000).toBe(Date.parse(`${today().period}T00:00:00Z`) + 2 * 86_400_000);
    const reason = new RegExp(
      "^Your daily encoding budget is used up; it resets at 00:00 UTC \\(in (\\d+ h )?\\d+ min\\)\\. " +
        "Try again after that\\.$",
    );
    for (const reply of [await upload(owner, 2), await api.call(owner, "POST", "/jobs/frankfailed/retry")]) {
      expect(reply.status, reply.text).toBe(429);
      expect(reply.body).toEqual({ error: { code: "quota_exceeded", message: expect.stringMatching(reason) } });
    }
    expect((await api.deps.jobs.getJob("frankfailed"))?.retriedBy).toBeUndefined();
    // another user is not affected
    expect((await upload("grace", 1)).status).toBe(201);
  });
});
