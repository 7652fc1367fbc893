import { cpus, loadavg } from "node:os";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  config,
  DEFAULT_LADDER,
  defaultFfmpeg,
  ffmpegBinaries,
  fitLadder,
  gopFor,
  ssim,
  videoCodecArgs,
  type X264Settings,
} from "@videoforge/core";
import type { Rendition } from "@videoforge/events";
import { outputFileName, variantName, type VideoFormat } from "@videoforge/core/formats";
import { baselineArgs, deliveryOf, folderBytes, prepareBaselineDir, writeBaselineMaster } from "./baseline.ts";
import { decodedFrames, runMeasured, spread, type Measured } from "./measure.ts";
import { frameVerdict, type FrameCheck } from "./verdict.ts";
import { describeSource, generateSource, type BenchSource } from "./source.ts";
import { containerLabel, encoderLabel, summaryTable, type CodecSummary } from "./summary.ts";
import { fmtSpread, markdownTable, mb } from "./table.ts";

/** The CLI as a user runs it, in its own process. */
export const CLI_BIN = fileURLToPath(new URL("../../bin/videoforge.js", import.meta.url));

export interface CompareOptions {
  /** A file to use instead of a generated clip. */
  source?: string;
  /** Length of the generated 1080p30 clip. */
  seconds: number;
  reps: number;
  chunkSeconds?: number;
  /** Scratch folder (kept afterwards); a temp folder that is removed otherwise. */
  workDir: string;
  /** The video codecs compared, one after the other on the same source (default: H.264 alone). */
  codecs?: readonly VideoFormat[];
  log: (line: string) => void;
}

/** One codec's comparison: the pipeline with `--formats <codec>` against the baseline in that codec. */
export interface CodecResult extends CodecSummary {
  pipeline: Measured[];
  plain: Measured[];
  pipelineFrames: FrameCheck[];
  plainFrames: FrameCheck[];
  /** Why the pipeline's outputs are not frame-exact; empty when they are. */
  problems: string[];
  table: string;
}

export interface CompareResult {
  source: BenchSource;
  codecs: CodecResult[];
  /** Every codec's pipeline outputs are frame-exact. */
  frameExact: boolean;
  problems: string[];
  /** One full table per codec, then (for more than one codec) a summary with a row each. */
  table: string;
}

/** Decoded frame count of every delivery file and every HLS media playlist of one codec under `dir`. */
async function frameChecks(
  dir: string,
  rungs: readonly string[],
  codec: VideoFormat,
  expected: number,
): Promise<FrameCheck[]> {
  const checks: FrameCheck[] = [];
  for (const rung of rungs) {
    for (const output of [outputFileName(rung, codec), `hls/${variantName(rung, codec)}/index.m3u8`]) {
      const frames = await decodedFrames(join(dir, output)).catch(() => -1);
      checks.push({ output, frames, expected });
    }
  }
  return checks;
}

/**
 * `videoforge bench`: the whole pipeline (`videoforge encode`, its local cloud and all)
 * against one plain ffmpeg command making the same outputs, alternating within one run,
 * for each codec in turn on the same source.
 */
export async function compareBench(opts: CompareOptions): Promise<CompareResult> {
  const { log } = opts;
  let file = opts.source;
  if (!file) {
    log(`generating a ${opts.seconds} s 1080p30 source…`);
    file = await generateSource(opts.workDir, { seconds: opts.seconds });
  }
  const source = await describeSource(file);
  const renditions = fitLadder(DEFAULT_LADDER, source.width, source.height);
  const settings = { ...config().x264, gop: gopFor(source.fps) };
  const codecs = opts.codecs?.length ? opts.codecs : (["h264"] as const);
  const multi = codecs.length > 1;
  const results: CodecResult[] = [];
  for (const codec of codecs) {
    if (multi) log(`${codec}:`);
    results.push(await compareCodec({ ...opts, source, sourceOption: opts.source, renditions, settings, codec }));
  }
  const title = (r: CodecResult) =>
    `### ${r.codec}: ${containerLabel(r.codec)}, audio ${r.hasAudio ? deliveryOf(r.codec).audio.label : "none"}`;
  // one codec prints its table alone, as the bench did before --codecs; headings and summary only compare several
  const table = multi
    ? results.map((r) => `${title(r)}\n\n${r.table}`).join("\n") +
      `\n### summary: medians over ${opts.reps} rep(s), pipeline first\n\n${summaryTable(results)}`
    : results[0]!.table;
  return {
    source,
    codecs: results,
    frameExact: results.every((r) => r.frameExact),
    problems: results.flatMap((r) => r.problems.map((p) => (multi ? `${r.codec}: ${p}` : p))),
    table,
  };
}

