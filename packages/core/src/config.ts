import { cpus } from "node:os";
import { z } from "zod";
import { LAMBDA_CHUNK_CPU_SECONDS } from "@videoforge/events";
import { withLinkedResources, type Env, type LinkedResources } from "./config-sources.ts";

/**
 * The one door for configuration: the only module that reads `process.env`. One zod schema
 * names every variable the code reads, in three sections: what the runtime needs (`config()`),
 * what the CLI reads as a client (`clientSettings()`), and what starts one process (a task's
 * event, the Lambda runtime, the task launcher: `processSettings()`). Everything else receives
 * parsed values. Locally the local cloud sets these variables for every process it starts; on
 * AWS the same names are set from SST links by the stacks.
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
  /** Threads per ffmpeg; by default the cores shared out among `parallelTasks`. */
  encoderThreads: number;
  /** Set when VIDEOFORGE_ENCODER_THREADS fixes the threads (the local pool then shares no cores out). */
  encoderThreadsFixed: boolean;
  /**
   * Encoder tasks that run at once, when a fixed number do (the local task runner); the
   * planner then sizes chunks so every worker gets the same work. Undefined on Fargate.
   */
  parallelTasks?: number;
  /**
   * Chunks the chunker estimates at this many CPU-seconds or fewer are encoded on the encoder's Lambda, the rest on
   * Fargate tasks (topology.ts LAMBDA_CHUNK_CPU_SECONDS, the price break-even, by default); 0 sends every chunk,
   * the lead one too, to tasks.
   */
  lambdaChunkCpuSeconds: number;
  tmpDir: string;
  ffmpegTimeoutMs: number;
  /**
   * An ffmpeg that reports no progress this long (a stalled input, a hung decoder) is killed; the attempt fails
   * and is retried.
   */
  ffmpegStallMs: number;
  /** FFMPEG_PATH / FFPROBE_PATH: an ffmpeg chosen by hand (ffmpeg/locate.ts); unset means found. */
  ffmpeg: { path?: string; probePath?: string };
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
  /** Least severe log level written (VIDEOFORGE_LOG_LEVEL); default info. */
  logLevel: LogLevel;
  /** Signed webhook deliveries (core/webhook): where they may go and how long they are retried. */
  webhooks: {
    policy: UrlPolicy;
    /** First retry after this; each next one waits twice as long (capped at 2 h). */
    firstRetryMs: number;
    /** Retried this long after the first attempt, then dead-lettered (VIDEOFORGE_WEBHOOK_WINDOW_SECONDS). */
    windowMs: number;
    /** One attempt: the endpoint answers within this or the attempt fails. */
    timeoutMs: number;
  };
  /** What `POST /uploads/from-url` may fetch. */
  imports: { policy: UrlPolicy };
}

/**
 * Where a user-given URL may point (core/net/outbound.ts). Link-local (cloud metadata) and reserved addresses
 * never, whatever this says.
 */
export interface UrlPolicy {
  httpsOnly: boolean;
  allowLoopback: boolean;
  allowPrivate: boolean;
}

/**
 * What videoforge accepts. Sources beyond these are refused up front with a reason a person
 * can act on, not discovered hours into an encode. Read once from the environment by
 * `loadConfig` (see docs/limits.md); checked by job/limits.ts.
 */
export interface Limits {
  /** Largest upload announced at POST /uploads. */
  maxUploadBytes: number;
  maxDurationSeconds: number;
  /** Largest picture area (width × height) of the source, as coded. */
  maxPixels: number;
  /** Longest side of the source, as coded: a 16384x512 strip is few pixels but no encoder's friend. */
  maxSide: number;
  /** As given in VIDEOFORGE_MAX_RESOLUTION, to say the limit the way it was set. */
  maxResolution?: string;
  maxFps: number;
  /** Jobs not yet COMPLETED, FAILED or CANCELLED (uploads in progress count) per user. */
  maxActiveJobsPerUser: number;
  /** Streams of any kind in one source (a real video has a handful). */
  maxStreams: number;
  /**
   * Work budget of one source, frames × pixels: at most `workPixelsPerByte` per byte of the
   * upload, and never less than `minWorkPixels`. Tiny frames of a huge picture cost decode
   * time out of all proportion to the bytes a user sent.
   */
  workPixelsPerByte: number;
  minWorkPixels: number;
  /**
   * Encode work per user per UTC day, frames × output pixels summed over the ladder's
   * renditions: what x264 is paid for. Charged when the chunker has probed and planned a job.
   */
  maxDailyWork: number;
  /**
   * API requests per user: at most `rateBurst` in each window of `rateBurst / ratePerSecond`
   * seconds (200 per 10 s), counted in the table so every process shares it.
   */
  ratePerSecond: number;
  rateBurst: number;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The local cloud's key pair, made at random per data directory (`<data-dir>/gate-keys.json`,
 * 0600) and handed to every process it starts in these two variables. The S3 and DynamoDB
 * gates accept requests signed with it and nothing else.
 */
