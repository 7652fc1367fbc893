import type { ChunkItem, CounterItem, JobItem, JobStatus, TimelineItem, UploadItem } from "../db/index.ts";

/** Which counter: a user, what it counts, and the period (a rate window, a UTC day). */
export type CounterKey = Pick<CounterItem, "owner" | "kind" | "period">;

/** A job as a step creates it; the store adds what it derives (sweep keys, timestamps). */
export type NewJob = Pick<JobItem, "jobId" | "owner" | "status" | "sourceName" | "ladder" | "createdAt"> &
  Partial<
    Pick<
      JobItem,
      | "sourceBucket"
      | "sourceKey"
      | "sourceSize"
      | "retryOf"
      | "uploadId"
      | "formats"
      | "posterAt"
      | "loudness"
      | "targetSsim"
      | "watermark"
      | "trim"
      | "packaging"
    >
  >;

export type NewChunk = Pick<ChunkItem, "jobId" | "index" | "startFrame" | "frames" | "startTime" | "duration"> &
  Partial<Pick<ChunkItem, "codec" | "maxDuration">> & {
    readyAt: number;
  };

/** What a transition writes besides the status (and the stage's timestamp). */
export interface JobChange {
  set?: Partial<Omit<JobItem, "jobId" | "status" | "owner" | "createdAt">>;
  remove?: (keyof JobItem)[];
}

export interface AssemblyRecord {
  outputs: unknown[];
  audioOutputs: unknown[];
  captions: unknown[];
  /** Null for an audio-only job: no stream, no picture. */
  hls: string | null;
  poster: string | null;
}

/**
 * The job store port: one function per access pattern, each with who needs it. ElectroDB
 * over DynamoDB (dynalite locally) is one adapter (adapters/electro-job-store.ts); an in-memory
 * one (adapters/memory-job-store.ts) lets the steps' races run as millisecond unit tests.
 * Every write that changes a job's status goes through `transition`, which only makes the
 * moves in the state machine's table (job/machine.ts).
 */
export interface JobStore {
  // ── jobs ──
  /** Every step and the API: one job by id (one GetItem). */
  getJob(jobId: string): Promise<JobItem | null>;
  /** API (new upload), retry, chunker (adopting an outside VideoUploaded): false when it exists. */
  createJob(job: NewJob): Promise<boolean>;
  /**
   * Every step: move a job to `to` if its status is one of `from` (default: every status the
   * machine allows into `to`). Returns the job as written, or null when it was elsewhere.
   */
  transition(jobId: string, to: JobStatus, from?: readonly JobStatus[], change?: JobChange): Promise<JobItem | null>;
  /** Library: a completed job's title and description, as its owner edits them; the job after (null: not COMPLETED). */
  editVideo(jobId: string, set: Partial<Pick<JobItem, "title" | "description">>): Promise<JobItem | null>;
  /** Chunker: what the probe and planner found, while the job is CHUNKING; false once it moved on. */
  recordChunking(
    jobId: string,
    set: Pick<JobItem, "source" | "renditions"> & Partial<Pick<JobItem, "plan" | "notes">>,
  ): Promise<boolean>;
  /** Tracker: add an encoded chunk index (idempotent set add); the job after the write. */
  addEncodedChunk(jobId: string, index: number): Promise<JobItem>;
  /** Tracker, chunker: note once that the job became playable; false if it already was (or is gone). */
  markPlayable(jobId: string, at: number): Promise<boolean>;
  /** Assembler: record the outputs once; the job after (whichever assembly recorded first). */
  recordAssembly(jobId: string, result: AssemblyRecord): Promise<JobItem>;
  /** Retry: name the job that retries this one, once; the id that holds (an earlier retry's, if any). */
  claimRetry(jobId: string, retryId: string): Promise<string>;
  /** Sweeper: active jobs whose stage deadline passed by `now`, from the sparse index (no Scan). */
  listOverdueJobs(now: number, limit?: number): Promise<JobItem[]>;
  /** Sweeper: count a re-drive and give the job its stage's deadline again; false if it moved meanwhile. */
  noteRedrive(jobId: string, status: JobStatus, now: number): Promise<boolean>;

