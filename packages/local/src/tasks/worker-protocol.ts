/** Messages between the worker pool (parent) and a warm worker process, over Node's IPC channel. */
export interface WorkerTask {
  /** Positive, unique per pool; 0 is reserved for the worker's "ready" message. */
  id: number;
  handler: string;
  envelope: unknown;
  attempt: number;
  /** Threads for this task's encoders, when the pool shares the cores by the tasks running (slots.ts). */
  threads?: number;
}

/** Stop the work of one job (it was cancelled): the worker aborts that job's task, killing its ffmpegs. */
export interface WorkerAbort {
  abort: string;
}

export interface WorkerReply {
  id: number;
  ok: boolean;
  /** Sent once, with id 0, when the worker has loaded and can take tasks. */
  ready?: boolean;
  error?: string;
  errorName?: string;
}
