/**
 * Runs the built artifacts (`npm run build:aws`, .build/aws/) the way AWS runs them: one child
 * process per invocation, under the runtime's limits, with only the artifact's own files.
 *
 * - zip Lambda: a copy of the bundle outside the repository (root-owned, modes as built),
 *   SST's encrypted link file beside it, loaded by a stand-in for the managed Node runtime
 *   (lambda-bootstrap.mjs) that talks to a local Lambda Runtime API.
 * - image Lambda (chunker, assembler, finisher): the worker bundle in its Lambda mode,
 *   against the same Runtime API, with the collected ffmpeg.
 * - task (Fargate): the worker bundle in task mode (after `node --check`), with the link
 *   environment and the launcher's RunTask overrides.
 *
 * Every child runs as an unprivileged user that owns none of the files, with Node's heap
 * capped at the function's memory, a private /tmp and a PATH with no ffmpeg on it; the
 * timeout is enforced by killing its process group. As root, and where the machine allows:
 * a mount namespace hides the system ffmpeg and the workspace's node_modules and puts /tmp
 * on a tmpfs of the function's ephemeral size, and a memory cgroup holds the process and its
 * ffmpeg children to the function's memory. `isolation` says which of these applied.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createCipheriv, randomBytes, randomUUID } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Envelope, HandlerName } from "@videoforge/events";
import {
  functionArtifacts,
  handlerArtifact,
  NODE_MAJOR,
  type FunctionArtifact,
  type FunctionArtifactName,
} from "../../../../../stacks/artifacts.ts";
import { wholeLines } from "../child-lines.ts";
import { concurrencyLimit } from "../slots.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");
const BOOTSTRAP = fileURLToPath(new URL("./lambda-bootstrap.mjs", import.meta.url));
/** The `node` package's binary: the Node major the Lambdas and the image run. */
const NODE_BIN = join(REPO, "node_modules/node/bin/node");
/** What a task may use at most: Fargate has no timeout, a stuck run must still end here. */
const TASK_TIMEOUT_SECONDS = 900;

export interface ArtifactRunnerOptions {
  /** The built artifacts (default: <repo>/.build/aws). */
  buildDir?: string;
  /** The local cloud's endpoints and region: the app's own variables, as an endpoint override. */
  endpoints: Record<string, string>;
  /** SST links by name (Table, Uploads, Work, Outputs, Bus): `{ name, ... }` each. */
  links: Record<string, Record<string, unknown>>;
  /** Credentials Lambda and Fargate put in the environment (the role's); here the local cloud's. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Extra variables every artifact gets (a stack's `environment`, e.g. VIDEOFORGE_CHUNK_SECONDS). */
  environment?: Record<string, string>;
  /** Invocations at once (2 cores: keep it small). */
  concurrency?: number;
  onLog?: (line: string) => void;
  /** Override limits (tests: a tiny timeout or memory). */
  limits?: Partial<
    Record<FunctionArtifactName, Partial<Pick<FunctionArtifact, "memoryMB" | "timeoutSeconds" | "ephemeralMB">>>
  >;
  /** The unprivileged user (default: nobody). */
  user?: { uid: number; gid: number };
  /** App and stage for SST_RESOURCE_App. */
  app?: { name: string; stage: string };
}

export class ArtifactInvocationError extends Error {
  override name = "ArtifactInvocationError";
  constructor(
    message: string,
    /** Lambda's errorType (`Runtime.ImportModuleError`, `InvalidEventError`, …), or how the process ended. */
    readonly errorType: string,
  ) {
    super(message);
  }
}

/** What the machine let the runner enforce; the parity test prints it. */
export interface Isolation {
  user: string;
  /** unshare: system ffmpeg and workspace node_modules hidden, /tmp a sized tmpfs. */
  mountNamespace: boolean;
  /** cgroup (v1 or v2) memory limit on the process and its ffmpeg children. */
  memoryCgroup: string | null;
}

/** handler name (topology) → artifact name (stacks/artifacts.ts). */
export function artifactOf(handler: HandlerName): FunctionArtifactName {
  return handlerArtifact(handler);
}

/**
 * SST's link file for Lambda: the links as JSON, AES-256-GCM with a zero nonce, tag appended (sst/resource reads
 * it).
 */
