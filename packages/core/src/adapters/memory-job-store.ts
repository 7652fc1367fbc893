import {
  FINAL_STATUSES,
  type ChunkItem,
  type JobItem,
  type JobStatus,
  type TimelineItem,
  type UploadItem,
} from "../db/index.ts";
import { allowedFrom, DEFAULT_DEADLINES, isActive, sweepAt, sweepShard, type StageDeadlines } from "../job/machine.ts";
import type { CounterKey, JobStore } from "../job/store.ts";

const stampFor: Partial<Record<JobStatus, keyof JobItem>> = {
  CHUNKING: "chunkingAt",
  ENCODING: "encodingAt",
  ASSEMBLING: "assemblingAt",
  COMPLETED: "endedAt",
  FAILED: "endedAt",
  CANCELLED: "endedAt",
};

/**
 * The job store in memory, with the same conditions as the ElectroDB adapter: each
 * operation is atomic (nothing awaits between its read and its write), so the steps'
 * races run in unit tests in milliseconds. `clock` lets the sweeper's deadlines be tested.
 */
export function memoryJobStore(opts: { deadlines?: StageDeadlines; clock?: () => number } = {}) {
  const deadlines = opts.deadlines ?? DEFAULT_DEADLINES;
  const clock = opts.clock ?? Date.now;
  const jobs = new Map<string, JobItem>();
  const chunks = new Map<string, ChunkItem>();
  const uploads = new Map<string, UploadItem>();
  const timeline = new Map<string, TimelineItem>();
  const slots = new Map<string, Map<string, number>>();
  const counters = new Map<string, { count: number; jobs: Set<string> }>();
  const counterKey = (c: CounterKey) => `${c.owner}#${c.kind}#${c.period}`;
  const ck = (jobId: string, index: number) => `${jobId}#${index}`;
  const copy = <T>(v: T): T => structuredClone(v);
  const tick = () => Promise.resolve();
  /** Counts what the steps read and write, for tests that assert the cost of an operation. */
  const stats = { reads: 0, writes: 0 };

  const sweepOf = (item: JobItem, status: JobStatus, now: number) => {
    const at = sweepAt(status, now, deadlines);
    if (at === null) {
      delete item.sweepShard;
      delete item.sweepAt;
    } else {
      item.sweepShard = sweepShard(item.jobId);
      item.sweepAt = at;
    }
  };
  /**
   * As the ElectroDB adapter: a chunk row or timeline row shown on the job page moves the job's version after it
   * is written.
   */
  const bump = (jobId: string, chunkRow = false) => {
    const j = jobs.get(jobId);
    if (!j) return;
    if (chunkRow) j.chunksRev = (j.chunksRev ?? 0) + 1;
    // strictly later, so two writes in one millisecond still change the version
    j.updatedAt = Math.max(clock(), (j.updatedAt ?? 0) + 1);
    j.rev = (j.rev ?? 0) + 1;
    write(j);
  };
  const write = <T>(v: T): T => {
    stats.writes++;
    return v;
  };

  const store: JobStore = {
    async getJob(jobId) {
      await tick();
      stats.reads++;
      const j = jobs.get(jobId);
      return j ? copy(j) : null;
    },
    async createJob(item) {
      await tick();
      if (jobs.has(item.jobId)) return false;
      const j = { ...copy(item), updatedAt: clock() } as JobItem;
      sweepOf(j, j.status, clock());
      jobs.set(j.jobId, write(j));
      return true;
    },
    async transition(jobId, to, only, change = {}) {
      const from = allowedFrom(to, only);
      await tick();
      const j = jobs.get(jobId);
      if (!j || !from.includes(j.status)) return null;
      const now = clock();
      Object.assign(j, copy(change.set ?? {}), { status: to, updatedAt: now });
      const stamp = stampFor[to];
      if (stamp) (j as Record<string, unknown>)[stamp] = now;
      for (const k of change.remove ?? []) delete j[k];
      sweepOf(j, to, now);
      write(j);
      // as the ElectroDB adapter: an ended job gives its slot back, a reopened one takes one again
      if (FINAL_STATUSES.includes(to)) slots.get(j.owner)?.delete(jobId);
      else if (isActive(to) && from.every((s) => !isActive(s)))
        slots.set(j.owner, (slots.get(j.owner) ?? new Map()).set(jobId, now));
      return copy(j);
    },
    async editVideo(jobId, set) {
      await tick();
      const j = jobs.get(jobId);
      if (!j || j.status !== "COMPLETED") return null;
      Object.assign(j, copy(set), { updatedAt: clock() });
      write(j);
      return copy(j);
    },
    async recordChunking(jobId, set) {
      await tick();
      const j = jobs.get(jobId);
      if (!j || j.status !== "CHUNKING") return false;
      Object.assign(j, copy(set), { updatedAt: clock() });
      write(j);
      return true;
    },
    async addEncodedChunk(jobId, index) {
      await tick();
      const j = jobs.get(jobId);
      if (!j) throw new Error(`The conditional request failed: no job ${jobId}`);
      const set = new Set(j.encodedChunks ?? []);
      set.add(index);
      j.encodedChunks = [...set].sort((a, b) => a - b);
      j.chunksRev = (j.chunksRev ?? 0) + 1;
      j.updatedAt = clock();
      if (j.status === "ENCODING") j.sweepAt = clock() + deadlines.ENCODING;
      write(j);
      return copy(j);
    },
    async markPlayable(jobId, at) {
      await tick();
      const j = jobs.get(jobId);
      if (!j || j.playableAt !== undefined) return false;
      j.playableAt = at;
      bump(jobId);
      return true;
    },
    async recordAssembly(jobId, result) {
      await tick();
      const j = jobs.get(jobId);
      if (!j) throw new Error(`job ${jobId} disappeared while assembling`);
      const { hls, poster, ...rest } = copy(result);
      if (j.assembledAt === undefined)
        Object.assign(j, rest, hls ? { hls } : {}, poster ? { poster } : {}, {
          assembledAt: clock(),
          updatedAt: clock(),
        });
      write(j);
      return copy(j);
    },
    async claimRetry(jobId, retryId) {
      await tick();
      const j = jobs.get(jobId);
      if (!j) throw new Error(`The conditional request failed: no job ${jobId}`);
      j.retriedBy ??= write(retryId);
      return j.retriedBy;
    },
    async listOverdueJobs(now, limit = 100) {
      await tick();
      const due = [...jobs.values()].filter((j) => j.sweepShard !== undefined && (j.sweepAt ?? Infinity) <= now);
      stats.reads += due.length;
      return due.slice(0, limit).map(copy);
    },
    async noteRedrive(jobId, status, now) {
      await tick();
      const j = jobs.get(jobId);
      const at = sweepAt(status, now, deadlines);
      if (!j || j.status !== status || at === null) return false;
      j.redrives = (j.redrives ?? 0) + 1;
      j.sweepAt = at;
      write(j);
      return true;
    },

    async getChunk(jobId, index) {
      await tick();
      stats.reads++;
      const c = chunks.get(ck(jobId, index));
      return c ? copy(c) : null;
    },
    async createChunk(c) {
      await tick();
      if (chunks.has(ck(c.jobId, c.index))) return false;
      chunks.set(ck(c.jobId, c.index), write({ ...copy(c), status: "PENDING", attempts: 0 } as ChunkItem));
      bump(c.jobId, true);
      return true;
    },
    async startChunkAttempt(jobId, index, worker, at, spend) {
      await tick();
      const c = chunks.get(ck(jobId, index)) ?? ({ jobId, index, status: "PENDING", attempts: 0 } as ChunkItem);
      Object.assign(c, { worker, startedAt: at, attempts: (c.attempts ?? 0) + (spend ? 1 : 0) });
      chunks.set(ck(jobId, index), write(c));
      bump(jobId, true);
      return copy(c);
    },
    async refundChunkAttempt(jobId, index) {
      await tick();
      const c = chunks.get(ck(jobId, index));
      if (c && (c.attempts ?? 0) > 0) {
        c.attempts = write((c.attempts ?? 0) - 1);
        bump(jobId, true);
      }
    },
    async markChunkEncoded(jobId, index, done) {
      await tick();
      const c = chunks.get(ck(jobId, index)) ?? ({ jobId, index, attempts: 0 } as ChunkItem);
      Object.assign(c, copy(done), { status: "ENCODED" });
      chunks.set(ck(jobId, index), write(c));
    },
    async markChunkFailed(jobId, index, error) {
      await tick();
      const c = chunks.get(ck(jobId, index)) ?? ({ jobId, index, attempts: 0 } as ChunkItem);
      Object.assign(c, { status: "FAILED", error });
      chunks.set(ck(jobId, index), write(c));
      bump(jobId, true);
    },
    async resetChunk(jobId, index) {
      await tick();
      const c = chunks.get(ck(jobId, index));
      if (!c) return;
      c.attempts = 0;
      c.status = "PENDING";
      delete c.error;
      write(c);
      bump(jobId, true);
    },

    async getUpload(uploadId) {
      await tick();
      stats.reads++;
      const u = uploads.get(uploadId);
      return u ? copy(u) : null;
    },
    async setUploadStatus(uploadId, from, to) {
      await tick();
      const u = uploads.get(uploadId);
      if (!u || u.status !== from) return false;
      u.status = to;
      write(u);
      return true;
    },

    async reserveSlot(owner, jobId, limit, at) {
      await tick();
      const held = slots.get(owner) ?? new Map<string, number>();
      if (!held.has(jobId) && held.size >= limit) return false;
      if (!held.has(jobId)) held.set(jobId, write(at));
      slots.set(owner, held);
      return true;
    },
    async releaseSlot(owner, jobId) {
      await tick();
      if (slots.get(owner)?.delete(jobId)) write(jobId);
    },
    async heldSlots(owner) {
      await tick();
      stats.reads++;
      return Object.fromEntries(slots.get(owner) ?? []);
    },

    async charge(counter, amount, limit, _expiresAt, jobId) {
      await tick();
      const c = counters.get(counterKey(counter)) ?? { count: 0, jobs: new Set<string>() };
      if (jobId !== undefined && c.jobs.has(jobId)) return true;
      // the same arithmetic as the table's condition (`count <= limit - amount`)
      if (c.count + amount > limit) return false;
      c.count += amount;
      if (jobId !== undefined) c.jobs.add(jobId);
      counters.set(counterKey(counter), write(c));
      return true;
    },
    async counted(counter) {
      await tick();
      stats.reads++;
      return counters.get(counterKey(counter))?.count ?? 0;
    },

    async putTimeline(row) {
      await tick();
      timeline.set(`${row.jobId}#${row.eventId}`, write(copy(row)));
    },
    async touchJob(jobId) {
      await tick();
      bump(jobId);
    },
  };
  return {
    ...store,
    stats,
    /** Test set-up: put an upload row as the API would have. */
    putUpload(u: UploadItem) {
      uploads.set(u.uploadId, copy(u));
    },
    /** Test inspection: the chunk rows and timeline rows of a job. */
    chunksOf: (jobId: string) =>
      [...chunks.values()]
        .filter((c) => c.jobId === jobId)
        .sort((a, b) => a.index - b.index)
        .map(copy),
    timelineOf: (jobId: string) => [...timeline.values()].filter((t) => t.jobId === jobId).map(copy),
  };
}
export type MemoryJobStore = ReturnType<typeof memoryJobStore>;
