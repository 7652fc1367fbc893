import type { Deps } from "@videoforge/core";
import { InvalidEventError, type DomainEvent, type EventDetail, type EventName } from "@videoforge/events";

export type ParsedEvent = DomainEvent & { id: string; time: string };

/** A subscription's code: takes a parsed, validated event; throws to ask for a retry. */
export interface Handler {
  handle(deps: Deps, event: ParsedEvent): Promise<void>;
}

/**
 * Bind a handler to one event type; anything else is a wiring error, not a silent no-op, and
 * permanent (InvalidEventError: dead-lettered at once, like a detail that fails its schema).
 */
export function on<N extends EventName>(name: N, fn: (deps: Deps, detail: EventDetail<N>) => Promise<void>): Handler {
  return {
    async handle(deps, event) {
      if (event.name !== name)
        throw new InvalidEventError(`handler for ${name} received ${event.name}: check the topology`);
      await fn(
        { ...deps, log: deps.log.child({ event: event.name, eventId: event.id }) },
        event.detail as EventDetail<N>,
      );
    },
  };
}
