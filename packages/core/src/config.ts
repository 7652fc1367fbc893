import { cpus } from "node:os";

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
  tmpDir: string;
  ffmpegTimeoutMs: number;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

type Env = Record<string, string | undefined>;

function num(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function loadConfig(env: Env = process.env): Config {
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
    tmpDir: env.VIDEOFORGE_TMP_DIR ?? (env.TMPDIR || "/tmp"),
    ffmpegTimeoutMs: num(env, "VIDEOFORGE_FFMPEG_TIMEOUT_MS", 30 * 60_000),
    // s3rver and dynalite accept any credentials; the SDK still wants some
    credentials: local ? { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } : undefined,
  };
}

let current: Config | undefined;
/** Process-wide config, read once. */
export function config(): Config {
  return (current ??= loadConfig());
}
