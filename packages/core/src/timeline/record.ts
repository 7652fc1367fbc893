import type { DomainEvent } from "@videoforge/events";
import type { Deps } from "../deps.ts";

/**
 * Any event → one timeline row, keyed by the envelope id so a redelivery rewrites the same row; the job item is
 * touched.
 */
export async function recordEvent(deps: Pick<Deps, "jobs">, event: DomainEvent & { id: string }): Promise<void> {
  const detail = event.detail;
  const chunk = "chunk" in detail ? detail.chunk.index : undefined;
  await deps.jobs.putTimeline({
    jobId: detail.jobId,
    at: detail.occurredAt,
    eventId: event.id,
    type: event.name,
    chunk,
    detail,
  });
  // the job page's version (queries.ts jobVersion) moves with its timeline
  await deps.jobs.touchJob(detail.jobId);
}
