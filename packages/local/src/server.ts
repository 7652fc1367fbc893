import { serve } from "@hono/node-server";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createApi } from "@videoforge/functions";
import type { LocalCloud } from "./cloud.ts";
import type { Context } from "hono";
import { DEFAULT_USER } from "./auth.ts";
import { mountAdminRoutes } from "./admin-routes.ts";
import { withDashboard } from "./web-assets.ts";

export interface ApiServerOptions {
  port?: number;
  host?: string;
  /** "off" lets anyone on this machine act as the default user; only allowed on loopback. */
  auth?: "token" | "off";
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export class InsecureBindError extends Error {
  override name = "InsecureBindError";
}

/** The HTTP API on Node, bound to loopback unless told otherwise; bearer tokens from the data directory. */
export async function startApiServer(cloud: LocalCloud, opts: ApiServerOptions = {}) {
  const { port = 8080, host = "127.0.0.1", auth = "token" } = opts;
  if (auth === "off" && !LOOPBACK.has(host)) {
    throw new InsecureBindError(`Refusing to listen on ${host} without API tokens: anyone on the network could read and delete every job. Drop --no-auth (the token is in ${cloud.dataDir}/token).`);
  }
  const identify = auth === "off" ? () => DEFAULT_USER : (c: Context) => cloud.auth.identify(c.req.header("authorization"));
  const app = createApi(cloud.deps, { identify });
  mountAdminRoutes(app, cloud, identify);
  // the built dashboard (web/dist) at / when there is one; API routes keep priority
  const server = serve({ fetch: withDashboard(app.fetch), port, hostname: host }) as Server;
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
