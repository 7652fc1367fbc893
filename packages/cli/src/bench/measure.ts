import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnv, decodeCheck, defaultFfmpeg } from "@videoforge/core";

/**
 * What one measured process tree cost. CPU and peak memory come from the kernel's rusage
 * of the direct child as `wait4` reports it (GNU time): the child itself plus every
 * descendant it waited for, so for `videoforge encode` that is the CLI process (local
 * cloud, API, in-process handlers), every task child and every ffmpeg/ffprobe they ran.
 */
export interface Measured {
  /** Seconds, measured here around the spawn. */
  wall: number;
  /** user + sys CPU seconds of the whole tree; NaN when GNU time is missing. */
  cpu: number;
  user: number;
  sys: number;
  /** Largest resident set of any single process in the tree, MB; NaN when GNU time is missing. */
  maxRssMb: number;
  code: number | null;
  stdout: string;
  stderrTail: string;
}

const GNU_TIME = "/usr/bin/time";

export function canMeasureCpu(): boolean {
  return existsSync(GNU_TIME);
}

export interface MeasuredChild {
  pid: number | undefined;
  /** Lines the child writes on stdout, as they come. */
  onLine(fn: (line: string) => void): void;
  /** End it and everything it started (its own process group). */
  kill(signal?: NodeJS.Signals): void;
  done: Promise<Measured>;
}

/** Start `bin args` under GNU time; `done` resolves when it exits, with what it cost. */
export function spawnMeasured(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): MeasuredChild {
  const withTime = canMeasureCpu();
  const dir = mkdtempSync(join(tmpdir(), "videoforge-time-"));
  const report = join(dir, "rusage");
  const [cmd, argv] = withTime ? [GNU_TIME, ["-f", "%U %S %M", "-o", report, bin, ...args]] : [bin, args];
  const t0 = performance.now();
  // its own process group, so a run that hangs can be ended with everything it started
  const child = spawn(cmd, argv, { env: childEnv(opts.env), stdio: ["ignore", "pipe", "pipe"], detached: true });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let out = "";
  let err = "";
  let partial = "";
  const listeners: ((line: string) => void)[] = [];
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) for (const fn of listeners) fn(l);
  });
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        err += `\nkilled after ${opts.timeoutMs} ms`;
        killGroup("SIGKILL");
      }, opts.timeoutMs)
    : undefined;
  const done = new Promise<Measured>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const wall = (performance.now() - t0) / 1000;
      let [user, sys, rssKb] = [NaN, NaN, NaN];
      if (withTime) {
        // GNU time puts "Command exited with non-zero status N" first when the child fails
        const line = (readFileOr(report) ?? "").trim().split("\n").pop() ?? "";
        [user, sys, rssKb] = line.split(/\s+/).map(Number) as [number, number, number];
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ wall, cpu: user + sys, user, sys, maxRssMb: rssKb / 1024, code, stdout: out, stderrTail: err });
    });
  });
  return { pid: child.pid, onLine: (fn) => listeners.push(fn), kill: (signal = "SIGTERM") => killGroup(signal), done };
}

function readFileOr(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Run `bin args` to completion and report its wall time, CPU and peak memory. */
export function runMeasured(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Measured> {
  return spawnMeasured(bin, args, opts).done;
}

/** Frames of the first video stream, counted by decoding. */
export async function decodedFrames(file: string): Promise<number> {
  // ffmpeg decodes, not ffprobe: the npm-shipped ffprobe crashes on MPEG-TS (the HLS segments)
  const result = await decodeCheck(defaultFfmpeg(), file, 10 * 60_000);
  if (!result.ok) throw new Error(`${file} does not decode: ${result.reason}`);
  return result.frames;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
