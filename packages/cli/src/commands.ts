import { createWriteStream, readFileSync } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { clientSettings, FINAL_STATUSES, setLogSink, type JobSummary, type RungName } from "@videoforge/core";
import type { CreateUploadInput, FormatName } from "@videoforge/core/contract";
import type { CaptionsFile } from "./options.ts";
import { secureDataDir, startApiServer, startLocalCloud, type LocalCloud } from "@videoforge/local";
import { BUILD_WEB_COMMAND, dashboardBuilt } from "@videoforge/local/api-host";
import { apiClient, type ApiClient, type ChunkRow, type JobView } from "./api-client.ts";
import { downloadJob } from "./download.ts";
import { progressLine } from "./progress.ts";

/** Where a command finds a running `up`: its URL, the token, the data directory holding the token. */
export interface ApiOptions {
  api?: string;
  token?: string;
  dataDir?: string;
}

const apiUrl = (opts: ApiOptions) => opts.api ?? clientSettings().api ?? `http://127.0.0.1:${clientSettings().port}`;
export const dataDirOf = (opts: { dataDir?: string }) =>
  resolve(opts.dataDir ?? clientSettings().dataDir ?? ".videoforge");
/**
 * The API token: --token, VIDEOFORGE_TOKEN, the `videoforge login` token for this API (a
 * deployed one; renewed when it expires), or the one `up` stored in the data directory.
 */
function tokenFor(opts: ApiOptions): string | (() => Promise<string | undefined>) | undefined {
  const given = opts.token ?? clientSettings().token;
  if (given) return given;
  let local: string | undefined;
  try {
    local = readFileSync(join(dataDirOf(opts), "token"), "utf8").trim() || undefined;
  } catch {
    local = undefined;
  }
  return async () => (await (await import("./login.ts")).loginToken(apiUrl(opts))) ?? local;
}
export const clientFor = (opts: ApiOptions) => apiClient(apiUrl(opts), tokenFor(opts));

export interface UpOptions {
  port?: number;
  host: string;
  dataDir?: string;
  /** false with `--no-auth`. */
  auth: boolean;
  chunkSeconds?: number;
}

export async function up(opts: UpOptions): Promise<number> {
  const dir = dataDirOf(opts);
  // 0700, and everything written from here on (the log, the table, stored objects) 0600
  await secureDataDir(dir);
  const logFile = createWriteStream(join(dir, "videoforge.log.jsonl"), { flags: "a", mode: 0o600 });
  setLogSink((line) => logFile.write(line + "\n"));
  // the dashboard is served from web/dist, built by `npm start` (prestart); `up` never runs Vite
  if (!dashboardBuilt())
    console.error(`The dashboard is not built; the API runs without it. Build it with: ${BUILD_WEB_COMMAND}`);
  // `--chunk-seconds` reaches the pipeline as an option of the local cloud, which hands it to its workers
  const cloud = await startLocalCloud({
    dataDir: dir,
    chunkSeconds: opts.chunkSeconds,
    onTaskLog: (line) => logFile.write(line + "\n"),
  });
  const port = opts.port ?? clientSettings().port;
  const api = await startApiServer(cloud, { port, host: opts.host, auth: opts.auth ? "token" : "off" }).catch(
    async (err: Error) => {
      await cloud.stop();
      throw err;
    },
  );
  // the token is printed once, when it is made; later starts point at the file (the browser kept it)
  const access = cloud.auth.created
    ? `  dashboard: ${api.url}/#token=${cloud.auth.token}\n` +
      `  token: ${cloud.auth.token}  (shown once; kept in ${join(dir, "token")})\n`
    : `  dashboard: ${api.url}/  (token: the one in ${join(dir, "token")})\n`;
  // listening before saying so: a Ctrl-C right after the banner stops the cloud instead of killing the process
  const stopped = new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write(
    `videoforge is up: ${api.url}\n${access}  data: ${dir}\n  logs: ${join(dir, "videoforge.log.jsonl")}\n` +
      "  try:  npx videoforge submit my-video.mov --wait\n",
  );
  await stopped;
  process.stdout.write("stopping…\n");
  await api.stop();
  await cloud.stop();
  return 0;
}

