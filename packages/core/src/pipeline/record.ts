import type { DomainEvent } from "@videoforge/events";
import type { Deps } from "./deps.ts";

/** Any event → one timeline row, keyed by the envelope id so a redelivery rewrites the same row. */
export async function recordEvent(deps: Pick<Deps, "db">, event: DomainEvent & { id: string }): Promise<void> {
  const detail = event.detail;
  const chunk = "chunk" in detail ? detail.chunk.index : undefined;
  await deps.db.entities.timeline.put({ jobId: detail.jobId, at: detail.occurredAt, eventId: event.id, type: event.name, chunk, detail }).go();
}
