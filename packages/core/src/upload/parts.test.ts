import { describe, expect, it } from "vitest";
import { S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";
import { s3Store } from "../adapters/s3-store.ts";
import { loadConfig } from "../config.ts";
import { DEFAULT_PART_PAGE, MAX_PART_PAGE, partCountOf, signPartPage } from "./parts.ts";

/**
 * The real S3 presigner (signing is offline) with credentials shaped like a Lambda role's:
 * the session token is what makes an AWS part URL ≈ 1.3 KB, so the sizes below are
 * the sizes API Gateway would carry.
 */
const s3 = new S3Client({
  region: "eu-west-1",
  credentials: {
    accessKeyId: "ASIAEXAMPLEEXAMPLE00",
    secretAccessKey: "s".repeat(40),
    sessionToken: "IQoJb3JpZ2luX2VjE".padEnd(1100, "x"),
  },
});
const deps = { store: s3Store(s3), cfg: loadConfig({}) };
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** What createUpload plans for a 50 GiB source: 8 MiB parts (S3's 10,000-part ceiling is not reached). */
const target = {
  bucket: "videoforge-prod-uploadsbucket-abcdef123456",
  key: "jobs/0123456789abcdef0123/source",
  s3UploadId: "x".repeat(120),
  size: 50 * GiB,
  partSize: 8 * MiB,
};

describe("part URLs a page at a time", () => {
  it("answers a 50 GiB upload's first request with one small page, far below Lambda's 6 MB", async () => {
    const page = await signPartPage(deps, target);
    const body = JSON.stringify({
      uploadId: "u".repeat(20),
      jobId: "j".repeat(20),
      partSize: target.partSize,
      ...page,
    });

    expect(page.partCount).toBe(6400);
    expect(page.parts.map((p) => p.partNumber)).toEqual(Array.from({ length: DEFAULT_PART_PAGE }, (_, i) => i + 1));
    expect(page.nextPart).toBe(DEFAULT_PART_PAGE + 1);
    expect(Buffer.byteLength(body)).toBeLessThan(200_000);
    expect(Buffer.byteLength(body)).toBeGreaterThan(100_000); // the URLs really are AWS-sized
    // the largest page a client may ask for still fits many times over
    const largest = await signPartPage(deps, target, { from: 1, limit: MAX_PART_PAGE });
    expect(Buffer.byteLength(JSON.stringify(largest))).toBeLessThan(1_000_000);
  });

  it("signs each URL for its own part of its own upload, with the configured lifetime", async () => {
    const page = await signPartPage(deps, target, { from: 6398, limit: 10 });
    expect(page.parts.map((p) => p.partNumber)).toEqual([6398, 6399, 6400]);
    for (const p of page.parts) {
      const url = new URL(p.url);
      expect(url.pathname).toBe(`/${target.key}`);
      expect(url.searchParams.get("partNumber")).toBe(String(p.partNumber));
      expect(url.searchParams.get("uploadId")).toBe(target.s3UploadId);
      expect(url.searchParams.get("X-Amz-Expires")).toBe(String(deps.cfg.urlSeconds.upload));
    }
  });

  it.each([DEFAULT_PART_PAGE, MAX_PART_PAGE, 7])(
    "pages of %i cover all 6,400 parts exactly once, in order",
    async (limit) => {
      // a recording signer: 6,400 real signatures per case would only measure SigV4
      const signedFor: number[] = [];
      const recording = {
        ...deps,
        store: {
          ...deps.store,
          presignPart: async (_b: string, _k: string, _u: string, n: number) => (signedFor.push(n), `signed:${n}`),
        },
      };
      const seen: number[] = [];
      let pages = 0;
      for (let from: number | null = 1; from !== null; pages++) {
        // as the API passes them: query strings
        const page: Awaited<ReturnType<typeof signPartPage>> = await signPartPage(recording, target, {
          from: String(from),
          limit: String(limit),
        } as never);
        expect(page.parts.length).toBeLessThanOrEqual(limit);
        for (const p of page.parts) {
          expect(p.url).toBe(`signed:${p.partNumber}`);
          seen.push(p.partNumber);
        }
        from = page.nextPart;
      }
      const all = Array.from({ length: 6400 }, (_, i) => i + 1);
      expect(seen).toEqual(all);
      expect(signedFor.sort((a, b) => a - b)).toEqual(all);
      expect(pages).toBe(Math.ceil(6400 / limit));
    },
  );

  it("plans parts like createUpload does, the last one short", () => {
    expect(partCountOf(17 * MiB, 8 * MiB)).toBe(3);
    expect(partCountOf(1, 8 * MiB)).toBe(1);
    expect(partCountOf(50 * GiB, 8 * MiB)).toBe(6400);
  });

  it("a page past the end is empty; a page that reaches the end says there is no next one", async () => {
    const small = { ...target, size: 17 * MiB };
    expect(await signPartPage(deps, small, { from: 2, limit: 5 })).toMatchObject({
      partCount: 3,
      nextPart: null,
      parts: [{ partNumber: 2 }, { partNumber: 3 }],
    });
    expect(await signPartPage(deps, small, { from: 4 })).toMatchObject({ partCount: 3, nextPart: null, parts: [] });
  });

  it.each([
    [{ from: 0 }, /from must be at least 1/],
    [{ limit: MAX_PART_PAGE + 1 }, /limit must be at most 500/],
    [{ limit: 0 }, /limit must be at least 1/],
    [{ from: "1.5" }, /whole part number/],
    [{ from: "abc" }, /expected number/],
  ])("refuses the page %j before signing anything", async (query, message) => {
    let signed = 0;
    const counting = { ...deps, store: { ...deps.store, presignPart: async () => `${++signed}` } };
    const err = await signPartPage(counting, target, query as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(z.ZodError);
    expect(z.prettifyError(err as z.ZodError)).toMatch(message);
    expect(signed).toBe(0);
  });
});