/**
 * Follow a job until it ends, drawing progress on stderr. Against a remote API it polls; with the cloud in this
 * process (`encode`) it reads the job again only when one of its events is published, since every read of a job
 * (its chunks, its timeline) costs the embedded table CPU the encoders need: polling four times a second took
 * about 9 of the cloud process's 20 CPU-seconds on the quick bench. A slow poll stays as a safety net.
 */
async function waitFor(
  client: ApiClient,
  jobId: string,
  quiet: boolean,
  bus?: Pick<LocalCloud["bus"], "watch">,
): Promise<JobView> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = "";
  let wake: (() => void) | undefined;
  let changed = false;
  const unwatch = bus?.watch((envelope) => {
    if ((envelope.detail as { jobId?: unknown }).jobId !== jobId) return;
    changed = true;
    wake?.();
  });
  try {
    for (;;) {
      changed = false;
      const view = await client.job(jobId);
      const line = progressLine(view, started);
      if (!quiet && line !== last) {
        process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
        last = line;
      }
      if (FINAL_STATUSES.includes(view.job.status)) {
        if (!quiet && tty) process.stderr.write("\n");
        return view;
      }
      // with a bus: an event since the read, else the next one (at most one read per 250 ms either way)
      await new Promise((r) => setTimeout(r, 250));
      if (bus && !changed)
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 5000);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            r();
          };
        });
    }
  } finally {
    unwatch?.();
  }
}

async function mustExist(file: string): Promise<string> {
  try {
    await access(file);
  } catch {
    throw new Error(`no such file: ${file}`);
  }
  return resolve(file);
}

/** What a job is made of, as `encode` and `submit` take it (program.ts `jobOptions`). */
export interface JobChoices {
  ladder?: RungName[];
  formats?: FormatName[];
  posterAt?: number;
  trim?: { start?: number; end?: number };
  packaging?: "cmaf" | "ts";
  loudness?: number;
  targetSsim?: number;
  captions?: CaptionsFile[];
  watermark?: string;
  watermarkPosition?: WatermarkPosition;
}

/** The upload's options from the command line's choices: captions and watermark read from their files. */
async function uploadChoices(opts: JobChoices) {
  return {
    formats: opts.formats,
    posterAt: opts.posterAt,
    trim: opts.trim,
    packaging: opts.packaging,
    loudness: opts.loudness,
    targetSsim: opts.targetSsim,
    captions: await readCaptions(opts.captions),
    watermark: await readWatermark(opts.watermark, opts.watermarkPosition),
  };
}

export interface EncodeOptions extends JobChoices {
  out: string;
  json?: boolean;
  chunkSeconds?: number;
}

