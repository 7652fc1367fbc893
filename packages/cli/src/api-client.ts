import { open } from "node:fs/promises";
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import type { JobSummary } from "@videoforge/core";

/** A thin client of the HTTP API, used by `submit`, `jobs`, `events` and `encode`. */
export function apiClient(base: string, token?: string) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new Error(`${method} ${path} → ${res.status} ${err?.code ?? ""}: ${err?.message ?? text}`);
    }
    return json as T;
  }

  return {
    call,
    health: () => call<{ ok: boolean }>("GET", "/health"),
    jobs: () => call<{ jobs: JobSummary[] }>("GET", "/jobs"),
    job: (id: string) => call<JobView>("GET", `/jobs/${encodeURIComponent(id)}`),
    outputs: (id: string) => call<{ status: string; outputs: { rendition: string; url: string; bytes: number }[]; hls: string | null; poster: string | null }>("GET", `/jobs/${encodeURIComponent(id)}/outputs`),
    cancel: (id: string) => call<{ jobId: string }>("DELETE", `/jobs/${encodeURIComponent(id)}`),

    /** Multipart upload through presigned part URLs; reads one part at a time, so memory stays bounded. */
    async upload(file: string, ladder?: string[], onProgress?: (sent: number, total: number) => void): Promise<{ jobId: string }> {
      const { size } = await stat(file);
      const created = await call<{ uploadId: string; jobId: string; partSize: number; parts: { partNumber: number; url: string }[] }>("POST", "/uploads", {
        name: basename(file),
        size,
        contentType: "application/octet-stream",
        ...(ladder ? { ladder } : {}),
      });
      const handle = await open(file, "r");
      const done: { partNumber: number; etag: string }[] = [];
      let sent = 0;
      try {
        for (const part of created.parts) {
          const offset = (part.partNumber - 1) * created.partSize;
          const length = Math.min(created.partSize, size - offset);
          const buffer = Buffer.alloc(length);
          await handle.read(buffer, 0, length, offset);
          done.push({ partNumber: part.partNumber, etag: await putPart(part.url, part.partNumber, buffer) });
          sent += length;
          onProgress?.(sent, size);
        }
      } finally {
        await handle.close();
      }
      return call<{ jobId: string }>("POST", `/uploads/${created.uploadId}/complete`, { parts: done });
    },
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

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
  chunks: ChunkRow[];
  timeline: TimelineRow[];
}
