import { byHandler, handlerSpecs, parseEnvelope } from "@videoforge/events";
import type { Envelope, EventDetail, HandlerName } from "@videoforge/events";
import { firstLine } from "../ffmpeg/run.ts";
import { failJob, getJob } from "./lifecycle.ts";
import type { Deps } from "../deps.ts";

type Stage = EventDetail<"JobFailed">["stage"];

/** What a dead letter says about its job: which stage stopped (declared with the handler, events/src/handlers.ts). */
const stageOf: Record<HandlerName, Stage | null> = byHandler((name) => handlerSpecs[name].stage);

export interface DeadLetterInfo {
  handler: HandlerName;
  queue: string;
  envelope: Envelope;
  error: string;
  attempts: number;
  /** What a person can do next; locally the letter stays in the store and can be redriven. */
  nextStep?: string;
}

/** The job an envelope is about, read without trusting the rest of it (a dead letter may be malformed). */
export function envelopeJobId(envelope: Envelope): string | null {
  const id = (envelope.detail as { jobId?: unknown } | null)?.jobId;
  return typeof id === "string" ? id : null;
}

/**
 * A delivery ran out of retries: the job cannot finish on its own, so it ends FAILED with
 * a reason that names the step, the last error and how to retry it. Without this a job
 * whose encoder is killed on every attempt would wait forever.
 */
export async function failOnDeadLetter(deps: Deps, letter: DeadLetterInfo): Promise<void> {
  const stage = stageOf[letter.handler];
  const jobId = envelopeJobId(letter.envelope);
  if (!stage || !jobId) return;
  const chunk = (letter.envelope.detail as { chunk?: { index?: number; count?: number } }).chunk;
  const what =
    letter.handler === "encoder" && chunk?.index !== undefined
      ? `Chunk ${chunk.index + 1} of ${chunk.count} could not be encoded`
      : `The ${stage} step did not complete`;
  const next =
    letter.nextStep ??
    `The event is kept in the dead-letter queue ${letter.queue}; \`videoforge dlq redrive\` retries it.`;
  const attempts = `${letter.attempts} attempt${letter.attempts === 1 ? "" : "s"}`;
  const reason = `${what}: ${attempts} failed (last: ${firstLine(letter.error)}). ${next}`;
  await failJob(deps, jobId, stage, reason);
}

const resumeAt: Record<Stage, "QUEUED" | "ENCODING" | "ASSEMBLING" | null> = {
  upload: null,
  chunking: "QUEUED",
  encoding: "ENCODING",
  assembly: "ENCODING",
  finishing: "ASSEMBLING",
};

/**
 * Before a dead letter is redriven: a job that failed because of it goes back to the stage
 * it stopped in, and the chunk it names gets a fresh set of attempts. Returns false when
 * the job cannot be reopened (it completed, was cancelled, or failed for another reason).
 */
export async function reopenForRedrive(deps: Deps, envelope: Envelope): Promise<boolean> {
  const parsed = parseEnvelope(envelope);
  const jobId = parsed.detail.jobId;
  const job = await getJob(deps, jobId);
  if (!job) return false;
  if (job.status !== "FAILED") return job.status !== "COMPLETED" && job.status !== "CANCELLED";
  const to = job.errorStage ? resumeAt[job.errorStage as Stage] : null;
  if (!to || !job.errorReason?.includes("dead-letter queue")) return false;
  if (parsed.name === "ChunkReady") await deps.jobs.resetChunk(jobId, parsed.detail.chunk.index);
  const moved =
    (await deps.jobs.transition(jobId, to, ["FAILED"], { remove: ["errorReason", "errorStage", "endedAt"] })) !== null;
  deps.log.info("job reopened for redrive", { jobId, status: to, moved });
  return moved;
}
