import { spawn } from "node:child_process";
import type { Logger } from "../log.ts";
import { decodableCodecs, missingDecoder, missingEncoders, missingFilters } from "./capabilities.ts";
import type { FfmpegBinaries, FfmpegCapabilities } from "./locate.ts";

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
  /**
   * Kill as soon as stderr says this (e.g. a decoder refusing a picture past `-max_pixels`):
   * ffmpeg logs such errors and carries on, so without it the run would end "successfully".
   */
  failOnStderr?: RegExp;
}

/**
 * Causes a person may read, keyed by what ffmpeg says. Only these fixed phrases reach a
 * failure's first line: ffmpeg's own text names paths, internal ports and presigned URLs,
 * so it stays in `stderrTail` (and the logs).
 */
const CAUSES: [RegExp, string][] = [
  [
    /exceeds specified max pixel count|Picture size \d+x\d+ is invalid/i,
    "a picture in the video is larger than the limit",
  ],
  [/output too large|too many packets/i, "the file holds far more data than its length allows"],
  [
    /Invalid data found|invalid NAL|decode_slice_header error|corrupt/i,
    "the video data is damaged or not in a format we can read",
  ],
  [/moov atom not found/i, "the file is truncated (its MP4 index is missing)"],
  [
    /Protocol not on whitelist|not on whitelist|Format .* is not on the format whitelist/i,
    "the file refers to other files or addresses, which is not allowed",
  ],
  [
    /Server returned 4\d\d|Server returned 5\d\d|Connection refused|Connection reset|End of file|I\/O error/i,
    "reading the file from storage failed",
  ],
  [/No space left/i, "the worker ran out of disk space"],
];

/** The cause of an ffmpeg failure as a fixed phrase, or undefined when ffmpeg's text matches none. */
export function causeOf(stderrTail: string): string | undefined {
  return CAUSES.find(([re]) => re.test(stderrTail))?.[1];
}

export class FfmpegError extends Error {
  override name = "FfmpegError";
  /** A fixed phrase naming the cause, safe to show to a person; undefined when unknown. */
  readonly knownCause?: string;
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    const cause = causeOf(stderrTail);
    // the first line is what people see: the run's fate and a known cause; the tail follows for the logs
    super(`${message}${cause ? `: ${cause}` : ""}\n--- stderr (tail) ---\n${stderrTail}`);
    this.knownCause = cause;
  }
}

const STDERR_KEEP = 8 * 1024;
/** Default cap on stdout a caller collects; a crafted file can make a listing of any size. */
const STDOUT_MAX = 64 * 1024 * 1024;
/** A "line" longer than this is not a line ffmpeg writes; it would only grow a string without end. */
const LINE_MAX = 1024 * 1024;

/**
 * The first line of an error's message: for an FfmpegError, the run's fate and its known cause, without ffmpeg's
 * text.
 */
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

export interface ProcessOptions extends RunOptions {
  /** Called with each whole line of stdout; throwing kills the process and rejects with that error. */
  onStdoutLine?: (line: string) => void;
  /** Keep stdout and resolve with it (default true); off for callers that stream lines. */
  collectStdout?: boolean;
  /** Kill the process once it has written more than this to stdout (default 64 MiB). */
  maxStdoutBytes?: number;
}

/**
 * Run a binary, collect stdout (bounded), keep stderr's tail, kill it on timeout/stall/abort
 * or when its output passes a cap; non-zero exit rejects. Nothing a child writes can throw
 * out of a stream listener: every failure ends as this promise's rejection.
 */
