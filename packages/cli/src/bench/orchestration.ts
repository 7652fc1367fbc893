import { cpus } from "node:os";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { Subscription } from "@videoforge/events";
import { createClients, createLogger, FINAL_STATUSES, loadConfig } from "@videoforge/core";
import { createLocalBus, deadLetterStore } from "@videoforge/local";
import { startEventsEndpoint } from "@videoforge/local/bus";
import { apiClient } from "../api-client.ts";
import { CLI_BIN } from "./compare.ts";
import { percentile, runMeasured, spawnMeasured, spread, type Spread } from "./measure.ts";
import { generateSource } from "./source.ts";
import { fmtSpread, markdownTable } from "./table.ts";
import { busySeconds, readTrace, traceEnv, type TracedRun } from "./trace.ts";

const BENCH_SOURCE = "videoforge.bench";

/** A rule that matches only the bench's events; its target does nothing but note the time. */
const noop: Subscription = {
  name: "bench-noop",
  handler: "recorder",
  runtime: "lambda",
  events: [],
  pattern: { source: [BENCH_SOURCE] },
  retry: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
  deadLetter: "bench-noop-dlq",
};

export interface BusFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sequential: number;
  eventsPerSecond: number;
  burst: number;
}

/**
 * The local bus behind its real PutEvents endpoint, published to with the real EventBridge
 * client: latency from send to the handler starting, one event at a time; then a burst of
 * batches of 10 with 8 requests in flight, until the last handler ran.
 */
export async function busFigures(dir: string, opts: { sequential: number; burst: number }): Promise<BusFigures> {
  const handled = new Map<number, number>();
  let onHandled: (() => void) | undefined;
  const bus = createLocalBus({
    topology: [noop],
    dlq: deadLetterStore(join(dir, "dlq")),
    log: createLogger({ component: "bench-bus" }),
    deliver: async (_sub, envelope) => {
      handled.set((envelope.detail as { seq: number }).seq, performance.now());
      onHandled?.();
    },
  });
  const endpoint = await startEventsEndpoint(bus);
  const { events: client } = createClients(
    loadConfig({ VIDEOFORGE_LOCAL: "1", VIDEOFORGE_EVENTS_ENDPOINT: endpoint.endpoint }),
  );
  const entry = (seq: number) => ({
    Source: BENCH_SOURCE,
    DetailType: "BenchPing",
    Detail: JSON.stringify({ seq }),
    EventBusName: "videoforge",
  });
  try {
    // warm-up: connection, signing, JIT
    for (let i = 0; i < 50; i++) await client.send(new PutEventsCommand({ Entries: [entry(-1 - i)] }));
    const latencies: number[] = [];
    for (let seq = 0; seq < opts.sequential; seq++) {
      const t0 = performance.now();
      await client.send(new PutEventsCommand({ Entries: [entry(seq)] }));
      latencies.push(handled.get(seq)! - t0);
    }
    handled.clear();
    const base = 1_000_000;
    const allHandled = new Promise<void>((resolve) => (onHandled = () => handled.size >= opts.burst && resolve()));
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < opts.burst) {
        const from = next;
        next = Math.min(opts.burst, next + 10);
        const res = await client.send(
          new PutEventsCommand({ Entries: Array.from({ length: next - from }, (_, i) => entry(base + from + i)) }),
        );
        if (res.FailedEntryCount) throw new Error(`PutEvents refused ${res.FailedEntryCount} entries`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await allHandled;
    const seconds = (performance.now() - t0) / 1000;
    return {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      sequential: opts.sequential,
      eventsPerSecond: opts.burst / seconds,
      burst: opts.burst,
    };
  } finally {
    client.destroy();
    bus.close();
    await endpoint.stop();
  }
}

export interface OverheadFigures {
  wall: Spread;
  ffmpegBusy: Spread;
  overhead: Spread;
  runs: number;
  byKind: Record<string, { runs: number; wall: number; cpu: number }>;
}

/** Sum of wall and CPU seconds per kind of ffmpeg work. */
export function byKind(runs: readonly TracedRun[]): Record<string, { runs: number; wall: number; cpu: number }> {
  const out: Record<string, { runs: number; wall: number; cpu: number }> = {};
  for (const r of runs) {
    const k = (out[r.kind] ??= { runs: 0, wall: 0, cpu: 0 });
    k.runs++;
    k.wall += r.wall;
    k.cpu += r.cpu;
  }
  return out;
}

/**
 * The pipeline's fixed cost: `videoforge encode` of a short clip, minus the time during
 * which at least one ffmpeg/ffprobe was running (the -version checks count as overhead).
 */
export async function fixedOverhead(dir: string, opts: { seconds: number; reps: number }): Promise<OverheadFigures> {
  const source = await generateSource(dir, { seconds: opts.seconds, name: `overhead-${opts.seconds}s.mp4` });
  const walls: number[] = [];
  const busy: number[] = [];
  let last: TracedRun[] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    const traceDir = join(dir, `trace-${rep}`);
    await mkdir(traceDir, { recursive: true });
    const trace = await traceEnv(traceDir);
    const m = await runMeasured(
      process.execPath,
      [CLI_BIN, "encode", source, "--out", join(traceDir, "out"), "--json"],
      { env: trace.env, timeoutMs: 300_000 },
    );
    if (m.code !== 0) throw new Error(`videoforge encode exited ${m.code}: ${m.stderrTail.slice(-1000)}`);
    last = (await readTrace(trace.file)).filter((r) => r.kind !== "version");
    walls.push(m.wall);
    busy.push(busySeconds(last));
  }
  return {
    wall: spread(walls),
    ffmpegBusy: spread(busy),
    overhead: spread(walls.map((w, i) => w - busy[i]!)),
    runs: last.length,
    byKind: byKind(last),
  };
}

