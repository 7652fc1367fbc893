import type { PartPage } from "@videoforge/core/contract";
import { ApiError, client, idParam, ok } from "../api.ts";
import type { UploadChoices } from "./options.ts";

/**
 * A resumable multipart upload straight to storage through the API's presigned part URLs.
 *
 * The file is sent one slice at a time (`Blob.slice` + XHR): nothing reads the whole file,
 * so a file of several GB costs no more memory than one part in flight per connection.
 * Each finished part's ETag is kept in localStorage under the file's fingerprint (name,
 * size, last modified), so after a page reload, picking the same file again resumes with
 * fresh URLs from `GET /uploads/:id` and sends only the missing parts.
 *
 * Part URLs come a page at a time (a 50 GiB file has 6,400 parts): the first page with the
 * upload, the others from `GET /uploads/:id/parts?from=N` just before their parts are sent,
 * so every URL is fresh when it is used and no answer is large.
 */

/** What survives a reload: enough to ask the API for fresh URLs and skip finished parts. */
interface Saved {
  uploadId: string;
  jobId: string;
  partSize: number;
  size: number;
  etags: Record<number, string>;
}

const PARALLEL_PARTS = 3;
const PAGE_SIZE = 100;
/** A URL is used only in the first 90 % of its life: a part started near the end could outlive it. */
const URL_LIFE_USED = 0.9;
const PART_ATTEMPTS = 4;
const PREFIX = "videoforge.upload.";

export type UploadState = "idle" | "uploading" | "paused" | "completing" | "done" | "error" | "cancelled";

export const fingerprint = (file: File) => `${file.name}|${file.size}|${file.lastModified}`;

/** Bytes already stored for this file by an earlier visit, if an unfinished upload exists. */
export function savedProgress(file: File): { sent: number; jobId: string } | null {
  const saved = load(file);
  if (!saved) return null;
  const sent = Object.keys(saved.etags).reduce((sum, n) => sum + partLength(saved, Number(n)), 0);
  return { sent, jobId: saved.jobId };
}

function load(file: File): Saved | null {
  try {
    const raw = localStorage.getItem(PREFIX + fingerprint(file));
    return raw ? (JSON.parse(raw) as Saved) : null;
  } catch {
    return null;
  }
}

const partLength = (s: Pick<Saved, "partSize" | "size">, partNumber: number) =>
  Math.min(s.partSize, s.size - (partNumber - 1) * s.partSize);

export interface UploadEvents {
  onProgress(sent: number, total: number): void;
  onState(state: UploadState, detail?: string): void;
}

export class MultipartUpload {
  #saved: Saved | null = null;
  #urls = new Map<number, { url: string; until: number }>();
  /** The page request in flight, if any: parallel senders wait for it instead of asking again. */
  #fetching: Promise<void> | null = null;
  #inFlight = new Map<number, XMLHttpRequest>();
  #loaded = new Map<number, number>();
  #paused = false;
  #cancelled = false;
  /** Part senders waiting while paused; all of them wake on resume or cancel. */
  #waiting: (() => void)[] = [];

  constructor(
    readonly file: File,
    /** Ladder, formats and the other per-job choices, sent as they are with `POST /uploads`. */
    readonly choices: UploadChoices,
    readonly events: UploadEvents,
  ) {}

  get jobId(): string | null {
    return this.#saved?.jobId ?? null;
  }

