/**
 * `npm run build:aws`: builds what AWS runs, once, into `.build/aws/`. The stacks deploy
 * these files (Function `bundle`, the worker image) and the parity test runs them, so the
 * deploy and the tests use the same bytes.
 *
 *   functions/<name>/index.mjs   one esbuild bundle per zip Lambda (handler `index.handler`); a
 *                                topology handler's is the generic entry with its name fixed
 *   worker/main.mjs              the worker image's bundle (Fargate task + image Lambdas)
 *   ffmpeg/{bin,libexec,lib}     Debian's ffmpeg/ffprobe with every library they link and the
 *                                dynamic loader, so they run on any x86-64 Linux glibc
 *   manifest.json                size and sha256 of each artifact, Node major, ffmpeg version
 *
 * Flags: `--worker` builds only the worker bundle (the Dockerfile's build stage, which has
 * no ffmpeg: the image installs Debian's, pinned to the version in the manifest);
 * `--no-ffmpeg` skips collecting ffmpeg; `--except a,b` leaves those functions out.
 *
 * Pure Node (no SST globals): run with tsx.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";
import { handlerNames, kebab, type HandlerName } from "@videoforge/events";
import { BUILD_DIR, functionArtifacts, isHandlerArtifact, NODE_MAJOR, type FunctionArtifact } from "./artifacts.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * ESM bundles still meet CommonJS code that calls `require` (the AWS SDK's dependencies):
 * the banner provides one. `createRequire` is imported under an alias, because the bundle
 * itself may import `createRequire` from `node:module` at top level, and two declarations
 * of one name are a SyntaxError at load (the worker image's old banner did exactly that).
 */
export const REQUIRE_BANNER =
  'import { createRequire as __vfCreateRequire } from "node:module"; ' +
  "const require = __vfCreateRequire(import.meta.url);";

/** Where the built files land, relative to the repository root (and inside the image build stage). */
export const paths = {
  root: BUILD_DIR,
  functions: `${BUILD_DIR}/functions`,
  worker: `${BUILD_DIR}/worker/main.mjs`,
  ffmpeg: `${BUILD_DIR}/ffmpeg`,
  manifest: `${BUILD_DIR}/manifest.json`,
} as const;

export interface ArtifactEntry {
  bytes: number;
  sha256: string;
}

export interface FfmpegBuild {
  /** What `ffmpeg -version` says, e.g. `5.1.9-0+deb12u1`. */
  version: string;
  /** Debian's package version, with epoch: the Dockerfile's apt pin (`ffmpeg=<this>`). */
  debianPackage: string;
  /** Debian release the build came from (the image's base). */
  debian: string;
  /** Files in ffmpeg/ (binaries, libraries, loader, wrappers). */
  files: number;
}

export interface Manifest {
  node: { major: number };
  ffmpeg?: FfmpegBuild;
  /** Path under .build/aws → size and sha256; `ffmpeg/` is hashed as one tree. */
  artifacts: Record<string, ArtifactEntry>;
  /** Function artifacts not built (an entry file that does not exist yet), with why. */
  skipped: Record<string, string>;
}

