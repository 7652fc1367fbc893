import { z } from "zod";
import { ID_PATTERN } from "./ids.ts";

export { ID_PATTERN } from "./ids.ts";

/** Every event's detail starts with these fields; the rest is the payload. */
const base = {
  version: z.literal(1),
  jobId: z.string().regex(ID_PATTERN, "jobId must be 6-64 url-safe characters"),
  occurredAt: z.string().datetime(),
};

const objectRef = z.object({ bucket: z.string().min(1), key: z.string().min(1) });

/** An image laid over every frame of every rendition: where, how opaque, how wide (a fraction of the picture's). */
export const Watermark = z.object({
  image: objectRef.extend({ format: z.enum(["png", "jpeg"]) }),
  position: z.enum(["top-left", "top-right", "bottom-left", "bottom-right", "center"]),
  opacity: z.number().min(0).max(1),
  width: z.number().min(0.02).max(1),
});
export type Watermark = z.infer<typeof Watermark>;

/**
 * The colour every output is tagged with (ffmpeg's names: `bt709`, `bt2020`, `smpte2084`, `tv`), each only when
 * known; `toneMap` when an HDR source is turned into SDR on the way.
 */
export const Colour = z.object({
  primaries: z
    .string()
    .regex(/^[a-z0-9-]{1,24}$/)
    .optional(),
  transfer: z
    .string()
    .regex(/^[a-z0-9-]{1,24}$/)
    .optional(),
  matrix: z
    .string()
    .regex(/^[a-z0-9-]{1,24}$/)
    .optional(),
  range: z.enum(["tv", "pc"]).optional(),
  toneMap: z.boolean().optional(),
});
export type Colour = z.infer<typeof Colour>;

/** One rung of the ladder after it has been fitted to the source (never upscaled, even sizes). */
export const Rendition = z.object({
  name: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  videoBitrate: z.number().int().positive(),
  maxrate: z.number().int().positive(),
});
export type Rendition = z.infer<typeof Rendition>;

/**
 * What a job can make. Video formats are each their own set of chunk encodes (`<rung>.mp4` for h264,
 * `<rung>-hevc.mp4`, `<rung>-vp9.webm`, `<rung>-av1.mp4`); audio formats are one file each (`audio.m4a`,
 * `audio.mp3`).
 */
export const VIDEO_FORMATS = ["h264", "hevc", "vp9", "av1"] as const;
export const AUDIO_FORMATS = ["m4a", "mp3"] as const;
export const VideoFormat = z.enum(VIDEO_FORMATS);
export type VideoFormat = z.infer<typeof VideoFormat>;
export const AudioFormat = z.enum(AUDIO_FORMATS);
export type AudioFormat = z.infer<typeof AudioFormat>;
export const Format = z.enum([...VIDEO_FORMATS, ...AUDIO_FORMATS]);
export type Format = z.infer<typeof Format>;

export const ChunkRef = z.object({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** The chunk's video format, so a timeline shows which format a chunk belongs to. */
  codec: VideoFormat.optional(),
});

/**
 * A target quality for every chunk of every rung: each one's CRF is searched (at most `maxProbes` full encodes,
 * each measured) for the fewest bits whose mean SSIM against the encoder's own input reaches `ssim`.
 */
export const QualityTarget = z.object({
  ssim: z.number().min(0.8).max(0.995),
  maxProbes: z.number().int().min(1).max(6).default(4),
});
export type QualityTarget = z.infer<typeof QualityTarget>;

/** What a targeted encode reached: the codec's own CRF, the SSIM measured on the stored encode, the encodes it took. */
export const ReachedQuality = z.object({
  crf: z.number(),
  ssim: z.number().min(0).max(1),
  probes: z.number().int().positive(),
  /** False when no CRF in range reached the target (e.g. the rung's bitrate ceiling holds it back). */
  met: z.boolean(),
});
export type ReachedQuality = z.infer<typeof ReachedQuality>;

export const encodedOutput = z.object({
  rendition: z.string(),
  key: z.string(),
  frames: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  quality: ReachedQuality.optional(),
});

/** One finished rendition as the job records it (VideoAssembled, JobCompleted, the API's job view). */
export const finalOutput = z.object({
  rendition: z.string(),
  /** Jobs from before formats existed made H.264 only. */
  format: VideoFormat.default("h264"),
  key: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frames: z.number().int().nonnegative(),
  duration: z.number().nonnegative(),
  bytes: z.number().int().nonnegative(),
  bitrate: z.number().nonnegative(),
});
export type FinalOutput = z.infer<typeof finalOutput>;

