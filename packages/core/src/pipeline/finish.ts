import { makeEvent, type EventDetail } from "@videoforge/events";
import { SourceInfo } from "../media/probe.ts";
import { failJob, getJob, transition } from "./job.ts";
import type { Deps } from "./deps.ts";

/**
 * VideoAssembled → check every output against the source before calling the job done:
 * exact frame count, duration within one frame, bytes present in storage.
 */
export async function finishJob(deps: Deps, event: EventDetail<"VideoAssembled">): Promise<void> {
  const { jobId } = event;
  const job = await getJob(deps, jobId);
  if (!job || job.status !== "ASSEMBLING") return deps.log.info("nothing to finish", { jobId, status: job?.status });
  const source = SourceInfo.parse(job.source);
  // "within one frame": the longest a frame of this source is shown, with float slack
  const frameTime = Math.max(source.video.lastFrameDuration, 1 / (source.video.fps || 25)) + 1e-3;
  const problems: string[] = [];
  for (const o of event.outputs) {
    if (o.frames !== source.video.frames) problems.push(`${o.rendition} has ${o.frames} frames, the source has ${source.video.frames}`);
    if (Math.abs(o.duration - source.video.duration) > frameTime) problems.push(`${o.rendition} lasts ${o.duration.toFixed(3)} s, the source ${source.video.duration.toFixed(3)} s`);
    const stored = await deps.store.head(event.bucket, o.key);
    if (!stored || stored.size !== o.bytes) problems.push(`${o.rendition} is missing or incomplete in storage`);
  }
  if (problems.length) return failJob(deps, jobId, "finishing", `Output verification failed: ${problems.join("; ")}.`);
  if (await transition(deps, jobId, ["ASSEMBLING"], "COMPLETED")) {
    await deps.events.publish(makeEvent("JobCompleted", { jobId, outputs: event.outputs, hls: event.hls, poster: event.poster }));
  }
}