  /** Create (or resume) the upload, send every missing part, then complete it. Resolves with the job id. */
  async run(): Promise<string> {
    this.events.onState("uploading");
    try {
      await this.#open();
      const saved = this.#saved!;
      const count = Math.max(1, Math.ceil(saved.size / saved.partSize));
      const todo = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !saved.etags[n]);
      this.#report();
      const next = () => todo.shift();
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL_PARTS, todo.length) }, async () => {
          for (let n = next(); n !== undefined; n = next()) await this.#sendPart(n);
        }),
      );
      if (this.#cancelled) throw new CancelledError();
      this.events.onState("completing");
      const parts = Object.entries(saved.etags)
        .map(([n, etag]) => ({ partNumber: Number(n), etag }))
        .sort((a, b) => a.partNumber - b.partNumber);
      const complete = client.uploads[":id"].complete.$post({ param: idParam(saved.uploadId), json: { parts } });
      const { jobId } = await ok(complete);
      this.#forget();
      this.events.onState("done");
      return jobId;
    } catch (err) {
      if (err instanceof CancelledError) {
        this.events.onState("cancelled");
        throw err;
      }
      // a refused completion (wrong size) ends that upload for good; a network error keeps it resumable
      if (err instanceof ApiError && err.status === 409) this.#forget();
      this.events.onState("error", (err as Error).message);
      throw err;
    }
  }

  pause() {
    if (this.#paused) return;
    this.#paused = true;
    for (const xhr of this.#inFlight.values()) xhr.abort();
    this.events.onState("paused");
  }

  resume() {
    if (!this.#paused) return;
    this.#paused = false;
    this.events.onState("uploading");
    this.#wakeAll();
  }

  /** Stop sending and cancel the job, so nothing waits for bytes that will never come. */
  async cancel() {
    this.#cancelled = true;
    for (const xhr of this.#inFlight.values()) xhr.abort();
    this.#wakeAll();
    const jobId = this.#saved?.jobId;
    this.#forget();
    if (jobId) await ok(client.jobs[":id"].$delete({ param: idParam(jobId) })).catch(() => undefined);
  }

  async #open() {
    const previous = load(this.file);
    if (previous) {
      const firstMissing =
        Array.from({ length: Math.max(1, Math.ceil(previous.size / previous.partSize)) }, (_, i) => i + 1).find(
          (n) => !previous.etags[n],
        ) ?? 1;
      const query = { from: String(firstMissing), limit: String(PAGE_SIZE) };
      const resumed = client.uploads[":id"].$get({ param: idParam(previous.uploadId), query });
      const state = await ok(resumed).catch((err: ApiError) => {
        if (err.status === 404) return null;
        throw err;
      });
      if (
        state?.status === "OPEN" &&
        state.jobStatus === "UPLOADING" &&
        state.partSize === previous.partSize &&
        state.size === this.file.size
      ) {
        this.#saved = previous;
        this.#keep(state);
        return;
      }
      this.#forget();
    }
    const json = {
      name: this.file.name,
      size: this.file.size,
      contentType: this.file.type || "application/octet-stream",
      ...this.choices,
    };
    const created = await ok(client.uploads.$post({ json }));
    this.#saved = {
      uploadId: created.uploadId,
      jobId: created.jobId,
      partSize: created.partSize,
      size: this.file.size,
      etags: {},
    };
    this.#keep(created);
    this.#persist();
  }

  async #sendPart(partNumber: number) {
    const saved = this.#saved!;
    const start = (partNumber - 1) * saved.partSize;
    const blob = this.file.slice(start, start + partLength(saved, partNumber));
    for (let attempt = 1; ; attempt++) {
      while (this.#paused && !this.#cancelled) await new Promise<void>((r) => this.#waiting.push(r));
      if (this.#cancelled) throw new CancelledError();
      try {
        const etag = await this.#put(partNumber, await this.#urlFor(partNumber), blob);
        saved.etags[partNumber] = etag;
        this.#loaded.delete(partNumber);
        this.#persist();
        this.#report();
        return;
      } catch (err) {
        this.#loaded.delete(partNumber);
        this.#report();
        if (err instanceof AbortedError) {
          attempt--; // paused or cancelled, not failed: the loop decides
          continue;
        }
        // expired: the next attempt asks for a fresh one
        if (err instanceof HttpError && err.status === 403) this.#urls.delete(partNumber);
        if (err instanceof ApiError && err.status === 409) throw err; // the upload ended: no attempt can succeed
        if (attempt >= PART_ATTEMPTS)
          throw new Error(`Part ${partNumber} could not be uploaded: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
      }
    }
  }

  #put(partNumber: number, url: string, blob: Blob): Promise<string> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.#inFlight.set(partNumber, xhr);
      xhr.open("PUT", url);
      xhr.upload.onprogress = (e) => {
        this.#loaded.set(partNumber, e.loaded);
        this.#report();
      };
      xhr.onload = () => {
        this.#inFlight.delete(partNumber);
        const etag = xhr.getResponseHeader("etag");
        if (xhr.status >= 200 && xhr.status < 300 && etag) resolve(etag);
        else if (xhr.status >= 200 && xhr.status < 300)
          reject(new Error("storage did not expose the part's ETag (bucket CORS must expose ETag)"));
        else reject(new HttpError(xhr.status, `storage answered ${xhr.status}`));
      };
      xhr.onerror = () => {
        this.#inFlight.delete(partNumber);
        reject(new Error("network error while sending to storage"));
      };
      xhr.onabort = () => {
        this.#inFlight.delete(partNumber);
        reject(new AbortedError());
      };
      xhr.send(blob);
    });
  }

  /** Remember a page's URLs with the time each stops being used. */
  #keep(page: PartPage) {
    const until = Date.now() + page.expiresIn * 1000 * URL_LIFE_USED;
    for (const p of page.parts) this.#urls.set(p.partNumber, { url: p.url, until });
  }

  /** A fresh URL for the part: the one kept, or a new page of URLs starting at this part. */
  async #urlFor(partNumber: number): Promise<string> {
    for (;;) {
      const kept = this.#urls.get(partNumber);
      if (kept && kept.until > Date.now()) return kept.url;
      if (this.#fetching) {
        await this.#fetching;
        continue;
      }
      const query = { from: String(partNumber), limit: String(PAGE_SIZE) };
      this.#fetching = ok(client.uploads[":id"].parts.$get({ param: idParam(this.#saved!.uploadId), query }))
        .then((page) => this.#keep(page))
        .finally(() => (this.#fetching = null));
      await this.#fetching;
      const got = this.#urls.get(partNumber);
      if (got && got.until > Date.now()) return got.url;
      throw new Error(`the API gave no URL for part ${partNumber}`);
    }
  }

  #report() {
    const saved = this.#saved;
    if (!saved) return;
    let sent = 0;
    for (const n of Object.keys(saved.etags)) sent += partLength(saved, Number(n));
    for (const loaded of this.#loaded.values()) sent += loaded;
    this.events.onProgress(Math.min(sent, saved.size), saved.size);
  }

  #wakeAll() {
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #persist() {
    if (this.#saved) localStorage.setItem(PREFIX + fingerprint(this.file), JSON.stringify(this.#saved));
  }

  #forget() {
    localStorage.removeItem(PREFIX + fingerprint(this.file));
  }
}

class AbortedError extends Error {}
export class CancelledError extends Error {
  constructor() {
    super("The upload was cancelled.");
  }
}
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
