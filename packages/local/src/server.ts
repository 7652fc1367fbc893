import { serve } from "@hono/node-server";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createApi } from "@videoforge/functions";
import type { LocalCloud } from "./cloud.ts";

/** The HTTP API on Node, bound to loopback unless told otherwise. */
export async function startApiServer(cloud: LocalCloud, port = 8080, host = "127.0.0.1") {
  const app = createApi(cloud.deps);
  const server = serve({ fetch: app.fetch, port, hostname: host }) as Server;
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${host}:${bound}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
