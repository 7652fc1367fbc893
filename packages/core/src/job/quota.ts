import { LimitError } from "../errors.ts";
import { FINAL_STATUSES } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { rateWindowMs } from "./limits.ts";

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
export async function reserveActiveJob(
  deps: Pick<Deps, "jobs" | "cfg" | "log">,
  owner: string,
  jobId: string,
): Promise<void> {
  const limit = deps.cfg.limits.maxActiveJobsPerUser;
  if (await deps.jobs.reserveSlot(owner, jobId, limit, Date.now())) return;
  const held = await deps.jobs.heldSlots(owner);
  const freed = await repairSlots(deps, owner, held);
  if (freed > 0 && (await deps.jobs.reserveSlot(owner, jobId, limit, Date.now()))) return;
  const active = Object.keys(held).length - freed;
  throw new LimitError(
    "too_many_jobs",
    `You have ${active} jobs in progress; the limit is ${limit}. Wait for one to finish or cancel one.`,
  );
}

/** Give back the slots of jobs that ended (or were never created); returns how many. */
async function repairSlots(
  deps: Pick<Deps, "jobs" | "log">,
  owner: string,
  held: Record<string, number>,
): Promise<number> {
  const now = Date.now();
  let freed = 0;
  await Promise.all(
    Object.entries(held)
      .filter(([, at]) => now - at > REPAIR_AFTER_MS)
      .map(async ([jobId, at]) => {
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

/**
 * Count one API request of `owner` in the current rate window, shared by every API process
 * (each Lambda instance) through one conditional write on the window's counter item. Returns 0
 * when the request may go, else the whole seconds until the window ends (Retry-After).
 */
export async function countRequest(deps: Pick<Deps, "jobs" | "cfg">, owner: string, now = Date.now()): Promise<number> {
  const windowMs = rateWindowMs(deps.cfg.limits);
  const start = Math.floor(now / windowMs) * windowMs;
  const end = start + windowMs;
  // the item outlives its window by a minute; DynamoDB's TTL removes it some time after
  const expiresAt = Math.ceil(end / 1000) + 60;
  if (await deps.jobs.charge({ owner, kind: "rate", period: String(start) }, 1, deps.cfg.limits.rateBurst, expiresAt))
    return 0;
  return Math.max(1, Math.ceil((end - now) / 1000));
}

/** The day a work charge counts against (UTC), and when it resets. */
function workDay(now: number): { period: string; resetsAt: Date } {
  const day = new Date(now).toISOString().slice(0, 10);
  return { period: day, resetsAt: new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000) };
}

/** "at 00:00 UTC (in 3 h 12 min)": when the day's budget comes back. */
function resetPhrase(resetsAt: Date, now: number): string {
  const minutes = Math.max(1, Math.ceil((resetsAt.getTime() - now) / 60_000));
  const [h, min] = [Math.floor(minutes / 60), minutes % 60];
  return `at 00:00 UTC (in ${h ? `${h} h ${min} min` : `${min} min`})`;
}

/** The reason a job or a request is refused once `owner`'s work budget for the day is used up. */
export function dailyWorkUsedUp(now = Date.now()): string {
  const resets = resetPhrase(workDay(now).resetsAt, now);
  return `Your daily encoding budget is used up; it resets ${resets}. Try again after that.`;
}

/** POST /uploads, POST /jobs/:id/retry: refuse with a 429 once today's encode-work budget is used up (one GetItem). */
export async function checkDailyWork(deps: Pick<Deps, "jobs" | "cfg">, owner: string, now = Date.now()): Promise<void> {
  const used = await deps.jobs.counted({ owner, kind: "work", period: workDay(now).period });
  if (used >= deps.cfg.limits.maxDailyWork) throw new LimitError("quota_exceeded", dailyWorkUsedUp(now));
}

/**
 * What a second of sound counts as against the day's work budget: a second of 360p30 video. Encoding AAC and
 * MP3 costs less than that, but not nothing, and an audio-only job must not be free of the budget.
 */
export const AUDIO_WORK_PER_SECOND = 30 * 640 * 360;

/**
 * Chunker, once the source is probed and the ladder fitted: charge `work` (frames × output
 * pixels) to `owner`'s day, in one conditional write; false when it would pass the budget.
 * A job is charged once per day, however often its chunking is redelivered.
 */
export async function chargeDailyWork(
  deps: Pick<Deps, "jobs" | "cfg">,
  owner: string,
  jobId: string,
  work: number,
  now = Date.now(),
): Promise<boolean> {
  const { period, resetsAt } = workDay(now);
  const expiresAt = Math.ceil(resetsAt.getTime() / 1000) + 86_400;
  return deps.jobs.charge(
    { owner, kind: "work", period },
    Math.ceil(work),
    deps.cfg.limits.maxDailyWork,
    expiresAt,
    jobId,
  );
}
