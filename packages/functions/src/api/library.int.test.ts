import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIBRARY_PAGE } from "@videoforge/core";
import { startApiOnDynalite, type ApiOnDynalite } from "../../../../test/helpers/api-on-dynalite.ts";

/**
 * The library past one page, through the real API on dynalite: 700 jobs of one owner, 450 of them videos
 * (the rest failed or being deleted), and another owner's. Every video is listed exactly once, newest first,
 * across pages; the storage counts all of them; a search reaches past the first page; a forged cursor is a 400.
 */
const owner = "libby";
const JOBS = 700;
let api: ApiOnDynalite;
const videos: { jobId: string; title: string; bytes: number }[] = [];

interface Page {
  videos: { videoId: string; title: string; bytes: number }[];
  next: string | null;
  storageBytes: number | null;
}

beforeAll(async () => {
  api = await startApiOnDynalite();
  const { db } = api.deps;
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  const rows = Array.from({ length: JOBS }, (_, n) => {
    const jobId = `lib${String(n).padStart(5, "0")}`;
    // every third job failed and every tenth is being deleted: neither is a video
    const video = n % 3 !== 0 && n % 10 !== 1;
    const bytes = 1000 + n;
    const title = n % 97 === 5 ? `Holiday ${n}` : `clip-${n}.mp4`;
    if (video) videos.push({ jobId, title, bytes });
    return {
      jobId,
      owner,
      status: n % 3 === 0 ? ("FAILED" as const) : ("COMPLETED" as const),
      sourceName: title,
      ladder: ["360p"],
      createdAt: t0 + n * 1000,
      ...(n % 10 === 1 && n % 3 !== 0 ? { deletingAt: t0 } : {}),
      outputs: [
        { rendition: "360p", key: `jobs/${jobId}/360p.mp4`, width: 640, height: 360, frames: 1, duration: 1, bytes },
      ],
    };
  });
  await db.entities.job.put(rows).go();
  await db.entities.job
    .put({ jobId: "otherowner01", owner: "someone", status: "COMPLETED", sourceName: "x", ladder: [], createdAt: t0 })
    .go();
  videos.reverse();
});
afterAll(async () => {
  await api?.stop();
});

async function all(q = ""): Promise<{ pages: Page[]; ids: string[] }> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
    const res: { status: number; text: string; body: Page } = await api.call<Page>(owner, "GET", `/videos?${query}`);
    expect(res.status, res.text).toBe(200);
    pages.push(res.body);
    cursor = res.body.next;
  } while (cursor && pages.length < 50);
  return { pages, ids: pages.flatMap((p) => p.videos.map((v) => v.videoId)) };
}

describe("the library, page by page", () => {
  it("lists every video once, newest first, in pages; the first page says the storage of all of them", async () => {
    const { pages, ids } = await all();
    expect(videos.length).toBeGreaterThan(LIBRARY_PAGE.videos * 5);
    expect(ids).toEqual(videos.map((v) => v.jobId));
    // 700 jobs read 200 at a time: a page per batch, each with more than a page's worth of videos
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(JOBS / LIBRARY_PAGE.batch));
    expect(pages.at(-1)!.next).toBeNull();
    expect(pages[0]!.storageBytes).toBe(videos.reduce((s, v) => s + v.bytes, 0));
    expect(pages.slice(1).every((p) => p.storageBytes === null)).toBe(true);
    // a page reads whole batches: at least a page of videos (or the rest), never unbounded
    for (const p of pages.slice(0, -1)) {
      expect(p.videos.length).toBeGreaterThanOrEqual(LIBRARY_PAGE.videos);
      expect(p.videos.length).toBeLessThan(LIBRARY_PAGE.videos + LIBRARY_PAGE.batch);
    }
  });

  it("finds a title however far back it is", async () => {
    const { ids } = await all("holiday");
    expect(ids).toEqual(videos.filter((v) => v.title.startsWith("Holiday")).map((v) => v.jobId));
    expect(ids.length).toBeGreaterThan(3);
  });

  it("refuses a cursor it did not make", async () => {
    for (const cursor of ["not-a-cursor", Buffer.from(JSON.stringify({ pk: "x", sk: "y" })).toString("base64url")]) {
      const res = await api.call<{ error: { code: string; message: string } }>(
        owner,
        "GET",
        `/videos?cursor=${encodeURIComponent(cursor)}`,
      );
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toMatch(/cursor/);
    }
  });
});
