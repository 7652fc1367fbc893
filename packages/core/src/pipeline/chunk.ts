import { access } from "node:fs/promises";
import { join } from "node:path";
import { makeEvent, toMegabytes, type EventDetail } from "@videoforge/events";
import { applied, isConditionFailure } from "../db/index.ts";
import { ffmpeg, FfmpegError, firstLine } from "../ffmpeg/run.ts";
import { audioArgs, splitArgs, TS_CODECS } from "../ffmpeg/args.ts";
import { planSource, type PlannedChunk } from "../media/plan.ts";
import { BadSourceError, probeSource, videoPackets, type SourceInfo } from "../media/probe.ts";
import { fitLadder, parseLadder } from "../media/ladder.ts";
import { getJob, failJob, isFinal, transition } from "./job.ts";
import { keys, pieceName, withScratch, type ChunkFormat, type Deps } from "./deps.ts";
import { checkLimits } from "./limits.ts";

/** GOP of two seconds: HLS segments then cut on keyframes that line up across rungs. */
export function gopFor(fps: number): number {
  return Math.max(1, Math.round(fps * 2));
}

/**
 * VideoUploaded → probe, plan chunks, announce each one as soon as it can be encoded
 * (a keyframe piece once split, verified and stored; a window of a sparse-keyframe source
 * at once), while the audio is encoded once alongside. Safe to run twice: keys are
 * deterministic and chunk rows are created only once.
 */
export async function chunkSource(deps: Deps, event: EventDetail<"VideoUploaded">): Promise<void> {
  const { jobId } = event;
  const log = deps.log.child({ jobId });
  let job = await getJob(deps, jobId);
  if (!job) {
    // a VideoUploaded published without the API (e.g. by an S3 notification): adopt it
    await applied(
      deps.db.entities.job
        .create({ jobId, owner: event.owner, status: "QUEUED", sourceName: event.source.name, sourceBucket: event.source.bucket, sourceKey: event.source.key, sourceSize: event.source.size, ladder: event.ladder, createdAt: Date.now() })
        .go(),
    );
    job = await getJob(deps, jobId);
  }
  if (!job || isFinal(job.status)) return log.info("job already ended; nothing to chunk", { status: job?.status });
  if (job.status !== "QUEUED" && job.status !== "CHUNKING") return log.info("job already chunked", { status: job.status });
  await transition(deps, jobId, ["QUEUED", "CHUNKING"], "CHUNKING");

  let ladder;
  try {
    ladder = parseLadder(event.ladder);
  } catch (err) {
    return failJob(deps, jobId, "chunking", (err as Error).message);
  }

  await withScratch(deps.cfg, async (dir) => {
    const source = join(dir, "source");
    await deps.store.download(event.source.bucket, event.source.key, source);
    let probed: Awaited<ReturnType<typeof probeSource>>;
    try {
      // size and declared length are refused from the header, before a single packet is read
      const limits = deps.cfg.limits;
      probed = await probeSource(source, { precheck: (declared) => checkLimits(declared, limits) });
      const { video, duration } = probed.info;
      checkLimits({ width: video.width, height: video.height, duration, fps: video.fps }, limits);
    } catch (err) {
      if (err instanceof BadSourceError) return failJob(deps, jobId, "chunking", err.message);
      throw err;
    }
    const { info, packets } = probed;
    const renditions = fitLadder(ladder, info.video.displayWidth, info.video.displayHeight);
    // MP4/MOV and Matroska/WebM carry a seek index, so a window's seek lands on its keyframe
    const seekable = /mp4|mov|matroska|webm/.test(info.container);
    const plan = planSource(packets, deps.cfg.chunkSeconds, { slots: deps.cfg.parallelTasks, seekable });
    log.info("planned chunks", { mode: plan.mode, chunks: plan.chunks.length, frames: info.video.frames, renditions: renditions.map((r) => `${r.name}:${r.width}x${r.height}`) });
    // the job shows its source and ladder while its chunks are announced one by one
    await applied(deps.db.entities.job.patch({ jobId }).set({ source: info satisfies SourceInfo, renditions }).where((a, op) => op.eq(a.status, "CHUNKING")).go());

    const work = deps.cfg.buckets.work;
    const format = TS_CODECS.has(info.video.codec) ? "mpegts" : "matroska";
    const firstPts = packets.reduce((lo, p) => Math.min(lo, p.pts), Infinity);
    const common = { renditions, rotation: info.video.rotation, gop: gopFor(info.video.fps), outputBucket: work, outputPrefix: keys.encodedPrefix(jobId) };
    const announce = async (c: PlannedChunk, chunk: Pick<EventDetail<"ChunkReady">["chunk"], "source" | "next" | "window" | "range">) => {
      // create, not put: a second delivery must not reset a chunk that is already encoding
      await applied(
        deps.db.entities.chunk.create({ jobId, index: c.index, status: "PENDING", startFrame: c.startFrame, frames: c.frames, startTime: c.startTime, duration: c.duration, readyAt: Date.now() }).go(),
      );
      const { index, startFrame, frames, startTime, duration } = c;
      await deps.events.publish(makeEvent("ChunkReady", { jobId, chunk: { index, count: plan.chunks.length, format, startFrame, frames, startTime, duration, ...chunk }, ...common }));
    };

    // the audio is encoded while the video is split and encoded; chunking ends when it is stored
    const audio = info.audio ? storeAudio(deps, source, join(dir, "audio.m4a"), keys.audio(jobId)) : Promise.resolve();
    audio.catch(() => undefined); // awaited below, after the chunks are out
    try {
      if (plan.mode === "windows") {
        const whole = { bucket: event.source.bucket, key: event.source.key };
        for (const [i, c] of plan.chunks.entries()) {
          const next = plan.chunks[i + 1];
          // without an index ffmpeg seeks by timestamp and may land just past the keyframe: aim a second early
          const seek = Math.max(firstPts, firstPts + c.seekTime - (seekable ? 0 : 1));
          await announce(c, { source: whole, window: { seek, start: firstPts + c.startTime, end: next ? firstPts + next.startTime : undefined } });
        }
      } else {
        const ref = (i: number) => ({ bucket: work, key: keys.chunk(jobId, i, format) });
        // only MPEG-TS pieces are read on into the next one, so that one must be stored first
        const readsNext = (i: number) => format === "mpegts" && i + 1 < plan.chunks.length;
        // first packet time of each stored piece, in its own timeline: where its frames start
        const starts: number[] = [];
        await splitPieces(deps, source, dir, plan.chunks, format, async (c, file, firstPts) => {
          starts[c.index] = firstPts;
          await deps.store.upload(work, ref(c.index).key, file, format === "mpegts" ? "video/mp2t" : "video/x-matroska");
          const previous = plan.chunks[c.index - 1];
          if (previous && readsNext(previous.index)) await announce(previous, { source: ref(previous.index), next: ref(c.index), range: { start: starts[previous.index]!, end: firstPts } });
          if (!readsNext(c.index)) await announce(c, { source: ref(c.index), range: { start: firstPts } });
        });
      }
      await audio;
    } catch (err) {
      // ffmpeg refusing this source will refuse it again: fail the job instead of retrying
      if (err instanceof FfmpegError || err instanceof BadSourceError) return failJob(deps, jobId, "chunking", `Splitting the video failed: ${firstLine(err)}`);
      throw err;
    }
    await endChunking(deps, jobId, plan.chunks.length, event.source.size);
  });
}