export const LOCAL_KEY_VARIABLES = {
  accessKeyId: "VIDEOFORGE_LOCAL_ACCESS_KEY_ID",
  secretAccessKey: "VIDEOFORGE_LOCAL_SECRET_ACCESS_KEY",
} as const;

// ---- variable types: unset and blank are the same; a malformed value is an error naming the variable

/** A string variable; blank counts as unset. */
const text = z
  .string()
  .optional()
  .transform((raw) => raw?.trim() || undefined);

/**
 * A finite number that `ok` accepts; unset (or blank) gives `fallback`. A refused value's message says what was
 * wanted (`what`) and follows the variable's name (see `parseEnv`).
 */
function numeric<F extends number | undefined>(fallback: F, ok: (value: number) => boolean, what: string) {
  return text.transform((raw, ctx): number | F => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isFinite(value) && ok(value)) return value;
    ctx.addIssue({ code: "custom", message: `must be ${what}, got "${raw}"` });
    return z.NEVER;
  });
}

const isPositive = (integer: boolean) => (v: number) => v > 0 && (!integer || Number.isInteger(v));
const positiveWords = (integer: boolean) => `a positive ${integer ? "whole " : ""}number`;

/** Zero or more. */
const nonNegative = (fallback: number) => numeric(fallback, (v) => v >= 0, "a number, 0 or more");

/** A positive number. */
const positive = (fallback: number, integer = false) => numeric(fallback, isPositive(integer), positiveWords(integer));

/** Like `positive`, but unset stays undefined. */
const optionalPositive = (integer = false) => numeric(undefined, isPositive(integer), positiveWords(integer));

function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return text.transform((raw, ctx): T[number] => {
    if (raw === undefined) return fallback;
    const found = values.find((v) => v === raw);
    if (found !== undefined) return found;
    ctx.addIssue({ code: "custom", message: `must be one of ${values.join("|")}, got "${raw}"` });
    return z.NEVER;
  });
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "53687091200", "50GiB", "500 MB": bytes, with an optional decimal or binary unit. */
const bytes = text.transform((raw, ctx): number | undefined => {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = UNITS[m?.[2]?.toLowerCase() ?? "?"];
  if (!m || unit === undefined) {
    ctx.addIssue({ code: "custom", message: `must be a byte count such as 53687091200, 50GiB or 500MB, got "${raw}"` });
    return z.NEVER;
  }
  const value = Math.floor(Number(m[1]) * unit);
  if (value > 0) return value;
  ctx.addIssue({ code: "custom", message: `must be a positive whole number, got "${raw}"` });
  return z.NEVER;
});

/** "4096x2304" (any case, spaces allowed around the x). */
const resolution = text.transform((raw, ctx): { width: number; height: number } | undefined => {
  if (raw === undefined) return undefined;
  const m = /^(\d+)\s*x\s*(\d+)$/i.exec(raw);
  const [width, height] = [Number(m?.[1]), Number(m?.[2])];
  if (m && width > 0 && height > 0) return { width, height };
  ctx.addIssue({ code: "custom", message: `must look like 4096x2304, got "${raw}"` });
  return z.NEVER;
});

const flag = text.transform((raw) => raw === "1" || raw === "true");

// ---- the schema, by section

export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 50 * 1024 ** 3,
  maxDurationSeconds: 6 * 3600,
  maxPixels: 4096 * 2304,
  maxSide: 8192,
  maxResolution: "4096x2304",
  maxFps: 240,
  maxActiveJobsPerUser: 20,
  maxStreams: 32,
  // a still screen recording at 1080p30 compresses to about 1,000 pixels per byte; 100x that is generous
  workPixelsPerByte: 100_000,
  // one hour of 1080p at 30 fps
  minWorkPixels: 3600 * 30 * 1920 * 1080,
  // 24 hours of 1080p at 30 fps, encoded once
  maxDailyWork: 24 * 3600 * 30 * 1920 * 1080,
  ratePerSecond: 20,
  rateBurst: 200,
};