/** One finished audio-only file (`audio.m4a`, `audio.mp3`). */
export const audioOutput = z.object({
  format: AudioFormat,
  key: z.string(),
  duration: z.number().nonnegative(),
  bytes: z.number().int().nonnegative(),
  bitrate: z.number().nonnegative(),
});
export type AudioOutput = z.infer<typeof audioOutput>;

/** One WebVTT captions sidecar (`captions/<language>.vtt`). */
export const captionsOutput = z.object({
  language: z.string().min(1),
  key: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type CaptionsOutput = z.infer<typeof captionsOutput>;

export const catalog = {
  /** The source is in the uploads bucket; the job can start. */
  VideoUploaded: z.object({
    ...base,
    owner: z.string().min(1),
    source: objectRef.extend({
      size: z.number().int().nonnegative(),
      /** Size in whole megabytes (rounded up), for routing rules: EventBridge compares numbers only up to 5e9. */
      megabytes: z.number().int().nonnegative(),
      name: z.string(),
    }),
    ladder: z.array(z.string()).min(1),
    /** Events from before formats existed asked for H.264 only. */
    formats: z.array(Format).min(1).default(["h264"]),
  }),
  /** One keyframe-aligned piece of the source is stored and waits for an encoder. */
  ChunkReady: z.object({
    ...base,
    chunk: ChunkRef.extend({
      /** Which video format this chunk is encoded to: each format is its own set of chunks. */
      codec: VideoFormat.default("h264"),
      /** The piece of the source (the same for every format); `index` numbers the job's chunks across formats. */
      piece: z.number().int().nonnegative().optional(),
      source: objectRef,
      /** The job's short first chunk (progressive publish), the one the preview plays from. */
      lead: z.literal(true).optional(),
      /**
       * Encoded on the encoder's Lambda, which starts in about a second, instead of a Fargate task (tens of seconds
       * to start): the lead chunk, and chunks light enough that the Lambda also costs less (topology.ts
       * LAMBDA_CHUNK_CPU_SECONDS). Absent: a task.
       */
      lambda: z.literal(true).optional(),
      /** The chunker's estimate of the encode's CPU-seconds (core/chunk/cost.ts), which `lambda` follows. */
      cpuSeconds: z.number().nonnegative().optional(),
      /** The next chunk's piece: open-GOP leading frames that display before the cut live there. */
      next: objectRef.optional(),
      format: z.enum(["mpegts", "matroska"]),
      startFrame: z.number().int().nonnegative(),
      frames: z.number().int().positive(),
      startTime: z.number().nonnegative(),
      duration: z.number().nonnegative(),
      /**
       * Set when keyframes are too sparse to cut pieces: `source` is then the whole source and
       * the encoder decodes from the keyframe at `seek`, keeping frames shown in [start, end).
       * Seconds in the source's own timeline (its packets' timestamps).
       */
      window: z
        .object({
          seek: z.number(),
          start: z.number(),
          end: z.number().optional(),
          /**
           * Scene-aware cuts: the window starts at the first scene change shown in [startSearch, start), else at
           * `start`, and ends likewise at the first in [endSearch, end). The neighbouring window searches the same
           * frames by the same rule, so both find the same cut (the encoder reports where it was: `cut`).
           */
          startSearch: z.number().optional(),
          endSearch: z.number().optional(),
        })
        .optional(),
      /**
       * The piece's frames as the chunker measured them: shown in [start, end) of the piece's own timeline
       * (else the encoder measures).
       */
      range: z.object({ start: z.number(), end: z.number().optional() }).optional(),
    }),
    renditions: z.array(Rendition).min(1),
    rotation: z.number().int(),
    /** Keyframe interval in frames, the same for every chunk so HLS segments align. */
    gop: z.number().int().positive(),
    watermark: Watermark.optional(),
    /** The outputs' colour (absent on events from before colour was carried: left to the encoder). */
    colour: Colour.optional(),
    /** Search each rung's CRF for this quality (absent: the configured CRF). */
    quality: QualityTarget.optional(),
    outputBucket: z.string().min(1),
    outputPrefix: z.string().min(1),
  }),
  /** Every rendition of one chunk is encoded and stored. */
  ChunkEncoded: z.object({
    ...base,
    chunk: ChunkRef,
    outputs: z.array(encodedOutput).min(1),
    /**
     * Where a window with scene-aware cuts really began and how long it ran (seconds of the job's timeline, as
     * ChunkReady's `startTime` and `duration`): the plan's figures are only where the search ends.
     */
    cut: z.object({ startTime: z.number().nonnegative(), duration: z.number().positive() }).optional(),
    worker: z.string(),
    attempt: z.number().int().positive(),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
  }),
  /** An attempt at one chunk failed; `final` means no attempt is left. */
  ChunkFailed: z.object({
    ...base,
    chunk: ChunkRef,
    attempt: z.number().int().positive(),
    final: z.boolean(),
    reason: z.string().min(1),
    worker: z.string(),
  }),
  /**
   * The job can first be played, before it is complete: the source is chunked (its audio stored) and the H.264
   * chunks from the start on are encoded, so the API serves a growing HLS preview of them (EVENT playlists of the
   * encoded chunks, unverified) until the verified outputs replace it.
   */
  PlaybackReady: z.object({
    ...base,
    /** The preview's variants: the H.264 rungs, e.g. `720p`. */
    variants: z.array(z.string().min(1)).min(1),
    /** Chunks of each variant playable from the start when this was announced. */
    segments: z.number().int().positive(),
  }),
  /** The last chunk of the set was recorded as encoded. */
  ChunksEncoded: z.object({
    ...base,
    /** 0 for an audio-only job: its audio was made while chunking, and there is no video to encode. */
    chunkCount: z.number().int().nonnegative(),
    /** Source size in whole megabytes (rounded up), for routing rules. */
    sourceMegabytes: z.number().int().nonnegative(),
  }),
  /** Renditions, HLS ladder and poster are in the outputs bucket. */
  VideoAssembled: z
    .object({
      ...base,
      bucket: z.string(),
      outputs: z.array(finalOutput),
      audio: z.array(audioOutput).default([]),
      captions: z.array(captionsOutput).default([]),
      /** Null for an audio-only job (no video format chosen), as is the poster. */
      hls: z.string().nullable(),
      poster: z.string().nullable(),
    })
    .refine((d) => d.outputs.length + d.audio.length > 0, "an assembly has at least one output"),
  /** The job is done and its outputs verified. */
  JobCompleted: z
    .object({
      ...base,
      outputs: z.array(finalOutput),
      audio: z.array(audioOutput).default([]),
      captions: z.array(captionsOutput).default([]),
      hls: z.string().nullable(),
      poster: z.string().nullable(),
    })
    .refine((d) => d.outputs.length + d.audio.length > 0, "a completed job has at least one output"),
  /** The job cannot finish; `reason` is meant for a person. */
  JobFailed: z.object({
    ...base,
    stage: z.enum(["upload", "chunking", "encoding", "assembly", "finishing"]),
    reason: z.string().min(1),
  }),
  /** A person cancelled the job. */
  JobCancelled: z.object({ ...base, by: z.string() }),
  /**
   * A job's source is to be fetched from a URL (`POST /uploads/from-url`): the importer streams it into the uploads
   * bucket, then announces VideoUploaded. `large`: the URL said it is large, so the task runtime fetches it.
   */
  SourceImportRequested: z.object({
    ...base,
    owner: z.string().min(1),
    url: z.string().url().max(2048),
    name: z.string().min(1).max(255),
    large: z.boolean(),
  }),
  /** Its owner asked to delete a video (any job that has ended): its files and rows go, then VideoDeleted. */
  VideoDeleteRequested: z.object({ ...base, owner: z.string().min(1) }),
  /** A video's outputs, intermediates, source (unless another job still uses it) and rows are gone. */
  VideoDeleted: z.object({
    ...base,
    owner: z.string().min(1),
    /** Bytes removed from storage. */
    bytes: z.number().int().nonnegative(),
    /** Whether the source went too (false while another job, e.g. a retry, still uses it). */
    sourceRemoved: z.boolean(),
  }),
  /** Its owner asked for one webhook delivery again (it failed, or they want it twice): the sender retries it. */
  WebhookRedeliveryRequested: z.object({
    ...base,
    owner: z.string().min(1),
    webhookId: z.string().regex(ID_PATTERN),
    deliveryId: z.string().regex(ID_PATTERN),
  }),
} as const;

export type Catalog = typeof catalog;

/** Megabytes as the routing fields carry them. */
export function toMegabytes(bytes: number): number {
  return Math.ceil(bytes / 1_000_000);
}
export type EventName = keyof Catalog;
export type EventDetail<N extends EventName> = z.infer<Catalog[N]>;
/** An event's detail as a producer writes it (defaulted fields optional). */
export type EventInput<N extends EventName> = z.input<Catalog[N]>;
/** A domain event as handlers see it: name plus validated detail. */
export type DomainEvent = { [N in EventName]: { name: N; detail: EventDetail<N> } }[EventName];

export const eventNames = Object.keys(catalog) as EventName[];

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(catalog, name);
}
