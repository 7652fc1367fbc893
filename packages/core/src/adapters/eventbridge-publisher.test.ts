import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from "@aws-sdk/client-eventbridge";
import { makeEvent, type DomainEvent } from "@videoforge/events";
import { eventBridgePublisher } from "./eventbridge-publisher.ts";

const BUS = "videoforge-test-bus";
const eb = mockClient(EventBridgeClient);
// the test files share one module cache (isolate: false): the real client's send comes back for the next file
afterAll(() => {
  eb.restore();
});
const client = new EventBridgeClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });

const cancelled = (i: number): DomainEvent =>
  makeEvent("JobCancelled", { jobId: `job-${String(i).padStart(4, "0")}`, by: "tester" });
const inputs = (): PutEventsCommandInput[] => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input);
const jobIds = (input: PutEventsCommandInput) =>
  (input.Entries ?? []).map((e) => (JSON.parse(e.Detail ?? "{}") as { jobId: string }).jobId);
/** A PutEvents response where the entries at `failing` failed with `code`. */
const partial = (count: number, failing: number[], code = "ThrottlingException") => ({
  FailedEntryCount: failing.length,
  Entries: Array.from({ length: count }, (_, i) =>
    failing.includes(i) ? { ErrorCode: code, ErrorMessage: "slow down" } : { EventId: `id-${i}` },
  ),
});

beforeEach(() => {
  eb.reset();
});
afterEach(() => {
  eb.reset();
});

describe("eventBridgePublisher", () => {
  it("sends each event as an exact PutEvents entry", async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => partial(input.Entries?.length ?? 0, []));
    const upload = makeEvent("VideoUploaded", {
      jobId: "job-abc123",
      owner: "user-1",
      source: { bucket: "uploads", key: "raw/job-abc123.mp4", size: 123456, megabytes: 1, name: "clip.mp4" },
      ladder: ["720p", "360p"],
    });
    const failed = makeEvent("JobFailed", { jobId: "job-abc123", stage: "encoding", reason: "Chunk 2 failed." });
    await eventBridgePublisher(client, BUS, 1).publish(upload, failed);
    expect(inputs()).toEqual([
      {
        Entries: [
          {
            Source: "videoforge",
            DetailType: "VideoUploaded",
            Detail: JSON.stringify(upload.detail),
            EventBusName: BUS,
          },
          { Source: "videoforge", DetailType: "JobFailed", Detail: JSON.stringify(failed.detail), EventBusName: BUS },
        ],
      },
    ]);
    expect(JSON.parse(inputs()[0]!.Entries![0]!.Detail!)).toEqual(upload.detail);
  });

  it("makes no call when there is nothing to publish", async () => {
    eb.on(PutEventsCommand).resolves(partial(0, []));
    await eventBridgePublisher(client, BUS, 1).publish();
    expect(inputs()).toEqual([]);
  });

  it("splits 23 events into calls of 10, 10 and 3 entries, in order", async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => partial(input.Entries?.length ?? 0, []));
    const events = Array.from({ length: 23 }, (_, i) => cancelled(i));
    await eventBridgePublisher(client, BUS, 1).publish(...events);
    const calls = inputs();
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.flatMap(jobIds)).toEqual(events.map((e) => e.detail.jobId));
    for (const c of calls)
      for (const e of c.Entries ?? [])
        expect(e).toMatchObject({ Source: "videoforge", DetailType: "JobCancelled", EventBusName: BUS });
  });

  it("resends only the entry that failed", async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce(partial(3, [1]))
      .resolves(partial(1, []));
    const events = [cancelled(1), cancelled(2), cancelled(3)];
    await eventBridgePublisher(client, BUS, 1).publish(...events);
    const calls = inputs();
    expect(calls).toHaveLength(2);
    expect(jobIds(calls[0]!)).toEqual(["job-0001", "job-0002", "job-0003"]);
    expect(calls[1]!.Entries).toEqual([calls[0]!.Entries![1]]);
    expect(jobIds(calls[1]!)).toEqual(["job-0002"]);
  });

  it("retries failures inside a later batch without resending earlier batches", async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce(partial(10, []))
      .resolvesOnce(partial(2, [0, 1], "InternalFailure"))
      .resolvesOnce(partial(2, [1]))
      .resolves(partial(1, []));
    const events = Array.from({ length: 12 }, (_, i) => cancelled(i));
    await eventBridgePublisher(client, BUS, 1).publish(...events);
    expect(inputs().map(jobIds)).toEqual([
      events.slice(0, 10).map((e) => e.detail.jobId),
      ["job-0010", "job-0011"],
      ["job-0010", "job-0011"],
      ["job-0011"],
    ]);
  });

  it("gives up after 5 attempts with an error naming the failure code", async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => partial(input.Entries?.length ?? 0, [0]));
    const publishing = eventBridgePublisher(client, BUS, 1).publish(cancelled(1), cancelled(2));
    await expect(publishing).rejects.toThrow(/ThrottlingException/);
    const calls = inputs();
    expect(calls).toHaveLength(5);
    expect(calls[0]!.Entries).toHaveLength(2);
    for (const c of calls.slice(1)) expect(jobIds(c)).toEqual(["job-0001"]);
  });

  it("does not publish later batches once a batch has given up", async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
      partial(input.Entries?.length ?? 0, [0], "AccessDeniedException"),
    );
    const events = Array.from({ length: 15 }, (_, i) => cancelled(i));
    await expect(eventBridgePublisher(client, BUS, 1).publish(...events)).rejects.toThrow(/AccessDeniedException/);
    expect(inputs().flatMap(jobIds)).not.toContain("job-0010");
  });

  it("passes through a rejected PutEvents call", async () => {
    eb.on(PutEventsCommand).rejects(new Error("socket hang up"));
    await expect(eventBridgePublisher(client, BUS, 1).publish(cancelled(1))).rejects.toThrow("socket hang up");
  });
});
