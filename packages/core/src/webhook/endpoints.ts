import { makeEvent } from "@videoforge/events";
import { WebhookInput, type Delivery, type Webhook, type WebhookEventType } from "../contract.ts";
import type { DeliveryItem, WebhookItem } from "../db/index.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { allowedUrl } from "../net/outbound.ts";
import { newId } from "../upload/lifecycle.ts";
import type { Deps } from "../deps.ts";
import { newWebhookSecret } from "./signature.ts";

/**
 * A user's webhook endpoints, as the API manages them: register (the URL checked now, and again at every
 * delivery, since DNS can change), list, remove, and the deliveries of one with a way to send one again.
 */

/** Endpoints per user: each event fans out to every one of them. */
export const MAX_WEBHOOKS_PER_USER = 20;
/** Deliveries listed per endpoint, newest first. */
const DELIVERY_PAGE = 100;

const view = (w: WebhookItem): Webhook => ({
  id: w.webhookId,
  url: w.url,
  events: w.events as WebhookEventType[],
  createdAt: w.createdAt,
});

export const deliveryView = (d: DeliveryItem): Delivery => ({
  id: d.deliveryId,
  webhookId: d.webhookId,
  type: d.type as WebhookEventType,
  jobId: d.jobId,
  status: d.status,
  attempts: d.attempts,
  createdAt: d.createdAt,
  nextAttemptAt: d.status === "pending" ? d.nextAttemptAt : null,
  body: d.body,
});

export async function ownerWebhooks(deps: Pick<Deps, "db">, owner: string): Promise<WebhookItem[]> {
  return (await deps.db.entities.webhook.query.byOwner({ owner }).go({ pages: "all" })).data;
}

/** `POST /webhooks`: 201 with the secret, which is shown this once. */
export async function createWebhook(deps: Pick<Deps, "db" | "cfg">, owner: string, raw: unknown): Promise<Webhook> {
  const input = WebhookInput.parse(raw ?? {});
  const url = (await allowedUrl(input.url, deps.cfg.webhooks.policy, "Webhook url")).href;
  if ((await ownerWebhooks(deps, owner)).length >= MAX_WEBHOOKS_PER_USER)
    throw new ConflictError(
      `At most ${MAX_WEBHOOKS_PER_USER} webhooks per user; remove one (DELETE /webhooks/:id) first.`,
    );
  const item = {
    webhookId: newId(),
    owner,
    url,
    events: input.events,
    secret: newWebhookSecret(),
    createdAt: Date.now(),
  };
  await deps.db.entities.webhook.create(item).go();
  return { ...view(item), secret: item.secret };
}

export async function listWebhooks(deps: Pick<Deps, "db">, owner: string) {
  const hooks = await ownerWebhooks(deps, owner);
  return { webhooks: hooks.sort((a, b) => b.createdAt - a.createdAt).map(view) };
}

async function ownedWebhook(deps: Pick<Deps, "db">, owner: string, webhookId: string): Promise<WebhookItem> {
  const hook = (await deps.db.entities.webhook.get({ webhookId }).go()).data;
  if (!hook || hook.owner !== owner) throw new NotFoundError(`No webhook ${webhookId}.`);
  return hook;
}

/** `DELETE /webhooks/{id}`: no more deliveries to it; what is retrying stops at its next attempt. */
export async function deleteWebhook(deps: Pick<Deps, "db">, owner: string, webhookId: string) {
  const hook = await ownedWebhook(deps, owner, webhookId);
  await deps.db.entities.webhook.delete({ webhookId }).go();
  const deliveries = await deps.db.entities.delivery.query.byWebhook({ webhookId }).go({ pages: "all" });
  if (deliveries.data.length)
    await deps.db.entities.delivery.delete(deliveries.data.map((d) => ({ webhookId, deliveryId: d.deliveryId }))).go();
  return view(hook);
}

/** `GET /webhooks/{id}/deliveries`: the newest deliveries, each with every attempt. */
export async function listDeliveries(deps: Pick<Deps, "db">, owner: string, webhookId: string) {
  await ownedWebhook(deps, owner, webhookId);
  const res = await deps.db.entities.delivery.query
    .byWebhook({ webhookId })
    .go({ order: "desc", limit: DELIVERY_PAGE });
  return { deliveries: res.data.map(deliveryView) };
}

/**
 * `POST /webhooks/{id}/deliveries/{deliveryId}/redeliver`: the same body and `id` again, with a fresh retry
 * window; the sender picks it up from WebhookRedeliveryRequested.
 */
export async function redeliver(
  deps: Pick<Deps, "db" | "events" | "cfg">,
  owner: string,
  webhookId: string,
  deliveryId: string,
): Promise<Delivery> {
  await ownedWebhook(deps, owner, webhookId);
  const found = (await deps.db.entities.delivery.get({ webhookId, deliveryId }).go()).data;
  if (!found) throw new NotFoundError(`No delivery ${deliveryId} for webhook ${webhookId}.`);
  const now = Date.now();
  const after = await deps.db.entities.delivery
    .patch({ webhookId, deliveryId })
    .set({ status: "pending", nextAttemptAt: now, windowEndsAt: now + deps.cfg.webhooks.windowMs })
    .go({ response: "all_new" });
  await deps.events.publish(
    makeEvent("WebhookRedeliveryRequested", { jobId: found.jobId, owner, webhookId, deliveryId }),
  );
  return deliveryView(after.data as DeliveryItem);
}