function encryptLinks(links: Record<string, unknown>, key: Buffer): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
  const body = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** Our own memory cgroup directory (v1 `memory` hierarchy or v2), if we may create children in it. */
function memoryCgroupBase(): { dir: string; v2: boolean } | null {
  try {
    const lines = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
    const v1 = lines.map((l) => l.split(":")).find(([, ctl]) => ctl?.split(",").includes("memory"));
    const candidates: { dir: string; v2: boolean }[] = [];
    if (v1?.[2] !== undefined) candidates.push({ dir: join("/sys/fs/cgroup/memory", v1[2]), v2: false });
    const v2 = lines.find((l) => l.startsWith("0::"));
    if (v2)
      for (const mount of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"])
        candidates.push({ dir: join(mount, v2.slice(3)), v2: true });
    for (const c of candidates) {
      const probe = join(c.dir, `vf-probe-${process.pid}`);
      try {
        mkdirSync(probe);
        const file = join(probe, c.v2 ? "memory.max" : "memory.limit_in_bytes");
        const ok = existsSync(file);
        if (ok) writeFileSync(file, String(1024 * 1024 * 1024));
        rmdirSync(probe);
        if (ok) return c;
      } catch {
        try {
          rmdirSync(probe);
        } catch {
          /* not created */
        }
      }
    }
  } catch {
    /* no cgroups here */
  }
  return null;
}

function canUnshare(): boolean {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/unshare") || !existsSync("/usr/bin/setpriv")) return false;
  try {
    execFileSync("/usr/bin/unshare", ["--mount", "/bin/true"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of a built artifact with the modes it was built with, whatever this process's umask
 * (the local cloud sets 077): a file the build left unreadable stays unreadable, and only that.
 */
function copyAsBuilt(src: string, dest: string): void {
  cpSync(src, dest, { recursive: true, preserveTimestamps: true });
  const walk = (from: string, to: string) => {
    const st = statSync(from);
    chmodSync(to, st.mode & 0o7777);
    if (st.isDirectory()) for (const name of readdirSync(from)) walk(join(from, name), join(to, name));
  };
  walk(src, dest);
}

/** A directory the sandbox user may traverse and read, whatever the umask. */
function publicDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/** A finished invocation's cgroup; the kernel refuses while a killed process is still leaving it. */
function removeCgroup(dir: string, tries = 10): void {
  try {
    rmdirSync(dir);
  } catch {
    if (tries > 0) setTimeout(() => removeCgroup(dir, tries - 1), 100);
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Invocation {
  kind: "zip" | "image" | "task";
  name: string;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
  memoryMB: number;
  timeoutSeconds: number;
  ephemeralMB: number;
  /** Lambda kinds get the event through the Runtime API. */
  event?: unknown;
}

/** A local Lambda Runtime API for one invocation: hands out the event once, takes the answer. */
function runtimeApi(event: unknown, deadline: number, functionArn: string) {
  const requestId = randomUUID();
  let served = false;
  let settle!: (r: { ok: true; value: unknown } | { ok: false; errorType: string; message: string }) => void;
  const answer = new Promise<{ ok: true; value: unknown } | { ok: false; errorType: string; message: string }>(
    (r) => (settle = r),
  );
  const body = (req: IncomingMessage) =>
    new Promise<string>((r) => {
      let data = "";
      req.on("data", (d: Buffer) => (data += d.toString("utf8")));
      req.on("end", () => r(data));
    });
  const server: Server = createServer(async (req, res) => {
    const url = req.url ?? "";
    if (req.method === "GET" && url.endsWith("/runtime/invocation/next")) {
      // one event per process: a second /next waits until the process is stopped
      if (served) return;
      served = true;
      res.writeHead(200, {
        "content-type": "application/json",
        "lambda-runtime-aws-request-id": requestId,
        "lambda-runtime-deadline-ms": String(deadline),
        "lambda-runtime-invoked-function-arn": functionArn,
        "lambda-runtime-trace-id": `Root=1-${requestId.slice(0, 8)}`,
      });
      return res.end(JSON.stringify(event));
    }
    if (req.method === "POST") {
      const text = await body(req);
      res.writeHead(202, { "content-type": "application/json" }).end('{"status":"OK"}');
      if (url.endsWith(`/invocation/${requestId}/response`))
        return settle({ ok: true, value: text ? (JSON.parse(text) as unknown) : null });
      if (url.endsWith(`/invocation/${requestId}/error`) || url.endsWith("/runtime/init/error")) {
        let err: { errorType?: string; errorMessage?: string } = {};
        try {
          err = JSON.parse(text) as typeof err;
        } catch {
          /* not JSON */
        }
        const type = req.headers["lambda-runtime-function-error-type"];
        return settle({
          ok: false,
          errorType: err.errorType ?? String(type ?? "Unhandled"),
          message: err.errorMessage ?? text,
        });
      }
      return;
    }
    res.writeHead(404).end();
  });
  return {
    answer,
    listen: () =>
      new Promise<string>((r) =>
        server.listen(0, "127.0.0.1", () => r(`127.0.0.1:${(server.address() as { port: number }).port}`)),
      ),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Runs every artifact under its runtime's constraints; see the module comment. */
export function createArtifactRunner(opts: ArtifactRunnerOptions) {
  const buildDir = resolve(opts.buildDir ?? join(REPO, ".build/aws"));
  // only root can become another user; otherwise the artifacts run as this user (file modes matter less)
  const asRoot = process.getuid?.() === 0;
  const user = opts.user ?? { uid: 65534, gid: 65534 };
  const ids = asRoot ? { uid: user.uid, gid: user.gid } : {};
  const app = opts.app ?? { name: "videoforge", stage: "parity" };
  const namespace = canUnshare();
  const cgroup = memoryCgroupBase();
  const isolation: Isolation = {
    user: asRoot
      ? `uid ${user.uid} gid ${user.gid} (owns none of the files)`
      : `uid ${process.getuid?.()} (not root: cannot switch to an unprivileged user; the files are its own)`,
    mountNamespace: namespace,
    memoryCgroup: cgroup ? `${cgroup.v2 ? "v2" : "v1"} ${cgroup.dir}` : null,
  };
  const children = new Set<ChildProcess>();
  // the sandbox root: outside the repository, so no workspace node_modules is on any resolution path
  const root = mkdtempSync(join(tmpdir(), "vf-artifacts-"));
  chmodSync(root, 0o755);
  const sstKey = randomBytes(32);
  const ffmpegDir = join(buildDir, "ffmpeg");
  const empty = { file: join(root, "empty"), dir: join(root, "empty.d") };
  writeFileSync(empty.file, "");
  chmodSync(empty.file, 0o644);
  publicDir(empty.dir);
  // PATH holds node and nothing else (Lambda: /var/lang/bin first); the system's bin dirs carry ffmpeg
  const langBin = join(root, "lang", "bin");
  publicDir(langBin);
  chmodSync(join(root, "lang"), 0o755);
  const nodeInPath = join(langBin, "node");
  // in a namespace the real binary is bind-mounted onto this file; otherwise a link to it
  if (namespace) writeFileSync(nodeInPath, "");
  else symlinkSync(NODE_BIN, nodeInPath);
  if (namespace) chmodSync(nodeInPath, 0o755);

  const slots = concurrencyLimit(Math.max(1, opts.concurrency ?? 2));

  const prepared = new Map<string, string>();
  /** The deployed code of one function: copied once, as the deploy would upload it. */
  function codeDir(kind: "zip" | "image", name: string): string {
    const key = `${kind}:${name}`;
    const done = prepared.get(key);
    if (done) return done;
    if (kind === "zip") {
      const src = join(buildDir, "functions", name);
      if (!existsSync(join(src, "index.mjs")))
        throw new ArtifactInvocationError(
          `no built artifact ${src}/index.mjs: run npm run build:aws`,
          "Runtime.MissingArtifact",
        );
      const dir = join(publicDir(join(root, "functions")), name);
      // modes are kept as built: a file the build left unreadable stays unreadable
      copyAsBuilt(src, dir);
      // what SST adds to the zip: the links, encrypted (SST_KEY decrypts them)
      const links = { App: app, ...opts.links };
      writeFileSync(join(dir, "resource.enc"), encryptLinks(links, sstKey));
      chmodSync(join(dir, "resource.enc"), 0o644);
      const runtimeDir = join(root, "runtime");
      if (!existsSync(runtimeDir)) {
        publicDir(runtimeDir);
        copyFileSync(BOOTSTRAP, join(runtimeDir, "bootstrap.mjs"));
        chmodSync(join(runtimeDir, "bootstrap.mjs"), 0o644);
      }
      prepared.set(key, dir);
      return dir;
    }
    const src = join(buildDir, "worker", "main.mjs");
    if (!existsSync(src))
      throw new ArtifactInvocationError(`no built worker ${src}: run npm run build:aws`, "Runtime.MissingArtifact");
    // the image's /app: the bundle only (ffmpeg is the image's, referenced read-only)
    const dir = publicDir(join(root, "app"));
    copyAsBuilt(src, join(dir, "main.mjs"));
    prepared.set(key, dir);
    return dir;
  }

  /** Spawns one invocation and resolves with how it ended. */
  function spawnInvocation(
    inv: Invocation,
    tmp: string,
    onLine: (line: string) => void,
  ): { child: ChildProcess; cgroupDir: string | null } {
    const nodeArgs = [`--max-old-space-size=${inv.memoryMB}`, ...inv.argv];
    let cgroupDir: string | null = null;
    if (cgroup) {
      cgroupDir = join(cgroup.dir, `vf-${inv.name}-${randomUUID().slice(0, 8)}`);
      try {
        mkdirSync(cgroupDir);
        const bytes = String(inv.memoryMB * 1024 * 1024);
        writeFileSync(join(cgroupDir, cgroup.v2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
        if (cgroup.v2) writeFileSync(join(cgroupDir, "memory.swap.max"), "0");
      } catch {
        cgroupDir = null;
      }
    }
    let child: ChildProcess;
    if (namespace) {
      const hide = [
        `/usr/bin/mount --bind ${shq(NODE_BIN)} ${shq(nodeInPath)}`,
        `/usr/bin/mount -t tmpfs -o size=${inv.ephemeralMB}m,mode=0700,uid=${user.uid},gid=${user.gid} ` +
          `tmpfs ${shq(tmp)}`,
        // no system ffmpeg, even by absolute path; no workspace packages, even by absolute path
        ...["/usr/bin/ffmpeg", "/usr/bin/ffprobe", "/usr/local/bin/ffmpeg", "/usr/local/bin/ffprobe"].map(
          (f) => `if [ -e ${f} ]; then /usr/bin/mount --bind ${shq(empty.file)} ${f}; fi`,
        ),
        `/usr/bin/mount --bind ${shq(empty.dir)} ${shq(join(REPO, "node_modules"))}`,
      ];
      const script = [
        "set -e",
        ...(cgroupDir ? [`echo $$ > ${shq(join(cgroupDir, "cgroup.procs"))}`] : []),
        ...hide,
        `exec /usr/bin/setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups -- "$@"`,
      ].join("\n");
      child = spawn(
        "/usr/bin/unshare",
        ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", nodeInPath, ...nodeArgs],
        {
          cwd: inv.cwd,
          env: inv.env,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        },
      );
    } else {
      if (asRoot) chownSync(tmp, user.uid, user.gid);
      child = spawn(nodeInPath, nodeArgs, {
        cwd: inv.cwd,
        env: inv.env,
        ...ids,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      if (cgroupDir && child.pid) {
        try {
          writeFileSync(join(cgroupDir, "cgroup.procs"), String(child.pid));
        } catch {
          /* best effort */
        }
      }
    }
    const onData = wholeLines(onLine);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    return { child, cgroupDir };
  }

  function oomKilled(cgroupDir: string | null): boolean {
    if (!cgroupDir) return false;
    try {
      if (cgroup?.v2) return /oom_kill [1-9]/.test(readFileSync(join(cgroupDir, "memory.events"), "utf8"));
      return (
        Number(readFileSync(join(cgroupDir, "memory.failcnt"), "utf8")) > 0 &&
        /oom_kill [1-9]/.test(readFileSync(join(cgroupDir, "memory.oom_control"), "utf8"))
      );
    } catch {
      return false;
    }
  }

  /** One invocation: spawn, wait for the answer (Lambda) or the exit (task), enforce the timeout, clean up. */
  async function execute(inv: Invocation): Promise<unknown> {
    const release = await slots.take();
    const tmp = mkdtempSync(join(root, `tmp-${inv.name}-`));
    const api =
      inv.kind === "task"
        ? undefined
        : runtimeApi(
            inv.event,
            Date.now() + inv.timeoutSeconds * 1000,
            `arn:aws:lambda:local:000000000000:function:${app.name}-${app.stage}-${inv.name}`,
          );
    let tail = "";
    try {
      const env: Record<string, string> = { ...inv.env, TMPDIR: tmp, VIDEOFORGE_TMP_DIR: tmp, HOME: tmp };
      if (api) env.AWS_LAMBDA_RUNTIME_API = await api.listen();
      const { child, cgroupDir } = spawnInvocation({ ...inv, env }, tmp, (line) => {
        tail = (tail + line + "\n").slice(-6000);
        opts.onLog?.(line);
      });
      children.add(child);
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => {
        child.on("error", (err) => r({ code: null, signal: `spawn error: ${err.message}` }));
        child.on("close", (code, signal) => r({ code, signal }));
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">(
        (r) => (timer = setTimeout(() => r("timeout"), inv.timeoutSeconds * 1000)),
      );
      const lastLines = () => tail.trim().split("\n").slice(-6).join("\n");
      try {
        const outcome = await Promise.race([
          timedOut,
          exited.then((e) => ({ exit: e })),
          ...(api ? [api.answer.then((a) => ({ answer: a }))] : []),
        ]);
        if (outcome === "timeout") {
          killGroup();
          throw new ArtifactInvocationError(
            `${inv.name}: Task timed out after ${inv.timeoutSeconds.toFixed(2)} seconds\n${lastLines()}`,
            "Sandbox.Timedout",
          );
        }
        if ("answer" in outcome) {
          // the sandbox is done with this event: one process per invocation
          killGroup();
          const a = outcome.answer;
          if (a.ok) return a.value;
          throw new ArtifactInvocationError(`${inv.name}: ${a.errorType}: ${a.message}\n${lastLines()}`, a.errorType);
        }
        const { code, signal } = outcome.exit;
        if (inv.kind === "task" && code === 0) return null;
        const oom = oomKilled(cgroupDir);
        const how = oom
          ? `out of memory (${inv.memoryMB} MB)`
          : signal
            ? `killed by ${signal}`
            : `exited with code ${code}`;
        throw new ArtifactInvocationError(
          `${inv.name} ${inv.kind === "task" ? "task" : "runtime"} ${how}\n${lastLines()}`,
          oom ? "Runtime.OutOfMemory" : "Runtime.ExitError",
        );
      } finally {
        clearTimeout(timer);
        children.delete(child);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (cgroupDir) removeCgroup(cgroupDir);
      }
    } finally {
      api?.close();
      rmSync(tmp, { recursive: true, force: true });
      release();
    }
  }

  const base = (): Record<string, string> => ({
    // PATH: node only (no /usr/bin, no /bin: on merged-usr Debian both hold ffmpeg)
    PATH: langBin,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    AWS_REGION: opts.endpoints.AWS_REGION ?? "us-east-1",
    AWS_DEFAULT_REGION: opts.endpoints.AWS_REGION ?? "us-east-1",
    AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
    ...Object.fromEntries(Object.entries(opts.endpoints).filter(([k]) => k.startsWith("VIDEOFORGE_"))),
    ...opts.environment,
  });
  /** Links in plain sight: what Fargate and image functions get as `SST_RESOURCE_<Name>`. */
  const plainLinks = () =>
    Object.fromEntries(
      Object.entries({ App: app, ...opts.links }).map(([k, v]) => [`SST_RESOURCE_${k}`, JSON.stringify(v)]),
    );
  const ffmpegEnv = () => ({
    FFMPEG_PATH: join(ffmpegDir, "bin", "ffmpeg"),
    FFPROBE_PATH: join(ffmpegDir, "bin", "ffprobe"),
  });
  const limitsOf = (name: FunctionArtifactName) => ({
    ephemeralMB: 512,
    ...functionArtifacts[name],
    ...opts.limits?.[name],
  });

  let checked: Promise<void> | undefined;
  /** The image's bundle must parse: `node --check`, as the unprivileged user. */
  function checkWorker(): Promise<void> {
    return (checked ??= new Promise<void>((resolveCheck, reject) => {
      const dir = codeDir("image", "worker");
      const child = spawn(NODE_BIN, ["--check", join(dir, "main.mjs")], {
        cwd: dir,
        env: { PATH: langBin },
        ...ids,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      const firstError = () => /^\w*Error: .*$/m.exec(out)?.[0] ?? out.trim().slice(0, 300);
      child.on("close", (code) =>
        code === 0
          ? resolveCheck()
          : reject(
              new ArtifactInvocationError(
                `node --check of the worker bundle failed (exit ${code}): ${firstError()}`,
                "Runtime.CheckFailed",
              ),
            ),
      );
    }));
  }

  return {
    isolation,
    root,
    /** Invokes a Lambda artifact with one event; resolves with its result, rejects with its error. */
    async invoke(name: FunctionArtifactName, event: unknown): Promise<unknown> {
      const fn = limitsOf(name);
      const lambdaEnv = {
        AWS_LAMBDA_FUNCTION_NAME: `${app.name}-${app.stage}-${name}`,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${NODE_MAJOR}.x`,
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      };
      if (fn.kind === "zip") {
        const dir = codeDir("zip", name);
        return execute({
          kind: "zip",
          name,
          cwd: dir,
          argv: [join(root, "runtime", "bootstrap.mjs")],
          env: {
            ...base(),
            ...lambdaEnv,
            LAMBDA_TASK_ROOT: dir,
            LAMBDA_RUNTIME_DIR: join(root, "runtime"),
            _HANDLER: "index.handler",
            // SST's Function: App in plain sight, the other links in the encrypted file
            SST_RESOURCE_App: JSON.stringify(app),
            SST_KEY: sstKey.toString("base64"),
            SST_KEY_FILE: "resource.enc",
          },
          memoryMB: fn.memoryMB,
          timeoutSeconds: fn.timeoutSeconds,
          ephemeralMB: fn.ephemeralMB,
          event,
        });
      }
      await checkWorker();
      const dir = codeDir("image", "worker");
      return execute({
        kind: "image",
        name,
        cwd: dir,
        // the image's ENTRYPOINT; the function's variables name its handler (stacks/functions.ts imageFunction)
        argv: [join(dir, "main.mjs")],
        env: {
          ...base(),
          ...lambdaEnv,
          ...plainLinks(),
          ...ffmpegEnv(),
          NODE_ENV: "production",
          VIDEOFORGE_HANDLER: fn.handler,
        },
        memoryMB: fn.memoryMB,
        timeoutSeconds: fn.timeoutSeconds,
        ephemeralMB: fn.ephemeralMB,
        event,
      });
    },
    /** Runs the worker image as a Fargate task with the launcher's overrides; rejects unless it exits 0. */
    async runTask(
      handler: HandlerName,
      envelope: Envelope,
      attempts: number,
      sizing: { memoryMB: number; storageGiB?: number } = { memoryMB: 8192 },
    ): Promise<void> {
      await checkWorker();
      const dir = codeDir("image", "worker");
      await execute({
        kind: "task",
        name: `task-${handler}`,
        cwd: dir,
        argv: [join(dir, "main.mjs")],
        env: {
          ...base(),
          ...plainLinks(),
          ...ffmpegEnv(),
          NODE_ENV: "production",
          // RunTask container overrides, as adapters/ecs-task-launcher.ts sets them
          VIDEOFORGE_HANDLER: handler,
          VIDEOFORGE_EVENT: JSON.stringify(envelope),
          VIDEOFORGE_TASK_ATTEMPTS: String(attempts),
        },
        memoryMB: sizing.memoryMB,
        timeoutSeconds: TASK_TIMEOUT_SECONDS,
        ephemeralMB: (sizing.storageGiB ?? 20) * 1024,
      });
    },
    /** Pids of running invocations. */
    pids: () => [...children].map((c) => c.pid).filter((p): p is number => p !== undefined),
    stop(): void {
      for (const c of children) {
        try {
          if (c.pid) process.kill(-c.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      slots.wakeAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
export type ArtifactRunner = ReturnType<typeof createArtifactRunner>;
