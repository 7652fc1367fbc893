import {
  makeEvent,
  type AudioOutput,
  type CaptionsOutput,
  type EventDetail,
  type FinalOutput,
} from "@videoforge/events";
import type { JobItem } from "../db/index.ts";
import { AudioSourceInfo, SourceInfo } from "../media/probe.ts";
import { storedSpan, trimmedSource } from "../media/trim.ts";
import { decodeAudioCheck, decodeCheck, outputFormatOf } from "../media/verify.ts";

/** How far an audio-only output's length may stray from the source's (encoder padding, frame sizes). */
const AUDIO_SLACK_SECONDS = 0.15;
import { putMetric } from "../metrics.ts";
import { announceFailed, failJob, getJob } from "../job/lifecycle.ts";
import type { Deps } from "../deps.ts";

/** The media part of finishing: what is wrong with the outputs (empty when every one is right). */
export type VerifyWork = (deps: Deps, event: EventDetail<"VideoAssembled">, source: Expected) => Promise<string[]>;

/** What the outputs must match: the source's length and, unless the job is audio-only, its picture. */
export interface Expected {
  duration: number;
  video: SourceInfo["video"] | null;
}

/** The job's source as its outputs must match it: trimmed to the job's range; no picture for an audio-only job. */
function expectedOf(job: JobItem): Expected {
  const full = SourceInfo.safeParse(job.source);
  if (!full.success) return { duration: AudioSourceInfo.parse(job.source).duration, video: null };
  const kept = trimmedSource(full.data, storedSpan(job.plan));
  return { duration: kept.duration, video: kept.video };
}

/**
 * VideoAssembled → check every output against the source before calling the job done:
 * every byte stored, every frame decodable (counted by decoding, not trusted from the
 * event), duration within one frame. A mismatch fails the job instead of reporting success.
 * The job's ending is announced from its state: a redelivery that finds it COMPLETED (or
 * FAILED) announces JobCompleted (JobFailed) again instead of doing nothing.
 */
export async function finishJob(
  deps: Deps,
  event: EventDetail<"VideoAssembled">,
  verify: VerifyWork = verifyOutputs,
): Promise<void> {
  const { jobId } = event;
  const job = await getJob(deps, jobId);
  if (job?.status === "COMPLETED") return void (await announceCompleted(deps, job));
  if (job?.status === "FAILED" && job.errorStage === "finishing") return announceFailed(deps, job);
  if (!job || job.status !== "ASSEMBLING") return deps.log.info("nothing to finish", { jobId, status: job?.status });
  const problems = await verify(deps, event, expectedOf(job));
  if (problems.length) return failJob(deps, jobId, "finishing", `Output verification failed: ${problems.join("; ")}.`);
  const done = await deps.jobs.transition(jobId, "COMPLETED", ["ASSEMBLING"], {
    set: {
      outputs: event.outputs,
      audioOutputs: event.audio,
      captions: event.captions,
      ...(event.hls ? { hls: event.hls } : {}),
      ...(event.poster ? { poster: event.poster } : {}),
    },
  });
  if (done) putMetric("JobsCompleted", 1, { jobId });
  const after = done ?? (await getJob(deps, jobId));
  if (after) await announceCompleted(deps, after);
}

/** JobCompleted from the stored job, whenever it is COMPLETED. */
export async function announceCompleted(deps: Pick<Deps, "events">, job: JobItem): Promise<boolean> {
  if (job.status !== "COMPLETED") return false;
  await deps.events.publish(
    makeEvent("JobCompleted", {
      jobId: job.jobId,
      outputs: job.outputs as FinalOutput[],
      audio: (job.audioOutputs as AudioOutput[] | undefined) ?? [],
      captions: (job.captions as CaptionsOutput[] | undefined) ?? [],
      hls: job.hls ?? null,
      poster: job.poster ?? null,
    }),
  );
  return true;
}

/** Every output decoded in full, straight from storage: what a viewer would get. */
export const verifyOutputs: VerifyWork = async (deps, event, source) => {
  const problems: string[] = [];
  const { video } = source;
  if (!video && event.outputs.length) return ["video outputs were made for an audio-only job"];
  // "within one frame": the longest a frame of this source is shown, with float slack
  const frameTime = video ? Math.max(video.lastFrameDuration, 1 / (video.fps || 25)) + 1e-3 : 0;
  await Promise.all([
    ...event.outputs.map(async (o) => {
      if (!video) return;
      if (Math.abs(o.duration - video.duration) > frameTime)
        problems.push(`${o.rendition} lasts ${o.duration.toFixed(3)} s, the source ${video.duration.toFixed(3)} s`);
      const stored = await deps.store.head(event.bucket, o.key);
      if (!stored || stored.size !== o.bytes)
        return void problems.push(
          `${o.rendition} is missing or incomplete in storage (${stored?.size ?? 0} of ${o.bytes} bytes)`,
        );
      // the assembler's MP4s and WebMs, read as what their name says over HTTP(S) only
      const decoded = await decodeCheck(
        deps.ffmpeg,
        await deps.store.presignGet(event.bucket, o.key, 3600),
        deps.cfg.ffmpegTimeoutMs,
        outputFormatOf(o.key),
      );
      if (!decoded.ok) problems.push(`${o.rendition} cannot be decoded (${decoded.reason})`);
      else if (decoded.frames !== video.frames)
        problems.push(`${o.rendition} decodes to ${decoded.frames} frames, the source has ${video.frames}`);
    }),
    ...event.audio.map(async (a) => {
      const stored = await deps.store.head(event.bucket, a.key);
      if (!stored || stored.size !== a.bytes)
        return void problems.push(`audio.${a.format} is missing or incomplete in storage`);
      // an MP3 frame holds 1152 samples and its encoder pads the start: allow a little over the video's length
      if (Math.abs(a.duration - source.duration) > AUDIO_SLACK_SECONDS)
        problems.push(`audio.${a.format} lasts ${a.duration.toFixed(3)} s, the source ${source.duration.toFixed(3)} s`);
      const decoded = await decodeAudioCheck(
        deps.ffmpeg,
        await deps.store.presignGet(event.bucket, a.key, 3600),
        deps.cfg.ffmpegTimeoutMs,
        a.format === "mp3" ? "mp3" : "mov",
      );
      if (!decoded.ok) problems.push(`audio.${a.format} cannot be decoded (${decoded.reason})`);
    }),
  ]);
  return problems;
};
