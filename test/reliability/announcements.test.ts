import { describe, expect, it } from "vitest";
import type { EventName } from "@videoforge/events";
import { FAULTS, memoryWorld, type FaultKind, type MemoryWorld } from "./memory-world.ts";
import { tally } from "./tally.ts";

/**
 * The fault matrix on in-memory adapters: every step's announcement, with each fault class
 * injected between its state write and its publish. Every job must end: COMPLETED, or
 * FAILED / CANCELLED with a reason a person can read; never left in an active status.
 */

type Scenario = "pipeline" | "fails" | "cancel" | "retry";
interface StepCase {
  step: string;
  event: EventName;
  scenario: Scenario;
}
const STEPS: StepCase[] = [
  { step: "upload completion", event: "VideoUploaded", scenario: "pipeline" },
  { step: "chunker", event: "ChunkReady", scenario: "pipeline" },
  { step: "encoder", event: "ChunkEncoded", scenario: "pipeline" },
  { step: "tracker", event: "ChunksEncoded", scenario: "pipeline" },
  { step: "assembler", event: "VideoAssembled", scenario: "pipeline" },
  { step: "finisher", event: "JobCompleted", scenario: "pipeline" },
  { step: "failJob", event: "JobFailed", scenario: "fails" },
  { step: "cancelJob", event: "JobCancelled", scenario: "cancel" },
  { step: "retry", event: "VideoUploaded", scenario: "retry" },
];

async function run(w: MemoryWorld, scenario: Scenario): Promise<string> {
  const { jobId, uploadId, owner } = await w.openUpload();
  if (scenario === "retry") w.arm(false);
  await w.complete(owner, uploadId);
  let cancelled = false;
  await w.drain(async (e) => {
    if (scenario === "cancel" && !cancelled && e.name === "ChunkEncoded") {
      cancelled = true;
      await w.cancel(jobId, owner);
    }
  });
  await w.sweepUntilSettled(jobId);
  if (scenario !== "retry") return jobId;
  // the first job failed its verification; the user retries it (the fault is armed for the retry's publish)
  expect((await w.mem.getJob(jobId))?.status).toBe("FAILED");
  w.arm(true);
  const retried = (await w.retry(owner, jobId))?.jobId ?? (await w.mem.getJob(jobId))?.retriedBy;
  expect(retried).toBeTruthy();
  await w.drain();
  await w.sweepUntilSettled(retried!);
  return retried!;
}

const expectedEnd: Record<Scenario, string> = {
  pipeline: "COMPLETED",
  fails: "FAILED",
  cancel: "CANCELLED",
  retry: "COMPLETED",
};

describe("fault matrix: every step's announcement survives a failed publish, a failed write and a crash", () => {
  for (const s of STEPS) {
    for (const fault of FAULTS) {
      // an ended job is not the sweeper's: a lost delivery of its last announcement is the documented residual
      if (
        fault === "process dies and its delivery is lost" &&
        (s.scenario === "cancel" || s.event === "JobCompleted" || s.event === "JobFailed")
      )
        continue;
      it(`${s.step} (${s.event}): ${fault}`, async () => {
        const w = memoryWorld({
          fault: { kind: fault as FaultKind, event: s.event },
          verifyFails: s.scenario === "fails" ? 99 : s.scenario === "retry" ? 1 : 0,
        });
        const jobId = await run(w, s.scenario);
        const job = (await w.mem.getJob(jobId))!;
        tally("fault", `${fault} (in-memory, ${s.step})`);
        const ended = ["COMPLETED", "FAILED", "CANCELLED"].includes(job.status);
        if (!ended) tally("jobLost", `${s.step}: ${fault} left the job ${job.status}`);
        expect(w.counts.faultsFired, "the fault was injected").toBeGreaterThan(0);
        expect(ended, `job ended (is ${job.status})`).toBe(true);
        if (job.status === "COMPLETED") {
          tally("jobCompleted", "fault matrix (in-memory)");
          expect(job.encodedChunks).toHaveLength(3);
          expect(job.hls).toBeTruthy();
        } else {
          tally("jobFailed", "fault matrix (in-memory)");
          expect(job.errorReason, "an ended job that did not complete says why").toMatch(/\w{3,}/);
        }
        if (fault === "publish fails until retries are spent") return;
        // a fault that the runtime's retries or the sweeper can repair changes nothing in the outcome
        expect(job.status).toBe(expectedEnd[s.scenario]);
        // and only a lost delivery needs the sweeper: a redelivery announces from the state it finds
        if (fault !== "process dies and its delivery is lost")
          expect(w.counts.redrives, "re-driven by the sweeper").toBe(0);
        else expect(w.counts.redrives, "re-driven by the sweeper").toBeGreaterThan(0);
        const announced = w.published.named(
          s.scenario === "retry"
            ? "JobCompleted"
            : s.event === "ChunkReady" || s.event === "ChunkEncoded" || s.event === "VideoUploaded"
              ? "JobCompleted"
              : s.event,
        );
        expect(announced.length, `${s.event} (or the job's end) announced`).toBeGreaterThan(0);
        if (job.status === "COMPLETED")
          expect(w.published.named("JobCompleted").every((e) => e.detail.jobId === jobId)).toBe(true);
      });
    }
  }
});

describe("idempotent API steps", () => {
  it("a retried DELETE of a cancelled job answers true again and re-announces JobCancelled", async () => {
    const w = memoryWorld();
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    expect(await w.cancel(jobId, owner)).toBe(true);
    expect(await w.cancel(jobId, owner)).toBe(true);
    expect(w.published.named("JobCancelled")).toHaveLength(2);
    expect((await w.mem.getJob(jobId))?.status).toBe("CANCELLED");
  });

  it("a retried POST /jobs/:id/retry returns the same new job", async () => {
    const w = memoryWorld({ verifyFails: 1 });
    const { jobId, uploadId, owner } = await w.openUpload();
    await w.complete(owner, uploadId);
    await w.drain();
    expect((await w.mem.getJob(jobId))?.status).toBe("FAILED");
    const [a, b] = await Promise.all([w.retry(owner, jobId), w.retry(owner, jobId)]);
    const c = await w.retry(owner, jobId);
    expect(a?.jobId).toBeTruthy();
    expect(b?.jobId).toBe(a?.jobId);
    expect(c?.jobId).toBe(a?.jobId);
    await w.drain();
    expect((await w.mem.getJob(a!.jobId))?.status).toBe("COMPLETED");
  });
});