export function runProcess(
  bin: string,
  args: string[],
  opts: ProcessOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const name = bin.split("/").pop() ?? bin;
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const stderr = tailBuffer();
    const stdoutParts: Buffer[] = [];
    const maxStdout = opts.maxStdoutBytes ?? STDOUT_MAX;
    let stdoutBytes = 0;
    let partial = "";
    let killedFor: string | undefined;
    let thrown: unknown;
    const kill = (why: string) => {
      killedFor ??= why;
      child.kill("SIGKILL");
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => kill(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs)
      : undefined;
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

    child.stdout.on("data", (data: Buffer) => {
      if (killedFor) return;
      try {
        armStall();
        stdoutBytes += data.length;
        if (stdoutBytes > maxStdout) return kill(`stopped: output too large (over ${maxStdout} bytes)`);
        if (opts.collectStdout !== false) stdoutParts.push(data);
        if (!opts.onStdoutLine) return;
        const lines = (partial + data.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        if (partial.length > LINE_MAX) return kill("stopped: output too large (a line over 1 MiB)");
        for (const line of lines) opts.onStdoutLine(line);
      } catch (err) {
        // a listener's error ends this run, never the host process
        thrown ??= err;
        kill("stopped by its reader");
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (data: string) => {
      stderr.push(data);
      if (opts.failOnStderr?.test(data)) kill("stopped: refused input");
    });
    const done = () => {
      clearTimeout(timer);
      clearTimeout(stall);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (err) => {
      done();
      reject(new FfmpegError(`could not start ${name}: ${err.message}`, null, ""));
    });
    child.on("close", (code, signal) => {
      done();
      if (thrown !== undefined) return reject(thrown);
      if (code === 0 && !killedFor) {
        if (opts.onStdoutLine && partial) {
          try {
            opts.onStdoutLine(partial);
          } catch (err) {
            return reject(err);
          }
        }
        return resolve({ stdout: Buffer.concat(stdoutParts).toString("utf8"), stderr: stderr.get() });
      }
      const why = killedFor ?? (signal ? `killed by ${signal}` : `exited with code ${code}`);
      const tail = stderr.get();
      reject(
        new FfmpegError(
          `${name} ${why}`,
          code,
          killedFor?.startsWith("stopped: output too large") ? `${tail}\noutput too large`.trim() : tail,
        ),
      );
    });
  });
}

/** What an ffmpeg wrapper is built with, once per runtime (locate.ts `createFfmpeg`). */
export interface FfmpegOptions {
  /**
   * The binaries and what they can do, or how to locate them: a function is called once, on
   * first use, so a runtime that never runs ffmpeg (the API Lambda's zip) never looks for one.
   */
  binaries: FfmpegBinaries | (() => FfmpegBinaries);
  /** Each run is logged at debug level (presigned query strings left out). */
  log?: Logger;
  /** Scratch space for the files a run writes. */
  tmpDir: string;
  /** Threads per encode. */
  threads: number;
  /** Hard limit for every ffmpeg run that does not set its own. */
  timeoutMs?: number;
}

/** An argument list fit for a log line: presigned URLs lose their query strings (the signature). */
function loggable(args: readonly string[]): string[] {
  return args.map((a) => a.replace(/(https?:\/\/[^\s?|]*)\?[^\s|]*/g, "$1?…"));
}

/**
 * The one way the pipeline runs ffmpeg and ffprobe: binaries, logger, scratch folder, threads
 * and time limits come from the constructor; each run adds its own options (progress, abort
 * signal). Every failure rejects with an FfmpegError carrying the stderr tail.
 */
export class Ffmpeg {
  readonly tmpDir: string;
  readonly threads: number;
  readonly #log?: Logger;
  readonly #timeoutMs?: number;
  #binaries: FfmpegBinaries | (() => FfmpegBinaries);

  constructor(opts: FfmpegOptions) {
    this.#binaries = opts.binaries;
    this.tmpDir = opts.tmpDir;
    this.threads = opts.threads;
    this.#log = opts.log;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** The same binaries, logger, scratch folder and limits with another thread count (one task's share). */
  withThreads(threads: number): Ffmpeg {
    if (threads === this.threads) return this;
    return new Ffmpeg({
      binaries: () => this.binaries,
      log: this.#log,
      tmpDir: this.tmpDir,
      threads,
      timeoutMs: this.#timeoutMs,
    });
  }

  /** The binaries this wrapper runs (located on first use when given as a function). */
  get binaries(): FfmpegBinaries {
    if (typeof this.#binaries === "function") this.#binaries = this.#binaries();
    return this.#binaries;
  }

  /** What the argument builders need to know about these binaries. */
  get capabilities(): FfmpegCapabilities {
    return { fpsModeFlag: this.binaries.fpsModeFlag, legacyMuxer: this.binaries.legacyMuxer };
  }

  /** Run ffmpeg with machine-readable progress on stdout. */
  run(args: string[], opts: RunOptions = {}): Promise<void> {
    const progress: Record<string, string> = {};
    const full = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats", ...args];
    return this.exec("ffmpeg", full, {
      timeoutMs: this.#timeoutMs,
      ...opts,
      collectStdout: false,
      // progress lines come forever on a long encode: they are read, not kept
      maxStdoutBytes: Number.MAX_SAFE_INTEGER,
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

  /** Run ffprobe and parse its JSON output (at most `maxStdoutBytes`, 64 MiB by default). */
  async probeJson(args: string[], opts: RunOptions & { maxStdoutBytes?: number } = {}): Promise<unknown> {
    const { stdout } = await this.exec("ffprobe", ["-v", "error", "-of", "json", ...args], opts);
    return JSON.parse(stdout) as unknown;
  }

  /** Run either binary with `args` as given (no options added), as `runProcess` does. */
  async exec(
    tool: "ffmpeg" | "ffprobe",
    args: string[],
    opts: ProcessOptions = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const started = Date.now();
    this.#log?.debug(`${tool} started`, { args: loggable(args) });
    const out = await runProcess(this.binaries[tool], args, opts);
    this.#log?.debug(`${tool} finished`, { ms: Date.now() - started });
    return out;
  }

  /** Codec names this ffmpeg decodes (read once per binary); undefined when unknown. */
  decodableCodecs(): Promise<Set<string> | undefined> {
    return decodableCodecs(this.binaries);
  }

  /** Why this ffmpeg cannot decode `codec`, as a sentence; undefined when it can. */
  missingDecoder(kind: "video" | "audio", codec: string | undefined): Promise<string | undefined> {
    return missingDecoder(kind, codec, this.binaries);
  }

  /** Why these outputs cannot be made with this ffmpeg (see capabilities.ts); undefined when they can. */
  missingEncoders(needs: Parameters<typeof missingEncoders>[0]): Promise<string | undefined> {
    return missingEncoders(needs, this.binaries);
  }

  /** Why `what` cannot be done with this ffmpeg's filters (see capabilities.ts); undefined when it can. */
  missingFilters(needs: readonly string[], what: string): Promise<string | undefined> {
    return missingFilters(needs, what, this.binaries);
  }
}
