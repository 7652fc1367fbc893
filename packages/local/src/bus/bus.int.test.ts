import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { eventBridgePublisher, type Logger } from "@videoforge/core";
import { InvalidEventError, makeEvent, SOURCE, type Envelope, type Subscription } from "@videoforge/events";
import { createLocalBus, type Deliver, type LocalBus } from "./bus.ts";
import { deadLetterStore, type DeadLetterStore } from "./dlq.ts";
import { startEventsEndpoint } from "./events-endpoint.ts";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const sub = (name: string, pattern: Record<string, unknown>, maximumRetryAttempts = 2): Subscription => ({
  name,
  handler: "recorder",
  runtime: "lambda",
  events: ["JobCancelled", "JobFailed"],
  pattern,
  retry: { maximumRetryAttempts, maximumEventAgeSeconds: 3600 },
  deadLetter: `${name}-dlq`,
});

/** cancelled: every JobCancelled; anyJob: every event with a jobId; failed: JobFailed only. */
const testTopology: Subscription[] = [
  sub("cancelled", { source: [SOURCE], "detail-type": ["JobCancelled"] }),
  sub("any-job", { source: [SOURCE], detail: { jobId: [{ exists: true }] } }),
  sub("failed", { source: [SOURCE], "detail-type": ["JobFailed"] }, 0),
];

const cancelled = (jobId = "job-000001") => ({
  Source: SOURCE,
  DetailType: "JobCancelled",
  Detail: JSON.stringify({ version: 1, jobId, occurredAt: new Date().toISOString(), by: "me" }),
  EventBusName: "test",
});

interface Call {
  sub: string;
  envelope: Envelope;
  attempt: number;
  at: number;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "bus-int-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const buses: LocalBus[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const b of buses.splice(0)) b.close();
});

let dirCount = 0;
function setup(
  deliver: Deliver,
  extra: { backoffMs?: number; faults?: { duplicate?: boolean }; topology?: Subscription[] } = {},
) {
  const dlq: DeadLetterStore = deadLetterStore(join(root, `dlq-${++dirCount}`));
  const calls: Call[] = [];
  const bus = createLocalBus({
    topology: extra.topology ?? testTopology,
    dlq,
    log: silent,
    backoffMs: extra.backoffMs ?? 5,
    faults: extra.faults,
    deliver: async (s, envelope, attempt) => {
      calls.push({ sub: s.name, envelope, attempt, at: performance.now() });
      await deliver(s, envelope, attempt);
    },
  });
  buses.push(bus);
  return { bus, dlq, calls };
}

const ok: Deliver = async () => {};
const ids = (res: ReturnType<LocalBus["putEvents"]>) =>
  res.Entries.map((e) => ("EventId" in e ? e.EventId : undefined));