  // ── chunks ──
  /** Encoder: a chunk's row (already encoded? attempts?). */
  getChunk(jobId: string, index: number): Promise<ChunkItem | null>;
  /** Chunker: a chunk's row, created once (a redelivery must not reset a chunk being encoded). */
  createChunk(chunk: NewChunk): Promise<boolean>;
  /** Encoder: an attempt starts on this worker; `spend` counts it against the chunk's attempts. */
  startChunkAttempt(jobId: string, index: number, worker: string, at: number, spend: boolean): Promise<ChunkItem>;
  /** Encoder (a transient error), task-stopped (the platform stopped the task): give an attempt back. */
  refundChunkAttempt(jobId: string, index: number): Promise<void>;
  /** Tracker: the chunk is encoded (row for the dashboard's Gantt chart). */
  markChunkEncoded(
    jobId: string,
    index: number,
    /** With when a scene-searched window really began and how long it ran (ChunkEncoded's `cut`). */
    done: Pick<ChunkItem, "worker" | "startedAt" | "finishedAt" | "outputs"> &
      Partial<Pick<ChunkItem, "startTime" | "duration">>,
  ): Promise<void>;
  /** Chunk failures: the chunk is out of attempts. */
  markChunkFailed(jobId: string, index: number, error: string): Promise<void>;
  /** Dead-letter redrive: the chunk gets a fresh set of attempts. */
  resetChunk(jobId: string, index: number): Promise<void>;

  // ── uploads ──
  /** API (complete, resume): one upload by id. */
  getUpload(uploadId: string): Promise<UploadItem | null>;
  /** API (complete), sweeper (abandoned): move an upload from one status to another; false if it was not in `from`. */
  setUploadStatus(uploadId: string, from: UploadItem["status"], to: UploadItem["status"]): Promise<boolean>;

  // ── active-job slots (the per-owner limit) ──
  /**
   * API (new upload), retry: hold one of `owner`'s `limit` active-job slots for `jobId`, in one
   * conditional write; true if it is held (also when this job already held it), false when all
   * are taken. `transition` gives the slot back when the job ends and takes it again when a
   * dead letter's redrive reopens it.
   */
  reserveSlot(owner: string, jobId: string, limit: number, at: number): Promise<boolean>;
  /** `transition` into a final status, quota repair: give the job's slot back (idempotent). */
  releaseSlot(owner: string, jobId: string): Promise<void>;
  /** Quota repair, when a reservation is refused: which jobs hold `owner`'s slots, since when (one GetItem). */
  heldSlots(owner: string): Promise<Record<string, number>>;

  // ── per-user counters (rate windows, daily encode work) ──
  /**
   * API (every authorized request, `rate`), chunker (`work`, once the source is probed): add
   * `amount` to `owner`'s counter for `period` unless the total would pass `limit`, in one
   * conditional write shared by every process; true if charged. With `jobId`, a job is charged
   * once: a second charge for it is true and adds nothing. `expiresAt` is epoch seconds (TTL).
   */
  charge(counter: CounterKey, amount: number, limit: number, expiresAt: number, jobId?: string): Promise<boolean>;
  /** API (new upload, retry): what `owner`'s counter for `period` holds (0 when it has none). */
  counted(counter: CounterKey): Promise<number>;

  // ── timeline ──
  /** Recorder: one row per event id (a redelivery rewrites the same row). */
  putTimeline(row: Omit<TimelineItem, never>): Promise<void>;
  /** Recorder: the job item's `updatedAt` moves (the job page's version); nothing if the job does not exist. */
  touchJob(jobId: string): Promise<void>;
}
