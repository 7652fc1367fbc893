import { readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "@videoforge/core";

/** The dashboard's sources and its Vite build, from this file's place in the repository. */
export const webDir = resolve(fileURLToPath(new URL("../../../web", import.meta.url)));
export const webDistDir = join(webDir, "dist");

const log = createLogger({ component: "web-assets" });

/** Newest modification time under `path` (files only), 0 when it does not exist. */
async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

let building: Promise<string> | null = null;

/**
 * Build web/dist with Vite when it is missing or older than the dashboard's sources, and
 * return its path. A fresh clone has no dist (it is gitignored). The build goes to a
 * temporary folder that is renamed into place, so a server never serves half a build;
 * concurrent callers in one process share one build.
 */
export function ensureWebBuilt(): Promise<string> {
  building ??= (async () => {
    const sources = Math.max(
      await newestMtime(join(webDir, "src")),
      await newestMtime(join(webDir, "index.html")),
      await newestMtime(join(webDir, "vite.config.ts")),
    );
    const built = await newestMtime(join(webDistDir, "index.html"));
    if (built >= sources) return webDistDir;
    const started = Date.now();
    const tmp = `${webDistDir}.build-${process.pid}-${started}`;
    // imported here: only a stale or missing build pays for loading Vite
    const { build } = await import("vite");
    try {
      await build({ root: webDir, configFile: join(webDir, "vite.config.ts"), logLevel: "warn", build: { outDir: tmp, emptyOutDir: true } });
      await rm(webDistDir, { recursive: true, force: true });
      await rename(tmp, webDistDir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    log.info("dashboard built", { dir: webDistDir, ms: Date.now() - started });
    return webDistDir;
  })().finally(() => {
    building = null;
  });
  return building;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

function decodedPath(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
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
  return { "content-security-policy": csp, "referrer-policy": "no-referrer", "x-content-type-options": "nosniff", "x-frame-options": "DENY" };
}

/** Paths the API answers; the dashboard's client routes must never shadow them. */
const API_PATH = /^\/(jobs|uploads|health)(\/|$)/;

/**
 * Wrap the API's fetch handler so that it also serves the built dashboard: files of
 * `distDir` by exact path (hashed assets cached for a year), `index.html` at `/` and, for
 * a browser navigating to a client route (Accept: text/html, not an API path), as the
 * fallback. API routes keep priority; without a build the API answers alone.
 */
export function withDashboard<Rest extends unknown[]>(apiFetch: (req: Request, ...rest: Rest) => Response | Promise<Response>, distDir = webDistDir, opts: { storageOrigin?: string } = {}) {
  const root = resolve(distDir);
  const security = dashboardHeaders(opts.storageOrigin);
  const file = async (path: string, cache: string): Promise<Response | null> => {
    const full = normalize(join(root, path));
    if (full !== root && !full.startsWith(root + sep)) return null;
    const body = await readFile(full).catch(() => null);
    if (!body) return null;
    return new Response(body, { headers: { "content-type": TYPES[extname(full)] ?? "application/octet-stream", "cache-control": cache, ...security } });
  };
  const index = () => file("index.html", "no-cache");

  // `rest` passes the Node server's bindings (incoming/outgoing) through to the API unchanged
  return async (req: Request, ...rest: Rest): Promise<Response> => {
    const url = new URL(req.url);
    const readOnly = req.method === "GET" || req.method === "HEAD";
    if (readOnly && !API_PATH.test(url.pathname)) {
      if (url.pathname === "/" || url.pathname === "/index.html") {
        const page = await index();
        if (page) return page;
      } else if (url.pathname.startsWith("/assets/") || /^\/[\w.-]+\.\w+$/.test(url.pathname)) {
        // a malformed escape (`%E0%A4%A`) names no file: fall through to the API's 404, not a 500
        const path = decodedPath(url.pathname);
        const asset = path === null ? null : await file(path, url.pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
        if (asset) return asset;
      }
    }
    const res = await apiFetch(req, ...rest);
    if (res.status === 404 && readOnly && !API_PATH.test(url.pathname) && /text\/html/.test(req.headers.get("accept") ?? "")) {
      return (await index()) ?? res;
    }
    return res;
  };
}