export async function encode(input: string, opts: EncodeOptions): Promise<number> {
  const file = await mustExist(input);
  const out = resolve(opts.out);
  const { ladder } = opts;
  const json = opts.json === true;
  await mkdir(out, { recursive: true });
  const logFile = createWriteStream(join(out, "videoforge.log.jsonl"));
  const writeLog = (line: string) => logFile.write(line + "\n");
  setLogSink(writeLog);
  const dir = await mkdtemp(join(clientSettings().dataDir ?? tmpdir(), "videoforge-encode-"));
  const started = Date.now();
  let cloud: LocalCloud | undefined;
  let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
  try {
    cloud = await startLocalCloud({ dataDir: dir, chunkSeconds: opts.chunkSeconds, onTaskLog: writeLog });
    api = await startApiServer(cloud, { port: 0 });
    const client = apiClient(api.url, cloud.auth.token);
    const { jobId } = await client.upload(file, ladder, await uploadChoices(opts));
    const view = await waitFor(client, jobId, json, cloud.bus);
    await cloud.bus.idle();
    const summary = await summarize(cloud, view, out, started);
    if (json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    else if (view.job.status === "COMPLETED") {
      process.stdout.write(`done in ${summary.timings.total.toFixed(1)} s → ${out}\n`);
      for (const o of summary.outputs)
        process.stdout.write(
          `  ${o.rendition.padEnd(6)} ${o.width}x${o.height}  ${o.frames} frames  ` +
            `${(o.bytes / 1e6).toFixed(1)} MB  ${o.path}\n`,
        );
      for (const a of summary.audio)
        process.stdout.write(
          `  ${a.format.padEnd(6)} ${a.duration.toFixed(1)} s  ${(a.bytes / 1e6).toFixed(1)} MB  ${a.path}\n`,
        );
      process.stdout.write(`  hls    ${summary.hls}\n  poster ${join(out, "poster.jpg")}\n`);
      if (summary.quality) process.stdout.write(qualityTable(summary.quality));
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
  const outputs: {
    rendition: string;
    format: string;
    path: string;
    width: number;
    height: number;
    frames: number;
    duration: number;
    bytes: number;
  }[] = [];
  if (job.status === "COMPLETED") {
    for (const obj of await cloud.deps.store.list(bucket, prefix)) {
      const target = join(out, obj.key.slice(prefix.length));
      await mkdir(dirname(target), { recursive: true });
      await cloud.deps.store.download(bucket, obj.key, target);
    }
    for (const o of job.outputs) {
      outputs.push({
        rendition: o.rendition,
        format: o.format,
        path: join(out, basename(o.key)),
        width: o.width,
        height: o.height,
        frames: o.frames,
        duration: o.duration,
        bytes: o.bytes,
      });
    }
  }
  return {
    jobId: job.jobId,
    status: job.status,
    error: job.error,
    source: job.source && {
      frames: job.source.frames,
      duration: job.source.duration,
      width: job.source.width,
      height: job.source.height,
      fps: job.source.fps,
    },
    outputs,
    audio: job.audio.map((a) => ({ ...a, path: join(out, basename(a.key)) })),
    hls: job.status === "COMPLETED" ? join(out, "hls", "master.m3u8") : null,
    poster: job.status === "COMPLETED" ? join(out, "poster.jpg") : null,
    quality: job.targetSsim === null ? null : reachedQuality(job.targetSsim, view.chunks),
    timings: {
      total: (Date.now() - started) / 1000,
      chunking: job.timings.chunking,
      encoding: job.timings.encoding,
      assembly: job.timings.assembly,
      playable: job.timings.playable,
      completed: job.timings.completed,
    },
  };
}

/** A targeted job's chunks: each rung's CRF, SSIM and bitrate, in the order they play. */
export function reachedQuality(target: number, chunks: readonly ChunkRow[]) {
  const rows = [...chunks]
    .sort((a, b) => a.index - b.index)
    .map((c) => ({
      index: c.index,
      codec: c.codec ?? "h264",
      start: c.startTime,
      duration: c.duration,
      startFrame: c.startFrame,
      frames: c.frames,
      rungs: (c.outputs ?? []).flatMap(({ rendition, bytes, quality }) =>
        quality
          ? [{ rendition, ...quality, bytes, kbps: Math.round((bytes * 8) / Math.max(c.duration, 1e-3) / 1000) }]
          : [],
      ),
    }));
  const rungs = rows.flatMap((r) => r.rungs);
  return {
    target,
    chunks: rows,
    minSsim: rungs.length ? Math.min(...rungs.map((r) => r.ssim)) : null,
    bytes: rungs.reduce((sum, r) => sum + r.bytes, 0),
    probes: rungs.reduce((sum, r) => sum + r.probes, 0),
  };
}

function qualityTable(q: ReturnType<typeof reachedQuality>): string {
  const lines = [`  target SSIM ${q.target}: lowest reached ${q.minSsim?.toFixed(4) ?? "—"}, ${q.probes} encodes`];
  for (const c of q.chunks)
    lines.push(
      `  chunk ${String(c.index).padStart(3)} ${c.start.toFixed(1).padStart(6)} s  ` +
        c.rungs.map((r) => `${r.rendition} crf ${r.crf} ssim ${r.ssim.toFixed(4)} ${r.kbps} kb/s`).join("  "),
    );
  return lines.join("\n") + "\n";
}

export interface SubmitOptions extends ApiOptions, JobChoices {
  wait?: boolean;
  /** Download the outputs here once the job completes (implies waiting). */
  out?: string;
}

export async function submit(input: string, opts: SubmitOptions): Promise<number> {
  const client = clientFor(opts);
  // a URL is fetched by the platform itself; anything else is a file here, uploaded in parts
  const { jobId } = /^https?:\/\//i.test(input)
    ? await client.importUrl({
        url: input,
        ...(opts.ladder ? { ladder: opts.ladder } : {}),
        ...(await uploadChoices(opts)),
      })
    : await client.upload(await mustExist(input), opts.ladder, {
        ...(await uploadChoices(opts)),
        onProgress: (sent, total) =>
          process.stderr.isTTY && process.stderr.write(`\ruploading ${Math.round((sent / total) * 100)}%\x1b[K`),
      });
  process.stdout.write(`${jobId}\n`);
  if (!opts.wait && !opts.out) return 0;
  const view = await waitFor(client, jobId, false);
  if (view.job.status !== "COMPLETED") {
    process.stderr.write(`job ${jobId} ${view.job.status}: ${view.job.error?.reason ?? ""}\n`);
    return 1;
  }
  if (opts.out) await downloadOutputs(client, jobId, resolve(opts.out));
  return 0;
}

/** `videoforge download JOB --out DIR`: every output of a finished job, through the API's URLs. */
export async function download(jobId: string, opts: ApiOptions & { out: string }): Promise<number> {
  await downloadOutputs(clientFor(opts), jobId, resolve(opts.out));
  return 0;
}

async function downloadOutputs(client: ApiClient, jobId: string, out: string) {
  const files = await downloadJob(client, jobId, out);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  process.stderr.write(`downloaded ${files.length} files (${(bytes / 1e6).toFixed(1)} MB) to ${out}\n`);
}

export async function jobs(opts: ApiOptions): Promise<number> {
  const { jobs } = await clientFor(opts).jobs();
  const rows = jobs.map((j: JobSummary) =>
    [
      j.jobId,
      j.status.padEnd(10),
      `${j.chunksEncoded}/${j.chunkCount ?? "?"}`.padEnd(7),
      j.source ? `${j.source.width}x${j.source.height} ${j.source.duration.toFixed(1)}s` : "-",
      new Date(j.createdAt).toISOString(),
      j.name,
    ].join("  "),
  );
  process.stdout.write((rows.length ? rows.join("\n") : "no jobs yet") + "\n");
  return 0;
}

export async function events(jobId: string, opts: ApiOptions): Promise<number> {
  const client = clientFor(opts);
  const view = await client.job(jobId);
  // a job of thousands of chunks has thousands of events: the rest come a page at a time
  const timeline = [...view.timeline];
  for (let next = view.timelineNext; next; ) {
    const page = await client.timeline(jobId, next);
    timeline.push(...page.timeline);
    next = page.next;
  }
  const t0 = timeline[0] ? Date.parse(timeline[0].at) : 0;
  process.stdout.write(`${view.job.jobId}  ${view.job.status}  ${view.job.name}\n`);
  for (const e of timeline) {
    const offset = ((Date.parse(e.at) - t0) / 1000).toFixed(3).padStart(9);
    const chunk = e.chunk !== undefined ? ` chunk ${e.chunk}` : "";
    const extra = typeof e.detail?.reason === "string" ? `  ${e.detail.reason.split("\n")[0]}` : "";
    process.stdout.write(`+${offset}s  ${e.type}${chunk}${extra}\n`);
  }
  if (view.job.error) process.stdout.write(`failed (${view.job.error.stage}): ${view.job.error.reason}\n`);
  return 0;
}

/** The captions files named on the command line, read as text (the API parses them and names a bad line). */
async function readCaptions(files: CaptionsFile[] = []) {
  return Promise.all(
    files.map(async (c) => ({
      language: c.language,
      format: c.format,
      text: await readFile(await mustExist(c.file), "utf8"),
    })),
  );
}

type WatermarkPosition = NonNullable<CreateUploadInput["watermark"]>["position"];

/** The watermark image named on the command line, sent base64 (the API checks what it is). */
async function readWatermark(file: string | undefined, position: WatermarkPosition | undefined) {
  if (!file) return undefined;
  const image = (await readFile(await mustExist(file))).toString("base64");
  return { image, ...(position ? { position } : {}) };
}