describe("local bus", () => {
  it("delivers an event once to each matching subscription and to no other", async () => {
    const { bus, calls, dlq } = setup(ok);
    const res = bus.putEvents([cancelled()]);
    expect(res.FailedEntryCount).toBe(0);
    await bus.idle();
    expect(calls.map((c) => c.sub).sort()).toEqual(["any-job", "cancelled"]);
    expect(calls.every((c) => c.attempt === 1)).toBe(true);
    const [id] = ids(res);
    for (const c of calls) {
      expect(c.envelope.id).toBe(id);
      expect(c.envelope.source).toBe(SOURCE);
      expect(c.envelope["detail-type"]).toBe("JobCancelled");
      expect(c.envelope.detail).toMatchObject({ jobId: "job-000001", by: "me" });
    }
    expect(await dlq.list()).toEqual([]);
  });

  it("delivers nothing for an event no pattern matches", async () => {
    const { bus, calls } = setup(ok);
    const res = bus.putEvents([{ Source: "elsewhere", DetailType: "JobCancelled", Detail: "{}" }]);
    expect(res.FailedEntryCount).toBe(0);
    await bus.idle();
    expect(calls).toEqual([]);
  });

  it("retries a failing delivery with growing delays until it succeeds, without dead-lettering", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5); // no jitter: delays are exactly 20 ms then 40 ms
    let failures = 0;
    const { bus, calls, dlq } = setup(
      async (s) => {
        if (s.name === "cancelled" && failures < 2) {
          failures++;
          throw new Error(`transient ${failures}`);
        }
      },
      { backoffMs: 20 },
    );
    bus.putEvents([cancelled()]);
    await bus.idle();
    const tries = calls.filter((c) => c.sub === "cancelled");
    expect(tries.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const [t1, t2, t3] = tries.map((c) => c.at) as [number, number, number];
    const gap1 = t2 - t1;
    const gap2 = t3 - t2;
    expect(gap1).toBeGreaterThanOrEqual(18);
    expect(gap2).toBeGreaterThanOrEqual(38);
    expect(gap2).toBeGreaterThan(gap1);
    expect(calls.filter((c) => c.sub === "any-job")).toHaveLength(1);
    expect(await dlq.list()).toEqual([]);
  });

  it("dead-letters after 1 + maximumRetryAttempts failures, and redelivers from the dead-letter store", async () => {
    let broken = true;
    const { bus, calls, dlq } = setup(async (s) => {
      if (s.name === "cancelled" && broken) throw new Error("encoder exploded: disk full");
    });
    const [id] = ids(bus.putEvents([cancelled("job-dead01")]));
    await bus.idle();
    const tries = calls.filter((c) => c.sub === "cancelled");
    expect(tries.map((c) => c.attempt)).toEqual([1, 2, 3]);

    const letters = await dlq.list();
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter).toMatchObject({ queue: "cancelled-dlq", subscription: "cancelled", attempts: 3 });
    expect(letter.error).toContain("encoder exploded: disk full");
    expect(letter.envelope.id).toBe(id);
    expect(letter.envelope.detail).toMatchObject({ jobId: "job-dead01" });
    expect(Number.isNaN(Date.parse(letter.failedAt))).toBe(false);

    broken = false;
    calls.length = 0;
    bus.redeliver(letter.subscription, letter.envelope);
    await bus.idle();
    expect(calls.map((c) => [c.sub, c.attempt, c.envelope.id])).toEqual([["cancelled", 1, id]]);
    expect(await dlq.list()).toHaveLength(1); // redelivery does not add a second letter
    expect(() => bus.redeliver("no-such-rule", letter.envelope)).toThrow(/no-such-rule/);
  });

  it("dead-letters an InvalidEventError after a single attempt", async () => {
    const { bus, calls, dlq } = setup(async (s) => {
      if (s.name === "cancelled") throw new InvalidEventError("JobCancelled detail is invalid: by is required");
    });
    bus.putEvents([cancelled()]);
    await bus.idle();
    expect(calls.filter((c) => c.sub === "cancelled").map((c) => c.attempt)).toEqual([1]);
    const letters = await dlq.list();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ queue: "cancelled-dlq", attempts: 1 });
    expect(letters[0]!.error).toContain("by is required");
  });

  it("stops retrying an event older than maximumEventAgeSeconds", async () => {
    const { bus, calls, dlq } = setup(async () => {
      throw new Error("still down");
    });
    const old: Envelope = {
      id: "old-1",
      source: SOURCE,
      "detail-type": "JobCancelled",
      time: new Date(Date.now() - 2 * 3600_000).toISOString(),
      detail: { jobId: "job-old001" },
    };
    bus.redeliver("cancelled", old);
    await bus.idle();
    expect(calls.map((c) => [c.sub, c.attempt])).toEqual([["cancelled", 1]]);
    const letters = await dlq.list();
    expect(letters.map((l) => [l.queue, l.attempts, l.envelope.id, l.error])).toEqual([
      ["cancelled-dlq", 1, "old-1", "still down"],
    ]);
  });

  it("honours maximumRetryAttempts 0: one attempt, then the dead-letter queue", async () => {
    const { bus, calls, dlq } = setup(async () => {
      throw new Error("nope");
    });
    bus.putEvents([{ Source: SOURCE, DetailType: "JobFailed", Detail: JSON.stringify({ jobId: "job-000002" }) }]);
    await bus.idle();
    expect(calls.filter((c) => c.sub === "failed")).toHaveLength(1);
    expect(calls.filter((c) => c.sub === "any-job")).toHaveLength(3);
    const letters = await dlq.list();
    expect(letters.map((l) => [l.queue, l.attempts]).sort()).toEqual([
      ["any-job-dlq", 3],
      ["failed-dlq", 1],
    ]);
  });

  it("delivers every event twice with faults.duplicate", async () => {
    const { bus, calls } = setup(ok, { faults: { duplicate: true } });
    const [id] = ids(bus.putEvents([cancelled()]));
    await bus.idle();
    expect(calls.map((c) => c.sub).sort()).toEqual(["any-job", "any-job", "cancelled", "cancelled"]);
    expect(new Set(calls.map((c) => c.envelope.id))).toEqual(new Set([id]));
  });

  it("rejects malformed PutEvents entries individually and accepts the good ones", async () => {
    const { bus, calls } = setup(ok);
    const res = bus.putEvents([
      cancelled("job-good01"),
      { Source: SOURCE, Detail: "{}" },
      { Source: SOURCE, DetailType: "JobCancelled", Detail: "{not json" },
      { DetailType: "JobCancelled", Detail: "{}" },
      { Source: SOURCE, DetailType: "JobCancelled", Detail: "42" },
      { Source: SOURCE, DetailType: "JobCancelled", Detail: "[]" },
      cancelled("job-good02"),
    ]);
    expect(res.FailedEntryCount).toBe(5);
    expect(res.Entries).toHaveLength(7);
    const [good1, , , , , , good2] = ids(res);
    expect(good1).toEqual(expect.any(String));
    expect(good2).toEqual(expect.any(String));
    expect(good1).not.toBe(good2);
    for (const i of [1, 2, 3, 4, 5]) {
      const entry = res.Entries[i]!;
      expect("EventId" in entry).toBe(false);
      expect(entry).toMatchObject({ ErrorCode: expect.any(String), ErrorMessage: expect.any(String) });
    }
    await bus.idle();
    expect(new Set(calls.map((c) => c.envelope.id))).toEqual(new Set([good1, good2]));
    expect(calls).toHaveLength(4);
  });

  it("tells a watcher of every accepted event, matched by a rule or not, until it stops watching", async () => {
    const { bus } = setup(ok);
    const seen: string[] = [];
    const stop = bus.watch((e) => seen.push(`${e["detail-type"]} ${(e.detail as { jobId?: string }).jobId ?? "-"}`));
    bus.putEvents([
      cancelled("job-watch1"),
      { Source: SOURCE, DetailType: "JobCancelled", Detail: "{not json" },
      { Source: "elsewhere", DetailType: "Other", Detail: "{}" },
    ]);
    stop();
    bus.putEvents([cancelled("job-watch2")]);
    await bus.idle();
    // the malformed entry was refused, so nobody hears of it
    expect(seen).toEqual(["JobCancelled job-watch1", "Other -"]);
  });

  it("answers PutEvents and delivers even when a watcher throws", async () => {
    const { bus, calls } = setup(ok);
    bus.watch(() => {
      throw new Error("observer bug");
    });
    const res = bus.putEvents([cancelled("job-watch3")]);
    expect(res.FailedEntryCount).toBe(0);
    await bus.idle();
    expect(calls.map((c) => c.sub).sort()).toEqual(["any-job", "cancelled"]);
  });

  it("resolves idle() only once every delivery has finished", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = 0;
    const { bus } = setup(async () => {
      await gate;
      finished++;
    });
    await bus.idle(); // nothing in flight yet
    bus.putEvents([cancelled(), cancelled("job-000003")]);
    expect(bus.pending()).toBe(4);
    let idle = false;
    const waiting = bus.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(idle).toBe(false);
    expect(finished).toBe(0);
    release();
    await waiting;
    expect(finished).toBe(4);
    expect(bus.pending()).toBe(0);
  });

  it("releases idle() waiters when the bus closes with deliveries still in flight", async () => {
    const { bus } = setup(() => new Promise<void>(() => {}));
    bus.putEvents([cancelled()]);
    const waiting = bus.idle();
    bus.close();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe("PutEvents endpoint", () => {
  let stop: () => Promise<void>;
  let endpoint: string;
  let calls: Call[];
  let bus: LocalBus;

  beforeAll(async () => {
    const env = setup(ok, { topology: [sub("everything", { source: [SOURCE] })] });
    calls = env.calls;
    bus = env.bus;
    buses.splice(buses.indexOf(bus), 1); // lives for the whole describe, not one test
    ({ endpoint, stop } = await startEventsEndpoint(bus));
  });
  afterAll(async () => {
    await stop();
    bus.close();
  });

  const client = () =>
    new EventBridgeClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });

  it("takes events from the real EventBridge client and publisher", async () => {
    calls.length = 0;
    const upload = makeEvent("VideoUploaded", {
      jobId: "job-endpoint1",
      owner: "user-1",
      source: { bucket: "uploads", key: "raw/job-endpoint1.mp4", size: 12345, megabytes: 1, name: "clip.mp4" },
      ladder: ["720p"],
    });
    const cancel = makeEvent("JobCancelled", { jobId: "job-endpoint1", by: "user-1" });
    await eventBridgePublisher(client(), "videoforge-local", 1).publish(upload, cancel);
    await bus.idle();
    expect(calls).toHaveLength(2);
    const byType = new Map(calls.map((c) => [c.envelope["detail-type"], c.envelope]));
    expect(byType.get("VideoUploaded")).toMatchObject({ source: "videoforge", detail: upload.detail });
    expect(byType.get("JobCancelled")).toMatchObject({ source: "videoforge", detail: cancel.detail });
    expect(byType.get("VideoUploaded")!.detail).toEqual(upload.detail);
  });

  it("takes more than one batch of events through the publisher", async () => {
    calls.length = 0;
    const events = Array.from({ length: 23 }, (_, i) =>
      makeEvent("JobCancelled", { jobId: `job-batch${String(i).padStart(2, "0")}`, by: "bulk" }),
    );
    await eventBridgePublisher(client(), "videoforge-local", 1).publish(...events);
    await bus.idle();
    expect(calls.map((c) => (c.envelope.detail as { jobId: string }).jobId).sort()).toEqual(
      events.map((e) => e.detail.jobId).sort(),
    );
  });

  it("answers an unsupported X-Amz-Target with HTTP 400", async () => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.ListRules" },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: "UnknownOperationException" });
  });

  it("answers a PutEvents call with no entries or a non-JSON body with HTTP 400", async () => {
    const post = (body: string) =>
      fetch(endpoint, { method: "POST", headers: { "x-amz-target": "AWSEvents.PutEvents" }, body });
    expect((await post(JSON.stringify({ Entries: [] }))).status).toBe(400);
    expect((await post("{oops")).status).toBe(400);
  });
});
