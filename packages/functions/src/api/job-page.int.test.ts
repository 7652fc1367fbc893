import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEvent } from "@videoforge/events";
import { recordEvent } from "@videoforge/core";
import { startApiOnDynalite, type ApiOnDynalite } from "../../../../test/helpers/api-on-dynalite.ts";

/**
 * The job page's read cost through the real API on dynalite, for a job of 2,000 chunks and
 * 4,000 timeline rows: an unchanged poll is one item read (304 from the job row's version),
 * ownership checks are one GetItem, and the timeline comes a page at a time.
 */
const CHUNKS = 2000;
const owner = "alice";
const jobId = "bigjob000001";
let api: ApiOnDynalite;

beforeAll(async () => {
  api = await startApiOnDynalite();
  const { db, jobs } = api.deps;
  await jobs.createJob({
    jobId,
    owner,
    status: "QUEUED",
    sourceName: "long.mp4",
    ladder: ["360p"],
    createdAt: Date.now(),
  });
  await jobs.transition(jobId, "CHUNKING", ["QUEUED"]);
  await jobs.transition(jobId, "ENCODING", ["CHUNKING"], { set: { chunkCount: CHUNKS } });
  const chunks = Array.from({ length: CHUNKS }, (_, index) => ({
    jobId,
    index,
    status: "ENCODED" as const,
    startFrame: index * 240,
    frames: 240,
    startTime: index * 8,
    duration: 8,
    attempts: 1,
  }));
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const rows = Array.from({ length: 2 * CHUNKS }, (_, n) => ({
    jobId,
    at: new Date(t0 + n * 10).toISOString(),
    eventId: `e${String(n).padStart(5, "0")}`,
    type: n < CHUNKS ? "ChunkReady" : "ChunkEncoded",
    chunk: n % CHUNKS,
    detail: {},
  }));
  await db.entities.chunk.put(chunks).go();
  await db.entities.timeline.put(rows).go();
}, 120_000);
afterAll(async () => {
  await api?.stop();
});

/** Items the table served for one request. */
async function cost<T>(request: () => Promise<T>): Promise<{ reply: T; items: number; requests: number }> {
  const [items, requests] = [api.reads.items, api.reads.requests];
  const reply = await request();
  return { reply, items: api.reads.items - items, requests: api.reads.requests - requests };
}

