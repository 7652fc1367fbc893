import { describe, expect, it } from "vitest";
import { matches, validatePattern, type EventPattern } from "@videoforge/local/bus";
import { handlers } from "@videoforge/functions/registry";
import { eventNames, isEventName, toMegabytes, type EventDetail, type EventInput, type EventName } from "./catalog.ts";
import { makeEvent, parseEnvelope, SOURCE, type Envelope } from "./envelope.ts";
import { DELETION_EVENTS, LARGE_SOURCE_MEGABYTES, topology, WEBHOOK_EVENTS, type Subscription } from "./topology.ts";

type Payload<N extends EventName> = Omit<EventInput<N>, "version" | "occurredAt">;

const MB = 1_000_000;
const GB = 1_000_000_000;
const jobId = "job_0123456789";
const rendition = { name: "720p", width: 1280, height: 720, videoBitrate: 3_000_000, maxrate: 4_500_000 };
const output = {
  rendition: "720p",
  key: "out/job_0123456789/720p.mp4",
  width: 1280,
  height: 720,
  frames: 1500,
  duration: 60,
  bytes: 22_000_000,
  bitrate: 2_900_000,
};
const uploaded = (size: number): Payload<"VideoUploaded"> => ({
  jobId,
  owner: "user-1",
  source: {
    bucket: "videoforge-uploads",
    key: `raw/${jobId}.mp4`,
    size,
    megabytes: toMegabytes(size),
    name: "holiday.mp4",
  },
  ladder: ["720p", "360p"],
});
const chunkFailed = (final: boolean): Payload<"ChunkFailed"> => ({
  jobId,
  chunk: { index: 3, count: 8 },
  attempt: final ? 3 : 1,
  final,
  reason: "ffmpeg exited with code 1",
  worker: "task-1",
});
const chunksEncoded = (sourceSize: number): Payload<"ChunksEncoded"> => ({
  jobId,
  chunkCount: 8,
  sourceMegabytes: toMegabytes(sourceSize),
});

/** Realistic payloads for every catalog event, with variants on each side of every content filter. */
const samples: { [N in EventName]: Payload<N>[] } = {
  VideoUploaded: [
    uploaded(500 * MB),
    uploaded(5 * GB),
    uploaded(LARGE_SOURCE_MEGABYTES * MB - 1),
    uploaded(LARGE_SOURCE_MEGABYTES * MB),
  ],
  ChunkReady: [
    {
      jobId,
      chunk: {
        index: 0,
        count: 8,
        source: { bucket: "videoforge-work", key: `chunks/${jobId}/0.mkv` },
        format: "matroska",
        startFrame: 0,
        frames: 240,
        startTime: 0,
        duration: 8,
      },
      renditions: [rendition],
      rotation: 0,
      gop: 48,
      outputBucket: "videoforge-work",
      outputPrefix: `encoded/${jobId}/`,
    },
    {
      jobId,
      chunk: {
        index: 0,
        lead: true,
        lambda: true,
        cpuSeconds: 3.1,
        count: 8,
        source: { bucket: "videoforge-work", key: `chunks/${jobId}/0.mkv` },
        format: "matroska",
        startFrame: 0,
        frames: 60,
        startTime: 0,
        duration: 2,
      },
      renditions: [rendition],
      rotation: 0,
      gop: 48,
      outputBucket: "videoforge-work",
      outputPrefix: `encoded/${jobId}/`,
    },
  ],
  ChunkEncoded: [
    {
      jobId,
      chunk: { index: 0, count: 8 },
      outputs: [{ rendition: "720p", key: `encoded/${jobId}/720p/0.mp4`, frames: 240, bytes: 3_000_000 }],
      worker: "task-1",
      attempt: 1,
      startedAt: "2024-05-01T12:00:00.000Z",
      finishedAt: "2024-05-01T12:00:09.000Z",
    },
  ],
  ChunkFailed: [chunkFailed(false), chunkFailed(true)],
  PlaybackReady: [{ jobId, variants: ["720p", "360p"], segments: 1 }],
  ChunksEncoded: [chunksEncoded(500 * MB), chunksEncoded(5 * GB)],
  VideoAssembled: [
    {
      jobId,
      bucket: "videoforge-outputs",
      outputs: [output],
      hls: `hls/${jobId}/master.m3u8`,
      poster: `hls/${jobId}/poster.jpg`,
    },
  ],
  JobCompleted: [{ jobId, outputs: [output], hls: `hls/${jobId}/master.m3u8`, poster: `hls/${jobId}/poster.jpg` }],
  JobFailed: [{ jobId, stage: "encoding", reason: "Chunk 3 failed three times." }],
  JobCancelled: [{ jobId, by: "user-1" }],
  VideoDeleteRequested: [{ jobId, owner: "user-1" }],
  VideoDeleted: [{ jobId, owner: "user-1", bytes: 123_456, sourceRemoved: true }],
  SourceImportRequested: [
    { jobId, owner: "user-1", url: "https://media.example.com/clip.mp4", name: "clip.mp4", large: false },
    { jobId, owner: "user-1", url: "https://media.example.com/film.mov", name: "film.mov", large: true },
  ],
  WebhookRedeliveryRequested: [
    { jobId, owner: "user-1", webhookId: "wh_0123456789", deliveryId: "evt_0123456789abcdef" },
  ],
};

