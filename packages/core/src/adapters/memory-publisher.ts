import type { DomainEvent } from "@videoforge/events";
import type { EventPublisher } from "../ports.ts";

/** The event publisher in memory: keeps what was published, in order (unit tests of the steps). */
export function memoryPublisher() {
  const published: DomainEvent[] = [];
  const publisher: EventPublisher = {
    async publish(...events) {
      await Promise.resolve();
      published.push(...events);
    },
  };
  return { ...publisher, published, named: (name: DomainEvent["name"]) => published.filter((e) => e.name === name) };
}
export type MemoryPublisher = ReturnType<typeof memoryPublisher>;
