import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it, vi } from "vitest";
import type { LogFields, Logger } from "../log.ts";
import { defaultFfmpeg, ffmpeg, ffmpegBinaries } from "./locate.ts";
import { Ffmpeg, FfmpegError, runProcess, type FfmpegProgress } from "./run.ts";

/** Our direct children, as `pid args` lines. */
function children(): { pid: number; args: string }[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  } catch {
    // ps exits 1 when nothing matches
  }
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [pid, ...args] = l.split(/\s+/);
      return { pid: Number(pid), args: args.join(" ") };
    })
    .filter((c) => c.args !== "ps -o pid=,args= --ppid " + process.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe("ESRCH");
    return false;
  }
}

/** Wait until a child whose command line is `args` (or passes the test) shows up; its pid. */
async function childRunning(args: string | ((args: string) => boolean)): Promise<number> {
  const match = typeof args === "string" ? (a: string) => a === args : args;
  for (let i = 0; i < 250; i++) {
    const found = children().find((c) => match(c.args));
    if (found) return found.pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no child ${String(args)} appeared`);
}

async function rejection(p: Promise<unknown>): Promise<FfmpegError> {
  const err = await p.then(
    () => {
      throw new Error("expected the run to fail");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FfmpegError);
  return err as FfmpegError;
}

const testsrc = (seconds: number) => ["-f", "lavfi", "-i", `testsrc=size=160x120:rate=30:duration=${seconds}`];

describe("ffmpeg", () => {
  it("runs to the end and reports progress", async () => {
    const progress: FfmpegProgress[] = [];
    await ffmpeg([...testsrc(1), "-f", "null", "-"], { onProgress: (p) => progress.push(p), timeoutMs: 30_000 });
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last.frame).toBeGreaterThan(0);
    expect(last.frame).toBe(30);
    expect(last.outTime).toBeGreaterThan(0.9);
    expect(last.outTime).toBeLessThan(1.1);
    for (const p of progress) {
      expect(
        Number.isFinite(p.frame) && Number.isFinite(p.fps) && Number.isFinite(p.outTime) && Number.isFinite(p.speed),
      ).toBe(true);
    }
  });

  it("rejects a bad argument with ffmpeg's complaint and its exit code", async () => {
    const err = await rejection(ffmpeg(["-definitely-not-an-option", "1", ...testsrc(1), "-f", "null", "-"]));
    expect(err.exitCode).not.toBe(0);
    expect(err.exitCode).not.toBeNull();
    expect(err.message).toMatch(/definitely-not-an-option/);
    // ffmpeg's words stay in the tail, for the logs; the first line is what people are shown
    expect(err.message.split("\n")[0]).toMatch(/^ffmpeg exited with code \d+$/);
    expect(err.stderrTail).toMatch(/Unrecognized option 'definitely-not-an-option'/);
  });

  it("rejects a missing input; the path stays out of the first line, in the tail", async () => {
    const err = await rejection(ffmpeg(["-i", "/nonexistent/videoforge-input.mp4", "-f", "null", "-"]));
    expect(err.exitCode).not.toBe(0);
    expect(err.message.split("\n")[0]).not.toMatch(/nonexistent/);
    expect(err.stderrTail).toMatch(/No such file or directory/);
  });

  it("kills a run that exceeds timeoutMs and leaves no process behind", async () => {
    const started = Date.now();
    const run = ffmpeg(["-re", ...testsrc(3600), "-f", "null", "-"], { timeoutMs: 1500 });
    const pid = await childRunning((a) => a.includes("duration=3600"));
    expect(alive(pid)).toBe(true);
    const err = await rejection(run);
    const elapsed = Date.now() - started;
    expect(err.message).toMatch(/timed out after 1500 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
    expect(alive(pid)).toBe(false);
    expect(children().filter((c) => c.args.includes("duration=3600"))).toEqual([]);
  });

  it("does not count a run that keeps reporting progress as stalled", async () => {
    // -re makes it take ~2 s; progress lines come about every 0.5 s
    await ffmpeg(["-re", ...testsrc(2), "-f", "null", "-"], { stallMs: 1500, timeoutMs: 30_000 });
  });

  it("aborts on an AbortSignal", async () => {
    const ac = new AbortController();
    const run = ffmpeg(["-re", ...testsrc(3600), "-f", "null", "-"], { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const err = await rejection(run);
    expect(err.message).toMatch(/aborted/);
    expect(children().filter((c) => c.args.includes("duration=3600"))).toEqual([]);
  });
});

describe("runProcess", () => {
  it("collects stdout and feeds whole lines", async () => {
    const lines: string[] = [];
    const { stdout } = await runProcess("sh", ["-c", "printf 'one\\ntwo\\nthr'; sleep 0.05; printf 'ee\\n'"], {
      onStdoutLine: (l) => lines.push(l),
    });
    expect(stdout).toBe("one\ntwo\nthree\n");
    expect(lines).toEqual(["one", "two", "three"]);
  });

  it("rejects a non-zero exit with its code; stderr is in the tail, not the first line (people read it)", async () => {
    const err = await rejection(
      runProcess("sh", ["-c", "echo first >&2; echo 'http://127.0.0.1:4567/secret: the real cause' >&2; exit 3"]),
    );
    expect(err.exitCode).toBe(3);
    expect(err.stderrTail).toBe("first\nhttp://127.0.0.1:4567/secret: the real cause");
    expect(err.message.split("\n")[0]).toBe("sh exited with code 3");
  });

  it("names a known cause with a fixed phrase, never ffmpeg's words", async () => {
    const err = await rejection(
      runProcess("sh", ["-c", "echo '/data/tmp/x/source: Invalid data found when processing input' >&2; exit 1"]),
    );
    expect(err.message.split("\n")[0]).toBe(
      "sh exited with code 1: the video data is damaged or not in a format we can read",
    );
    expect(err.knownCause).toBe("the video data is damaged or not in a format we can read");
  });

  it("kills a child whose stdout passes the cap instead of buffering it (finding 2)", async () => {
    const err = await rejection(runProcess("head", ["-c", "50000000", "/dev/zero"], { maxStdoutBytes: 1024 * 1024 }));
    expect(err.message.split("\n")[0]).toBe(
      "head stopped: output too large (over 1048576 bytes): the file holds far more data than its length allows",
    );
  });

  it("a line reader that throws kills the child and rejects; nothing escapes the listener (finding 2)", async () => {
    const run = runProcess("sh", ["-c", "i=0; while true; do echo line $i; i=$((i+1)); done"], {
      collectStdout: false,
      onStdoutLine: (line) => {
        if (line === "line 500") throw new RangeError("too many lines");
      },
    });
    await expect(run).rejects.toThrow(/too many lines/);
    expect(children().filter((c) => c.args.startsWith("sh -c i=0"))).toEqual([]);
  });

  it("kills on failOnStderr at the first match", async () => {
    const started = Date.now();
    const err = await rejection(
      runProcess(
        "sh",
        ["-c", "echo 'Picture size 8192x4320 exceeds specified max pixel count 9437184' >&2; exec sleep 30"],
        { failOnStderr: /exceeds specified max pixel count/ },
      ),
    );
    expect(err.message.split("\n")[0]).toBe(
      "sh stopped: refused input: a picture in the video is larger than the limit",
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("keeps only the tail of a long stderr", async () => {
    const err = await rejection(
      runProcess("sh", [
        "-c",
        'i=0; while [ $i -lt 3000 ]; do echo "line $i of noise" >&2; i=$((i+1)); done; echo LAST >&2; exit 1',
      ]),
    );
    expect(err.stderrTail.length).toBeLessThanOrEqual(8 * 1024);
    expect(err.stderrTail.endsWith("LAST")).toBe(true);
  });

  it("rejects when the binary cannot start", async () => {
    const err = await rejection(runProcess("/nonexistent/videoforge-binary", []));
    expect(err.exitCode).toBeNull();
    expect(err.message).toMatch(/could not start .*ENOENT/);
  });

  it("kills on timeoutMs; the child is gone afterwards", async () => {
    const started = Date.now();
    const run = runProcess("sleep", ["30"], { timeoutMs: 300 });
    const pid = await childRunning("sleep 30");
    expect(alive(pid)).toBe(true);
    const err = await rejection(run);
    expect(err.message).toMatch(/^sleep timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(alive(pid)).toBe(false);
    expect(children().filter((c) => c.args === "sleep 30")).toEqual([]);
  });

  it("kills a process that produces no output for stallMs", async () => {
    const started = Date.now();
    const run = runProcess("sleep", ["30"], { stallMs: 300 });
    const pid = await childRunning("sleep 30");
    const err = await rejection(run);
    expect(err.message).toMatch(/^sleep stalled: no progress for 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(alive(pid)).toBe(false);
  });

  it("re-arms the stall timer on output", async () => {
    // 6 lines 150 ms apart: never silent for 400 ms, though the run takes ~900 ms
    const { stdout } = await runProcess("sh", ["-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.15; done"], {
      stallMs: 400,
    });
    expect(stdout.trim().split("\n")).toHaveLength(6);
  });

  it("aborts on an AbortSignal", async () => {
    const ac = new AbortController();
    const run = runProcess("sleep", ["30"], { signal: ac.signal });
    const pid = await childRunning("sleep 30");
    ac.abort();
    const err = await rejection(run);
    expect(err.message).toMatch(/^sleep aborted/);
    expect(alive(pid)).toBe(false);
  });

  it("does not run at all past an already-aborted signal", async () => {
    const started = Date.now();
    const err = await rejection(runProcess("sleep", ["30"], { signal: AbortSignal.abort() }));
    expect(err.message).toMatch(/aborted/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(children().filter((c) => c.args === "sleep 30")).toEqual([]);
  });
});

describe("the Ffmpeg wrapper", () => {
  /** A logger that keeps its debug lines. */
  function recorder(lines: { msg: string; fields?: LogFields }[]): Logger {
    const keep = (msg: string, fields?: LogFields) => void lines.push({ msg, fields });
    const log: Logger = { debug: keep, info: keep, warn: keep, error: keep, child: () => log };
    return log;
  }

  it("parses ffprobe's JSON", async () => {
    const out = (await defaultFfmpeg().probeJson(
      ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=30:duration=1", "-show_streams"],
      { timeoutMs: 30_000 },
    )) as {
      streams: { codec_type: string; width: number; height: number }[];
    };
    expect(out.streams[0]).toMatchObject({ codec_type: "video", width: 160, height: 120 });
  });

  it("locates its binaries once, on first use, and applies the time limit it was built with", async () => {
    let located = 0;
    const ff = new Ffmpeg({
      binaries: () => (located++, ffmpegBinaries()),
      tmpDir: "/tmp",
      threads: 1,
      timeoutMs: 1500,
    });
    expect(located).toBe(0);
    expect(ff.capabilities.fpsModeFlag).toBe(ff.binaries.fpsModeFlag);
    const err = await rejection(ff.run(["-re", ...testsrc(3600), "-f", "null", "-"]));
    expect(err.message).toMatch(/timed out after 1500 ms/);
    expect(located).toBe(1);
  });

  it("logs each run at debug level without presigned signatures", async () => {
    const lines: { msg: string; fields?: LogFields }[] = [];
    const ff = new Ffmpeg({ binaries: ffmpegBinaries(), tmpDir: "/tmp", threads: 1, log: recorder(lines) });
    const url = "https://s3.example/bucket/clip.mp4?X-Amz-Signature=secret";
    await ff.run([...testsrc(1), "-metadata", `comment=${url}`, "-f", "null", "-"], { timeoutMs: 30_000 });
    expect(lines.map((l) => l.msg)).toEqual(["ffmpeg started", "ffmpeg finished"]);
    const logged = JSON.stringify(lines[0]!.fields);
    expect(logged).toContain("https://s3.example/bucket/clip.mp4?…");
    expect(logged).not.toContain("secret");
  });
});

describe("ffmpegBinaries", () => {
  /** A fresh copy of locate.ts: it remembers the first answer. */
  async function freshLocate() {
    vi.resetModules();
    return import("./locate.ts");
  }
  const version = (bin: string) => execFileSync(bin, ["-version"], { encoding: "utf8", timeout: 10_000 });

  it("finds a working ffmpeg and ffprobe", async () => {
    const { ffmpegBinaries } = await freshLocate();
    const b = ffmpegBinaries();
    expect(version(b.ffmpeg)).toMatch(/^ffmpeg version /);
    expect(version(b.ffprobe)).toMatch(/^ffprobe version /);
    expect(b.fpsModeFlag).toBe(b.version >= 5.01 ? "-fps_mode" : "-vsync");
  });

  it("with FFMPEG_PATH unset, takes a recent system ffmpeg, else the npm one", async () => {
    const { ffmpegBinaries } = await freshLocate();
    const b = ffmpegBinaries({});
    let system: number | undefined;
    try {
      const m = /version n?(\d+)\.(\d+)/.exec(version("ffmpeg"));
      system = m ? Number(m[1]) + Number(m[2]) / 100 : 0;
      version("ffprobe");
    } catch {
      system = undefined;
    }
    if (system !== undefined && system >= 5) {
      expect(b).toMatchObject({ origin: "system", ffmpeg: "ffmpeg", ffprobe: "ffprobe", version: system });
    } else {
      expect(b.origin).toBe("npm");
      expect(existsSync(b.ffmpeg) && existsSync(b.ffprobe)).toBe(true);
    }
  });

  it("lets FFMPEG_PATH win (the config's ffmpeg.path) and finds ffprobe beside it", async () => {
    const { ffmpegBinaries } = await freshLocate();
    const b = ffmpegBinaries({ path: "/opt/custom/bin/ffmpeg" });
    expect(b).toMatchObject({
      origin: "env",
      ffmpeg: "/opt/custom/bin/ffmpeg",
      ffprobe: "/opt/custom/bin/ffprobe",
      version: 0,
      fpsModeFlag: "-vsync",
    });
    const explicit = (await freshLocate()).ffmpegBinaries({ path: "/a/ffmpeg", probePath: "/b/probe" });
    expect(explicit.ffprobe).toBe("/b/probe");
  });

  it("ships working ffmpeg and ffprobe binaries in the npm packages", () => {
    const require = createRequire(import.meta.url);
    expect(require.resolve("@ffmpeg-installer/ffmpeg")).toBeTruthy();
    expect(require.resolve("@ffprobe-installer/ffprobe")).toBeTruthy();
    const ffmpegBin = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
    const ffprobeBin = (require("@ffprobe-installer/ffprobe") as { path: string }).path;
    for (const bin of [ffmpegBin, ffprobeBin]) {
      expect(existsSync(bin)).toBe(true);
      expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
    }
    expect(version(ffmpegBin)).toMatch(/^ffmpeg version /);
    expect(version(ffprobeBin)).toMatch(/^ffprobe version /);
  });
});
