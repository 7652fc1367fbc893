import { sendWebhooks, type SenderEvent } from "@videoforge/core";
import { InvalidEventError, NOTIFIED_EVENTS, WEBHOOK_EVENTS } from "@videoforge/events";
import type { Handler } from "./on.ts";

const HEARD: readonly string[] = [...NOTIFIED_EVENTS, ...WEBHOOK_EVENTS];

/** The webhooks' queue consumer: a job's end, a deletion, or a redelivery asked for. */
export const webhookSender: Handler = {
  async handle(deps, event) {
    if (!HEARD.includes(event.name))
      throw new InvalidEventError(`webhookSender received ${event.name}: check the topology`);
    await sendWebhooks(
      { ...deps, log: deps.log.child({ event: event.name, eventId: event.id, jobId: event.detail.jobId }) },
      event as SenderEvent,
    );
  },
};