export interface ManyJobsFigures {
  jobs: number;
  completed: number;
  wall: number;
  ffmpegWall: number;
  ffmpegCpu: number;
  cores: number;
  treeCpu: number;
  peakRssMb: number;
}

/**
 * `jobs` small jobs submitted at once to one `videoforge up`: all must complete; total
 * wall time against the ffmpeg work they needed spread over every core.
 */
export async function manyJobs(
  dir: string,
  opts: { jobs: number; log: (line: string) => void },
): Promise<ManyJobsFigures> {
  const source = await generateSource(dir, { seconds: 2, width: 640, height: 360, name: "small-2s-360p.mp4" });
  const traceDir = join(dir, "trace-many");
  await mkdir(traceDir, { recursive: true });
  const trace = await traceEnv(traceDir);
  const dataDir = join(dir, "data-many");
  // one user submits all 50: lift the per-user limit on jobs in progress (20 by default) for this run
  const up = spawnMeasured(process.execPath, [CLI_BIN, "up", "--port", "0", "--data-dir", dataDir], {
    env: { ...trace.env, VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER: "100" },
    timeoutMs: 900_000,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      up.onLine((line) => {
        const m = /is up: (https?:\/\/[\d.]+:\d+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      void up.done.then((m) => reject(new Error(`videoforge up exited ${m.code}: ${m.stderrTail.slice(-1000)}`)));
    });
    // a token when the API asks for one (written by `up` into its data directory)
    const token = await readFile(join(dataDir, "token"), "utf8").then(
      (t) => t.trim(),
      () => undefined,
    );
    const client = apiClient(url, token);
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: opts.jobs }, () => client.upload(source, ["360p"]).then((r) => r.jobId)),
    );
    opts.log(`${ids.length} jobs submitted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let ended: { jobId: string; status: string }[] = [];
    for (;;) {
      const { jobs } = await client.jobs();
      ended = jobs.filter((j) => ids.includes(j.jobId) && FINAL_STATUSES.includes(j.status));
      if (ended.length === ids.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const wall = (performance.now() - t0) / 1000;
    up.kill("SIGINT");
    const m = await up.done;
    const runs = (await readTrace(trace.file)).filter((r) => r.kind !== "version");
    return {
      jobs: ids.length,
      completed: ended.filter((j) => j.status === "COMPLETED").length,
      wall,
      ffmpegWall: runs.reduce((s, r) => s + r.wall, 0),
      ffmpegCpu: runs.reduce((s, r) => s + r.cpu, 0),
      cores: cpus().length,
      treeCpu: m.cpu,
      peakRssMb: m.maxRssMb,
    };
  } finally {
    up.kill("SIGKILL");
  }
}

/** `videoforge bench --orchestration`: every figure, then one table. */
export async function orchestrationBench(dir: string, log: (line: string) => void): Promise<string> {
  log("bus: dispatch latency and rate through PutEvents…");
  const bus = await busFigures(dir, { sequential: 2000, burst: 20_000 });
  log("fixed overhead: videoforge encode of a 2 s 1080p clip, ffmpeg runs traced…");
  const over = await fixedOverhead(dir, { seconds: 2, reps: 3 });
  log("50 small jobs at once on one local cloud…");
  const many = await manyJobs(dir, { jobs: 50, log });
  const kinds = Object.entries(over.byKind)
    .map(([k, v]) => `${k} ${v.runs}× ${v.wall.toFixed(2)} s`)
    .join(", ");
  const ideal = many.ffmpegCpu / many.cores;
  const rows = [
    [
      "bus dispatch latency, PutEvents → handler (p50 / p99 / max)",
      `${bus.p50Ms.toFixed(2)} / ${bus.p99Ms.toFixed(2)} / ${bus.maxMs.toFixed(2)} ms`,
      `${bus.sequential} events one at a time, real EventBridge client`,
    ],
    [
      "bus throughput",
      `${Math.round(bus.eventsPerSecond)} events/s`,
      `${bus.burst} events, batches of 10, 8 requests in flight, until the last handler ran`,
    ],
    [
      "`videoforge encode`, 2 s 1080p clip, wall (median, min–max)",
      `${fmtSpread(over.wall)} s`,
      "3 runs, ffmpeg traced",
    ],
    ["  time some ffmpeg/ffprobe was running", `${fmtSpread(over.ffmpegBusy)} s`, `${over.runs} runs: ${kinds}`],
    [
      "  fixed overhead (wall − ffmpeg busy)",
      `${fmtSpread(over.overhead)} s`,
      "local cloud start, upload, events, task starts, S3 copies, polling",
    ],
    [
      `${many.jobs} small jobs at once (2 s 360p each): completed`,
      `${many.completed}/${many.jobs}`,
      "one `videoforge up`",
    ],
    ["  total wall time", `${many.wall.toFixed(1)} s`, "first upload to last job ended"],
    [
      "  Σ ffmpeg wall / Σ ffmpeg CPU",
      `${many.ffmpegWall.toFixed(1)} s / ${many.ffmpegCpu.toFixed(1)} s`,
      "every ffmpeg/ffprobe run of every job",
    ],
    ["  ideal (Σ ffmpeg CPU / cores)", `${ideal.toFixed(1)} s`, `${many.cores} cores`],
    [
      "  wall / ideal",
      (many.wall / ideal).toFixed(2),
      `whole tree CPU ${many.treeCpu.toFixed(1)} s, peak RSS ${many.peakRssMb.toFixed(0)} MB`,
    ],
  ];
  return (
    markdownTable(["orchestration", "figure", "how"], rows) +
    `\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores\n`
  );
}
