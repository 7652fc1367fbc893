import { z } from "zod";
import {
  catalog,
  isEventName,
  type DomainEvent,
  type EventDetail,
  type EventInput,
  type EventName,
} from "./catalog.ts";

/** EventBridge `source` of every videoforge event. */
export const SOURCE = "videoforge";

/** The EventBridge envelope as a target receives it. */
export const Envelope = z.object({
  version: z.string().optional(),
  id: z.string().min(1),
  "detail-type": z.string().min(1),
  source: z.string().min(1),
  account: z.string().optional(),
  time: z.string(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.unknown(),
});
export type Envelope = z.infer<typeof Envelope>;

export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

/**
 * A queue handler has work left for this event, due later (a webhook endpoint that failed and is retried with
 * backoff): its queue hands the event back after `retryAfterMs` instead of counting a failure.
 */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  constructor(
    readonly retryAfterMs: number,
    message = `work left for later: again in ${Math.ceil(retryAfterMs / 1000)} s`,
  ) {
    super(message);
  }
}

export function isRetryLater(err: unknown): err is RetryLaterError {
  return (
    err instanceof Error && err.name === "RetryLaterError" && typeof (err as RetryLaterError).retryAfterMs === "number"
  );
}

/** Validate an envelope and its detail against the catalog; throws InvalidEventError with readable issues. */
export function parseEnvelope(raw: unknown): DomainEvent & { id: string; time: string } {
  const env = Envelope.safeParse(raw);
  if (!env.success) throw new InvalidEventError(`not an EventBridge envelope: ${z.prettifyError(env.error)}`);
  const { id, time, source } = env.data;
  const name = env.data["detail-type"];
  if (source !== SOURCE) throw new InvalidEventError(`unexpected source "${source}"`);
  if (!isEventName(name)) throw new InvalidEventError(`unknown detail-type "${name}"`);
  const detail = parseDetail(name, env.data.detail);
  return { name, detail, id, time } as DomainEvent & { id: string; time: string };
}

export function parseDetail<N extends EventName>(name: N, detail: unknown): EventDetail<N> {
  const parsed = catalog[name].safeParse(detail);
  if (!parsed.success) throw new InvalidEventError(`${name} detail is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data as EventDetail<N>;
}

/** Build a detail with the common fields filled in and validate it before it leaves. */
export function makeEvent<N extends EventName>(
  name: N,
  /** What the producer gives: fields with a default (for events from older producers) may be left out. */
  payload: Omit<EventInput<N>, "version" | "occurredAt">,
): { name: N; detail: EventDetail<N> } {
  const detail = parseDetail(name, { ...payload, version: 1, occurredAt: new Date().toISOString() });
  return { name, detail };
}

/** One PutEvents entry, as both EventBridge and the local bus take it. */
export function toPutEventsEntry(event: { name: EventName; detail: unknown }, busName: string) {
  return { Source: SOURCE, DetailType: event.name, Detail: JSON.stringify(event.detail), EventBusName: busName };
}
