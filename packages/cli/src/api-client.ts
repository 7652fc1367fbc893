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
          const res = await fetch(part.url, { method: "PUT", body: buffer });
          if (!res.ok) throw new Error(`uploading part ${part.partNumber} failed: HTTP ${res.status} ${await res.text()}`);
          done.push({ partNumber: part.partNumber, etag: res.headers.get("etag") ?? "" });
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
