import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCloud, type TestCloud } from "../../../../test/helpers/cloud.ts";

/**
 * Part URLs a page at a time over real HTTP against a real local cloud: the first page
 * with the upload, the rest from `GET /uploads/:id/parts`, each URL accepted by storage
 * (through the signature gate), owners kept apart, and no URL for an upload that ended.
 */
let cloud: TestCloud;
let other: string;
const GiB = 1024 ** 3;

beforeAll(async () => {
  cloud = await startTestCloud();
  other = await cloud.cloud.auth.addUser("someone-else");
});
afterAll(async () => {
  await cloud?.stop();
});

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = cloud.token) {
  const res = await fetch(cloud.api.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as T };
}

interface Page {
  uploadId: string;
  partCount: number;
  parts: { partNumber: number; url: string }[];
  nextPart: number | null;
  expiresIn: number;
}

describe("GET /uploads/:id/parts", () => {
  it("hands out a 2 GiB upload's 256 part URLs in pages that storage accepts", async () => {
    const created = await api<Page & { jobId: string; partSize: number }>("POST", "/uploads", {
      name: "big.mov",
      size: 2 * GiB,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ partSize: 8 * 1024 ** 2, partCount: 256, nextPart: 101, expiresIn: 3600 });
    expect(created.body.parts.map((p) => p.partNumber)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));

    const next = await api<Page>("GET", `/uploads/${created.body.uploadId}/parts?from=101&limit=500`);
    expect(next.status, next.text).toBe(200);
    expect(next.body).toMatchObject({ uploadId: created.body.uploadId, partCount: 256, nextPart: null });
    expect(next.body.parts.map((p) => p.partNumber)).toEqual(Array.from({ length: 156 }, (_, i) => 101 + i));

    // a URL of the second page is a real, working part URL
    const last = next.body.parts.at(-1)!;
    expect(new URL(last.url).searchParams.get("partNumber")).toBe("256");
    const put = await fetch(last.url, { method: "PUT", body: Buffer.alloc(1024, 7) });
    expect(put.status, await put.text()).toBe(200);
    expect(put.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);

    // resume can start its page anywhere too
    const resumed = await api<Page>("GET", `/uploads/${created.body.uploadId}?from=250`);
    expect(resumed.body).toMatchObject({ status: "OPEN", partCount: 256, nextPart: null });
    expect(resumed.body.parts.map((p) => p.partNumber)).toEqual([250, 251, 252, 253, 254, 255, 256]);

    // someone else's upload is a 404, like a missing one
    const foreign = await api("GET", `/uploads/${created.body.uploadId}/parts`, undefined, other);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: { code: "not_found", message: `No upload ${created.body.uploadId}.` } });

    // a page larger than 500, or from part 0, is refused
    const tooMany = await api("GET", `/uploads/${created.body.uploadId}/parts?limit=501`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({
      error: { code: "invalid_request", message: expect.stringMatching(/limit must be at most 500/) },
    });
    expect((await api("GET", `/uploads/${created.body.uploadId}/parts?from=0`)).status).toBe(400);

    // once the job is cancelled, no more URLs
    expect((await api("DELETE", `/jobs/${created.body.jobId}`)).status).toBe(202);
    const ended = await api("GET", `/uploads/${created.body.uploadId}/parts?from=2`);
    expect(ended.status).toBe(409);
    expect(ended.body).toEqual({
      error: {
        code: "conflict",
        message: `Upload ${created.body.uploadId} is open but its job is cancelled: it takes no more parts.`,
      },
    });
    expect((await api<Page>("GET", `/uploads/${created.body.uploadId}`)).body).toMatchObject({
      jobStatus: "CANCELLED",
      parts: [],
      nextPart: null,
    });
  });
});