/** Encode the whole audio track once and store it. */
async function storeAudio(deps: Deps, source: string, file: string, key: string): Promise<void> {
  await ffmpeg(audioArgs(source, file), { timeoutMs: deps.cfg.ffmpegTimeoutMs });
  await deps.store.upload(deps.cfg.buckets.work, key, file, "audio/mp4");
}

/**
 * Split by stream copy and hand over each piece as soon as ffmpeg has closed it (it closes
 * a piece before opening the next), verified to hold exactly its planned packets.
 */
async function splitPieces(deps: Deps, source: string, dir: string, plan: PlannedChunk[], format: ChunkFormat, onPiece: (c: PlannedChunk, file: string, firstPts: number) => Promise<void>): Promise<void> {
  const pieceOf = (i: number) => join(dir, pieceName(i, format));
  let finished = false;
  const split = ffmpeg(splitArgs(source, cutPackets(plan), join(dir, pieceName("%05d", format)), format), { timeoutMs: deps.cfg.ffmpegTimeoutMs }).finally(() => {
    finished = true;
  });
  split.catch(() => undefined); // awaited in the loop
  for (const c of plan) {
    while (!finished && !(await exists(pieceOf(c.index + 1)))) await sleep(SPLIT_POLL_MS);
    if (finished) await split;
    const file = pieceOf(c.index);
    const packets = await videoPackets(file);
    // anything else would surface as a wrong output later
    if (packets.length !== c.packets) throw new BadSourceError(`stream copy did not cut where planned (chunk ${c.index}: planned ${c.packets} packets, got ${packets.length})`);
    await onPiece(c, file, packets[0]!.pts);
  }
  await split;
}

const SPLIT_POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const exists = (file: string) => access(file).then(() => true, () => false);

/**
 * The chunker's last write: chunk count, status ENCODING. The tracker completes the set
 * only once the count is there, so if every chunk was encoded before the audio was stored,
 * this write is the one that sees the set whole and announces ChunksEncoded. Both writes
 * are atomic on the job item, so exactly one of them sees it.
 */
async function endChunking(deps: Deps, jobId: string, chunkCount: number, sourceSize: number): Promise<void> {
  let after;
  try {
    after = await deps.db.entities.job
      .patch({ jobId })
      .set({ status: "ENCODING", encodingAt: Date.now(), chunkCount })
      .where((a, op) => op.eq(a.status, "CHUNKING"))
      .go({ response: "all_new" });
  } catch (err) {
    if (isConditionFailure(err)) return deps.log.info("job moved on while chunking", { jobId });
    throw err;
  }
  const encoded = after.data.encodedChunks?.length ?? 0;
  if (encoded === chunkCount) await deps.events.publish(makeEvent("ChunksEncoded", { jobId, chunkCount, sourceMegabytes: toMegabytes(sourceSize) }));
}

/** Decode-order packet index where each chunk after the first begins. */
function cutPackets(plan: PlannedChunk[]): number[] {
  let at = 0;
  return plan.slice(0, -1).map((c) => (at += c.packets));
}