interface CodecRun extends Omit<CompareOptions, "source" | "codecs"> {
  source: BenchSource;
  renditions: readonly Rendition[];
  settings: X264Settings;
  codec: VideoFormat;
  /** The file the user named, if any (the table says where the source came from). */
  sourceOption?: string;
}

/** The pipeline's time to playable and to complete (its `--json` timings), as "median (share of completed)". */
function playableCell(runs: readonly Measured[]): string {
  const timings = runs.map(
    (m) => (JSON.parse(m.stdout) as { timings: { playable: number; completed: number } }).timings,
  );
  const playable = spread(timings.map((t) => t.playable)).median;
  const completed = spread(timings.map((t) => t.completed)).median;
  return `${playable.toFixed(2)} (${Math.round((100 * playable) / completed)} % of ${completed.toFixed(2)})`;
}

async function compareCodec(opts: CodecRun): Promise<CodecResult> {
  const { log, source, renditions, settings, codec } = opts;
  const load0 = loadavg()[0]!;
  // each codec in its own folders, named like the outputs (`pipeline`, `pipeline-hevc`): --keep keeps them all
  const pipeOut = join(opts.workDir, variantName("pipeline", codec));
  const plainOut = join(opts.workDir, variantName("plain", codec));
  const caps = ffmpegBinaries();
  const plainArgs = [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-loglevel",
    "error",
    ...baselineArgs(source, renditions, settings, plainOut, caps, codec),
  ];
  const env: Record<string, string> = opts.chunkSeconds ? { VIDEOFORGE_CHUNK_SECONDS: String(opts.chunkSeconds) } : {};

  // a job that never ends (a dead-lettered event) must not hang the bench: generous, not a timing limit
  const hangAfter = Math.max(300, source.duration * 20) * 1000;
  const runPipeline = async () => {
    await rm(pipeOut, { recursive: true, force: true });
    const m = await runMeasured(
      process.execPath,
      [CLI_BIN, "encode", source.file, "--out", pipeOut, "--formats", codec, "--json"],
      {
        env,
        timeoutMs: hangAfter,
      },
    );
    if (m.code !== 0) throw new Error(`videoforge encode exited ${m.code}: ${m.stderrTail.slice(-1500)}`);
    return m;
  };
  const runPlain = async () => {
    await rm(plainOut, { recursive: true, force: true });
    await prepareBaselineDir(plainOut, renditions, codec);
    const m = await runMeasured(caps.ffmpeg, plainArgs, { timeoutMs: hangAfter });
    if (m.code !== 0) throw new Error(`plain ffmpeg exited ${m.code}: ${m.stderrTail.slice(-1500)}`);
    await writeBaselineMaster(plainOut, renditions, source.duration, source.hasAudio, codec);
    return m;
  };

  const pipeline: Measured[] = [];
  const plain: Measured[] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    // alternate which goes first, so drift in machine load does not favour one side
    if (rep % 2 === 0) {
      plain.push(await runPlain());
      pipeline.push(await runPipeline());
    } else {
      pipeline.push(await runPipeline());
      plain.push(await runPlain());
    }
    log(
      `rep ${rep + 1}/${opts.reps}: pipeline ${pipeline.at(-1)!.wall.toFixed(2)} s, ` +
        `plain ffmpeg ${plain.at(-1)!.wall.toFixed(2)} s`,
    );
  }

  log("checking outputs (decoded frame counts, SSIM)…");
  const names = renditions.map((r) => r.name);
  const pipelineFrames = await frameChecks(pipeOut, names, codec, source.frames);
  const plainFrames = await frameChecks(plainOut, names, codec, source.frames);
  const { exact: frameExact, problems } = frameVerdict(pipelineFrames);
  const top = names[0]!;
  const topFile = outputFileName(top, codec);
  const [pipeSsim, plainSsim] = [
    await ssim(defaultFfmpeg(), join(pipeOut, topFile), source.file),
    await ssim(defaultFfmpeg(), join(plainOut, topFile), source.file),
  ];
  const bytes = async (dir: string, rung: string) => (await stat(join(dir, outputFileName(rung, codec)))).size;
  const sizes = async (dir: string) => (await Promise.all(names.map(async (n) => mb(await bytes(dir, n))))).join(" / ");
  const { container } = deliveryOf(codec);
  const posterBytes = async (dir: string) => (await stat(join(dir, "poster.jpg")).catch(() => ({ size: 0 }))).size;
  const framesCell = (checks: FrameCheck[]) => {
    const bad = checks.filter((c) => c.frames !== c.expected);
    return bad.length === 0
      ? `all ${checks.length} = ${source.frames}`
      : bad.map((c) => `${c.output}: ${c.frames}`).join(", ");
  };

  const wall = { pipe: spread(pipeline.map((m) => m.wall)), plain: spread(plain.map((m) => m.wall)) };
  const rows: string[][] = [
    ["wall time, s: median (min–max)", fmtSpread(wall.pipe), fmtSpread(wall.plain)],
    ["ratio pipeline / ffmpeg (median wall)", (wall.pipe.median / wall.plain.median).toFixed(2), "1.00"],
    [
      "playable after upload, s: median (share of completed)",
      playableCell(pipeline),
      `${wall.plain.median.toFixed(2)} (100 %: nothing plays before the end)`,
    ],
    [
      "CPU user+sys, s: median (min–max)",
      fmtSpread(spread(pipeline.map((m) => m.cpu))),
      fmtSpread(spread(plain.map((m) => m.cpu))),
    ],
    [
      "peak RSS of one process, MB (max)",
      Math.max(...pipeline.map((m) => m.maxRssMb)).toFixed(0),
      Math.max(...plain.map((m) => m.maxRssMb)).toFixed(0),
    ],
    [`SSIM ${top} vs source`, pipeSsim.toFixed(5), plainSsim.toFixed(5)],
    [
      `decoded frames, ${names.length} ${container} + ${names.length} HLS`,
      framesCell(pipelineFrames),
      framesCell(plainFrames),
    ],
    [`${container} MB ${names.join("/")}`, await sizes(pipeOut), await sizes(plainOut)],
    [
      "HLS ladder MB (playlists + segments)",
      mb(await folderBytes(join(pipeOut, "hls"))),
      mb(await folderBytes(join(plainOut, "hls"))),
    ],
    ["poster KB", ((await posterBytes(pipeOut)) / 1e3).toFixed(0), ((await posterBytes(plainOut)) / 1e3).toFixed(0)],
  ];
  const { version, origin } = caps;
  const table =
    markdownTable(["", "pipeline (`videoforge encode`)", "plain ffmpeg (one command)"], rows) +
    `\nsource: ${source.width}x${source.height} ${source.fps} fps, ${source.duration.toFixed(1)} s, ` +
    `${source.frames} frames, ${mb(source.bytes)} MB (${opts.sourceOption ?? "generated"}); ` +
    `${opts.reps} rep(s), alternating; chunks ${opts.chunkSeconds ?? config().chunkSeconds} s; ` +
    `${encoderLabel(videoCodecArgs(codec, renditions[0]!, settings, caps))}; ` +
    `ffmpeg ${origin} ${version}; ${cpus().length} cores; ` +
    `load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ` +
    `${new Date().toISOString().slice(0, 10)}\n` +
    "CPU and peak RSS: rusage of the whole process tree (GNU time): " +
    "for the pipeline the `videoforge encode` process (local cloud, API, in-process handlers) " +
    "plus every task child and every ffmpeg/ffprobe; for the baseline the ffmpeg process.\n" +
    `frame-exact: ${frameExact ? "PASS" : "FAIL"} ` +
    `(pipeline: every ${container} and HLS rendition decodes to the source's ${source.frames} frames)\n`;
  return {
    codec,
    hasAudio: source.hasAudio,
    pipeline,
    plain,
    pipelineFrames,
    plainFrames,
    ssim: { pipeline: pipeSsim, plain: plainSsim },
    topBytes: { pipeline: await bytes(pipeOut, top), plain: await bytes(plainOut, top) },
    frameExact,
    problems,
    table,
  };
}
