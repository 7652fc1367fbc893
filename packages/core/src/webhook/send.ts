import { createHash } from "node:crypto";
import { RetryLaterError, type DomainEvent, type EventDetail } from "@videoforge/events";
import type { WebhookEventType } from "../contract.ts";
import { applied, type DeliveryItem, type WebhookItem } from "../db/index.ts";
import { openUrl, readCapped } from "../net/outbound.ts";
import type { Deps } from "../deps.ts";
import { ownerWebhooks } from "./endpoints.ts";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.ts";

/**
 * The webhook sender: for each event the owner's endpoints hear it makes one delivery row per endpoint (once:
 * the row's key is derived from the job and the webhook event type, so a republished event or a redelivered
 * queue message is not a second delivery), attempts what is due, records every attempt on the row, and hands the
 * event back to its queue (RetryLaterError) while a delivery is waiting for its next attempt. A delivery still
 * failing when its window (24 h) closes is dead-lettered: `failed`, shown in the deliveries list, sendable again.
 */

type Notified = Extract<
  DomainEvent,
  { name: "PlaybackReady" | "JobCompleted" | "JobFailed" | "JobCancelled" | "VideoDeleted" }
>;
type Redelivery = Extract<DomainEvent, { name: "WebhookRedeliveryRequested" }>;
export type SenderEvent = Notified | Redelivery;

/**
 * Each pipeline event's webhook events. `video.ready` is "first playable": PlaybackReady for a job with a preview,
 * else completion; the delivery id (job and type) makes the one that comes second no delivery at all.
 */
const TYPES: Record<Notified["name"], readonly WebhookEventType[]> = {
  PlaybackReady: ["video.ready"],
  JobCompleted: ["video.ready", "job.completed"],
  JobFailed: ["job.failed"],
  JobCancelled: ["job.cancelled"],
  VideoDeleted: ["video.deleted"],
};

const MAX_DELAY_MS = 2 * 3600_000;
/** Attempts kept on a row (a day of backoff makes about 20). */
const MAX_ATTEMPTS_KEPT = 50;
const KEEP_SECONDS = 30 * 86_400;

/** The `id` every delivery of this job's event of this type carries, on every endpoint and every retry. */
export const deliveryIdOf = (jobId: string, type: WebhookEventType) =>
  `evt_${createHash("sha256").update(`${jobId}:${type}`).digest("hex").slice(0, 32)}`;

/** The wait after n failed attempts: doubling from the first retry, ±20 % so endpoints are not hit in step. */
export function retryDelayMs(failed: number, firstRetryMs: number, jitter = Math.random()): number {
  return Math.round(Math.min(firstRetryMs * 2 ** (failed - 1), MAX_DELAY_MS) * (0.8 + 0.4 * jitter));
}

/** What the receiver gets in `data`: the event's own fields, less the envelope's bookkeeping. */
function dataOf(event: Notified, title: string | undefined): Record<string, unknown> {
  const { version: _v, occurredAt: _o, ...fields } = event.detail as EventDetail<Notified["name"]>;
  if ("owner" in fields) delete (fields as { owner?: string }).owner;
  if (event.name === "JobCompleted") return { ...fields, videoId: fields.jobId, title: title ?? null, preview: false };
  // the outputs are still being made: the stream to play is the API's growing preview
  if (event.name === "PlaybackReady") return { ...fields, videoId: fields.jobId, title: title ?? null, preview: true };
  if (event.name === "VideoDeleted") return { videoId: fields.jobId, ...fields };
  return fields;
}

export async function sendWebhooks(deps: Deps, event: SenderEvent): Promise<void> {
  const due =
    event.name === "WebhookRedeliveryRequested" ? await redeliveryOf(deps, event) : await deliveriesOf(deps, event);
  let next = Number.POSITIVE_INFINITY;
  for (const { hook, delivery } of due) {
    const after =
      delivery.status === "pending" && delivery.nextAttemptAt <= Date.now()
        ? await attempt(deps, hook, delivery)
        : delivery;
    if (after.status === "pending") next = Math.min(next, after.nextAttemptAt);
  }
  if (next !== Number.POSITIVE_INFINITY) throw new RetryLaterError(Math.max(0, next - Date.now()));
}

type Due = { hook: WebhookItem; delivery: DeliveryItem };

