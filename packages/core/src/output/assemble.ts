import { join } from "node:path";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { makeEvent, Rendition, type EventDetail, type FinalOutput } from "@videoforge/events";
import { z } from "zod";
import type { JobItem } from "../db/index.ts";
import { FfmpegError, firstLine } from "../ffmpeg/run.ts";
import { assembleArgs, hlsArgs, posterArgs } from "../ffmpeg/args.ts";
import { measureOutput, SourceInfo } from "../media/probe.ts";
import { failJob, getJob, isFinal, transition } from "../job/lifecycle.ts";
import { keys, withScratch, type Deps } from "../deps.ts";

const HLS_SEGMENT_SECONDS = 6;

/**
 * ChunksEncoded → per rung: join the encoded chunks by stream copy, mux the audio,
 * package HLS; then the master playlist and a poster. The outputs are recorded once
 * (`assembledAt`); VideoAssembled is announced from that record whenever it exists, so a
 * redelivery after a failed publish announces it instead of finding "nothing to assemble".
 * `work` is the media part (real ffmpeg by default; the fault matrix injects a stand-in).
 */
export async function assembleJob(
  deps: Deps,
  event: EventDetail<"ChunksEncoded">,
  work: AssembleWork = assembleMedia,
): Promise<void> {
  const { jobId } = event;
  const log = deps.log.child({ jobId });
  const job = await getJob(deps, jobId);
  if (!job || isFinal(job.status)) return log.info("nothing to assemble", { status: job?.status });
  if (job.assembledAt !== undefined) {
    log.info("already assembled; announcing it again");
    return void (await announceAssembled(deps, job));
  }
  if (job.status !== "ENCODING" && job.status !== "ASSEMBLING")
    return log.info("not ready to assemble", { status: job.status });
  await transition(deps, jobId, ["ENCODING", "ASSEMBLING"], "ASSEMBLING");
  const plan: AssemblyPlan = {
    jobId,
    renditions: z.array(Rendition).parse(job.renditions),
    source: SourceInfo.parse(job.source),
    chunkCount: job.chunkCount ?? event.chunkCount,
    hasAudio: (await deps.store.head(deps.cfg.buckets.work, keys.audio(jobId))) !== null,
  };
  const result = await work(deps, plan).catch((err: unknown) => {
    // ffmpeg refusing these chunks will refuse them again: fail the job rather than retry
    if (err instanceof FfmpegError)
      return failJob(deps, jobId, "assembly", `Joining the encoded chunks failed: ${firstLine(err)}`).then(() => null);
    throw err;
  });
  if (!result) return;
  const after = await deps.jobs.recordAssembly(jobId, result);
  await announceAssembled(deps, after);
}

/** VideoAssembled from the stored record, while the job is ASSEMBLING (the finisher has not ended it). */
export async function announceAssembled(deps: Pick<Deps, "events" | "cfg">, job: JobItem): Promise<boolean> {
  if (job.status !== "ASSEMBLING" || job.assembledAt === undefined || !job.hls || !job.poster) return false;
  // the record was written from a validated result; makeEvent validates it again on publish
  const outputs = job.outputs as FinalOutput[];
  await deps.events.publish(
    makeEvent("VideoAssembled", {
      jobId: job.jobId,
      bucket: deps.cfg.buckets.outputs,
      outputs,
      hls: job.hls,
      poster: job.poster,
    }),
  );
  return true;
}

export type AssemblyResult = { outputs: FinalOutput[]; hls: string; poster: string };
/** The media part of assembly: every output made and stored. */
export type AssembleWork = (deps: Deps, plan: AssemblyPlan) => Promise<AssemblyResult>;

/** Real assembly in a scratch folder that is removed afterwards. */
export const assembleMedia: AssembleWork = (deps, plan) => withScratch(deps.cfg, (dir) => assembleIn(deps, dir, plan));

export interface AssemblyPlan {
  jobId: string;
  renditions: Rendition[];
  source: SourceInfo;
  chunkCount: number;
  hasAudio: boolean;
}

