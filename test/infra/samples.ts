import { randomUUID } from "node:crypto";
import {
  makeEvent,
  SOURCE,
  toMegabytes,
  type EventDetail,
  type EventInput,
  type EventName,
  type Envelope,
} from "@videoforge/events";

type Payload<N extends EventName> = Omit<EventInput<N>, "version" | "occurredAt">;

const MB = 1_000_000;
const GB = 1_000_000_000;
const jobId = "job_infra_0001";
const output = {
  rendition: "720p",
  key: `out/${jobId}/720p.mp4`,
  width: 1280,
  height: 720,
  frames: 1500,
  duration: 60,
  bytes: 22_000_000,
  bitrate: 2_900_000,
};
const rung = (name: string, height: number) => ({
  name,
  width: Math.round((height * 16) / 9 / 2) * 2,
  height,
  videoBitrate: 3_000_000,
  maxrate: 4_500_000,
});

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
  ladder: ["1080p", "720p", "360p"],
});

/** ChunkReady with every rung of the ladder: the largest event a task is started with. */
export const largestChunkReady = (): Payload<"ChunkReady"> => ({
  jobId,
  chunk: {
    index: 41,
    count: 900,
    source: { bucket: "videoforge-work-prod-abcdefghijklmnop", key: `chunks/${jobId}/000041.ts` },
    next: { bucket: "videoforge-work-prod-abcdefghijklmnop", key: `chunks/${jobId}/000042.ts` },
    format: "mpegts",
    startFrame: 9840,
    frames: 240,
    startTime: 328,
    duration: 8,
    cpuSeconds: 1234.5,
  },
  renditions: [
    rung("2160p", 2160),
    rung("1440p", 1440),
    rung("1080p", 1080),
    rung("720p", 720),
    rung("480p", 480),
    rung("360p", 360),
    rung("240p", 240),
  ],
  rotation: 90,
  gop: 120,
  outputBucket: "videoforge-work-prod-abcdefghijklmnop",
  outputPrefix: `encoded/${jobId}/`,
});

/** Payloads for every catalog event, on both sides of every content filter. */
export const samples: { [N in EventName]: Payload<N>[] } = {
  VideoUploaded: [uploaded(500 * MB), uploaded(5 * GB), uploaded(999 * MB), uploaded(1000 * MB)],
  ChunkReady: [
    largestChunkReady(),
    // a light chunk (the lead), for the encoder's Lambda
    {
      ...largestChunkReady(),
      chunk: {
        ...largestChunkReady().chunk,
        index: 0,
        lead: true,
        lambda: true,
        cpuSeconds: 12.4,
        startFrame: 0,
        frames: 60,
        startTime: 0,
        duration: 2,
      },
    },
  ],
  ChunkEncoded: [
    {
      jobId,
      chunk: { index: 0, count: 8 },
      outputs: [{ rendition: "720p", key: `encoded/${jobId}/720p/0.ts`, frames: 240, bytes: 3_000_000 }],
      worker: "task-1",
      attempt: 1,
      startedAt: "2024-05-01T12:00:00.000Z",
      finishedAt: "2024-05-01T12:00:09.000Z",
    },
  ],
  ChunkFailed: [
    {
      jobId,
      chunk: { index: 3, count: 8 },
      attempt: 1,
      final: false,
      reason: "ffmpeg exited with code 1",
      worker: "task-1",
    },
    {
      jobId,
      chunk: { index: 3, count: 8 },
      attempt: 3,
      final: true,
      reason: "ffmpeg exited with code 1",
      worker: "task-1",
    },
  ],
  PlaybackReady: [{ jobId, variants: ["720p", "360p"], segments: 1 }],
  ChunksEncoded: [
    { jobId, chunkCount: 8, sourceMegabytes: 500 },
    { jobId, chunkCount: 8, sourceMegabytes: 5000 },
  ],
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

/** An event exactly as EventBridge hands it to a target (every field Powertools' schema requires). */
export function envelopeOf<N extends EventName>(
  name: N,
  payload: Payload<N>,
): Envelope & { account: string; region: string; resources: string[]; version: string } {
  const { detail } = makeEvent(name, payload);
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": name,
    source: SOURCE,
    account: "123456789012",
    time: new Date().toISOString(),
    region: "eu-west-1",
    resources: [],
    detail,
  };
}

export const GIGABYTE = GB;
