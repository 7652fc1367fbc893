import { createWriteStream, readFileSync } from "node:fs";
import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseLadder, setLogSink, type JobSummary } from "@videoforge/core";
import { startApiServer, startLocalCloud, type LocalCloud } from "@videoforge/local";
import { ensureWebBuilt } from "@videoforge/local/web-assets";
import { apiClient, type ApiClient, type JobView } from "./api-client.ts";
import { progressLine } from "./progress.ts";
import { dlqCommand, usersCommand } from "./admin-commands.ts";
import { bench, type BenchOptions } from "./bench.ts";

export const usage = `videoforge — chunk-parallel video encoding on an event-driven local cloud

  videoforge up [--port 8080] [--host 127.0.0.1] [--data-dir .videoforge] [--no-auth]
      start the local cloud (DynamoDB, S3, event bus, workers) and the HTTP API
  videoforge encode FILE --out DIR [--ladder 1080p,720p,480p,360p] [--json]
      process one file end to end on an embedded local cloud and write the outputs to DIR
  videoforge submit FILE [--api URL] [--ladder ...] [--wait]
  videoforge dlq list|redrive ID|redrive --all [--api URL]
      the dead-letter store of a running \`up\`: what ran out of retries, and put it back
  videoforge users add NAME [--data-dir DIR]
      another local user with its own token (printed once); each user sees only their jobs
  videoforge jobs [--api URL]
  videoforge events JOB [--api URL]
  videoforge bench [--size quick|full] [--seconds N] [--reps 3] [--source FILE] [--chunk-seconds N] [--keep DIR]
      the pipeline against one plain ffmpeg command making the same outputs (MP4s, HLS, poster):
      wall time, CPU, peak memory, SSIM, sizes; exits 1 when the pipeline's outputs are not frame-exact
  videoforge bench --orchestration    bus dispatch latency and rate, fixed overhead, 50 jobs at once
  videoforge bench --memory           peak RSS of every process for a ~2 GB upload and a long source
  videoforge bench --scaling [--png docs/scaling.png]   the Fargate latency/cost model
`;