/** The event's deliveries, made on first sight: one per endpoint (and type) that hears it. */
async function deliveriesOf(deps: Deps, event: Notified): Promise<Due[]> {
  const { jobId } = event.detail;
  const job = event.name === "VideoDeleted" ? null : await deps.jobs.getJob(jobId);
  const owner = event.name === "VideoDeleted" ? event.detail.owner : job?.owner;
  if (!owner) {
    deps.log.warn("webhooks: the job is gone, nobody to tell", { jobId, event: event.name });
    return [];
  }
  const occurred = Date.parse(event.detail.occurredAt);
  // an endpoint registered after the event did not ask for it
  const hooks = (await ownerWebhooks(deps, owner)).filter((h) => h.createdAt <= occurred);
  const out: Due[] = [];
  for (const type of TYPES[event.name]) {
    const deliveryId = deliveryIdOf(jobId, type);
    const body = JSON.stringify({
      id: deliveryId,
      type,
      createdAt: event.detail.occurredAt,
      data: dataOf(event, job?.title ?? job?.sourceName),
    });
    for (const hook of hooks.filter((h) => h.events.includes(type))) {
      const now = Date.now();
      const row = {
        webhookId: hook.webhookId,
        deliveryId,
        owner,
        jobId,
        type,
        body,
        status: "pending" as const,
        attempts: [],
        createdAt: now,
        nextAttemptAt: now,
        windowEndsAt: now + deps.cfg.webhooks.windowMs,
        expiresAt: Math.floor(now / 1000) + KEEP_SECONDS,
      };
      // made once: a second sight of the event finds the row (and its attempts) instead
      const created = await applied(deps.db.entities.delivery.create(row).go());
      const delivery = created
        ? row
        : (await deps.db.entities.delivery.get({ webhookId: hook.webhookId, deliveryId }).go()).data;
      if (delivery) out.push({ hook, delivery });
    }
  }
  return out;
}

async function redeliveryOf(deps: Deps, event: Redelivery): Promise<Due[]> {
  const { webhookId, deliveryId } = event.detail;
  const [hook, delivery] = await Promise.all([
    deps.db.entities.webhook.get({ webhookId }).go(),
    deps.db.entities.delivery.get({ webhookId, deliveryId }).go(),
  ]);
  return hook.data && delivery.data ? [{ hook: hook.data, delivery: delivery.data }] : [];
}

/** One POST, signed now; its outcome recorded on the row, which says what comes next. */
async function attempt(deps: Deps, hook: WebhookItem, delivery: DeliveryItem): Promise<DeliveryItem> {
  const { webhooks } = deps.cfg;
  const log = deps.log.child({ jobId: delivery.jobId, webhookId: hook.webhookId, deliveryId: delivery.deliveryId });
  const at = Date.now();
  let status = 0;
  let error = "";
  try {
    const res = await openUrl(hook.url, {
      policy: webhooks.policy,
      method: "POST",
      body: delivery.body,
      timeoutMs: webhooks.timeoutMs,
      headers: {
        "content-type": "application/json",
        [SIGNATURE_HEADER]: signatureHeader(hook.secret, delivery.body),
        "videoforge-delivery": delivery.deliveryId,
        "videoforge-event": delivery.type,
      },
    });
    status = res.status;
    // a little of what the receiver said helps its owner; the rest is not ours to hold
    const said = (await readCapped(res.body, 512)).toString("utf8").replace(/\s+/g, " ").trim();
    const redirect = status >= 300 && status < 400 ? " (webhooks do not follow redirects)" : "";
    if (status < 200 || status > 299)
      error = `the endpoint answered ${status}${redirect}${said ? `: ${said.slice(0, 200)}` : ""}`;
  } catch (err) {
    error = (err as Error).message || String(err);
  }
  const now = Date.now();
  const attempts = [...delivery.attempts, { at, status, error, ms: now - at }].slice(-MAX_ATTEMPTS_KEPT);
  // failures since this window opened (a redelivery opens a new one and starts the backoff over)
  const failed = attempts.filter((a) => a.error && a.at >= delivery.windowEndsAt - webhooks.windowMs).length;
  const wait = retryDelayMs(Math.max(1, failed), webhooks.firstRetryMs);
  const outcome: DeliveryItem["status"] = !error
    ? "delivered"
    : now + wait > delivery.windowEndsAt
      ? "failed"
      : "pending";
  if (outcome === "delivered") log.info("webhook delivered", { type: delivery.type, status, attempt: attempts.length });
  else if (outcome === "failed")
    log.error("webhook dead-lettered: its retry window closed", {
      type: delivery.type,
      attempts: attempts.length,
      error,
    });
  else log.warn("webhook attempt failed; retrying", { type: delivery.type, inMs: wait, error });
  const set = { attempts, status: outcome, nextAttemptAt: outcome === "pending" ? now + wait : delivery.nextAttemptAt };
  await deps.db.entities.delivery.patch({ webhookId: hook.webhookId, deliveryId: delivery.deliveryId }).set(set).go();
  return { ...delivery, ...set };
}