/** The assembly's work in one scratch folder: MP4 per rung, HLS, master playlist, poster, all stored. */
async function assembleIn(deps: Deps, dir: string, plan: AssemblyPlan) {
  const { jobId, renditions, source, chunkCount } = plan;
  const work = deps.cfg.buckets.work;
  const out = deps.cfg.buckets.outputs;
  const audio = plan.hasAudio ? join(dir, "audio.m4a") : null;
  if (audio) await deps.store.download(work, keys.audio(jobId), audio);
  const hlsDir = join(dir, "hls");
  const hlsPrefix = keys.hlsDir(jobId);
  const uploadHls = (rel: string) =>
    deps.store.upload(
      out,
      `${hlsPrefix}/${rel}`,
      join(hlsDir, rel),
      rel.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp2t",
    );

  // rungs side by side: each step is a remux or a transfer, bound by I/O more than CPU
  const outputs = await mapLimit(renditions, RUNGS_AT_ONCE, async (r): Promise<FinalOutput> => {
    const parts = Array.from({ length: chunkCount }, (_, i) => join(dir, `${r.name}_${String(i).padStart(5, "0")}.ts`));
    await mapLimit(parts, TRANSFERS_AT_ONCE, (file, i) =>
      deps.store.download(work, keys.encoded(keys.encodedPrefix(jobId), r.name, i), file),
    );
    const mp4 = join(dir, `${r.name}.mp4`);
    // MPEG-TS concatenates byte-wise; the chunks carry source timestamps so none are rewritten
    const args = assembleArgs(
      `concat:${parts.join("|")}`,
      audio,
      mp4,
      source.video.lastFrameDuration,
      deps.ffmpeg.capabilities,
    );
    await deps.ffmpeg.run(args, { timeoutMs: deps.cfg.ffmpegTimeoutMs });
    await Promise.all(parts.map((f) => rm(f, { force: true })));
    const rungDir = join(hlsDir, r.name);
    await mkdir(rungDir, { recursive: true });
    const [m, { bytes }] = await Promise.all([
      measureOutput(deps.ffmpeg, mp4),
      deps.store.upload(out, keys.output(jobId, r.name), mp4, "video/mp4"),
      (async () => {
        await deps.ffmpeg.run(
          hlsArgs(mp4, join(rungDir, "index.m3u8"), join(rungDir, "seg_%05d.ts"), HLS_SEGMENT_SECONDS),
          { timeoutMs: deps.cfg.ffmpegTimeoutMs },
        );
        const files = (await readdir(rungDir)).filter((f) => /\.(m3u8|ts)$/.test(f));
        await mapLimit(files, TRANSFERS_AT_ONCE, (f) => uploadHls(`${r.name}/${f}`));
      })(),
    ]);
    const duration = m.span + source.video.lastFrameDuration;
    return {
      rendition: r.name,
      key: keys.output(jobId, r.name),
      width: r.width,
      height: r.height,
      frames: m.frames,
      duration,
      bytes,
      bitrate: Math.round((bytes * 8) / duration),
    };
  });
  await writeFile(join(hlsDir, "master.m3u8"), masterPlaylist(outputs, plan.hasAudio));
  await uploadHls("master.m3u8");
  const top = outputs[0]!;
  const poster = join(dir, "poster.jpg");
  await deps.ffmpeg.run(
    posterArgs(join(dir, `${top.rendition}.mp4`), posterTime(top.duration, source.video.lastFrameDuration), poster),
  );
  // ffmpeg exits 0 having written nothing when the seek passes the last frame: say so, not ENOENT
  if (!(await stat(poster).catch(() => null))?.size) {
    const at = posterTime(top.duration, source.video.lastFrameDuration);
    throw new Error(`the poster frame at ${at} s of a ${top.duration} s video could not be extracted`);
  }
  await deps.store.upload(out, keys.poster(jobId), poster, "image/jpeg");
  return { outputs, hls: `${hlsPrefix}/master.m3u8`, poster: keys.poster(jobId) };
}

/**
 * Where the poster is taken: a tenth into the video, at most 3 s, and never past the start of
 * its last frame (a one-frame video's poster is its only frame; a seek past it yields nothing).
 */
export function posterTime(duration: number, lastFrameDuration: number): number {
  return Math.max(0, Math.min(duration * 0.1, 3, duration - lastFrameDuration - 1e-3));
}

const RUNGS_AT_ONCE = 2;
const TRANSFERS_AT_ONCE = 8;

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The master playlist names every rung with its measured bandwidth, top rung first. */
export function masterPlaylist(outputs: readonly FinalOutput[], hasAudio: boolean): string {
  const codecs = hasAudio ? "avc1.640028,mp4a.40.2" : "avc1.640028";
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const o of outputs) {
    const bandwidth = `BANDWIDTH=${Math.round(o.bitrate * 1.2)},AVERAGE-BANDWIDTH=${o.bitrate}`;
    lines.push(
      `#EXT-X-STREAM-INF:${bandwidth},RESOLUTION=${o.width}x${o.height},CODECS="${codecs}"`,
      `${o.rendition}/index.m3u8`,
    );
  }
  return lines.join("\n") + "\n";
}