type Flags = { [k: string]: string | boolean | undefined };
const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);
const apiUrl = (flags: Flags) => str(flags.api) ?? process.env.VIDEOFORGE_API ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
/** The API token: --token, VIDEOFORGE_TOKEN, or the one `up` stored in the data directory. */
function tokenFor(flags: Flags): string | undefined {
  const given = str(flags.token) ?? process.env.VIDEOFORGE_TOKEN;
  if (given) return given;
  try {
    return readFileSync(join(dataDir(flags), "token"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
const clientFor = (flags: Flags) => apiClient(apiUrl(flags), tokenFor(flags));
const dataDir = (flags: Flags) => resolve(str(flags["data-dir"]) ?? process.env.VIDEOFORGE_DATA_DIR ?? ".videoforge");

export async function runCommand(command: string, args: string[], flags: Flags): Promise<number> {
  if (str(flags["chunk-seconds"])) process.env.VIDEOFORGE_CHUNK_SECONDS = str(flags["chunk-seconds"]);
  switch (command) {
    case "up":
      return up(flags);
    case "encode":
      return encode(args, flags);
    case "submit":
      return submit(args, flags);
    case "jobs":
      return jobs(flags);
    case "events":
      return events(args, flags);
    case "dlq":
      return dlqCommand(args, flags.all === true, clientFor(flags));
    case "users":
      return usersCommand(args, dataDir(flags));
    case "bench":
      return bench(benchOptions(flags));
    default:
      throw new Error(`unknown command "${command}"\n${usage}`);
  }
}

/** `bench` flags: one mode at most, then the sizes and repetitions. */
function benchOptions(flags: Flags): BenchOptions {
  const modes = (["orchestration", "memory", "scaling"] as const).filter((m) => flags[m] === true);
  if (modes.length > 1) throw new Error(`choose one of --${modes.join(", --")}`);
  const num = (name: string) => (str(flags[name]) === undefined ? undefined : Number(str(flags[name])));
  return {
    mode: modes[0] ?? "compare",
    size: str(flags.size) as BenchOptions["size"],
    seconds: num("seconds"),
    reps: num("reps"),
    source: str(flags.source) ? resolve(str(flags.source)!) : undefined,
    chunkSeconds: num("chunk-seconds"),
    keep: str(flags.keep),
    png: str(flags.png),
  };
}

async function up(flags: Flags): Promise<number> {
  const dir = dataDir(flags);
  await mkdir(dir, { recursive: true });
  const logFile = createWriteStream(join(dir, "videoforge.log.jsonl"), { flags: "a" });
  setLogSink((line) => logFile.write(line + "\n"));
  // the dashboard is served from web/dist: (re)build it when missing or older than web/src
  await ensureWebBuilt();
  const cloud = await startLocalCloud({ dataDir: dir, onTaskLog: (line) => logFile.write(line + "\n") });
  const port = Number(str(flags.port) ?? process.env.PORT ?? 8080);
  const api = await startApiServer(cloud, { port, host: str(flags.host) ?? "127.0.0.1", auth: flags["no-auth"] === true ? "off" : "token" }).catch(async (err: Error) => {
    await cloud.stop();
    throw err;
  });
  // the token is printed once, when it is made; later starts point at the file (the browser kept it)
  const access = cloud.auth.created
    ? `  dashboard: ${api.url}/?token=${cloud.auth.token}\n  token: ${cloud.auth.token}  (shown once; kept in ${join(dir, "token")})\n`
    : `  dashboard: ${api.url}/  (token: the one in ${join(dir, "token")})\n`;
  process.stdout.write(`videoforge is up: ${api.url}\n${access}  data: ${dir}\n  logs: ${join(dir, "videoforge.log.jsonl")}\n  try:  npx videoforge submit my-video.mov --wait\n`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write("stopping…\n");
  await api.stop();
  await cloud.stop();
  return 0;
}

/** Poll a job until it ends, drawing progress on stderr. */
async function waitFor(client: ApiClient, jobId: string, quiet: boolean): Promise<JobView> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = "";
  for (;;) {
    const view = await client.job(jobId);
    const line = progressLine(view, started);
    if (!quiet && line !== last) {
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      last = line;
    }
    if (["COMPLETED", "FAILED", "CANCELLED"].includes(view.job.status)) {
      if (!quiet && tty) process.stderr.write("\n");
      return view;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function mustExist(file: string | undefined): Promise<string> {
  if (!file) throw new Error("name a video file");
  try {
    await access(file);
  } catch {
    throw new Error(`no such file: ${file}`);
  }
  return resolve(file);
}

async function encode(args: string[], flags: Flags): Promise<number> {
  const file = await mustExist(args[0]);
  const out = resolve(str(flags.out) ?? "out");
  const ladder = str(flags.ladder) ? parseLadder(str(flags.ladder)!) : undefined;
  const json = flags.json === true;
  await mkdir(out, { recursive: true });
  const logFile = createWriteStream(join(out, "videoforge.log.jsonl"));
  const writeLog = (line: string) => logFile.write(line + "\n");
  setLogSink(writeLog);
  const dir = await mkdtemp(join(process.env.VIDEOFORGE_DATA_DIR ?? tmpdir(), "videoforge-encode-"));
  const started = Date.now();
  let cloud: LocalCloud | undefined;
  let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
  try {
    cloud = await startLocalCloud({ dataDir: dir, onTaskLog: writeLog });
    api = await startApiServer(cloud, { port: 0 });
    const client = apiClient(api.url, cloud.auth.token);
    const { jobId } = await client.upload(file, ladder);
    const view = await waitFor(client, jobId, json);
    await cloud.bus.idle();
    const summary = await summarize(cloud, view, out, started);
    if (json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    else if (view.job.status === "COMPLETED") {
      process.stdout.write(`done in ${summary.timings.total.toFixed(1)} s → ${out}\n`);
      for (const o of summary.outputs) process.stdout.write(`  ${o.rendition.padEnd(6)} ${o.width}x${o.height}  ${o.frames} frames  ${(o.bytes / 1e6).toFixed(1)} MB  ${o.path}\n`);
      process.stdout.write(`  hls    ${summary.hls}\n  poster ${join(out, "poster.jpg")}\n`);
    }
    if (view.job.status !== "COMPLETED") {
      process.stderr.write(`job ${jobId} ${view.job.status}: ${view.job.error?.reason ?? "no reason recorded"}\n`);
      return 1;
    }
    return 0;
  } finally {
    await api?.stop();
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
    logFile.end();
  }
}

/** Download the job's outputs from the outputs bucket and describe them. */
async function summarize(cloud: LocalCloud, view: JobView, out: string, started: number) {
  const { job } = view;
  const bucket = cloud.cfg.buckets.outputs;
  const prefix = `jobs/${job.jobId}/`;
  const outputs: { rendition: string; path: string; width: number; height: number; frames: number; duration: number; bytes: number }[] = [];
  if (job.status === "COMPLETED") {
    for (const obj of await cloud.deps.store.list(bucket, prefix)) {
      const target = join(out, obj.key.slice(prefix.length));
      await mkdir(dirname(target), { recursive: true });
      await cloud.deps.store.download(bucket, obj.key, target);
    }
    for (const o of job.outputs as { rendition: string; width: number; height: number; frames: number; duration: number; bytes: number }[]) {
      outputs.push({ rendition: o.rendition, path: join(out, `${o.rendition}.mp4`), width: o.width, height: o.height, frames: o.frames, duration: o.duration, bytes: o.bytes });
    }
  }
  return {
    jobId: job.jobId,
    status: job.status,
    error: job.error,
    source: job.source && { frames: job.source.frames, duration: job.source.duration, width: job.source.width, height: job.source.height, fps: job.source.fps },
    outputs,
    hls: job.status === "COMPLETED" ? join(out, "hls", "master.m3u8") : null,
    poster: job.status === "COMPLETED" ? join(out, "poster.jpg") : null,
    timings: { total: (Date.now() - started) / 1000, chunking: job.timings.chunking, encoding: job.timings.encoding, assembly: job.timings.assembly },
  };
}

async function submit(args: string[], flags: Flags): Promise<number> {
  const file = await mustExist(args[0]);
  const client = clientFor(flags);
  const ladder = str(flags.ladder) ? parseLadder(str(flags.ladder)!) : undefined;
  const { jobId } = await client.upload(file, ladder, (sent, total) => process.stderr.isTTY && process.stderr.write(`\ruploading ${Math.round((sent / total) * 100)}%\x1b[K`));
  process.stdout.write(`${jobId}\n`);
  if (!flags.wait) return 0;
  const view = await waitFor(client, jobId, false);
  if (view.job.status !== "COMPLETED") {
    process.stderr.write(`job ${jobId} ${view.job.status}: ${view.job.error?.reason ?? ""}\n`);
    return 1;
  }
  return 0;
}

async function jobs(flags: Flags): Promise<number> {
  const { jobs } = await clientFor(flags).jobs();
  const rows = jobs.map((j: JobSummary) =>
    [j.jobId, j.status.padEnd(10), `${j.chunksEncoded}/${j.chunkCount ?? "?"}`.padEnd(7), j.source ? `${j.source.width}x${j.source.height} ${j.source.duration.toFixed(1)}s` : "-", new Date(j.createdAt).toISOString(), j.name].join("  "),
  );
  process.stdout.write((rows.length ? rows.join("\n") : "no jobs yet") + "\n");
  return 0;
}

async function events(args: string[], flags: Flags): Promise<number> {
  if (!args[0]) throw new Error("name a job id (see `videoforge jobs`)");
  const view = await clientFor(flags).job(args[0]);
  const t0 = view.timeline[0] ? Date.parse(view.timeline[0].at) : 0;
  process.stdout.write(`${view.job.jobId}  ${view.job.status}  ${view.job.name}\n`);
  for (const e of view.timeline) {
    const offset = ((Date.parse(e.at) - t0) / 1000).toFixed(3).padStart(9);
    const chunk = e.chunk !== undefined ? ` chunk ${e.chunk}` : "";
    const extra = typeof e.detail.reason === "string" ? `  ${e.detail.reason.split("\n")[0]}` : "";
    process.stdout.write(`+${offset}s  ${e.type}${chunk}${extra}\n`);
  }
  if (view.job.error) process.stdout.write(`failed (${view.job.error.stage}): ${view.job.error.reason}\n`);
  return 0;
}
