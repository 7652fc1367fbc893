// Builds the dashboard (web/dist) with Vite when it is missing or older than its sources.
// `npm start` and `npm test` run it first (prestart, pretest); the servers only serve files.
// The build goes to a temporary folder renamed into place, so a running server never serves
// half a build.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const web = resolve(import.meta.dirname, "..", "web");
const dist = join(web, "dist");

function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

const sources = Math.max(
  ...["src", "index.html", "vite.config.ts", "package.json"].map((p) => newest(join(web, p))),
  // the dashboard imports the API contract, statuses, rung names and id pattern from core and events
  ...["packages/core/src", "events/src"].map((p) => newest(resolve(web, "..", p))),
);
if (!process.argv.includes("--force") && newest(join(dist, "index.html")) >= sources) process.exit(0);

const tmp = `${dist}.build-${process.pid}`;
const started = Date.now();
const vite = join(web, "..", "node_modules", ".bin", "vite");
const run = spawnSync(vite, ["build", "--logLevel", "warn", "--outDir", tmp, "--emptyOutDir"], {
  cwd: web,
  stdio: "inherit",
});
if (run.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  console.error("the dashboard did not build (see above)");
  process.exit(run.status ?? 1);
}
rmSync(dist, { recursive: true, force: true });
renameSync(tmp, dist);
console.error(`dashboard built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