/** esbuild options shared by every bundle (SST's own: ESM, node platform, the Lambda's Node major). */
export function bundleOptions(entry: string, outfile: string, defines: Record<string, string> = {}): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${NODE_MAJOR}`,
    mainFields: ["module", "main"],
    banner: { js: REQUIRE_BANNER },
    // the artifact finds ffmpeg through its own paths, never the machine's (locate.ts)
    define: { __VIDEOFORGE_ARTIFACT__: "true", ...defines },
    // the npm-shipped ffmpeg packages are never bundled: artifacts use the collected build
    external: ["@ffmpeg-installer/ffmpeg", "@ffprobe-installer/ffprobe"],
    logLevel: "warning",
    legalComments: "none",
  };
}

/** Where the Lambda entries live, relative to the repository root. */
const LAMBDA_SOURCE = "packages/functions/src/lambda";
/** The one entry of every topology handler's function (packages/functions/src/lambda/event-handler.ts). */
const GENERIC_ENTRY = "event-handler";

/**
 * A handler's function: the generic entry with the handler's name fixed, as a virtual entry
 * module, so no per-handler entry file exists. Output is identical in layout to any other zip.
 */
export function handlerBundleOptions(
  root: string,
  handler: HandlerName,
  outfile: string,
  defines: Record<string, string> = {},
): BuildOptions {
  const { entryPoints: _, ...rest } = bundleOptions(join(root, LAMBDA_SOURCE, `${GENERIC_ENTRY}.ts`), outfile, defines);
  return {
    ...rest,
    stdin: {
      contents: [
        `import { eventHandler } from "./${GENERIC_ENTRY}.ts";`,
        `export const handler = eventHandler(${JSON.stringify(handler)});`,
      ].join("\n"),
      resolveDir: join(root, LAMBDA_SOURCE),
      sourcefile: `${handler}.ts`,
      loader: "ts",
    },
  };
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function entryOf(file: string): ArtifactEntry {
  return { bytes: statSync(file).size, sha256: sha256(file) };
}

/** Every file under dir, sorted, relative paths. */
function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** One sha256 over a tree: each file's path and hash, in order. */
function treeEntry(dir: string): ArtifactEntry {
  const h = createHash("sha256");
  let bytes = 0;
  for (const f of walk(dir)) {
    const p = join(dir, f);
    bytes += statSync(p).size;
    h.update(`${f}\0${sha256(p)}\n`);
  }
  return { bytes, sha256: h.digest("hex") };
}

/**
 * Lambda and the image run the code as a user that does not own it: every file readable by
 * all (0644), executables and directories 0755.
 */
function setModes(dir: string, executable: (rel: string) => boolean = () => false): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) setModes(p, (rel) => executable(join(e.name, rel)));
    else chmodSync(p, executable(e.name) ? 0o755 : 0o644);
  }
}

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Debian's ffmpeg, installed if missing (root, apt): the build the worker image installs too. */
function systemFfmpeg(): { ffmpeg: string; ffprobe: string } {
  const bins = { ffmpeg: "/usr/bin/ffmpeg", ffprobe: "/usr/bin/ffprobe" };
  if (existsSync(bins.ffmpeg) && existsSync(bins.ffprobe)) return bins;
  console.log("build:aws: /usr/bin/ffmpeg missing; installing Debian's ffmpeg with apt-get");
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "ffmpeg"], { stdio: "inherit" });
  return bins;
}

/** The libraries a binary links, by the name it asks for → the file that satisfies it. */
function linkedLibraries(bin: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of run("ldd", [bin]).split("\n")) {
    const m = /^\s*(\S+)\s+=>\s+(\/\S+)/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
    else if (/^\s*\/\S*ld-linux\S*/.test(line)) {
      const loader = /^\s*(\/\S+)/.exec(line)![1]!;
      out.set(basename(loader), loader);
    }
  }
  return out;
}

const LOADER = "ld-linux-x86-64.so.2";

/**
 * The wrapper each runtime calls: the bundled loader runs the binary against the bundled
 * libraries only, so the host's glibc (Lambda's AL2023 is older than bookworm's) and its
 * library cache never matter.
 */
const wrapper = (name: string) => `#!/bin/sh
# ${name} from Debian bookworm, run with its own loader and libraries (stacks/build-artifacts.ts)
here="\${0%/*}/.."
exec "$here/lib/${LOADER}" --inhibit-cache --library-path "$here/lib" "$here/libexec/${name}" "$@"
`;

/** Copies Debian's ffmpeg/ffprobe, their libraries and the loader into `out`; reuses a copy of the same version. */
export function collectFfmpeg(out: string): FfmpegBuild {
  const bins = systemFfmpeg();
  const version = /version (\S+)/.exec(run(bins.ffmpeg, ["-version"]))?.[1] ?? "unknown";
  const debianPackage = run("dpkg-query", ["-W", "-f", "${Version}", "ffmpeg"]).trim();
  const debian = /VERSION_CODENAME=(\w+)/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "unknown";
  const stamp = join(out, "VERSION");
  // the same Debian build and the same wrappers: the copy is current
  const stampText = `${debianPackage} ${createHash("sha256").update(wrapper("ffmpeg")).digest("hex").slice(0, 16)}`;
  if (
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === stampText &&
    existsSync(join(out, "bin", "ffprobe"))
  ) {
    return { version, debianPackage, debian, files: walk(out).length };
  }
  rmSync(out, { recursive: true, force: true });
  for (const d of ["bin", "libexec", "lib"]) mkdirSync(join(out, d), { recursive: true });
  const libs = new Map([...linkedLibraries(bins.ffmpeg), ...linkedLibraries(bins.ffprobe)]);
  if (!libs.has(LOADER)) throw new Error(`ldd ${bins.ffmpeg} names no ${LOADER}: not an x86-64 glibc build`);
  for (const [name, file] of libs) copyFileSync(realpathSync(file), join(out, "lib", name));
  for (const name of ["ffmpeg", "ffprobe"] as const) {
    copyFileSync(bins[name], join(out, "libexec", name));
    writeFileSync(join(out, "bin", name), wrapper(name));
  }
  writeFileSync(stamp, stampText + "\n");
  setModes(out, (rel) => rel.startsWith("bin/") || rel.startsWith("libexec/") || rel === `lib/${LOADER}`);
  // the copy must run by itself: the wrapper, the loader, every library
  const check = run(join(out, "bin", "ffmpeg"), ["-hide_banner", "-version"]);
  if (!check.includes(version)) throw new Error(`the collected ffmpeg does not run: ${check.slice(0, 300)}`);
  return { version, debianPackage, debian, files: walk(out).length };
}

export interface BuildArtifactsOptions {
  /** Only the worker bundle (the image's build stage). */
  workerOnly?: boolean;
  ffmpeg?: boolean;
  /** Function artifacts to leave out (`--except sweeper,api`): a half-written entry elsewhere. */
  except?: readonly string[];
  root?: string;
  log?: (line: string) => void;
}

/** Builds every artifact and writes the manifest; returns it. */
export async function buildArtifacts(opts: BuildArtifactsOptions = {}): Promise<Manifest> {
  const root = opts.root ?? ROOT;
  const log = opts.log ?? ((line: string) => console.log(line));
  const out = join(root, BUILD_DIR);
  const manifestFile = join(root, paths.manifest);
  const previous = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest) : undefined;
  const manifest: Manifest = { node: { major: NODE_MAJOR }, artifacts: {}, skipped: {} };
  // the registry loads handlers by name from a glob: a missing file would only fail at run time
  const missing = handlerNames
    .map((h) => `packages/functions/src/handlers/${kebab(h)}.ts`)
    .filter((f) => !existsSync(join(root, f)));
  if (missing.length) throw new Error(`build:aws: handlers declared without code: ${missing.join(", ")}`);
  mkdirSync(out, { recursive: true });

  // ffmpeg first: the zip bundles record which build the image runs (the API's /health names it)
  const withFfmpeg = !opts.workerOnly && opts.ffmpeg !== false;
  if (withFfmpeg) {
    manifest.ffmpeg = collectFfmpeg(join(root, paths.ffmpeg));
    manifest.artifacts["ffmpeg/"] = treeEntry(join(root, paths.ffmpeg));
    const ff = manifest.ffmpeg;
    const mb = (manifest.artifacts["ffmpeg/"].bytes / 1e6).toFixed(1);
    log(`build:aws: ffmpeg ${ff.version} (Debian ${ff.debian} ${ff.debianPackage}), ${ff.files} files, ${mb} MB`);
  } else if (previous?.ffmpeg) {
    manifest.ffmpeg = previous.ffmpeg;
  }
  const defines: Record<string, string> = manifest.ffmpeg
    ? { __VIDEOFORGE_FFMPEG_BUILD__: JSON.stringify(manifest.ffmpeg.version) }
    : {};

  const jobs: Promise<void>[] = [];
  const worker = join(root, paths.worker);
  jobs.push(
    build(bundleOptions(join(root, "packages/worker/src/main.ts"), worker, defines)).then(() => {
      setModes(dirname(worker));
      manifest.artifacts["worker/main.mjs"] = entryOf(worker);
    }),
  );
  if (!opts.workerOnly) {
    rmSync(join(root, paths.functions), { recursive: true, force: true });
    for (const [name, fn] of Object.entries(functionArtifacts) as [string, FunctionArtifact][]) {
      if (fn.kind !== "zip") continue;
      if (opts.except?.includes(name)) {
        manifest.skipped[name] = "left out with --except";
        log(`build:aws: skipping ${name} (--except)`);
        continue;
      }
      const entry = join(root, LAMBDA_SOURCE, `${isHandlerArtifact(fn) ? GENERIC_ENTRY : fn.entry}.ts`);
      if (!existsSync(entry)) {
        manifest.skipped[name] = `no ${relative(root, entry)} yet`;
        log(`build:aws: skipping ${name}: ${relative(root, entry)} does not exist yet`);
        continue;
      }
      const file = join(root, paths.functions, name, "index.mjs");
      const options = isHandlerArtifact(fn)
        ? handlerBundleOptions(root, fn.handler, file, defines)
        : bundleOptions(entry, file, defines);
      jobs.push(
        build(options).then(() => {
          setModes(dirname(file));
          manifest.artifacts[`functions/${name}/index.mjs`] = entryOf(file);
        }),
      );
    }
  }
  await Promise.all(jobs);
  if (!opts.workerOnly) setModes(join(root, paths.functions));
  chmodSync(out, 0o755);

  // a worker-only build keeps what a full build recorded about the rest
  if (opts.workerOnly && previous) manifest.artifacts = { ...previous.artifacts, ...manifest.artifacts };
  manifest.artifacts = Object.fromEntries(Object.entries(manifest.artifacts).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n", { mode: 0o644 });
  chmodSync(manifestFile, 0o644);
  for (const [name, a] of Object.entries(manifest.artifacts))
    log(`build:aws: ${name.padEnd(34)} ${(a.bytes / 1e6).toFixed(2).padStart(8)} MB  ${a.sha256.slice(0, 12)}`);
  return manifest;
}

/** Reads the manifest of the last build. */
export function readManifest(root = ROOT): Manifest {
  return JSON.parse(readFileSync(join(root, paths.manifest), "utf8")) as Manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const args = new Set(argv);
  const except = argv.includes("--except") ? (argv[argv.indexOf("--except") + 1] ?? "").split(",").filter(Boolean) : [];
  const started = Date.now();
  buildArtifacts({ workerOnly: args.has("--worker"), ffmpeg: !args.has("--no-ffmpeg"), except }).then(
    () => console.log(`build:aws: done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${BUILD_DIR}/`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
