import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { applied, FINAL_STATUSES, isConditionFailure, type Db, type JobItem, type JobStatus } from "../db/index.ts";
import { TABLE_KEYS } from "../db/table.ts";
import {
  allowedFrom,
  allSweepShards,
  DEFAULT_DEADLINES,
  isActive,
  sweepAt,
  sweepShard,
  type StageDeadlines,
} from "../job/machine.ts";
import type { CounterKey, JobStore } from "../job/store.ts";

const stampFor: Partial<Record<JobStatus, "chunkingAt" | "encodingAt" | "assemblingAt" | "endedAt">> = {
  CHUNKING: "chunkingAt",
  ENCODING: "encodingAt",
  ASSEMBLING: "assemblingAt",
  COMPLETED: "endedAt",
  FAILED: "endedAt",
  CANCELLED: "endedAt",
};

/** The sparse-index attributes a job in `status` carries: present while active, removed once it ends. */
export function sweepFields(jobId: string, status: JobStatus, now: number, deadlines: StageDeadlines) {
  const at = sweepAt(status, now, deadlines);
  return at === null
    ? { set: {}, remove: ["sweepShard", "sweepAt"] as const }
    : { set: { sweepShard: sweepShard(jobId), sweepAt: at }, remove: [] as const };
}

/**
 * The active-job slot follows the job's status: a job that ends gives its slot back (idempotent,
 * so a redelivered final write costs nothing), and a job a dead letter's redrive reopens takes
 * one again, past the limit (an operator chose to run it).
 */
async function settleSlot(
  store: Pick<JobStore, "releaseSlot" | "reserveSlot">,
  after: JobItem,
  from: readonly JobStatus[],
): Promise<void> {
  if (FINAL_STATUSES.includes(after.status)) await store.releaseSlot(after.owner, after.jobId);
  else if (isActive(after.status) && from.every((s) => !isActive(s)))
    await store.reserveSlot(after.owner, after.jobId, Number.MAX_SAFE_INTEGER, Date.now());
}

