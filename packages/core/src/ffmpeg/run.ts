import { spawn } from "node:child_process";
import { ffmpegBinaries } from "./locate.ts";

export interface FfmpegProgress {
  frame: number;
  fps: number;
  /** Seconds of output written. */
  outTime: number;
  speed: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Hard limit for the whole run. */
  timeoutMs?: number;
  /** Kill when ffmpeg reports no progress for this long (a stalled input). */
  stallMs?: number;
  onProgress?: (p: FfmpegProgress) => void;
}

export class FfmpegError extends Error {
  override name = "FfmpegError";
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    // the first line names the cause (ffmpeg's last complaint); the tail follows for the logs
    super(`${message}${stderrTail ? `: ${stderrTail.split("\n").pop()}` : ""}\n--- stderr (tail) ---\n${stderrTail}`);
  }
}

const STDERR_KEEP = 8 * 1024;

/** The first line of an error's message: for an FfmpegError, the cause without the stderr tail. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}

/** Keeps the last few KB of a stream: enough to explain a failure, bounded for long runs. */
function tailBuffer() {
  let text = "";
  return {
    push(chunk: string) {
      text = (text + chunk).slice(-STDERR_KEEP);
    },
    get: () => text.trim(),
  };
}

/** Run a binary, collect stdout, keep stderr's tail, kill it on timeout/stall/abort; non-zero exit rejects. */
export function runProcess(
  bin: string,
  args: string[],
  opts: RunOptions & { onStdoutLine?: (line: string) => void; collectStdout?: boolean } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const stderr = tailBuffer();
    const stdoutParts: string[] = [];
    let partial = "";
    let killedFor: string | undefined;
    const kill = (why: string) => {
      killedFor ??= why;
      child.kill("SIGKILL");
    };
    const timer = opts.timeoutMs ? setTimeout(() => kill(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs) : undefined;
    let stall: NodeJS.Timeout | undefined;
    const armStall = () => {
      if (!opts.stallMs) return;
      clearTimeout(stall);
      stall = setTimeout(() => kill(`stalled: no progress for ${opts.stallMs} ms`), opts.stallMs);
    };
    armStall();
    const onAbort = () => kill("aborted");
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (data: string) => {
      armStall();
      if (opts.collectStdout !== false) stdoutParts.push(data);
      if (!opts.onStdoutLine) return;
      const lines = (partial + data).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onStdoutLine(line);
    });
    child.stderr.on("data", (data: string) => stderr.push(data));
    const done = () => {
      clearTimeout(timer);
      clearTimeout(stall);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (err) => {
      done();
      reject(new FfmpegError(`could not start ${bin}: ${err.message}`, null, ""));
    });
    child.on("close", (code, signal) => {
      done();
      if (code === 0 && !killedFor) return resolve({ stdout: stdoutParts.join(""), stderr: stderr.get() });
      const why = killedFor ?? (signal ? `killed by ${signal}` : `exited with code ${code}`);
      reject(new FfmpegError(`${bin.split("/").pop()} ${why}`, code, stderr.get()));
    });
  });
}

/** Run ffmpeg with machine-readable progress on stdout. */
export function ffmpeg(args: string[], opts: RunOptions = {}): Promise<void> {
  const bin = ffmpegBinaries().ffmpeg;
  const progress: Record<string, string> = {};
  return runProcess(bin, ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats", ...args], {
    ...opts,
    collectStdout: false,
    onStdoutLine: (line) => {
      const eq = line.indexOf("=");
      if (eq < 0) return;
      progress[line.slice(0, eq)] = line.slice(eq + 1).trim();
      if (line.startsWith("progress=")) {
        opts.onProgress?.({
          frame: Number(progress.frame ?? 0),
          fps: Number(progress.fps ?? 0),
          outTime: Number(progress.out_time_us ?? progress.out_time_ms ?? 0) / 1e6,
          speed: Number.parseFloat(progress.speed ?? "0") || 0,
        });
      }
    },
  }).then(() => undefined);
}

/** Run ffprobe and parse its JSON output. */
export async function ffprobeJson(args: string[], opts: RunOptions = {}): Promise<unknown> {
  const { stdout } = await runProcess(ffmpegBinaries().ffprobe, ["-v", "error", "-of", "json", ...args], opts);
  return JSON.parse(stdout) as unknown;
}