/** VIDEOFORGE_MAX_* and the rate limit (docs/limits.md). */
const LIMIT_VARIABLES = {
  VIDEOFORGE_MAX_UPLOAD_BYTES: bytes,
  VIDEOFORGE_MAX_DURATION_SECONDS: positive(DEFAULT_LIMITS.maxDurationSeconds),
  VIDEOFORGE_MAX_RESOLUTION: resolution,
  VIDEOFORGE_MAX_PIXELS: optionalPositive(true),
  VIDEOFORGE_MAX_SIDE: optionalPositive(true),
  VIDEOFORGE_MAX_FPS: positive(DEFAULT_LIMITS.maxFps),
  VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER: positive(DEFAULT_LIMITS.maxActiveJobsPerUser, true),
  VIDEOFORGE_MAX_STREAMS: positive(DEFAULT_LIMITS.maxStreams, true),
  VIDEOFORGE_WORK_PIXELS_PER_BYTE: positive(DEFAULT_LIMITS.workPixelsPerByte),
  VIDEOFORGE_MIN_WORK_PIXELS: positive(DEFAULT_LIMITS.minWorkPixels),
  VIDEOFORGE_MAX_DAILY_WORK: positive(DEFAULT_LIMITS.maxDailyWork, true),
  VIDEOFORGE_RATE_PER_SECOND: positive(DEFAULT_LIMITS.ratePerSecond),
  VIDEOFORGE_RATE_BURST: positive(DEFAULT_LIMITS.rateBurst, true),
};

/** What every runtime (Lambda, task, local cloud) reads: `Config`. */
const RUNTIME_VARIABLES = {
  AWS_REGION: text,
  VIDEOFORGE_LOCAL: flag,
  VIDEOFORGE_DYNAMODB_ENDPOINT: text,
  VIDEOFORGE_S3_ENDPOINT: text,
  VIDEOFORGE_EVENTS_ENDPOINT: text,
  VIDEOFORGE_TABLE: text,
  VIDEOFORGE_UPLOADS_BUCKET: text,
  VIDEOFORGE_WORK_BUCKET: text,
  VIDEOFORGE_OUTPUTS_BUCKET: text,
  VIDEOFORGE_BUS: text,
  VIDEOFORGE_CHUNK_SECONDS: positive(8),
  VIDEOFORGE_X264_PRESET: text,
  VIDEOFORGE_X264_CRF: positive(23),
  VIDEOFORGE_ENCODER_THREADS: optionalPositive(true),
  VIDEOFORGE_PARALLEL_TASKS: optionalPositive(true),
  VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS: nonNegative(LAMBDA_CHUNK_CPU_SECONDS),
  VIDEOFORGE_TMP_DIR: text,
  TMPDIR: text,
  VIDEOFORGE_FFMPEG_TIMEOUT_MS: positive(30 * 60_000),
  VIDEOFORGE_FFMPEG_STALL_MS: positive(120_000),
  FFMPEG_PATH: text,
  FFPROBE_PATH: text,
  VIDEOFORGE_STORAGE_TIMEOUT_MS: positive(60_000),
  VIDEOFORGE_DOWNLOAD_URL_SECONDS: positive(300),
  VIDEOFORGE_UPLOAD_URL_SECONDS: positive(3600),
  VIDEOFORGE_PLAYBACK_URL_MARGIN_SECONDS: positive(3600),
  VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS: positive(7 * 24 * 3600),
  [LOCAL_KEY_VARIABLES.accessKeyId]: text,
  [LOCAL_KEY_VARIABLES.secretAccessKey]: text,
  VIDEOFORGE_LOG_LEVEL: oneOf(LOG_LEVELS, "info"),
  VIDEOFORGE_WEBHOOK_RETRY_SECONDS: positive(30),
  VIDEOFORGE_WEBHOOK_WINDOW_SECONDS: positive(86_400),
  VIDEOFORGE_WEBHOOK_TIMEOUT_MS: positive(10_000),
  /** Development only: user-given URLs (webhooks, imports) may be http and reach loopback and private addresses. */
  VIDEOFORGE_ALLOW_PRIVATE_URLS: flag,
  ...LIMIT_VARIABLES,
};

