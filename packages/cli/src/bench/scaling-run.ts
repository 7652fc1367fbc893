import { mkdir, stat, writeFile } from "node:fs/promises";
import { LAMBDA_CHUNK_CPU_SECONDS } from "@videoforge/events";
import { dirname, join } from "node:path";
import { CLI_BIN } from "./compare.ts";
import { runMeasured } from "./measure.ts";
import { bestChunk, scalingCurves, type ScalingInputs } from "./scaling.ts";
import { scalingSvg } from "./scaling-chart.ts";
import { describeSource, generateSource } from "./source.ts";
import { markdownTable } from "./table.ts";
import { framesOf, plannedSecondsOf, readTrace, traceEnv, type TracedRun } from "./trace.ts";

/** Published figures the model takes as given (sources in docs/performance.md). */
export const PUBLISHED = {
  /** AWS re:Post (AWS expert answer): "30-45 seconds or longer" for a new Fargate task. */
  taskStartSeconds: 40,
  /** ECS developer guide, Fargate throttling quotas: burst 100 tasks, sustained 20 per second. */
  launchBurst: 100,
  launchPerSecond: 20,
  /**
   * Fargate pricing, us-east-1 Linux/x86: $0.04048 per vCPU-hour, $0.004445 per GB-hour, per second,
   * 1-minute minimum.
   */
  prices: { vcpuHour: 0.04048, gbHour: 0.004445, minimumBilledSeconds: 60 },
  /**
   * Lambda: 6 vCPUs at the 10,240 MB maximum (Lambda developer guide, "Lambda memory"); $0.0000166667 per
   * GB-second, x86, us-east-1 (aws.amazon.com/lambda/pricing). The start is assumed (an image function's cold start).
   */
  lambda: { startSeconds: 2, vcpu: 6, memoryGb: 10, gbSecond: 0.0000166667 },
};

/** Assumptions the model states rather than measures. */
export const ASSUMED = {
  vcpu: 2,
  memoryGb: 4,
  parallelEfficiency: 0.85,
  /** A typical 1080p upload (the generated clips are far more compressible). */
  sourceBitsPerSecond: 16e6,
  s3BytesPerSecond: 80e6,
  /** Runtime start, probe, state writes and S3 request latency per chunk task. */
  perChunkFixedSeconds: 2,
  eventHopSeconds: 0.5,
  /** The lead chunk of the default 8 s chunks (media/plan.ts leadSecondsFor). */
  leadSeconds: 2,
};

export interface MeasuredRates {
  sourceSeconds: number;
  chunks: { index: number; seconds: number; wall: number; cpu: number }[];
  encodeCpuPerSourceSecond: number;
  splitSecondsPerSourceSecond: number;
  assemblySecondsPerOutputMb: number;
  outputBitsPerSecond: number;
}

/** Rates read from one traced run: encode CPU per source second, split and assembly speed. */
export function ratesFrom(
  runs: readonly TracedRun[],
  fps: number,
  sourceSeconds: number,
  outputBytes: number,
): MeasuredRates {
  const encodes = runs.filter((r) => r.kind === "encode");
  const secondsOf = (r: TracedRun) => {
    const frames = framesOf(r);
    return frames !== undefined ? frames / fps : (plannedSecondsOf(r, sourceSeconds) ?? 0);
  };
  const chunks = encodes.map((r, index) => ({ index, seconds: secondsOf(r), wall: r.wall, cpu: r.cpu }));
  const covered = chunks.reduce((s, c) => s + c.seconds, 0);
  // a rate of NaN would run the model and the chart on nonsense: say what the trace lacked instead
  if (!chunks.length || chunks.some((c) => !(c.seconds > 0)))
    throw new Error(`the trace does not tell every encode's length: ${chunks.length} encodes, ${covered} s`);
  const wallOf = (kinds: string[]) => runs.filter((r) => kinds.includes(r.kind)).reduce((s, r) => s + r.wall, 0);
  return {
    sourceSeconds,
    chunks,
    encodeCpuPerSourceSecond: chunks.reduce((s, c) => s + c.cpu, 0) / covered,
    splitSecondsPerSourceSecond: wallOf(["split", "audio"]) / sourceSeconds,
    assemblySecondsPerOutputMb: wallOf(["assemble", "hls", "poster"]) / (outputBytes / 1e6),
    outputBitsPerSecond: (outputBytes * 8) / sourceSeconds,
  };
}

/** A traced `videoforge encode` of a generated 1080p clip. */
async function measureRates(dir: string, seconds: number): Promise<MeasuredRates> {
  const file = await generateSource(dir, { seconds, name: `scaling-${seconds}s.mp4` });
  const source = await describeSource(file);
  const trace = await traceEnv(dir);
  const out = join(dir, "scaling-out");
  const m = await runMeasured(process.execPath, [CLI_BIN, "encode", file, "--out", out, "--json"], {
    env: trace.env,
    timeoutMs: 900_000,
  });
  if (m.code !== 0) throw new Error(`videoforge encode exited ${m.code}: ${m.stderrTail.slice(-1000)}`);
  const summary = JSON.parse(m.stdout) as { outputs: { path: string }[] };
  let bytes = 0;
  for (const o of summary.outputs) bytes += (await stat(o.path)).size;
  return ratesFrom(await readTrace(trace.file), source.fps, source.duration, bytes);
}