describe("GET /jobs/:id of a job with 2,000 chunks", () => {
  let etag: string;
  let before = 0;

  it("a changed page: the job, every chunk and the timeline's first page, with a cursor for the rest", async () => {
    const { reply, items } = await cost(() =>
      api.call<{ chunks: unknown[]; timeline: { eventId: string }[]; timelineNext: string | null }>(
        owner,
        "GET",
        `/jobs/${jobId}`,
      ),
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.chunks).toHaveLength(CHUNKS);
    expect(reply.body.timeline).toHaveLength(500);
    expect(reply.body.timeline[0]!.eventId).toBe("e00000");
    expect(reply.body.timelineNext).toEqual(expect.any(String));
    expect(items).toBe(1 + CHUNKS + 500);
    etag = reply.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"/);
    // before, every poll (changed or not) read the whole collection: job + chunks + timeline
    before = (await cost(() => api.deps.db.collections.jobView({ jobId }).go({ pages: "all" }))).items;
    expect(before).toBe(1 + 3 * CHUNKS);
    console.log(`job page of ${CHUNKS} chunks, changed: ${items} items read (every poll before: ${before})`);
  });

  it("an unchanged poll is a bodiless 304 after one item read", async () => {
    const { reply, items, requests } = await cost(() =>
      api.call(owner, "GET", `/jobs/${jobId}`, undefined, { "if-none-match": etag }),
    );
    expect(reply.status).toBe(304);
    expect(reply.text).toBe("");
    expect(reply.headers.get("etag")).toBe(etag);
    expect({ items, requests }).toEqual({ items: 1, requests: 1 });
    console.log(`job page of ${CHUNKS} chunks, unchanged poll: ${items} item read (before: ${before})`);
  });

  it("a new timeline row changes the version", async () => {
    await recordEvent(api.deps, { ...makeEvent("JobCancelled", { jobId, by: "someone" }), id: "zz-last" });
    const reply = await api.call(owner, "GET", `/jobs/${jobId}`, undefined, { "if-none-match": etag });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("etag")).not.toBe(etag);
    etag = reply.headers.get("etag")!;
  });

  it("a chunk's attempt (a row on the Gantt chart) changes the version", async () => {
    await api.deps.jobs.startChunkAttempt(jobId, 7, "worker-9", Date.now(), true);
    const reply = await api.call<{ chunks: { index: number; worker?: string }[] }>(
      owner,
      "GET",
      `/jobs/${jobId}`,
      undefined,
      { "if-none-match": etag },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.chunks[7]!.worker).toBe("worker-9");
    expect(reply.headers.get("etag")).not.toBe(etag);
  });

  it("the chunk list is read only when it changed (`?chunksVersion=`)", async () => {
    const first = await api.call<{ chunks: unknown[] | null; chunksVersion: string }>(owner, "GET", `/jobs/${jobId}`);
    const known = first.body.chunksVersion;
    expect(known).toMatch(/^c\d+$/);
    // a timeline row changes the page but not the chunk list: the rows are not read again
    await recordEvent(api.deps, { ...makeEvent("JobCancelled", { jobId, by: "someone" }), id: "zz-timeline-only" });
    const timelineOnly = await cost(() =>
      api.call<{ chunks: unknown[] | null; chunksVersion: string }>(
        owner,
        "GET",
        `/jobs/${jobId}?chunksVersion=${known}`,
      ),
    );
    expect(timelineOnly.reply.status).toBe(200);
    expect(timelineOnly.reply.body).toMatchObject({ chunks: null, chunksVersion: known });
    expect(timelineOnly.items).toBe(1 + 500);
    // a chunk row changes: the list comes again, with its new version
    await api.deps.jobs.markChunkFailed(jobId, 3, "broken");
    const changed = await api.call<{ chunks: { index: number; status: string }[] | null; chunksVersion: string }>(
      owner,
      "GET",
      `/jobs/${jobId}?chunksVersion=${known}`,
    );
    expect(changed.body.chunksVersion).not.toBe(known);
    expect(changed.body.chunks).toHaveLength(CHUNKS);
    expect(changed.body.chunks![3]!.status).toBe("FAILED");
    console.log(`job page of ${CHUNKS} chunks, timeline changed, chunk list not: ${timelineOnly.items} items read`);
  });

  it("the timeline pages through every row once, oldest first", async () => {
    const first = await api.call<{ timeline: { eventId: string }[]; timelineNext: string | null }>(
      owner,
      "GET",
      `/jobs/${jobId}`,
    );
    const seen = first.body.timeline.map((t) => t.eventId);
    for (let next = first.body.timelineNext; next; ) {
      const page = await api.call<{ timeline: { eventId: string }[]; next: string | null }>(
        owner,
        "GET",
        `/jobs/${jobId}/timeline?cursor=${encodeURIComponent(next)}`,
      );
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.timeline.map((t) => t.eventId));
      next = page.body.next;
    }
    expect(seen).toHaveLength(2 * CHUNKS + 2);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
  });

  it("a cursor that was not handed out is 400, another user's timeline 404", async () => {
    const bad = await api.call(owner, "GET", `/jobs/${jobId}/timeline?cursor=nonsense`);
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body).toEqual({ error: { code: "invalid_request", message: expect.any(String) } });
    expect((await api.call("mallory", "GET", `/jobs/${jobId}/timeline`)).status).toBe(404);
  });
});

describe("ownership in one GetItem", () => {
  it.each([
    ["DELETE", `/jobs/${jobId}`],
    ["GET", `/jobs/${jobId}`],
    ["GET", `/jobs/${jobId}/outputs`],
    ["GET", `/jobs/${jobId}/hls/master.m3u8`],
    ["POST", `/jobs/${jobId}/retry`],
  ])("%s %s of another user's job is 404 after one item read", async (method, path) => {
    const { reply, items, requests } = await cost(() => api.call("mallory", method, path));
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: { code: "not_found", message: expect.any(String) } });
    expect({ items, requests }).toEqual({ items: 1, requests: 1 });
  });

  it("the owner's DELETE reads the job row, not its chunks and timeline", async () => {
    const { reply, items } = await cost(() => api.call(owner, "DELETE", `/jobs/${jobId}`));
    expect(reply.status, reply.text).toBe(202);
    expect(items).toBeLessThan(10);
    expect((await api.deps.jobs.getJob(jobId))?.status).toBe("CANCELLED");
  });
});
