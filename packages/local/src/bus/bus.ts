import { randomUUID } from "node:crypto";
import { isRetryLater, SOURCE, type Envelope, type Subscription } from "@videoforge/events";
import type { Logger } from "@videoforge/core";
import { matches, type EventPattern } from "./pattern.ts";
import type { DeadLetter, DeadLetterStore } from "./dlq.ts";
import type { DeliveryJournal } from "./journal.ts";

/** A PutEvents entry, as the EventBridge API takes it. */
export interface PutEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
}

export type Deliver = (subscription: Subscription, envelope: Envelope, attempt: number) => Promise<void>;

/** Errors that no retry can fix (a detail that fails its schema): straight to the dead-letter store. */
export function isPermanent(err: unknown): boolean {
  return err instanceof Error && err.name === "InvalidEventError";
}

export interface BusOptions {
  topology: readonly Subscription[];
  deliver: Deliver;
  dlq: DeadLetterStore;
  log: Logger;
  /** First retry delay; doubles each attempt (EventBridge backs off exponentially too). */
  backoffMs?: number;
  /** Fault injection for tests: deliver every event twice, and/or in a random order with random delays. */
  faults?: {
    duplicate?: boolean;
    shuffleMs?: number;
    beforeDeliver?: (subscription: Subscription, envelope: Envelope) => Promise<void>;
  };
  /**
   * Where accepted deliveries are written before PutEvents answers and removed once they are
   * done, so a crash loses nothing EventBridge would have kept (see recover()).
   */
  journal?: DeliveryJournal;
  /** Told about every dead letter (the local cloud fails the job with the reason). */
  onDeadLetter?: (letter: DeadLetter) => Promise<void>;
}

/**
 * The local EventBridge: matches each event against every rule of the topology with
 * EventBridge pattern semantics and delivers it to the subscription's target,
 * retrying with backoff per the rule's policy, then dead-lettering.
 */
