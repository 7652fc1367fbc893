import { join } from "node:path";
import { makeEvent, type EventDetail } from "@videoforge/events";
import { applied } from "../db/index.ts";
import { ffmpeg, FfmpegError, firstLine } from "../ffmpeg/run.ts";
import { audioArgs, splitArgs, TS_CODECS } from "../ffmpeg/args.ts";
import { planChunks, type PlannedChunk } from "../media/plan.ts";
import { BadSourceError, measureOutput, probeSource, type SourceInfo } from "../media/probe.ts";
import { fitLadder, parseLadder } from "../media/ladder.ts";
import { getJob, failJob, isFinal, transition } from "./job.ts";
import { keys, pieceName, withScratch, type Deps } from "./deps.ts";
import { checkLimits } from "./limits.ts";

/** GOP of two seconds: HLS segments then cut on keyframes that line up across rungs. */
export function gopFor(fps: number): number {
  return Math.max(1, Math.round(fps * 2));
}

/**
 * VideoUploaded → probe, plan keyframe-aligned chunks, split by stream copy, encode the
 * audio once, store it all, then announce every chunk. Safe to run twice: keys are
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
      probed = await probeSource(source);
      checkLimits(probed.info);
    } catch (err) {
      if (err instanceof BadSourceError) return failJob(deps, jobId, "chunking", err.message);
      throw err;
    }
    const { info, packets } = probed;
    const renditions = fitLadder(ladder, info.video.displayWidth, info.video.displayHeight);
    const plan = planChunks(packets, deps.cfg.chunkSeconds);
    log.info("planned chunks", { chunks: plan.length, frames: info.video.frames, renditions: renditions.map((r) => `${r.name}:${r.width}x${r.height}`) });

    const format = TS_CODECS.has(info.video.codec) ? "mpegts" : "matroska";
    const pieceOf = (i: number) => join(dir, pieceName(i, format));
    const audioFile = join(dir, "audio.m4a");
    try {
      await Promise.all([
        ffmpeg(splitArgs(source, cutPackets(plan), join(dir, pieceName("%05d", format)), format), { timeoutMs: deps.cfg.ffmpegTimeoutMs }),
        info.audio ? ffmpeg(audioArgs(source, audioFile), { timeoutMs: deps.cfg.ffmpegTimeoutMs }) : Promise.resolve(),
      ]);
      await verifySplit(plan, pieceOf);
    } catch (err) {
      // ffmpeg refusing this source will refuse it again: fail the job instead of retrying
      if (err instanceof FfmpegError || err instanceof BadSourceError) return failJob(deps, jobId, "chunking", `Splitting the video failed: ${firstLine(err)}`);
      throw err;
    }

    const work = deps.cfg.buckets.work;
    await Promise.all(plan.map((c) => deps.store.upload(work, keys.chunk(jobId, c.index, format), pieceOf(c.index), format === "mpegts" ? "video/mp2t" : "video/x-matroska")));
    if (info.audio) await deps.store.upload(work, keys.audio(jobId), audioFile, "audio/mp4");

    for (const c of plan) {
      // create, not put: a second delivery must not reset a chunk that is already encoding
      await applied(
        deps.db.entities.chunk.create({ jobId, index: c.index, status: "PENDING", startFrame: c.startFrame, frames: c.frames, startTime: c.startTime, duration: c.duration, readyAt: Date.now() }).go(),
      );
    }
    const moved = await transition(deps, jobId, ["CHUNKING"], "ENCODING", { source: info satisfies SourceInfo, renditions, chunkCount: plan.length });
    if (!moved) return log.info("job moved on while chunking; not announcing chunks");
    await deps.events.publish(
      ...plan.map((c) =>
        makeEvent("ChunkReady", {
          jobId,
          chunk: {
            index: c.index,
            count: plan.length,
            source: { bucket: work, key: keys.chunk(jobId, c.index, format) },
            // only MPEG-TS pieces can be read on into the next one
            next: format === "mpegts" && c.index + 1 < plan.length ? { bucket: work, key: keys.chunk(jobId, c.index + 1, format) } : undefined,
            format,
            startFrame: c.startFrame,
            frames: c.frames,
            startTime: c.startTime,
            duration: c.duration,
          },
          renditions,
          rotation: info.video.rotation,
          gop: gopFor(info.video.fps),
          outputBucket: work,
          outputPrefix: keys.encodedPrefix(jobId),
        }),
      ),
    );
  });
}

/** Decode-order packet index where each chunk after the first begins. */
function cutPackets(plan: PlannedChunk[]): number[] {
  let at = 0;
  return plan.slice(0, -1).map((c) => (at += c.packets));
}

/** Each piece must hold exactly the planned packets; anything else would surface as a wrong output later. */
async function verifySplit(plan: PlannedChunk[], fileOf: (i: number) => string): Promise<void> {
  const counts = await Promise.all(plan.map(async (c) => (await measureOutput(fileOf(c.index))).frames));
  const wrong = plan.filter((c, i) => counts[i] !== c.packets);
  if (wrong.length) {
    const detail = wrong.map((c) => `chunk ${c.index}: planned ${c.packets} packets, got ${counts[c.index]}`).join("; ");
    throw new BadSourceError(`stream copy did not cut where planned (${detail})`);
  }
}
