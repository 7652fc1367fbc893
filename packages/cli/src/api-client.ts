import { open } from "node:fs/promises";
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import type { JobSummary } from "@videoforge/core";

/** A thin client of the HTTP API, used by `submit`, `jobs`, `events` and `encode`. */
/** `token` is the bearer token, or a function giving it (a `videoforge login` token, renewed when it expires). */
export function apiClient(base: string, token?: string | (() => Promise<string | undefined>)) {
  const auth = async (): Promise<Record<string, string>> => {
    const value = typeof token === "function" ? await token() : token;
    return value ? { authorization: `Bearer ${value}` } : {};
  };
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = { "content-type": "application/json", ...(await auth()) };
    const res = await reach(base, () =>
      fetch(new URL(path, base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new Error(`${method} ${path} → ${res.status} ${err?.code ?? ""}: ${err?.message ?? text}`);
    }
    return json as T;
  }

  /** A GET whose body is not JSON (the HLS playlists). */
  async function text(path: string): Promise<string> {
    const headers = await auth();
    const res = await reach(base, () => fetch(new URL(path, base), { headers }));
    const body = await res.text();
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${body}`);
    return body;
  }

  return {
    call,
    text,
    health: () => call<{ ok: boolean }>("GET", "/health"),
    jobs: () => call<{ jobs: JobSummary[] }>("GET", "/jobs"),
    job: (id: string) => call<JobView>("GET", `/jobs/${encodeURIComponent(id)}`),
    /** The next page of a job's timeline after the one `cursor` came with. */
    timeline: (id: string, cursor: string) => call<{ timeline: TimelineRow[]; next: string | null }>("GET", `/jobs/${encodeURIComponent(id)}/timeline?cursor=${encodeURIComponent(cursor)}`),
    outputs: (id: string) => call<{ status: string; outputs: { rendition: string; url: string; bytes: number }[]; hls: string | null; poster: string | null }>("GET", `/jobs/${encodeURIComponent(id)}/outputs`),
    cancel: (id: string) => call<{ jobId: string }>("DELETE", `/jobs/${encodeURIComponent(id)}`),

    /** Multipart upload through presigned part URLs; reads one part at a time, so memory stays bounded. */
    async upload(file: string, ladder?: string[], onProgress?: (sent: number, total: number) => void): Promise<{ jobId: string }> {
      const { size } = await stat(file);
      type PartPage = { parts: { partNumber: number; url: string }[]; nextPart: number | null };
      const created = await call<PartPage & { uploadId: string; jobId: string; partSize: number }>("POST", "/uploads", {
        name: basename(file),
        size,
        contentType: "application/octet-stream",
        ...(ladder ? { ladder } : {}),
      });
      const handle = await open(file, "r");
      const done: { partNumber: number; etag: string }[] = [];
      let sent = 0;
      try {
        // part URLs come a page at a time: the next page is signed when this one is used up
        let page: PartPage | null = created;
        while (page) {
          for (const part of page.parts) {
            const offset = (part.partNumber - 1) * created.partSize;
            const length = Math.min(created.partSize, size - offset);
            const buffer = Buffer.alloc(length);
            await handle.read(buffer, 0, length, offset);
            done.push({ partNumber: part.partNumber, etag: await putPart(part.url, part.partNumber, buffer) });
            sent += length;
            onProgress?.(sent, size);
          }
          page = page.nextPart ? await call<PartPage>("GET", `/uploads/${created.uploadId}/parts?from=${page.nextPart}`) : null;
        }
      } finally {
        await handle.close();
      }
      return call<{ jobId: string }>("POST", `/uploads/${created.uploadId}/complete`, { parts: done });
    },
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/** A refused connection names the API it tried, and how to start one. */
async function reach(base: string, request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the API at ${base} (${cause?.code ?? cause?.message ?? (err as Error).message}); is \`videoforge up\` running? (--api URL)`);
  }
}

/** PUT one part, retrying what S3 says is transient (5xx, a dropped connection) with backoff; 4xx is final. */
async function putPart(url: string, partNumber: number, body: Buffer, attempts = 4): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    let problem: string;
    try {
      const res = await fetch(url, { method: "PUT", body });
      if (res.ok) return res.headers.get("etag") ?? "";
      problem = `HTTP ${res.status} ${await res.text()}`;
      if (res.status < 500) throw new Error(`uploading part ${partNumber} failed: ${problem}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("uploading part")) throw err;
      problem = (err as Error).message;
    }
    if (attempt >= attempts) throw new Error(`uploading part ${partNumber} failed after ${attempts} attempts: ${problem}`);
    await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
  }
}

export interface TimelineRow {
  at: string;
  type: string;
  chunk?: number;
  detail: Record<string, unknown>;
}
export interface ChunkRow {
  index: number;
  status: string;
  frames: number;
  worker?: string;
  attempts?: number;
  readyAt?: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
}
export interface JobView {
  job: JobSummary;
  /** Every chunk row (null only when the request named this `chunksVersion` with `?chunksVersion=`). */
  chunks: ChunkRow[];
  chunksVersion: string;
  /** The first page of the timeline, oldest first; `timelineNext` fetches the rest (GET /jobs/:id/timeline?cursor=). */
  timeline: TimelineRow[];
  timelineNext: string | null;
}