/** What the CLI reads as a client of a running API (and its tools). */
const CLIENT_VARIABLES = {
  VIDEOFORGE_API: text,
  /** The port `up` serves on, and where commands look for it. */
  PORT: positive(8080, true),
  VIDEOFORGE_TOKEN: text,
  VIDEOFORGE_DATA_DIR: text,
  VIDEOFORGE_CREDENTIALS: text,
  XDG_CONFIG_HOME: text,
  CHROMIUM_PATH: text,
};

/**
 * What starts one process: a task's handler and event (set by the launcher: RunTask container
 * overrides on AWS, the task runner locally), the Lambda runtime API of an image function,
 * and the task launcher's queue and rule (stacks/subscriptions.ts, stacks/rules.ts; the names
 * are TASK_*_VARIABLE in packages/functions/src/lambda/task-policy.ts).
 */
const PROCESS_VARIABLES = {
  VIDEOFORGE_HANDLER: text,
  VIDEOFORGE_EVENT: text,
  VIDEOFORGE_TASK_ATTEMPTS: text.transform((raw, ctx): number => {
    const value = Number(raw ?? "1");
    if (Number.isInteger(value) && value >= 1 && value <= 10) return value;
    ctx.addIssue({ code: "custom", message: `must be an integer from 1 to 10, got "${raw}"` });
    return z.NEVER;
  }),
  /** The bus's delivery attempt of this task (local task runner; informational). */
  VIDEOFORGE_ATTEMPT: optionalPositive(true),
  AWS_LAMBDA_RUNTIME_API: text,
  AWS_LAMBDA_FUNCTION_NAME: text,
  _HANDLER: text,
  VIDEOFORGE_TASK_QUEUE_URL: text,
  VIDEOFORGE_TASK_RULE: text,
  VIDEOFORGE_TASK_STAGE: text,
};

const RuntimeEnv = z.object(RUNTIME_VARIABLES);
const LimitEnv = z.object(LIMIT_VARIABLES);
const ClientEnv = z.object(CLIENT_VARIABLES);
const ProcessEnv = z.object(PROCESS_VARIABLES);

/** Every variable the code reads, with its type and default: the one schema. */
export const EnvSchema = z.object({ ...RUNTIME_VARIABLES, ...CLIENT_VARIABLES, ...PROCESS_VARIABLES });
export type ParsedEnv = z.output<typeof EnvSchema>;

/** Parse one section; every problem is reported in one error, each naming its variable. */
function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new Error(result.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
}

// ---- sections, parsed

/**
 * Limits from VIDEOFORGE_MAX_* variables; anything unset keeps its default, anything malformed throws naming the
 * variable.
 */
export function loadLimits(env: Env): Limits {
  return limitsOf(parseEnv(LimitEnv, env));
}

function limitsOf(v: z.output<typeof LimitEnv>): Limits {
  const res = v.VIDEOFORGE_MAX_RESOLUTION;
  if (res && v.VIDEOFORGE_MAX_PIXELS)
    throw new Error("set VIDEOFORGE_MAX_RESOLUTION or VIDEOFORGE_MAX_PIXELS, not both");
  const maxPixels = res ? res.width * res.height : (v.VIDEOFORGE_MAX_PIXELS ?? DEFAULT_LIMITS.maxPixels);
  const maxResolution = res
    ? `${res.width}x${res.height}`
    : v.VIDEOFORGE_MAX_PIXELS
      ? undefined
      : DEFAULT_LIMITS.maxResolution;
  // a configured resolution wider than the default side limit raises the side limit with it
  const longest = res ? Math.max(res.width, res.height) : 0;
  return {
    maxUploadBytes: v.VIDEOFORGE_MAX_UPLOAD_BYTES ?? DEFAULT_LIMITS.maxUploadBytes,
    maxDurationSeconds: v.VIDEOFORGE_MAX_DURATION_SECONDS,
    maxPixels,
    maxSide: v.VIDEOFORGE_MAX_SIDE ?? Math.max(DEFAULT_LIMITS.maxSide, longest),
    ...(maxResolution ? { maxResolution } : {}),
    maxFps: v.VIDEOFORGE_MAX_FPS,
    maxActiveJobsPerUser: v.VIDEOFORGE_MAX_ACTIVE_JOBS_PER_USER,
    maxStreams: v.VIDEOFORGE_MAX_STREAMS,
    workPixelsPerByte: v.VIDEOFORGE_WORK_PIXELS_PER_BYTE,
    minWorkPixels: v.VIDEOFORGE_MIN_WORK_PIXELS,
    maxDailyWork: v.VIDEOFORGE_MAX_DAILY_WORK,
    ratePerSecond: v.VIDEOFORGE_RATE_PER_SECOND,
    rateBurst: v.VIDEOFORGE_RATE_BURST,
  };
}