export function inputsFrom(rates: MeasuredRates): ScalingInputs {
  return {
    ...PUBLISHED,
    ...ASSUMED,
    encodeCpuPerSourceSecond: rates.encodeCpuPerSourceSecond,
    splitSecondsPerSourceSecond: rates.splitSecondsPerSourceSecond,
    assemblySecondsPerOutputMb: rates.assemblySecondsPerOutputMb,
    outputBitsPerSecond: rates.outputBitsPerSecond,
  };
}

/** `videoforge bench --scaling`: measure the rates, run the model, print the table, draw the chart. */
export async function scalingBench(
  dir: string,
  opts: { seconds: number; png: string; log: (line: string) => void },
): Promise<string> {
  opts.log(`measuring per-chunk rates: traced videoforge encode of a ${opts.seconds} s 1080p clip…`);
  const rates = await measureRates(dir, opts.seconds);
  const inputs = inputsFrom(rates);
  const curves = scalingCurves(inputs, [600, 3600]);
  const chunkRows = rates.chunks.map((c) => [
    String(c.index),
    c.seconds.toFixed(2),
    c.wall.toFixed(2),
    (c.wall / c.seconds).toFixed(2),
    (c.cpu / c.seconds).toFixed(2),
  ]);
  const rows = curves.flatMap(({ duration, points }) =>
    points.map((p) => [
      `${duration / 60} min`,
      String(p.tasks),
      `${p.chunkSeconds} s`,
      String(p.chunks),
      String(p.waves),
      (p.latency / 60).toFixed(1),
      `${(points[0]!.latency / p.latency).toFixed(1)}×`,
      p.cost.toFixed(3),
    ]),
  );
  // time to playable at 20 tasks (prod's encoder cap): the lead on Lambda (today), on Fargate, and announced early
  const playableRows = [60, 600, 3600].map((duration) => {
    const p = bestChunk(inputs, duration, 20);
    return [
      `${duration / 60} min`,
      `${p.tasks}, ${p.chunkSeconds} s chunks`,
      p.playable.toFixed(0),
      p.playableOnFargate.toFixed(0),
      p.playableEarly.toFixed(0),
      (p.latency / 60).toFixed(1),
      `${p.cost.toFixed(3)} + ${p.leadCost.toFixed(4)}`,
    ];
  });
  // Lambda + Fargate routing as the chunker routes: chunks of at most LAMBDA_CHUNK_CPU_SECONDS on the encoder's Lambda
  const routingRows = [600, 3600].flatMap((duration) =>
    [20, 100, 200].map((tasks) => {
      const fargate = bestChunk(inputs, duration, tasks);
      const routed = bestChunk(inputs, duration, tasks, undefined, "by-cost");
      const cell = (q: typeof fargate) =>
        `${(q.latency / 60).toFixed(1)} min, ${q.chunkSeconds} s, $${q.cost.toFixed(3)}`;
      return [`${duration / 60} min`, String(tasks), cell(fargate), cell(routed)];
    }),
  );
  // the longest chunk of this source the chunker sends to Lambda
  const lambdaSeconds = LAMBDA_CHUNK_CPU_SECONDS / inputs.encodeCpuPerSourceSecond;
  const svg = scalingSvg(
    curves,
    "videoforge on Fargate (model): 1080p, 4-rung ladder, 2 vCPU tasks, one task per chunk",
  );
  await mkdir(dirname(opts.png), { recursive: true });
  await writeFile(join(dir, "scaling.svg"), svg);
  // playwright-core loads only here, when a chart is written
  const { svgToPng } = await import("./screenshot.ts");
  await svgToPng(svg, 980, 460, opts.png);
  return (
    `measured here (traced videoforge encode, ${rates.sourceSeconds.toFixed(0)} s 1080p30, 4-rung ladder, ` +
    `${new Date().toISOString().slice(0, 10)}):\n\n` +
    markdownTable(["chunk", "source s", "encode wall s", "wall s per source s", "CPU s per source s"], chunkRows) +
    `\nencode CPU per source second ${rates.encodeCpuPerSourceSecond.toFixed(2)}; ` +
    `split+audio ${rates.splitSecondsPerSourceSecond.toFixed(3)} s per source s; ` +
    `assembly (join, HLS, poster) ${rates.assemblySecondsPerOutputMb.toFixed(3)} s per output MB; ` +
    `output ${(rates.outputBitsPerSecond / 1e6).toFixed(1)} Mbit/s all rungs\n\n` +
    `model inputs: ${JSON.stringify(inputs)}\n\n` +
    markdownTable(
      ["source", "tasks", "best chunk", "chunks", "waves", "latency min", "speed-up vs 1 task", "Fargate USD"],
      rows,
    ) +
    `\ntime to playable (from the upload's completion), 1080p, the lead chunk ${inputs.leadSeconds} s; ` +
    "Mux's published median time to playable is 2.0 s under a minute and 9.0 s for 5–20 minutes:\n\n" +
    markdownTable(
      [
        "source",
        "tasks",
        "playable s, lead on Lambda (today)",
        "lead on Fargate",
        "announced when lead + audio are in",
        "complete min",
        "Fargate + lead Lambda USD",
      ],
      playableRows,
    ) +
    "\nLambda + Fargate routing, as the chunker routes: chunks estimated at most " +
    `${LAMBDA_CHUNK_CPU_SECONDS} CPU-seconds (${lambdaSeconds.toFixed(0)} s of this source) on the encoder's Lambda, ` +
    "heavier ones on tasks; " +
    "each cell: complete, best chunk, USD:\n\n" +
    markdownTable(["source", "workers", "all on Fargate (but the lead)", "light chunks on Lambda"], routingRows) +
    `\nchart: ${opts.png}\n`
  );
}
