import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

/**
 * The warm worker as one esbuild bundle, so a worker starts without transpiling and resolving the TypeScript
 * graph through tsx: it loads in about 0.85 CPU-seconds against 2.7 (measured on this machine), for each of the
 * local cloud's workers, in every `videoforge encode` and every test's cloud.
 *
 * The bundle is cached under node_modules/.cache, named by the files it was built from (path, size, mtime):
 * after any edit to one of them, the next start builds a new one (about a second), so a worker never runs
 * stale code. Builds that race (two test files starting clouds) each write their own file and rename it into
 * place. Anything that goes wrong leaves the caller on tsx.
 */
const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
const ENTRY = fileURLToPath(new URL("./worker-entry.ts", import.meta.url));
const CACHE = join(ROOT, "node_modules", ".cache", "videoforge-worker");
/** The inputs of the last build, relative to the root: what the next start checks. */
const INDEX = join(CACHE, "inputs.json");
/** A dependency's update changes the lock file; its own files are not listed one by one. */
const LOCK = "package-lock.json";

/** The bundle for these inputs as they are now, or undefined. */
function keyOf(inputs: readonly string[]): string | undefined {
  const hash = createHash("sha256");
  for (const input of [...inputs, LOCK]) {
    try {
      const s = statSync(join(ROOT, input));
      hash.update(`${input}\0${s.size}\0${Math.trunc(s.mtimeMs)}\n`);
    } catch {
      return undefined; // a file gone: build again
    }
  }
  return hash.digest("hex").slice(0, 16);
}

const bundleFile = (key: string) => join(CACHE, `worker-${key}.mjs`);

function readInputs(): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(INDEX, "utf8"));
    return Array.isArray(parsed) && parsed.every((p) => typeof p === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function build(): string {
  mkdirSync(CACHE, { recursive: true });
  const temp = join(CACHE, `building-${process.pid}-${Date.now()}.mjs`);
  const result = buildSync({
    entryPoints: [ENTRY],
    outfile: temp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${process.versions.node.split(".")[0]}`,
    mainFields: ["module", "main"],
    // some dependencies are CommonJS that call require()
    banner: {
      js: 'import { createRequire as __vfRequire } from "node:module"; const require = __vfRequire(import.meta.url);',
    },
    // resolved from node_modules at run time, as the TypeScript does
    external: ["@ffmpeg-installer/ffmpeg", "@ffprobe-installer/ffprobe"],
    metafile: true,
    logLevel: "silent",
    legalComments: "none",
  });
  const inputs = Object.keys(result.metafile?.inputs ?? {})
    .map((p) => relative(ROOT, resolve(p)))
    .filter((p) => !p.split(/[\\/]/).includes("node_modules"))
    .sort();
  const key = keyOf(inputs);
  if (!key) throw new Error("an input changed while the worker bundle was built");
  const file = bundleFile(key);
  renameSync(temp, file);
  const index = `${INDEX}.${process.pid}`;
  writeFileSync(index, JSON.stringify(inputs));
  renameSync(index, INDEX);
  // older bundles: a cloud still running may respawn a worker from its own for a while
  const stale = Date.now() - 3600_000;
  for (const name of readdirSync(CACHE)) {
    const other = join(CACHE, name);
    if (name.startsWith("worker-") && other !== file && statSync(other).mtimeMs < stale) rmSync(other, { force: true });
  }
  return file;
}

/** The worker bundle for the sources as they are now, built if need be; undefined when it cannot be had. */
export function workerBundle(onError: (err: Error) => void = () => {}): string | undefined {
  try {
    const inputs = readInputs();
    const key = inputs && keyOf(inputs);
    if (key && exists(bundleFile(key))) return bundleFile(key);
    return build();
  } catch (err) {
    onError(err instanceof Error ? err : new Error(String(err)));
    return undefined;
  }
}