/** The envelope a rule sees, built from a detail validated against the catalog (as publishers do). */
function envelope<N extends EventName>(name: N, payload: Payload<N>): Envelope {
  const { detail } = makeEvent(name, payload);
  const env: Envelope = {
    version: "0",
    id: "evt-1",
    "detail-type": name,
    source: SOURCE,
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [],
    detail,
  };
  // the sample must be what a consumer would accept, or the routing checks prove nothing
  expect(parseEnvelope(env).name).toBe(name);
  return env;
}

const allSamples = eventNames.flatMap((name) =>
  (samples[name] as Payload<EventName>[]).map((payload) => ({ name, env: envelope(name, payload as never) })),
);
const matching = (env: Envelope) =>
  topology
    .filter((s) => matches(s.pattern as EventPattern, env))
    .map((s) => s.name)
    .sort();
const byName = (name: string): Subscription => {
  const sub = topology.find((s) => s.name === name);
  if (!sub) throw new Error(`no subscription ${name}`);
  return sub;
};
const upload = (size: number) => envelope("VideoUploaded", uploaded(size));

describe("topology", () => {
  it("has a valid EventBridge pattern on every subscription", () => {
    expect(topology.length).toBeGreaterThan(0);
    for (const sub of topology)
      expect({ name: sub.name, problems: validatePattern(sub.pattern) }).toEqual({ name: sub.name, problems: [] });
  });

  it("only ever matches videoforge events", () => {
    for (const sub of topology) expect(sub.pattern.source, sub.name).toEqual([SOURCE]);
    for (const { env } of allSamples) expect(matching({ ...env, source: "someone-else" })).toEqual([]);
  });

  it("has unique rule names and unique dead-letter queues", () => {
    const names = topology.map((s) => s.name);
    const dlqs = topology.map((s) => s.deadLetter);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(dlqs).size).toBe(dlqs.length);
    // a DLQ must not collide with a rule name either (they become resource names side by side)
    expect(names.filter((n) => dlqs.includes(n))).toEqual([]);
  });

  it("gives every subscription a dead-letter queue and a retry policy EventBridge accepts", () => {
    for (const sub of topology) {
      expect(sub.deadLetter, sub.name).toBe(`${sub.name}-dlq`);
      const { maximumRetryAttempts, maximumEventAgeSeconds } = sub.retry;
      expect(Number.isInteger(maximumRetryAttempts), sub.name).toBe(true);
      expect(Number.isInteger(maximumEventAgeSeconds), sub.name).toBe(true);
      expect(maximumRetryAttempts, sub.name).toBeGreaterThanOrEqual(0);
      expect(maximumRetryAttempts, sub.name).toBeLessThanOrEqual(185);
      expect(maximumEventAgeSeconds, sub.name).toBeGreaterThanOrEqual(60);
      expect(maximumEventAgeSeconds, sub.name).toBeLessThanOrEqual(86400);
    }
  });

  it("names only handlers that exist and events that are in the catalog", () => {
    for (const sub of topology) {
      expect(Object.keys(handlers), sub.name).toContain(sub.handler);
      expect(typeof handlers[sub.handler]?.handle, sub.name).toBe("function");
      expect(sub.events.length, sub.name).toBeGreaterThan(0);
      for (const e of sub.events) expect(isEventName(e), `${sub.name}: ${e}`).toBe(true);
      expect(new Set(sub.events).size, sub.name).toBe(sub.events.length);
    }
  });

  it("has a sample for every catalog event", () => {
    expect(Object.keys(samples).sort()).toEqual([...eventNames].sort());
  });

  it("matches each sample only on subscriptions that declare the event", () => {
    for (const { name, env } of allSamples) {
      for (const subName of matching(env))
        expect(byName(subName).events, `${subName} matched ${name} without declaring it`).toContain(name);
    }
  });

  it("delivers every event to every subscription that declares it, for some realistic detail", () => {
    for (const name of eventNames) {
      const declared = topology
        .filter((s) => s.events.includes(name))
        .map((s) => s.name)
        .sort();
      const reached = [...new Set(allSamples.filter((s) => s.name === name).flatMap((s) => matching(s.env)))].sort();
      expect({ name, reached }).toEqual({ name, reached: declared });
    }
  });

  it("sends a 500 MB upload only to the Lambda chunker and a 5 GB upload only to the task chunker", () => {
    const chunkers = (env: Envelope) =>
      topology.filter((s) => s.handler === "chunker" && matches(s.pattern as EventPattern, env));
    const small = chunkers(upload(500 * MB));
    const large = chunkers(upload(5 * GB));
    expect(small.map((s) => [s.name, s.runtime])).toEqual([["chunk-small-source", "lambda"]]);
    expect(large.map((s) => [s.name, s.runtime])).toEqual([["chunk-large-source", "task"]]);
    expect(matching(upload(500 * MB))).toEqual(["chunk-small-source", "record-timeline"]);
    expect(matching(upload(5 * GB))).toEqual(["chunk-large-source", "record-timeline"]);
  });

  it("sends a chunk the chunker marked `lambda` only to the encoder's Lambda, and every other only to a task", () => {
    const ready = allSamples.filter((s) => s.name === "ChunkReady");
    const light = ready.filter((s) => (s.env.detail as { chunk: { lambda?: true } }).chunk.lambda);
    expect(light).toHaveLength(1);
    expect(matching(light[0]!.env)).toEqual(["encode-light-chunk", "record-timeline"]);
    const others = ready.filter((s) => !light.includes(s));
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect(matching(other.env)).toEqual(["encode-chunk", "record-timeline"]);
    // a lead chunk announced before the `lambda` mark existed is still encoded, on a task
    const oldLead = structuredClone(light[0]!.env);
    delete (oldLead.detail as { chunk: { lambda?: true } }).chunk.lambda;
    expect(matching(oldLead)).toEqual(["encode-chunk", "record-timeline"]);
    expect(topology.find((s) => s.name === "encode-light-chunk")?.runtime).toBe("lambda");
  });

  it("splits uploads at LARGE_SOURCE_MEGABYTES, with no gap and no overlap, up to 50 GiB", () => {
    for (const size of [
      0,
      1,
      (LARGE_SOURCE_MEGABYTES - 1) * MB,
      LARGE_SOURCE_MEGABYTES * MB - 1,
      LARGE_SOURCE_MEGABYTES * MB,
      LARGE_SOURCE_MEGABYTES * MB + 1,
      5 * GB,
      50 * 1024 ** 3,
    ]) {
      const chunkers = matching(upload(size)).filter((n) => byName(n).handler === "chunker");
      expect({ size, chunkers }).toEqual({
        size,
        chunkers: [toMegabytes(size) < LARGE_SOURCE_MEGABYTES ? "chunk-small-source" : "chunk-large-source"],
      });
    }
  });

  it("assembles small sources on Lambda and large ones on a task", () => {
    const assemblers = (size: number) =>
      topology
        .filter(
          (s) =>
            s.handler === "assembler" &&
            matches(s.pattern as EventPattern, envelope("ChunksEncoded", chunksEncoded(size))),
        )
        .map((s) => s.runtime);
    expect(assemblers(500 * MB)).toEqual(["lambda"]);
    expect(assemblers(5 * GB)).toEqual(["task"]);
  });

  it("wakes the failure handler only for a final ChunkFailed", () => {
    const failureRules = (final: boolean) =>
      topology.filter(
        (s) =>
          s.handler === "chunkFailures" &&
          matches(s.pattern as EventPattern, envelope("ChunkFailed", chunkFailed(final))),
      );
    expect(failureRules(false)).toEqual([]);
    expect(failureRules(true).map((s) => s.name)).toEqual(["fail-on-final-chunk-failure"]);
    expect(matching(envelope("ChunkFailed", chunkFailed(false)))).toEqual(["record-timeline"]);
  });

  it("has the recorder match every catalog event", () => {
    const recorders = topology.filter((s) => s.handler === "recorder");
    expect(recorders.length).toBe(1);
    const recorder = recorders[0]!;
    // every event but a deletion's, whose job rows are the ones being removed, and a webhook delivery's
    const unrecorded = [...DELETION_EVENTS, ...WEBHOOK_EVENTS];
    expect([...recorder.events].sort()).toEqual(eventNames.filter((n) => !unrecorded.includes(n)).sort());
    for (const { name, env } of allSamples)
      expect(matches(recorder.pattern as EventPattern, env), name).toBe(!unrecorded.includes(name));
  });
});
