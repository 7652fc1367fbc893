import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { toPutEventsEntry } from "@videoforge/events";
import type { EventPublisher } from "../ports.ts";

/** PutEvents takes at most 10 entries per call. */
const BATCH = 10;
const ATTEMPTS = 5;

/**
 * Publishes through PutEvents. A call can succeed while some entries fail
 * (FailedEntryCount > 0): only those entries are sent again, with backoff.
 */
export function eventBridgePublisher(client: EventBridgeClient, busName: string, backoffMs = 100): EventPublisher {
  async function sendBatch(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const res = await client.send(new PutEventsCommand({ Entries: pending }));
      if (!res.FailedEntryCount) return;
      const failed = pending.filter((_, i) => res.Entries?.[i]?.ErrorCode);
      if (attempt >= ATTEMPTS) {
        const codes = [...new Set(res.Entries?.map((e) => e.ErrorCode).filter(Boolean))].join(", ");
        throw new Error(`PutEvents kept failing for ${failed.length} entries (${codes})`);
      }
      pending = failed;
      await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    }
  }
  return {
    async publish(...events) {
      const entries = events.map((e) => toPutEventsEntry(e, busName));
      for (let i = 0; i < entries.length; i += BATCH) await sendBatch(entries.slice(i, i + BATCH));
    },
  };
}

/** IAM actions of the calls this adapter makes (checked against the stacks' grants). */
export const EVENTBRIDGE_PUBLISHER_ACTIONS = { publish: ["events:PutEvents"] } as const;