/** The job store on ElectroDB (DynamoDB on AWS, dynalite locally). */
export function electroJobStore(
  db: Db,
  raw: { client: DynamoDBDocumentClient; table: string },
  deadlines: StageDeadlines = DEFAULT_DEADLINES,
): JobStore {
  const { job, chunk, upload, timeline, quota, counter } = db.entities;
  // the quota item is written with map-key expressions ElectroDB cannot build; its key is ElectroDB's
  const quotaKey = (owner: string) => quota.get({ owner }).params().Key as Record<string, string>;
  // the job page's version moves (updatedAt is set on every write, `rev` counts the touches);
  // the patch condition keeps a missing job missing
  // `chunks`: a chunk row changed, so the page's chunk list moves too (`chunksRev`)
  const bump = async (jobId: string, chunks = false) =>
    void (await applied(
      job
        .patch({ jobId })
        .set({ touchedAt: Date.now() })
        .add({ rev: 1, ...(chunks ? { chunksRev: 1 } : {}) })
        .go(),
    ));
  const quotaTag = { __edb_e__: "quota", __edb_v__: "1" };
  const get = async (jobId: string) => (await job.get({ jobId }).go()).data;
  const orNull = async <T>(write: Promise<{ data: T }>): Promise<T | null> => {
    try {
      return (await write).data;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  };

  const counterItem = async (key: CounterKey) =>
    (
      await raw.client.send(
        new GetCommand({
          TableName: raw.table,
          Key: counter.get(key).params().Key as Record<string, string>,
          ConsistentRead: true,
        }),
      )
    ).Item;
  const charged = async (key: CounterKey, jobId: string) =>
    ((await counterItem(key))?.jobs as Set<string> | undefined)?.has(jobId) ?? false;

  const store: JobStore = {
    getJob: get,

    async createJob(item) {
      const sweep = sweepFields(item.jobId, item.status, Date.now(), deadlines);
      return applied(job.create({ ...item, ...sweep.set }).go());
    },

    async transition(jobId, to, only, change = {}) {
      const from = allowedFrom(to, only);
      if (!from.length) return null;
      const now = Date.now();
      const stamp = stampFor[to];
      const sweep = sweepFields(jobId, to, now, deadlines);
      const remove = [...sweep.remove, ...(change.remove ?? [])];
      let op = job
        .patch({ jobId })
        .set({ ...change.set, ...sweep.set, status: to, ...(stamp ? { [stamp]: now } : {}) });
      if (remove.length) op = op.remove(remove as never);
      const after = await orNull(
        op
          .where((a, o) => `(${from.map((s) => o.eq(a.status, s)).join(" OR ")})`)
          .go({ response: "all_new" }) as Promise<{ data: JobItem }>,
      );
      if (after) await settleSlot(store, after, from);
      return after;
    },

    async editVideo(jobId, set) {
      return orNull(
        job
          .patch({ jobId })
          .set(set)
          .where((a, op) => op.eq(a.status, "COMPLETED"))
          .go({ response: "all_new" }) as Promise<{ data: JobItem }>,
      );
    },

    async recordChunking(jobId, set) {
      return applied(
        job
          .patch({ jobId })
          .set(set)
          .where((a, op) => op.eq(a.status, "CHUNKING"))
          .go(),
      );
    },

    async addEncodedChunk(jobId, index) {
      // the tracker wrote the chunk's row just before: the chunk list's version moves in this same write
      const after = (
        await job
          .patch({ jobId })
          .add({ encodedChunks: [index], chunksRev: 1 })
          .go({ response: "all_new" })
      ).data as JobItem;
      // an encoded chunk is progress: push the sweeper's deadline on (not on every chunk: half a deadline at most)
      const now = Date.now();
      if (after.status === "ENCODING" && (after.sweepAt ?? 0) - now < deadlines.ENCODING / 2) {
        await applied(
          job
            .patch({ jobId })
            .set({ sweepAt: now + deadlines.ENCODING })
            .where((a, op) => op.eq(a.status, "ENCODING"))
            .go(),
        );
      }
      return after;
    },

    async markPlayable(jobId, at) {
      return applied(
        job
          .patch({ jobId })
          .set({ playableAt: at })
          .add({ rev: 1 })
          .where((a, op) => op.notExists(a.playableAt))
          .go(),
      );
    },

    async recordAssembly(jobId, result) {
      const written = await orNull(
        job
          .patch({ jobId })
          .set({
            assembledAt: Date.now(),
            outputs: result.outputs,
            audioOutputs: result.audioOutputs,
            captions: result.captions,
            // an audio-only job has neither
            ...(result.hls ? { hls: result.hls } : {}),
            ...(result.poster ? { poster: result.poster } : {}),
          })
          .where((a, op) => op.notExists(a.assembledAt))
          .go({ response: "all_new" }) as Promise<{ data: JobItem }>,
      );
      const now = written ?? (await get(jobId));
      if (!now) throw new Error(`job ${jobId} disappeared while assembling`);
      return now;
    },

    async claimRetry(jobId, retryId) {
      if (
        await applied(
          job
            .patch({ jobId })
            .set({ retriedBy: retryId })
            .where((a, op) => op.notExists(a.retriedBy))
            .go(),
        )
      )
        return retryId;
      const current = await get(jobId);
      return current?.retriedBy ?? retryId;
    },

    async listOverdueJobs(now, limit = 100) {
      const found: JobItem[] = [];
      for (const shard of allSweepShards()) {
        let start: Record<string, unknown> | undefined;
        do {
          const res = await raw.client.send(
            new QueryCommand({
              TableName: raw.table,
              IndexName: TABLE_KEYS.gsi2,
              KeyConditionExpression: "#pk = :pk AND #sk <= :now",
              ExpressionAttributeNames: { "#pk": TABLE_KEYS.gsi2pk, "#sk": TABLE_KEYS.gsi2sk },
              ExpressionAttributeValues: { ":pk": shard, ":now": now },
              ExclusiveStartKey: start,
              Limit: limit,
            }),
          );
          found.push(...(job.parse({ Items: res.Items ?? [] }).data as JobItem[]));
          start = res.LastEvaluatedKey;
        } while (start && found.length < limit);
        if (found.length >= limit) break;
      }
      return found.slice(0, limit);
    },

    async noteRedrive(jobId, status, now) {
      const at = sweepAt(status, now, deadlines);
      if (at === null) return false;
      return applied(
        job
          .patch({ jobId })
          .add({ redrives: 1 })
          .set({ sweepAt: at })
          .where((a, op) => op.eq(a.status, status))
          .go(),
      );
    },

    async getChunk(jobId, index) {
      return (await chunk.get({ jobId, index }).go()).data;
    },
    async createChunk(c) {
      const created = await applied(chunk.create({ ...c, status: "PENDING" }).go());
      if (created) await bump(c.jobId, true);
      return created;
    },
    // a chunk row shown on the job page moves the job's versions after it is written (never
    // before: a poll between the two would keep the old row under the new version); the
    // tracker's addEncodedChunk does it for markChunkEncoded
    async startChunkAttempt(jobId, index, worker, at, spend) {
      const op = chunk.patch({ jobId, index }).set({ startedAt: at, worker });
      const row = (await (spend ? op.add({ attempts: 1 }) : op).go({ response: "all_new" })).data as NonNullable<
        Awaited<ReturnType<JobStore["getChunk"]>>
      >;
      await bump(jobId, true);
      return row;
    },
    async refundChunkAttempt(jobId, index) {
      if (
        await applied(
          chunk
            .patch({ jobId, index })
            .add({ attempts: -1 })
            .where((a, op) => op.gt(a.attempts, 0))
            .go(),
        )
      )
        await bump(jobId, true);
    },
    async markChunkEncoded(jobId, index, done) {
      await chunk
        .patch({ jobId, index })
        .set({ status: "ENCODED", ...done })
        .go();
    },
    async markChunkFailed(jobId, index, error) {
      await chunk.patch({ jobId, index }).set({ status: "FAILED", error }).go();
      await bump(jobId, true);
    },
    async resetChunk(jobId, index) {
      await chunk.patch({ jobId, index }).set({ attempts: 0, status: "PENDING" }).remove(["error"]).go();
      await bump(jobId, true);
    },

    async getUpload(uploadId) {
      return (await upload.get({ uploadId }).go()).data;
    },
    async setUploadStatus(uploadId, from, to) {
      return applied(
        upload
          .patch({ uploadId })
          .set({ status: to })
          .where((a, op) => op.eq(a.status, from))
          .go(),
      );
    },

    async reserveSlot(owner, jobId, limit, at) {
      const Key = quotaKey(owner);
      const add = () =>
        applied(
          raw.client.send(
            new UpdateCommand({
              TableName: raw.table,
              Key,
              UpdateExpression: "SET #active.#job = if_not_exists(#active.#job, :at)",
              ConditionExpression:
                "attribute_exists(#active) AND (attribute_exists(#active.#job) OR size(#active) < :limit)",
              ExpressionAttributeNames: { "#active": "active", "#job": jobId },
              ExpressionAttributeValues: { ":at": at, ":limit": limit },
            }),
          ),
        );
      if (await add()) return true;
      // the owner's first slot: the map does not exist yet (two first reservations: one makes it, the other adds to it)
      const first = applied(
        raw.client.send(
          new UpdateCommand({
            TableName: raw.table,
            Key,
            UpdateExpression: "SET #active = :first, #e = :e, #v = :v, #owner = :owner",
            ConditionExpression: "attribute_not_exists(#active)",
            ExpressionAttributeNames: { "#active": "active", "#e": "__edb_e__", "#v": "__edb_v__", "#owner": "owner" },
            ExpressionAttributeValues: {
              ":first": { [jobId]: at },
              ":e": quotaTag.__edb_e__,
              ":v": quotaTag.__edb_v__,
              ":owner": owner,
            },
          }),
        ),
      );
      return (await first) || add();
    },
    async releaseSlot(owner, jobId) {
      await applied(
        raw.client.send(
          new UpdateCommand({
            TableName: raw.table,
            Key: quotaKey(owner),
            UpdateExpression: "REMOVE #active.#job",
            ConditionExpression: "attribute_exists(#active)",
            ExpressionAttributeNames: { "#active": "active", "#job": jobId },
          }),
        ),
      );
    },
    async heldSlots(owner) {
      const res = await raw.client.send(
        new GetCommand({ TableName: raw.table, Key: quotaKey(owner), ConsistentRead: true }),
      );
      return (res.Item?.active as Record<string, number> | undefined) ?? {};
    },

    async charge(key, amount, limit, expiresAt, jobId) {
      // more than the whole limit never fits (the condition lets a period's first charge through)
      if (amount > limit) return jobId !== undefined && (await charged(key, jobId));
      const addJob = jobId === undefined ? "" : ", #jobs :job";
      const notJob = jobId === undefined ? "" : " AND NOT contains(#jobs, :jobId)";
      const applied_ = await applied(
        raw.client.send(
          new UpdateCommand({
            TableName: raw.table,
            Key: counter.get(key).params().Key as Record<string, string>,
            // the first charge of a period makes the item: ElectroDB's tags and composites come with it
            UpdateExpression:
              `ADD #count :amount${addJob} ` +
              "SET #exp = :exp, #e = :e, #v = :v, #owner = :owner, #kind = :kind, #period = :period",
            ConditionExpression: `(attribute_not_exists(#count) OR #count <= :room)${notJob}`,
            ExpressionAttributeNames: {
              "#count": "count",
              "#exp": "expiresAt",
              "#e": "__edb_e__",
              "#v": "__edb_v__",
              "#owner": "owner",
              "#kind": "kind",
              "#period": "period",
              ...(jobId === undefined ? {} : { "#jobs": "jobs" }),
            },
            ExpressionAttributeValues: {
              ":amount": amount,
              ":room": limit - amount,
              ":exp": expiresAt,
              ":e": "counter",
              ":v": "1",
              ":owner": key.owner,
              ":kind": key.kind,
              ":period": key.period,
              ...(jobId === undefined ? {} : { ":job": new Set([jobId]), ":jobId": jobId }),
            },
          }),
        ),
      );
      // refused: over the limit, or this job was charged before (a redelivery)
      return applied_ || (jobId !== undefined && (await charged(key, jobId)));
    },
    async counted(key) {
      return ((await counterItem(key))?.count as number | undefined) ?? 0;
    },

    async putTimeline(row) {
      await timeline.put(row).go();
    },
    async touchJob(jobId) {
      await bump(jobId);
    },
  };
  return store;
}
