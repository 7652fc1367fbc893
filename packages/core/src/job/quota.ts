import { LimitError } from "../errors.ts";
import { FINAL_STATUSES } from "../db/index.ts";
import type { Deps } from "../pipeline/deps.ts";

/**
 * A slot held this long by a job id with no job row is a creation that died half way (the
 * reservation is written first); younger ones may be a creation still in progress.
 */
export const UNBORN_SLOT_MS = 5 * 60_000;
/** Slots younger than this are not examined: a refused burst costs no reads, and a lost release is rare. */
export const REPAIR_AFTER_MS = 60_000;

/**
 * Hold one of `owner`'s active-job slots for `jobId` (a new upload, a retry) or refuse with a
 * 429 and the reason. One conditional write on the owner's quota item: parallel requests cannot
 * pass the limit together, and nothing reads the owner's job history. The slot is given back
 * when the job ends (the job store's final transition).
 *
 * Only when refused, slots whose release was lost (a process that died between a job's final
 * write and the release, or between a reservation and the job's creation) are repaired: at
 * most one read per held slot, bounded by the limit.
 */
export async function reserveActiveJob(deps: Pick<Deps, "jobs" | "cfg" | "log">, owner: string, jobId: string): Promise<void> {
  const limit = deps.cfg.limits.maxActiveJobsPerUser;
  if (await deps.jobs.reserveSlot(owner, jobId, limit, Date.now())) return;
  const held = await deps.jobs.heldSlots(owner);
  const freed = await repairSlots(deps, owner, held);
  if (freed > 0 && (await deps.jobs.reserveSlot(owner, jobId, limit, Date.now()))) return;
  const active = Object.keys(held).length - freed;
  throw new LimitError("too_many_jobs", `You have ${active} jobs in progress; the limit is ${limit}. Wait for one to finish or cancel one.`);
}

/** Give back the slots of jobs that ended (or were never created); returns how many. */
async function repairSlots(deps: Pick<Deps, "jobs" | "log">, owner: string, held: Record<string, number>): Promise<number> {
  const now = Date.now();
  let freed = 0;
  await Promise.all(
    Object.entries(held).filter(([, at]) => now - at > REPAIR_AFTER_MS).map(async ([jobId, at]) => {
      const job = await deps.jobs.getJob(jobId);
      const lost = job ? FINAL_STATUSES.includes(job.status) : now - at > UNBORN_SLOT_MS;
      if (!lost) return;
      await deps.jobs.releaseSlot(owner, jobId);
      freed++;
    }),
  );
  if (freed) deps.log.warn("active-job slots repaired: their release had been lost", { owner, freed });
  return freed;
}
