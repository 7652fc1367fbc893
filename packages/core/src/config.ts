import { cpus } from "node:os";
import { withLinkedResources } from "./config-sources.ts";
import { loadLimits, type Limits } from "./pipeline/limits.ts";

/**
 * The one door for configuration. Locally the local cloud sets these variables for every
 * process it starts; on AWS the same names are set from SST links by the stacks.
 */
export interface Config {
  region: string;
  /** Custom endpoints (dynalite, s3rver, local bus); undefined means the real AWS service. */
  endpoints: { dynamodb?: string; s3?: string; events?: string };
  table: string;
  buckets: { uploads: string; work: string; outputs: string };
  busName: string;
  /**
   * Target chunk duration in seconds. 8 s measured fastest among 2/4/8 s on a 30 s 1080p
   * clip here (35.8 / 28.9 / 25.4 s): each chunk costs a process start and a short x264
   * warm-up, so very short chunks lose more to overhead than they win in balance.
   */
  chunkSeconds: number;
  /** x264 preset/crf used by both the pipeline and the single-pass baseline. */
  x264: { preset: string; crf: number };
  encoderThreads: number;
  /**
   * Encoder tasks that run at once, when a fixed number do (the local task runner); the
   * planner then sizes chunks so every worker gets the same work. Undefined on Fargate.
   */
  parallelTasks?: number;
  tmpDir: string;
  ffmpegTimeoutMs: number;
  /** An ffmpeg that reports no progress this long (a stalled input, a hung decoder) is killed; the attempt fails and is retried. */
  ffmpegStallMs: number;
  /** A storage/table request idle this long fails (and is retried) instead of hanging. */
  storageTimeoutMs: number;
  /**
   * Lifetimes of presigned URLs. Downloads are short (a leaked link dies soon); upload parts
   * must outlive a slow multi-GB upload, and a client asks for fresh ones to resume.
   */
  urlSeconds: {
    download: number;
    upload: number;
    /** HLS segments live the video's duration plus this margin (pauses, seeking back), ... */
    playbackMargin: number;
    /** ... never longer than this (SigV4's ceiling is 7 days; see docs/deploy-aws.md on role credentials). */
    playbackMax: number;
  };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Upload size, source duration/resolution/fps and active jobs per user (VIDEOFORGE_MAX_*; docs/limits.md). */
  limits: Limits;
}

/**
 * The local cloud's key pair, made at random per data directory (`<data-dir>/gate-keys.json`,
 * 0600) and handed to every process it starts in these two variables. The S3 and DynamoDB
 * gates accept requests signed with it and nothing else.
 */
export const LOCAL_KEY_VARIABLES = { accessKeyId: "VIDEOFORGE_LOCAL_ACCESS_KEY_ID", secretAccessKey: "VIDEOFORGE_LOCAL_SECRET_ACCESS_KEY" } as const;

type Env = Record<string, string | undefined>;

function num(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function loadConfig(rawEnv: Env = process.env): Config {
  // on AWS the names arrive as SST links (see config-sources.ts); explicit variables win
  const env = withLinkedResources(rawEnv);
  const local = env.VIDEOFORGE_LOCAL === "1";
  return {
    region: env.AWS_REGION ?? "us-east-1",
    endpoints: {
      dynamodb: env.VIDEOFORGE_DYNAMODB_ENDPOINT,
      s3: env.VIDEOFORGE_S3_ENDPOINT,
      events: env.VIDEOFORGE_EVENTS_ENDPOINT,
    },
    table: env.VIDEOFORGE_TABLE ?? "videoforge",
    buckets: {
      uploads: env.VIDEOFORGE_UPLOADS_BUCKET ?? "videoforge-uploads",
      work: env.VIDEOFORGE_WORK_BUCKET ?? "videoforge-work",
      outputs: env.VIDEOFORGE_OUTPUTS_BUCKET ?? "videoforge-outputs",
    },
    busName: env.VIDEOFORGE_BUS ?? "videoforge",
    chunkSeconds: num(env, "VIDEOFORGE_CHUNK_SECONDS", 8),
    x264: { preset: env.VIDEOFORGE_X264_PRESET ?? "veryfast", crf: num(env, "VIDEOFORGE_X264_CRF", 23) },
    encoderThreads: num(env, "VIDEOFORGE_ENCODER_THREADS", Math.max(1, cpus().length)),
    parallelTasks: env.VIDEOFORGE_PARALLEL_TASKS ? num(env, "VIDEOFORGE_PARALLEL_TASKS", 1) : undefined,
    tmpDir: env.VIDEOFORGE_TMP_DIR ?? (env.TMPDIR || "/tmp"),
    ffmpegTimeoutMs: num(env, "VIDEOFORGE_FFMPEG_TIMEOUT_MS", 30 * 60_000),
    storageTimeoutMs: num(env, "VIDEOFORGE_STORAGE_TIMEOUT_MS", 60_000),
    ffmpegStallMs: num(env, "VIDEOFORGE_FFMPEG_STALL_MS", 120_000),
    urlSeconds: {
      download: num(env, "VIDEOFORGE_DOWNLOAD_URL_SECONDS", 300),
      upload: num(env, "VIDEOFORGE_UPLOAD_URL_SECONDS", 3600),
      playbackMargin: num(env, "VIDEOFORGE_PLAYBACK_URL_MARGIN_SECONDS", 3600),
      playbackMax: Math.min(num(env, "VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS", 7 * 24 * 3600), 7 * 24 * 3600),
    },
    // locally the gates' key pair; elsewhere (and artifacts given AWS_* variables) the SDK's own chain
    credentials: local ? localCredentials(env) : undefined,
    limits: loadLimits(env),
  };
}

function localCredentials(env: Env): Config["credentials"] {
  const accessKeyId = env[LOCAL_KEY_VARIABLES.accessKeyId];
  const secretAccessKey = env[LOCAL_KEY_VARIABLES.secretAccessKey];
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

let current: Config | undefined;
/** Process-wide config, read once. */
export function config(): Config {
  return (current ??= loadConfig());
}
