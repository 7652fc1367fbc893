import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { hc, type ClientResponse } from "hono/client";
import {
  ErrorBody,
  type ChunkRow,
  type JobView as JobPage,
  type CreateUploadInput,
  type PartPage,
  type RungName,
  type ImportInput,
  type WebhookInput,
} from "@videoforge/core/contract";
import type { Api, SuccessBody } from "@videoforge/functions/api";

export type { ChunkRow, JobSummary, TimelineRow } from "@videoforge/core/contract";

/** The job page as this client reads it: every chunk row included (it never names a `chunksVersion`). */
export type JobView = Omit<JobPage, "chunks"> & { chunks: ChunkRow[] };

/**
 * The CLI's client of the HTTP API (`submit`, `jobs`, `events`, `download`, `bench`), typed by
 * the API's own routes (`hc<Api>`): paths, parameters, bodies and answers come from the
 * contract, none is written here. `token` is the bearer token, or a function giving it (a
 * `videoforge login` token, renewed when it expires).
 */
export function apiClient(base: string, token?: string | (() => Promise<string | undefined>)) {
  const auth = async (): Promise<Record<string, string>> => {
    const value = typeof token === "function" ? await token() : token;
    return value ? { authorization: `Bearer ${value}` } : {};
  };
  const api = hc<Api>(base, {
    headers: auth,
    fetch: (...args: Parameters<typeof fetch>) => reach(base, () => fetch(...args)),
  });
  // hc puts path parameters in as they are: an id typed by a person must not add path segments
  const id = (value: string) => ({ id: encodeURIComponent(value) });

  /** A call outside the contract (the local cloud's admin routes): JSON in, JSON out, errors thrown. */
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(await auth()) };
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const res = await reach(base, () => fetch(new URL(path, base), init));
    if (!res.ok) throw await failure(res, `${method} ${path}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  return {
    call,
    health: () => ok(api.health.$get(), "GET /health"),
    jobs: () => ok(api.jobs.$get(), "GET /jobs"),
    async job(jobId: string): Promise<JobView> {
      const view = await ok(api.jobs[":id"].$get({ param: id(jobId), query: {} }), `GET /jobs/${jobId}`);
      if (!view.chunks) throw new Error(`GET /jobs/${jobId} answered without its chunks`);
      return { ...view, chunks: view.chunks };
    },
    /** The next page of a job's timeline after the one `cursor` came with. */
    timeline: (jobId: string, cursor: string) =>
      ok(api.jobs[":id"].timeline.$get({ param: id(jobId), query: { cursor } }), `GET /jobs/${jobId}/timeline`),
    outputs: (jobId: string) => ok(api.jobs[":id"].outputs.$get({ param: id(jobId) }), `GET /jobs/${jobId}/outputs`),
    cancel: (jobId: string) => ok(api.jobs[":id"].$delete({ param: id(jobId) }), `DELETE /jobs/${jobId}`),
    /** A job whose source the platform fetches from `url`. */
    importUrl: (json: ImportInput) => ok(api.uploads["from-url"].$post({ json }), "POST /uploads/from-url"),
    webhooks: {
      add: (json: WebhookInput) => ok(api.webhooks.$post({ json }), "POST /webhooks"),
      list: () => ok(api.webhooks.$get(), "GET /webhooks"),
      remove: (hookId: string) => ok(api.webhooks[":id"].$delete({ param: id(hookId) }), `DELETE /webhooks/${hookId}`),
      deliveries: (hookId: string) =>
        ok(api.webhooks[":id"].deliveries.$get({ param: id(hookId) }), `GET /webhooks/${hookId}/deliveries`),
      redeliver: (hookId: string, deliveryId: string) =>
        ok(
          api.webhooks[":id"].deliveries[":deliveryId"].redeliver.$post({
            param: { ...id(hookId), deliveryId: encodeURIComponent(deliveryId) },
          }),
          `POST /webhooks/${hookId}/deliveries/${deliveryId}/redeliver`,
        ),
    },
    /** A rendition's media playlist, its segment URIs presigned. */
    async mediaPlaylist(jobId: string, rendition: string, file: string): Promise<string> {
      const param = { ...id(jobId), rendition: encodeURIComponent(rendition), file: encodeURIComponent(file) };
      const res = await api.jobs[":id"].hls[":rendition"][":file"].$get({ param });
      if (!res.ok) throw await failure(res, `GET /jobs/${jobId}/hls/${rendition}/${file}`);
      return res.text();
    },

    /** The storyboard's WebVTT with presigned sheet URLs, or null for a job made before storyboards. */
    async storyboard(jobId: string): Promise<string | null> {
      const res = await api.jobs[":id"]["storyboard.vtt"].$get({ param: id(jobId) });
      if (res.status === 404) return null;
      if (!res.ok) throw await failure(res, `GET /jobs/${jobId}/storyboard.vtt`);
      return res.text();
    },

    /** Multipart upload through presigned part URLs; reads one part at a time, so memory stays bounded. */
    async upload(
      file: string,
      ladder?: RungName[],
      /** The job's other choices, as the API's contract names them. */
      opts: Omit<CreateUploadInput, "name" | "size" | "contentType" | "ladder"> & {
        onProgress?: (sent: number, total: number) => void;
      } = {},
    ) {
      const { onProgress, ...choices } = opts;
      const { size } = await stat(file);
      // unset choices are left out (JSON drops undefined), so the API applies its defaults
      const json: CreateUploadInput = {
        name: basename(file),
        size,
        contentType: "application/octet-stream",
        ...(ladder ? { ladder } : {}),
        ...choices,
      };
      const created = await ok(api.uploads.$post({ json }), "POST /uploads");
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
          const from: number | null = page.nextPart;
          const parts = api.uploads[":id"].parts;
          page = from
            ? await ok(parts.$get({ param: id(created.uploadId), query: { from: String(from) } }), "GET parts")
            : null;
        }
      } finally {
        await handle.close();
      }
      const complete = api.uploads[":id"].complete.$post({ param: id(created.uploadId), json: { parts: done } });
      return ok(complete, `POST /uploads/${created.uploadId}/complete`);
    },
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

/** The body of a successful answer; an error answer throws, naming the call, the status and the API's message. */
async function ok<R extends ClientResponse<unknown>>(pending: Promise<R>, what: string): Promise<SuccessBody<R>> {
  const res = await pending;
  if (!res.ok) throw await failure(res, what);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as SuccessBody<R>;
}

async function failure(res: Pick<Response, "status" | "text">, what: string): Promise<Error> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text itself is the message
  }
  const error = ErrorBody.safeParse(body);
  const said = error.success ? `${error.data.error.code}: ${error.data.error.message}` : `: ${text}`;
  return new Error(`${what} → ${res.status} ${said}`);
}

/** A refused connection names the API it tried, and how to start one. */
async function reach(base: string, request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Error(`cannot reach the API at ${base} (${why}); is \`videoforge up\` running? (--api URL)`);
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
    if (attempt >= attempts)
      throw new Error(`uploading part ${partNumber} failed after ${attempts} attempts: ${problem}`);
    await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
  }
}
