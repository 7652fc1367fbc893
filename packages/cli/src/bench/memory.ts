import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CLI_BIN } from "./compare.ts";
import { spawnMeasured, spread } from "./measure.ts";
import { describeSource, generateSource, type SourceSpec } from "./source.ts";
import { markdownTable, mb } from "./table.ts";
import { classify } from "./trace.ts";

/** Peak resident memory of one process, as the kernel kept it (VmHWM). */
export interface ProcessPeak {
  pid: number;
  role: string;
  peakMb: number;
}

/** What a process is in the pipeline, from its command line. */
export function roleOf(argv: readonly string[]): string {
  const exe = (argv[0] ?? "").split("/").pop() ?? "";
  const joined = argv.join(" ");
  if (exe === "time") return "GNU time";
  if (exe === "ffprobe") return "ffprobe";
  if (exe === "ffmpeg") return `ffmpeg ${classify("ffmpeg", argv.slice(1).join(" "))}`;
  if (/worker\/src\/main\.ts/.test(joined)) return "task child (node)";
  if (/videoforge(\.js)? (encode|up)/.test(joined)) return "cloud + API (node)";
  return exe || "?";
}

async function readProc(pid: number): Promise<{ ppid: number; hwmKb: number; argv: string[] } | undefined> {
  try {
    const [stat, status, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/status`, "utf8"),
      readFile(`/proc/${pid}/cmdline`, "utf8"),
    ]);
    // the command name in stat may hold spaces: the fields after its closing parenthesis are fixed
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { ppid, hwmKb, argv: cmdline.split("\0").filter(Boolean) };
  } catch {
    return undefined; // gone between listing and reading
  }
}

/**
 * Samples every descendant of `root` every `everyMs`, keeping each one's VmHWM (its peak
 * RSS so far). A process's growth in its last interval before exit can be missed.
 */
export function sampleTree(root: number, everyMs = 200) {
  const peaks = new Map<number, ProcessPeak>();
  let stopped = false;
  const tick = async () => {
    const procs = new Map<number, NonNullable<Awaited<ReturnType<typeof readProc>>>>();
    for (const name of await readdir("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const p = await readProc(Number(name));
      if (p) procs.set(Number(name), p);
    }
    const inTree = (pid: number) => {
      for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = procs.get(p)?.ppid, hops++)
        if (p === root) return true;
      return false;
    };
    for (const [pid, p] of procs) {
      if (!inTree(pid) || p.hwmKb === 0 || p.argv.length === 0) continue;
      const prev = peaks.get(pid);
      const peakMb = p.hwmKb / 1024;
      if (!prev || peakMb > prev.peakMb) peaks.set(pid, { pid, role: roleOf(p.argv), peakMb });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<ProcessPeak[]> {
      stopped = true;
      await loop;
      return [...peaks.values()];
    },
  };
}

/** Peaks grouped by role: how many processes, the largest and the median peak. */
export function byRole(
  peaks: readonly ProcessPeak[],
): { role: string; count: number; maxMb: number; medianMb: number }[] {
  const groups = new Map<string, number[]>();
  for (const p of peaks) groups.set(p.role, [...(groups.get(p.role) ?? []), p.peakMb]);
  return [...groups]
    .map(([role, xs]) => ({ role, count: xs.length, maxMb: Math.max(...xs), medianMb: spread(xs).median }))
    .sort((a, b) => b.maxMb - a.maxMb);
}

interface MemoryCase {
  label: string;
  spec: SourceSpec;
}

/** `videoforge bench --memory`: a ~2 GB upload and a long low-bitrate source through `videoforge encode`. */
export async function memoryBench(dir: string, log: (line: string) => void): Promise<string> {
  const cases: MemoryCase[] = [
    {
      label: "~2 GB upload (60 s 1080p30, x264 ultrafast at 270 Mbit/s with grain)",
      spec: { seconds: 60, preset: "ultrafast", bitrate: "270M", noise: true, name: "big-upload.mp4" },
    },
    {
      label: "long low-bitrate source (15 min 360p30)",
      spec: { seconds: 900, width: 640, height: 360, preset: "ultrafast", bitrate: "300k", name: "long-360p.mp4" },
    },
  ];
  let report = "";
  for (const c of cases) {
    log(`generating ${c.label}…`);
    const file = await generateSource(dir, c.spec);
    const source = await describeSource(file);
    log(`${mb(source.bytes)} MB; videoforge encode…`);
    const run = spawnMeasured(
      process.execPath,
      [CLI_BIN, "encode", file, "--out", join(dir, `out-${c.spec.name}`), "--json"],
      { timeoutMs: 3_600_000 },
    );
    const sampler = sampleTree(run.pid!);
    const m = await run.done;
    const peaks = await sampler.stop();
    if (m.code !== 0) throw new Error(`videoforge encode exited ${m.code}: ${m.stderrTail.slice(-1000)}`);
    const rows = byRole(peaks).map((g) => [g.role, String(g.count), g.maxMb.toFixed(0), g.medianMb.toFixed(0)]);
    report +=
      `${c.label}: ${mb(source.bytes)} MB, ${source.frames} frames; ` +
      `wall ${m.wall.toFixed(1)} s, tree CPU ${m.cpu.toFixed(1)} s, ` +
      `largest process ${m.maxRssMb.toFixed(0)} MB (GNU time)\n\n` +
      markdownTable(["process", "count", "peak RSS MB (max)", "peak RSS MB (median)"], rows) +
      "\n";
  }
  return (
    report + `${new Date().toISOString().slice(0, 10)}; peaks sampled from /proc/<pid>/status VmHWM every 200 ms\n`
  );
}
