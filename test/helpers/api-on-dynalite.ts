import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import dynalite from "dynalite";
import { serve } from "@hono/node-server";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createDb,
  createLogger,
  defaultFfmpeg,
  electroJobStore,
  ensureTable,
  loadConfig,
  memoryObjectStore,
  memoryPublisher,
  type Deps,
  type Limits,
} from "@videoforge/core";
import { createApi } from "@videoforge/functions";

/**
 * The real HTTP API (api/app.ts) over real HTTP on a real dynalite table (in memory), with the
 * object store and the publisher in memory: nothing downstream runs, so what a test sees in
 * the table is what the API wrote. The caller is named by the `x-user` header.
 */
export async function startApiOnDynalite(limits: Partial<Limits> = {}) {
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  db.listen(0, "127.0.0.1");
  await once(db, "listening");
  const endpoint = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
  const dynamodb = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  // what the table served: every item a GetItem, Query or BatchGetItem returned, and the requests
  const reads = { items: 0, requests: 0 };
  dynamodb.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const o = (out.output ?? {}) as { Item?: unknown; Items?: unknown[]; Responses?: Record<string, unknown[]> };
      const n =
        (o.Item ? 1 : 0) +
        (o.Items?.length ?? 0) +
        Object.values(o.Responses ?? {}).reduce((sum, rows) => sum + rows.length, 0);
      if ("Item" in o || o.Items || o.Responses) reads.requests++;
      reads.items += n;
      return out;
    },
    { step: "initialize", name: "countReads" },
  );
  const document = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const base = loadConfig({});
  const cfg = { ...base, table: "videoforge-test", limits: { ...base.limits, ...limits } };
  await ensureTable(dynamodb, cfg.table);
  const edb = createDb(document, cfg.table);
  const store = memoryObjectStore();
  const events = memoryPublisher();
  const deps: Deps = {
    cfg,
    db: edb,
    jobs: electroJobStore(edb, { client: document, table: cfg.table }),
    store,
    events,
    log: createLogger({ worker: "test" }),
    ffmpeg: defaultFfmpeg(),
    worker: "test",
  };
  const app = createApi(deps, { identify: (c) => c.req.header("x-user") ?? null });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** One request as `user`; the body is sent as JSON. */
  async function call<T = Record<string, unknown>>(
    user: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(url + path, {
      method,
      headers: { "x-user": user, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text ? JSON.parse(text) : undefined) as T };
  }

  return {
    url,
    deps,
    store,
    events,
    dynamodb,
    reads,
    call,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => db.close(() => resolve()));
      dynamodb.destroy();
    },
  };
}
export type ApiOnDynalite = Awaited<ReturnType<typeof startApiOnDynalite>>;
