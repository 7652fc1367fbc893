import { execFileSync } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ffmpegBinaries } from "@videoforge/core";

/**
 * Every ffmpeg/ffprobe run of a process tree, recorded by pointing FFMPEG_PATH and
 * FFPROBE_PATH at small wrappers: start and end time, CPU and peak RSS (GNU time), and the
 * arguments, from which the kind of work is read. The wrappers cost a few milliseconds a
 * run, so traced runs are for attributing time, not for the headline wall times.
 */
export type RunKind = "version" | "probe" | "split" | "audio" | "encode" | "assemble" | "hls" | "poster" | "other";

export interface TracedRun {
  tool: "ffmpeg" | "ffprobe";
  start: number;
  end: number;
  wall: number;
  cpu: number;
  maxRssMb: number;
  kind: RunKind;
  args: string;
}

function wrapper(real: string, tool: string, traceFile: string): string {
  return `#!/bin/sh
t=$(mktemp)
s=$(date +%s.%N)
/usr/bin/time -f "%e %U %S %M" -o "$t" ${JSON.stringify(real)} "$@"
rc=$?
e=$(date +%s.%N)
printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$s" "$e" "$(tail -n 1 "$t")" ${tool} "$*" >> ${JSON.stringify(traceFile)}
rm -f "$t"
exit $rc
`;
}

/** Write the wrappers into `dir`; the returned env makes every child use them. */
export async function traceEnv(dir: string): Promise<{ env: Record<string, string>; file: string }> {
  const { ffmpeg, ffprobe } = ffmpegBinaries();
  const file = join(dir, "ffmpeg-trace.tsv");
  await writeFile(file, "");
  const paths = { ffmpeg: join(dir, "ffmpeg"), ffprobe: join(dir, "ffprobe") };
  // the wrappers must not find themselves on PATH: name the real binaries absolutely
  const absolute = (bin: string) =>
    bin.includes("/") ? bin : execFileSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).trim();
  await writeFile(paths.ffmpeg, wrapper(absolute(ffmpeg), "ffmpeg", file));
  await writeFile(paths.ffprobe, wrapper(absolute(ffprobe), "ffprobe", file));
  await Promise.all([chmod(paths.ffmpeg, 0o755), chmod(paths.ffprobe, 0o755)]);
  return { env: { FFMPEG_PATH: paths.ffmpeg, FFPROBE_PATH: paths.ffprobe }, file };
}

/** What a run did, read from its arguments (the pipeline's argument builders in core/ffmpeg/args.ts). */
export function classify(tool: string, args: string): RunKind {
  if (/(^|\s)-version(\s|$)/.test(args)) return "version";
  if (tool === "ffprobe" || /-f framecrc/.test(args)) return "probe";
  if (/-f segment/.test(args)) return "split";
  if (/-f hls/.test(args)) return "hls";
  // an encoder reads its piece plus the next one's head through concat: too
  if (/-filter_complex/.test(args) && /-f mpegts/.test(args)) return "encode";
  if (/concat:/.test(args)) return "assemble";
  if (/-vn/.test(args) && /-c:a/.test(args)) return "audio";
  if (/-frames:v 1/.test(args) && /-q:v/.test(args)) return "poster";
  return "other";
}

export function parseTrace(text: string): TracedRun[] {
  const runs: TracedRun[] = [];
  for (const line of text.split("\n")) {
    const [s, e, usage, tool, args = ""] = line.split("\t");
    if (!s || !e || !usage || (tool !== "ffmpeg" && tool !== "ffprobe")) continue;
    const [, user, sys, rssKb] = usage.trim().split(/\s+/).map(Number) as [number, number, number, number];
    const start = Number(s);
    const end = Number(e);
    runs.push({
      tool,
      start,
      end,
      wall: end - start,
      cpu: user + sys,
      maxRssMb: rssKb / 1024,
      kind: classify(tool, args),
      args,
    });
  }
  return runs.sort((a, b) => a.start - b.start);
}

export async function readTrace(file: string): Promise<TracedRun[]> {
  return parseTrace(await readFile(file, "utf8"));
}

/** Seconds during which at least one of the runs was going (the union of their intervals). */
export function busySeconds(runs: readonly Pick<TracedRun, "start" | "end">[]): number {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  let total = 0;
  let [from, to] = [NaN, NaN];
  for (const r of sorted) {
    if (!(r.start <= to)) {
      if (Number.isFinite(from)) total += to - from;
      [from, to] = [r.start, r.end];
    } else to = Math.max(to, r.end);
  }
  if (Number.isFinite(from)) total += to - from;
  return total;
}

/** Frames named by `-frames:v N` in an encode run (its chunk's length). */
export function framesOf(run: TracedRun): number | undefined {
  const m = /-frames:v (\d+)/.exec(run.args);
  return m ? Number(m[1]) : undefined;
}

/**
 * The seconds an encode's window was planned to cover, read from its select expression (core/ffmpeg/args.ts
 * rangeSelect): a scene-searched window has no frame count to stop at. Its bounds are planned ones: where a shot
 * change moved a cut, the two neighbours' figures shift by the same amount. A last window has no end but the
 * source's (`sourceSeconds`).
 */
export function plannedSecondsOf(run: TracedRun, sourceSeconds: number): number | undefined {
  const select = /select='([^']*)'/.exec(run.args)?.[1];
  if (!select) return undefined;
  // a searched bound: st(register, gt(ld(register) + gte(t,search)*gte(scene,x) + gte(t,bound), 0))
  const num = "([-\\d.]+)";
  const searched = (r: number) =>
    new RegExp(`st\\(${r},gt\\(ld\\(${r}\\)\\+gte\\(t,${num}\\)\\*gte\\(scene,${num}\\)\\+gte\\(t,${num}\\)`).exec(
      select,
    )?.[3];
  const start = searched(0) ?? /^gte\(t,([-\d.]+)\)/.exec(select)?.[1];
  if (start === undefined) return undefined;
  const end = searched(1) ?? /lt\(t,([-\d.]+)\)/.exec(select)?.[1];
  // the bounds are written a millisecond early: the source's end is taken the same way
  return (end === undefined ? sourceSeconds - 0.001 : Number(end)) - Number(start);
}
