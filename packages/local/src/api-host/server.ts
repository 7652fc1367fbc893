import { serve } from "@hono/node-server";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createApi } from "@videoforge/functions";
import type { LocalCloud } from "../cloud.ts";
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

/** The names a browser on this machine reaches a loopback port by. */
const loopbackHosts = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];

const refuse = (status: 403 | 415, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });

/**
 * Without tokens the API trusts whoever reaches it, so it must be this machine's own programs,
 * not a web page: a page on another site (CSRF) sends its own Origin, a DNS-rebinding page
 * sends its own Host, and a form can post only text/plain or form bodies. All three are refused.
 */
export function noAuthGuard(port: () => number) {
  return (req: Request): Response | null => {
    const hosts = loopbackHosts(port());
    const host = req.headers.get("host") ?? "";
    if (!hosts.includes(host.toLowerCase()))
      return refuse(
        403,
        "forbidden",
        `Without API tokens only requests to ${hosts[0]} from this machine are served (Host: ${host || "none"}).`,
      );
    const origin = req.headers.get("origin");
    if (origin && !hosts.some((h) => origin.toLowerCase() === `http://${h}`))
      return refuse(403, "forbidden", "Without API tokens requests from other web pages are refused.");
    if (req.headers.get("sec-fetch-site") === "cross-site")
      return refuse(403, "forbidden", "Without API tokens requests from other web pages are refused.");
    const hasBody =
      !["GET", "HEAD", "OPTIONS"].includes(req.method) && (req.headers.get("content-length") ?? "0") !== "0";
    if (hasBody && !/^application\/json\b/i.test(req.headers.get("content-type") ?? ""))
      return refuse(415, "unsupported_media_type", "Request bodies must be JSON (Content-Type: application/json).");
    return null;
  };
}

export class InsecureBindError extends Error {
  override name = "InsecureBindError";
}

/** The HTTP API on Node, bound to loopback unless told otherwise; bearer tokens from the data directory. */
export async function startApiServer(cloud: LocalCloud, opts: ApiServerOptions = {}) {
  const { port = 8080, host = "127.0.0.1", auth = "token" } = opts;
  if (auth === "off" && !LOOPBACK.has(host)) {
    throw new InsecureBindError(
      `Refusing to listen on ${host} without API tokens: anyone on the network could read and delete every job. ` +
        `Drop --no-auth (the token is in ${cloud.dataDir}/token).`,
    );
  }
  const identify =
    auth === "off" ? () => DEFAULT_USER : (c: Context) => cloud.auth.identify(c.req.header("authorization"));
  const app = createApi(cloud.deps, { identify });
  mountAdminRoutes(app, cloud, identify);
  // the built dashboard (web/dist) at / when there is one; API routes keep priority
  const storageOrigin = new URL(cloud.env.VIDEOFORGE_S3_ENDPOINT!).origin;
  const dashboard = withDashboard(app.fetch, undefined, { storageOrigin });
  let bound = 0;
  const guard = auth === "off" ? noAuthGuard(() => bound) : () => null;
  const fetch: typeof dashboard = async (req, ...rest) => guard(req) ?? dashboard(req, ...rest);
  const server = serve({ fetch, port, hostname: host }) as Server;
  await once(server, "listening");
  bound = (server.address() as AddressInfo).port;
  // the dashboard uploads parts and plays segments straight from storage: CORS for its origins only
  for (const h of LOOPBACK.has(host) ? loopbackHosts(bound) : [`${host.includes(":") ? `[${host}]` : host}:${bound}`])
    cloud.storage.allowOrigin(`http://${h}`);
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