export function createLocalBus(opts: BusOptions) {
  const backoff = opts.backoffMs ?? 500;
  const inFlight = new Set<Promise<void>>();
  const idleWaiters: (() => void)[] = [];
  const watchers = new Set<(envelope: Envelope) => void>();
  let closed = false;
  // a queue's hand-back can be hours away: close() must not wait for it, nor its timer keep the process alive
  const napping = new Set<() => void>();
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        napping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      napping.add(wake);
    });

  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      if (inFlight.size === 0) for (const w of idleWaiters.splice(0)) w();
    });
  };

  async function deliverWithRetry(
    sub: Subscription,
    envelope: Envelope,
    deliveryId = opts.journal?.add(sub.name, envelope),
  ): Promise<void> {
    await attemptAll(sub, envelope);
    // a delivery cut short by close() stays in the journal for the next start
    if (deliveryId && !closed) opts.journal?.remove(deliveryId);
  }

  async function attemptAll(sub: Subscription, envelope: Envelope): Promise<void> {
    const log = opts.log.child({ rule: sub.name, event: envelope["detail-type"], eventId: envelope.id });
    const born = Date.parse(envelope.time);
    const attempts = 1 + sub.retry.maximumRetryAttempts;
    let lastError = "";
    let made = 0;
    for (let attempt = 1; attempt <= attempts && !closed; attempt++) {
      if (opts.faults?.shuffleMs) await sleep(Math.random() * opts.faults.shuffleMs);
      made = attempt;
      try {
        await opts.faults?.beforeDeliver?.(sub, envelope);
        await opts.deliver(sub, envelope, attempt);
        return;
      } catch (err) {
        // a queue handler with work due later gets the event back then, as SQS does after a visibility change;
        // that is not a failed attempt
        if (sub.runtime === "queue" && isRetryLater(err)) {
          log.debug("handed back to the queue", { inMs: err.retryAfterMs });
          await nap(err.retryAfterMs);
          attempt--;
          continue;
        }
        lastError = err instanceof Error ? err.message : String(err);
        const tooOld = (Date.now() - born) / 1000 > sub.retry.maximumEventAgeSeconds;
        log.warn("delivery failed", { attempt, of: attempts, err: lastError.split("\n")[0] });
        if (isPermanent(err) || tooOld) break;
        if (attempt < attempts) await sleep(backoff * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4));
      }
    }
    if (closed) return;
    const letter: DeadLetter = {
      id: randomUUID(),
      queue: sub.deadLetter,
      subscription: sub.name,
      envelope,
      error: lastError,
      attempts: made,
      failedAt: new Date().toISOString(),
    };
    await opts.dlq.put(letter);
    log.error("dead-lettered", { queue: sub.deadLetter, letter: letter.id });
    await opts.onDeadLetter?.(letter).catch((err: Error) => log.error("dead-letter hook failed", { err: err.message }));
  }

  function route(envelope: Envelope): number {
    const targets = opts.topology.filter((s) => matches(s.pattern as EventPattern, envelope));
    for (const sub of targets) {
      const copies = opts.faults?.duplicate ? 2 : 1;
      for (let i = 0; i < copies; i++) track(deliverWithRetry(sub, envelope));
    }
    return targets.length;
  }

  return {
    /** PutEvents: accept entries, return per-entry results like EventBridge does. */
    putEvents(entries: readonly PutEntry[]): {
      FailedEntryCount: number;
      Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
    } {
      let failed = 0;
      const results = entries.map((e) => {
        let detail: unknown;
        try {
          detail = JSON.parse(e.Detail ?? "");
        } catch {
          detail = undefined;
        }
        if (!e.Source || !e.DetailType || typeof detail !== "object" || detail === null || Array.isArray(detail)) {
          failed++;
          return {
            ErrorCode: "MalformedDetail",
            ErrorMessage: "Source, DetailType and a JSON object Detail are required",
          };
        }
        const envelope: Envelope = {
          version: "0",
          id: randomUUID(),
          "detail-type": e.DetailType,
          source: e.Source,
          account: "000000000000",
          time: new Date().toISOString(),
          region: "local",
          resources: [],
          detail,
        };
        route(envelope);
        for (const watch of watchers) {
          // an observer's bug must not fail a PutEvents whose event is already routed (the sender would resend it)
          try {
            watch(envelope);
          } catch (err) {
            opts.log.warn("bus watcher failed", { err: err instanceof Error ? err.message : String(err) });
          }
        }
        return { EventId: envelope.id };
      });
      return { FailedEntryCount: failed, Entries: results };
    },
    /** Deliver an envelope again to one rule (dead-letter redrive). */
    redeliver(subscriptionName: string, envelope: Envelope): void {
      const sub = opts.topology.find((s) => s.name === subscriptionName);
      if (!sub) throw new Error(`no rule named ${subscriptionName}`);
      track(deliverWithRetry(sub, envelope));
    },
    /** Deliveries a previous process accepted but did not finish: deliver them now. Returns how many. */
    recover(): number {
      const pending = opts.journal?.list() ?? [];
      for (const p of pending) {
        const sub = opts.topology.find((s) => s.name === p.subscription);
        if (!sub) {
          opts.journal?.remove(p.id);
          continue;
        }
        opts.log.info("redelivering after restart", {
          rule: sub.name,
          event: p.envelope["detail-type"],
          eventId: p.envelope.id,
        });
        track(deliverWithRetry(sub, p.envelope, p.id));
      }
      return pending.length;
    },
    /**
     * Be told of every event the bus accepts, as it is routed (an in-process client following a job, instead of
     * polling the API). Returns the function that stops it.
     */
    watch(watcher: (envelope: Envelope) => void): () => void {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    /** Resolves when no delivery is in flight. */
    idle(): Promise<void> {
      if (inFlight.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    pending: () => inFlight.size,
    close() {
      closed = true;
      for (const wake of [...napping]) wake();
      // nothing more will be delivered: whoever waits for quiet has it
      for (const w of idleWaiters.splice(0)) w();
    },
  };
}
export type LocalBus = ReturnType<typeof createLocalBus>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export { SOURCE };
