import { makeEvent, type EventDetail } from "@videoforge/events";
import { SourceInfo } from "../media/probe.ts";
import { decodeCheck } from "../media/verify.ts";
import { failJob, getJob, transition } from "./job.ts";
import type { Deps } from "./deps.ts";

/**
 * VideoAssembled → check every output against the source before calling the job done:
 * every byte stored, every frame decodable (counted by decoding, not trusted from the
 * event), duration within one frame. A mismatch fails the job instead of reporting success.
 */
export async function finishJob(deps: Deps, event: EventDetail<"VideoAssembled">): Promise<void> {
  const { jobId } = event;
  const job = await getJob(deps, jobId);
  if (!job || job.status !== "ASSEMBLING") return deps.log.info("nothing to finish", { jobId, status: job?.status });
  const source = SourceInfo.parse(job.source);
  // "within one frame": the longest a frame of this source is shown, with float slack
  const frameTime = Math.max(source.video.lastFrameDuration, 1 / (source.video.fps || 25)) + 1e-3;
  const problems: string[] = [];
  // each output is decoded in full, straight from storage: what a viewer would get
  await Promise.all(
    event.outputs.map(async (o) => {
      if (Math.abs(o.duration - source.video.duration) > frameTime) problems.push(`${o.rendition} lasts ${o.duration.toFixed(3)} s, the source ${source.video.duration.toFixed(3)} s`);
      const stored = await deps.store.head(event.bucket, o.key);
      if (!stored || stored.size !== o.bytes) return void problems.push(`${o.rendition} is missing or incomplete in storage (${stored?.size ?? 0} of ${o.bytes} bytes)`);
      const decoded = await decodeCheck(await deps.store.presignGet(event.bucket, o.key, 3600), deps.cfg.ffmpegTimeoutMs);
      if (!decoded.ok) problems.push(`${o.rendition} cannot be decoded (${decoded.reason})`);
      else if (decoded.frames !== source.video.frames) problems.push(`${o.rendition} decodes to ${decoded.frames} frames, the source has ${source.video.frames}`);
    }),
  );
  if (problems.length) return failJob(deps, jobId, "finishing", `Output verification failed: ${problems.join("; ")}.`);
  if (await transition(deps, jobId, ["ASSEMBLING"], "COMPLETED")) {
    await deps.events.publish(makeEvent("JobCompleted", { jobId, outputs: event.outputs, hls: event.hls, poster: event.poster }));
  }
}
