import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type Context } from "hono";

/** The dashboard's sources and its Vite build (`npm run build:web`), from this file's place in the repository. */
export const webDir = resolve(fileURLToPath(new URL("../../../../web", import.meta.url)));
export const webDistDir = join(webDir, "dist");

/** The command that builds the dashboard; `npm start` and `npm test` run it first. */
export const BUILD_WEB_COMMAND = "npm run build:web";

/** Whether a dashboard build exists to serve; the servers never build it themselves. */
export function dashboardBuilt(distDir = webDistDir): boolean {
  return existsSync(join(distDir, "index.html"));
}

/**
 * Headers on every dashboard response: no Referer leaves the page (a URL it opened must not
 * travel to storage or a third party), and the page may load code only from here and talk
 * only to this API and the storage endpoint that serves its presigned URLs.
 */
export function dashboardHeaders(storageOrigin?: string): Record<string, string> {
  const storage = storageOrigin ? ` ${storageOrigin}` : "";
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // SolidJS and the player set style attributes
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${storage}`,
    `media-src 'self' blob:${storage}`,
    `connect-src 'self'${storage}`,
    // hls.js runs its demuxer in a worker made from a blob
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
}

/** Paths the API answers; the dashboard's client routes must never shadow them. */
const API_PATH = /^\/(jobs|uploads|videos|shared|webhooks|health)(\/|$)/;

/**
 * Wrap the API's fetch handler so that it also serves the built dashboard (hono's
 * serveStatic over `distDir`): files by exact path (hashed assets cached for a year),
 * `index.html` at `/` and, for a browser navigating to a client route (Accept: text/html,
 * not an API path), as the fallback. API routes keep priority; without a build the API
 * answers alone.
 */
export function withDashboard<Rest extends unknown[]>(
  apiFetch: (req: Request, ...rest: Rest) => Response | Promise<Response>,
  distDir = webDistDir,
  opts: { storageOrigin?: string } = {},
) {
  const root = resolve(distDir);
  const security = dashboardHeaders(opts.storageOrigin);
  const headers = (cache: string) => (_path: string, c: Context) => {
    c.header("cache-control", cache);
    for (const [name, value] of Object.entries(security)) c.header(name, value);
  };
  const index = serveStatic({ root, path: "index.html", onFound: headers("no-cache") });
  const site = new Hono();
  site.get("/", index);
  site.get("/index.html", index);
  // hashed names: a new build has new names, so these never go stale
  site.get("/assets/*", serveStatic({ root, onFound: headers("public, max-age=31536000, immutable") }));
  // top-level files (favicon.ico, robots.txt); serveStatic refuses dot segments and any %-escape
  site.get("/:file{[\\w.-]+\\.\\w+}", serveStatic({ root, onFound: headers("no-cache") }));

  // `rest` passes the Node server's bindings (incoming/outgoing) through to the API unchanged
  return async (req: Request, ...rest: Rest): Promise<Response> => {
    const url = new URL(req.url);
    const readOnly = req.method === "GET" || req.method === "HEAD";
    if (readOnly && !API_PATH.test(url.pathname)) {
      const page = await site.fetch(req);
      if (page.status !== 404) return page;
    }
    const res = await apiFetch(req, ...rest);
    if (
      res.status === 404 &&
      readOnly &&
      !API_PATH.test(url.pathname) &&
      /text\/html/.test(req.headers.get("accept") ?? "")
    ) {
      const page = await site.fetch(new Request(new URL("/", url), { method: req.method }));
      if (page.status === 200) return page;
    }
    return res;
  };
}
