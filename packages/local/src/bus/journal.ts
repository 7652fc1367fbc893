import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Envelope } from "@videoforge/events";

export interface PendingDelivery {
  id: string;
  subscription: string;
  envelope: Envelope;
  acceptedAt: string;
}

/**
 * Deliveries the local bus has accepted and not yet finished, one small JSON file each.
 * EventBridge keeps an accepted event until its targets took it or it was dead-lettered;
 * this gives the local bus the same promise across a crash. Writes are synchronous so a
 * delivery is on disk before PutEvents answers.
 */
export function deliveryJournal(dir: string) {
  mkdirSync(dir, { recursive: true });
  const file = (id: string) => join(dir, `${id}.json`);
  return {
    add(subscription: string, envelope: Envelope): string {
      const id = randomUUID();
      const entry: PendingDelivery = { id, subscription, envelope, acceptedAt: new Date().toISOString() };
      // write then rename: a crash mid-write leaves no half file behind
      writeFileSync(file(id) + ".tmp", JSON.stringify(entry));
      renameSync(file(id) + ".tmp", file(id));
      return id;
    },
    remove(id: string): void {
      rmSync(file(id), { force: true });
    },
    list(): PendingDelivery[] {
      return readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as PendingDelivery)
        .sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt));
    },
  };
}
export type DeliveryJournal = ReturnType<typeof deliveryJournal>;