/**
 * The runtime config of an environment. On AWS the names arrive as SST links (see
 * config-sources.ts: `SST_RESOURCE_*` variables, or `linked` as a Lambda's `Resource` gives
 * them); explicit variables win.
 */
export function loadConfig(rawEnv: Env = process.env, linked: LinkedResources = {}): Config {
  const v = parseEnv(RuntimeEnv, withLinkedResources(rawEnv, linked));
  const accessKeyId = v[LOCAL_KEY_VARIABLES.accessKeyId];
  const secretAccessKey = v[LOCAL_KEY_VARIABLES.secretAccessKey];
  return {
    region: v.AWS_REGION ?? "us-east-1",
    endpoints: {
      dynamodb: v.VIDEOFORGE_DYNAMODB_ENDPOINT,
      s3: v.VIDEOFORGE_S3_ENDPOINT,
      events: v.VIDEOFORGE_EVENTS_ENDPOINT,
    },
    table: v.VIDEOFORGE_TABLE ?? "videoforge",
    buckets: {
      uploads: v.VIDEOFORGE_UPLOADS_BUCKET ?? "videoforge-uploads",
      work: v.VIDEOFORGE_WORK_BUCKET ?? "videoforge-work",
      outputs: v.VIDEOFORGE_OUTPUTS_BUCKET ?? "videoforge-outputs",
    },
    busName: v.VIDEOFORGE_BUS ?? "videoforge",
    chunkSeconds: v.VIDEOFORGE_CHUNK_SECONDS,
    x264: { preset: v.VIDEOFORGE_X264_PRESET ?? "veryfast", crf: v.VIDEOFORGE_X264_CRF },
    // threads per ffmpeg × parallel tasks ≈ cores
    encoderThreads:
      v.VIDEOFORGE_ENCODER_THREADS ?? Math.max(1, Math.floor(cpus().length / (v.VIDEOFORGE_PARALLEL_TASKS ?? 1))),
    encoderThreadsFixed: v.VIDEOFORGE_ENCODER_THREADS !== undefined,
    parallelTasks: v.VIDEOFORGE_PARALLEL_TASKS,
    lambdaChunkCpuSeconds: v.VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS,
    tmpDir: v.VIDEOFORGE_TMP_DIR ?? v.TMPDIR ?? "/tmp",
    ffmpegTimeoutMs: v.VIDEOFORGE_FFMPEG_TIMEOUT_MS,
    ffmpegStallMs: v.VIDEOFORGE_FFMPEG_STALL_MS,
    ffmpeg: { path: v.FFMPEG_PATH, probePath: v.FFPROBE_PATH },
    storageTimeoutMs: v.VIDEOFORGE_STORAGE_TIMEOUT_MS,
    urlSeconds: {
      download: v.VIDEOFORGE_DOWNLOAD_URL_SECONDS,
      upload: v.VIDEOFORGE_UPLOAD_URL_SECONDS,
      playbackMargin: v.VIDEOFORGE_PLAYBACK_URL_MARGIN_SECONDS,
      playbackMax: Math.min(v.VIDEOFORGE_PLAYBACK_URL_MAX_SECONDS, 7 * 24 * 3600),
    },
    // locally the gates' key pair; elsewhere (and artifacts given AWS_* variables) the SDK's own chain
    credentials: v.VIDEOFORGE_LOCAL && accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    limits: limitsOf(v),
    logLevel: v.VIDEOFORGE_LOG_LEVEL,
    webhooks: {
      // a developer's receiver on this machine is what local webhooks are for; private networks need the flag
      policy: v.VIDEOFORGE_ALLOW_PRIVATE_URLS ? openPolicy : v.VIDEOFORGE_LOCAL ? loopbackPolicy : strictPolicy,
      firstRetryMs: v.VIDEOFORGE_WEBHOOK_RETRY_SECONDS * 1000,
      windowMs: v.VIDEOFORGE_WEBHOOK_WINDOW_SECONDS * 1000,
      timeoutMs: v.VIDEOFORGE_WEBHOOK_TIMEOUT_MS,
    },
    // an import fetches whatever the URL serves into storage: only the explicit flag opens it, even locally
    imports: { policy: v.VIDEOFORGE_ALLOW_PRIVATE_URLS ? openPolicy : strictPolicy },
  };
}

const strictPolicy: UrlPolicy = { httpsOnly: true, allowLoopback: false, allowPrivate: false };
const loopbackPolicy: UrlPolicy = { httpsOnly: false, allowLoopback: true, allowPrivate: false };
const openPolicy: UrlPolicy = { httpsOnly: false, allowLoopback: true, allowPrivate: true };

/** What the CLI reads as a client: where the API is, its token, where `up` keeps its data. */
export interface ClientSettings {
  /** VIDEOFORGE_API, else undefined (the CLI then tries `http://127.0.0.1:<port>`). */
  api?: string;
  port: number;
  token?: string;
  dataDir?: string;
  /** Where `videoforge login` keeps its tokens: VIDEOFORGE_CREDENTIALS, else under XDG_CONFIG_HOME. */
  credentialsFile?: string;
  configHome?: string;
  /** The browser the screenshot bench drives. */
  chromiumPath: string;
}

export function loadClientSettings(env: Env = process.env): ClientSettings {
  const v = parseEnv(ClientEnv, env);
  return {
    api: v.VIDEOFORGE_API,
    port: v.PORT,
    token: v.VIDEOFORGE_TOKEN,
    dataDir: v.VIDEOFORGE_DATA_DIR,
    credentialsFile: v.VIDEOFORGE_CREDENTIALS,
    configHome: v.XDG_CONFIG_HOME,
    chromiumPath: v.CHROMIUM_PATH ?? "/usr/bin/chromium",
  };
}

/** What starts this one process; raw where another package owns the meaning (the event's schema, handler names). */
export interface ProcessSettings {
  task: {
    /** VIDEOFORGE_HANDLER: a task's handler, or an image function's. */
    handler?: string;
    /** VIDEOFORGE_EVENT: the EventBridge envelope as JSON. */
    event?: string;
    /** VIDEOFORGE_TASK_ATTEMPTS: runs of the handler in this process (1 to 10; 1 locally, where the bus retries). */
    attempts: number;
    attempt?: number;
  };
  lambda: { runtimeApi?: string; functionName?: string; handler?: string };
  launcher: { queueUrl?: string; rule?: string; stage?: string };
}

export function loadProcessSettings(env: Env = process.env): ProcessSettings {
  const v = parseEnv(ProcessEnv, env);
  return {
    task: {
      handler: v.VIDEOFORGE_HANDLER,
      event: v.VIDEOFORGE_EVENT,
      attempts: v.VIDEOFORGE_TASK_ATTEMPTS,
      attempt: v.VIDEOFORGE_ATTEMPT,
    },
    lambda: { runtimeApi: v.AWS_LAMBDA_RUNTIME_API, functionName: v.AWS_LAMBDA_FUNCTION_NAME, handler: v._HANDLER },
    launcher: { queueUrl: v.VIDEOFORGE_TASK_QUEUE_URL, rule: v.VIDEOFORGE_TASK_RULE, stage: v.VIDEOFORGE_TASK_STAGE },
  };
}

/**
 * The environment of a child process: this one's, plus `extra`. Children read their own
 * configuration through this module, so passing the whole environment on is the contract.
 */
export function childEnv(extra: Env = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) if (v !== undefined) out[k] = v;
  return out;
}

let current: Config | undefined;
/** Process-wide config, read once. */
export function config(): Config {
  return (current ??= loadConfig());
}

let client: ClientSettings | undefined;
/** The CLI's client settings, read once. */
export function clientSettings(): ClientSettings {
  return (client ??= loadClientSettings());
}

let started: ProcessSettings | undefined;
/** What started this process, read once. */
export function processSettings(): ProcessSettings {
  return (started ??= loadProcessSettings());
}
