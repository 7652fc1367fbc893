/**
 * A model of one job on AWS as parallelism grows: the chunker splits the source, N chunks
 * run as Fargate tasks P at a time (one RunTask per ChunkReady, so every chunk pays a task
 * start) or, routed by their estimated CPU-seconds, on the encoder's Lambda, then the assembler joins them; and when
 * the job first plays. Pure functions; the inputs come from a measured run here (encode CPU per
 * source second, split and assembly rates) and from published Fargate and Lambda figures (start
 * latency, launch-rate quota, vCPUs, prices), cited in docs/performance.md.
 */
import { LAMBDA_CHUNK_CPU_SECONDS, LARGE_SOURCE_MEGABYTES } from "@videoforge/events";

export interface ScalingInputs {
  /** CPU-seconds of ffmpeg per second of 1080p source to encode a chunk into the whole ladder. */
  encodeCpuPerSourceSecond: number;
  /** Seconds per chunk that are not encoding on the task: runtime start, probe, S3 round trips. */
  perChunkFixedSeconds: number;
  /** RunTask until the container runs. */
  taskStartSeconds: number;
  /** Fargate launch-rate quota: a burst of tasks at once, then so many per second. */
  launchBurst: number;
  launchPerSecond: number;
  vcpu: number;
  memoryGb: number;
  /** How much of the task's vCPUs ffmpeg turns into speed. */
  parallelEfficiency: number;
  sourceBitsPerSecond: number;
  /** All rungs together. */
  outputBitsPerSecond: number;
  /** Per task, to and from S3. */
  s3BytesPerSecond: number;
  /** Probe, stream-copy split and audio encode, per second of source (on one vCPU, measured). */
  splitSecondsPerSourceSecond: number;
  /** Join by stream copy, HLS packaging and poster, per MB of output (measured). */
  assemblySecondsPerOutputMb: number;
  /** EventBridge delivery, per hop on the critical path. */
  eventHopSeconds: number;
  /** us-east-1 Linux/x86 on-demand; per-second billing with a minimum. */
  prices: { vcpuHour: number; gbHour: number; minimumBilledSeconds: number };
  /** The encoder's Lambda, which takes the lead chunk and the light ones (rule encode-light-chunk). */
  lambda: { startSeconds: number; vcpu: number; memoryGb: number; gbSecond: number };
  /** The lead chunk's length (media/plan.ts leadSecondsFor of the chunk length; 2 s for 8 s chunks). */
  leadSeconds: number;
}

export interface JobShape {
  durationSeconds: number;
  chunkSeconds: number;
  /** Most tasks running at once. */
  tasks: number;
  /**
   * Where the chunks run: `fargate`, every chunk but the lead on a task (the routing before chunks were costed, or
   * VIDEOFORGE_LAMBDA_CHUNK_CPU_SECONDS=0); `by-cost`, as the chunker routes now: chunks of at most
   * LAMBDA_CHUNK_CPU_SECONDS on the encoder's Lambda, heavier ones on tasks.
   */
  route?: "fargate" | "by-cost";
}

export interface Prediction extends JobShape {
  chunks: number;
  waves: number;
  split: number;
  encode: number;
  assembly: number;
  latency: number;
  /** Fargate compute only, USD. */
  cost: number;
  /** Upload complete → the preview plays, with the lead chunk on the encoder's Lambda (today's routing). */
  playable: number;
  /** The same with the lead chunk on a Fargate task like the others (no Lambda route). */
  playableOnFargate: number;
  /** Were the preview announced as soon as the lead and the audio are in, not when the whole split ends. */
  playableEarly: number;
  /** The lead chunk's Lambda, USD. */
  leadCost: number;
}

const taskCost = (p: ScalingInputs, seconds: number) =>
  (Math.max(p.prices.minimumBilledSeconds, seconds) * (p.vcpu * p.prices.vcpuHour + p.memoryGb * p.prices.gbHour)) /
  3600;

/** The chunker's start: a Lambda, or a task for a source of LARGE_SOURCE_MEGABYTES or more (as the rules route). */
const chunkerStart = (p: ScalingInputs, sourceBytes: number) =>
  sourceBytes >= LARGE_SOURCE_MEGABYTES * 1e6 ? p.taskStartSeconds : p.lambda.startSeconds;

/** Wall time of one chunk's task, from RunTask to exit. */
export function chunkTaskSeconds(p: ScalingInputs, chunkSeconds: number): number {
  const transfer = (chunkSeconds * (p.sourceBitsPerSecond + p.outputBitsPerSecond)) / 8 / p.s3BytesPerSecond;
  const encode = (chunkSeconds * p.encodeCpuPerSourceSecond) / (p.vcpu * p.parallelEfficiency);
  return p.taskStartSeconds + p.perChunkFixedSeconds + transfer + encode;
}

/** What a chunk's task costs, USD: its whole lifetime, at least the minimum. */
export const chunkTaskCost = (p: ScalingInputs, chunkSeconds: number) => taskCost(p, chunkTaskSeconds(p, chunkSeconds));

/** The encoder's Lambda for this long, USD: billed by the millisecond, no minimum. */
const lambdaCost = (p: ScalingInputs, seconds: number) => seconds * p.lambda.memoryGb * p.lambda.gbSecond;

/** What a chunk costs on the encoder's Lambda, USD. */
export const chunkLambdaCost = (p: ScalingInputs, chunkSeconds: number) =>
  lambdaCost(p, chunkLambdaSeconds(p, chunkSeconds));

/** Whether the chunker sends a chunk of this length to the encoder's Lambda (core/chunk/cost.ts lambdaChunk). */
export const routedToLambda = (p: ScalingInputs, chunkSeconds: number) =>
  chunkSeconds * p.encodeCpuPerSourceSecond <= LAMBDA_CHUNK_CPU_SECONDS;

/** Wall time of one chunk on the encoder's Lambda: its start, then the same work on its vCPUs. */
export function chunkLambdaSeconds(p: ScalingInputs, chunkSeconds: number): number {
  const transfer = (chunkSeconds * (p.sourceBitsPerSecond + p.outputBitsPerSecond)) / 8 / p.s3BytesPerSecond;
  const encode = (chunkSeconds * p.encodeCpuPerSourceSecond) / (p.lambda.vcpu * p.parallelEfficiency);
  return p.lambda.startSeconds + p.perChunkFixedSeconds + transfer + encode;
}

/** Extra wait before the i-th task (0-based) may launch under the Fargate launch-rate quota. */
export function launchDelay(p: ScalingInputs, i: number): number {
  return i < p.launchBurst ? 0 : (i - p.launchBurst + 1) / p.launchPerSecond;
}

export function predict(p: ScalingInputs, shape: JobShape): Prediction {
  const { durationSeconds: d, chunkSeconds: c, tasks } = shape;
  const chunks = Math.max(1, Math.ceil(d / c));
  const slots = Math.max(1, Math.min(tasks, chunks));
  const waves = Math.ceil(chunks / slots);
  const onLambda = shape.route === "by-cost" && routedToLambda(p, Math.min(c, d));
  const task = onLambda ? chunkLambdaSeconds(p, Math.min(c, d)) : chunkTaskSeconds(p, Math.min(c, d));
  // Lambda bills per millisecond without a minimum, and its burst of concurrency is far above these counts
  const chunkCost = onLambda ? lambdaCost(p, task) : taskCost(p, task);
  // the splitter: start (a Lambda, or a task for a large source), download, split, upload
  const sourceBytes = (d * p.sourceBitsPerSecond) / 8;
  // stream copy and the one AAC encode are single-threaded: extra vCPUs do not help here
  const split =
    chunkerStart(p, sourceBytes) + (2 * sourceBytes) / p.s3BytesPerSecond + d * p.splitSecondsPerSourceSecond;
  // every wave launches `slots` new tasks; past the burst they wait for the launch quota
  // (the bucket refills while a wave runs, so each wave pays the same wait)
  const encode = waves * (task + (onLambda ? 0 : launchDelay(p, slots - 1)));
  const outputMb = (d * p.outputBitsPerSecond) / 8 / 1e6;
  const assembly =
    p.taskStartSeconds + (2 * outputMb * 1e6) / p.s3BytesPerSecond + outputMb * p.assemblySecondsPerOutputMb;
  const latency = split + encode + assembly + 3 * p.eventHopSeconds;
  const cost = taskCost(p, split) + chunks * chunkCost + taskCost(p, assembly);
  const lead = leadTimes(p, d);
  // PlaybackReady waits for the chunker's last write (its audio stored) and the lead's ChunkEncoded → tracker
  const playableAfter = (leadDone: number) => Math.max(split, leadDone) + 2 * p.eventHopSeconds;
  return {
    ...shape,
    chunks,
    waves,
    split,
    encode,
    assembly,
    latency,
    cost,
    playable: playableAfter(lead.onLambda),
    playableOnFargate: playableAfter(lead.onFargate),
    playableEarly: Math.max(lead.onLambda, lead.audio) + 2 * p.eventHopSeconds,
    leadCost: lambdaCost(p, lead.lambdaSeconds),
  };
}

/**
 * When the lead chunk is encoded, counted from the upload's completion. The chunker announces it once it has
 * the source and has cut the first piece; the Lambda starts in seconds, a Fargate task in tens of seconds.
 */
export function leadTimes(p: ScalingInputs, durationSeconds: number) {
  const sourceBytes = (durationSeconds * p.sourceBitsPerSecond) / 8;
  const fetched = chunkerStart(p, sourceBytes) + sourceBytes / p.s3BytesPerSecond;
  const announced = fetched + p.leadSeconds * p.splitSecondsPerSourceSecond;
  const encodeCpu = p.leadSeconds * p.encodeCpuPerSourceSecond;
  const lambdaSeconds =
    p.lambda.startSeconds + p.perChunkFixedSeconds + encodeCpu / (p.lambda.vcpu * p.parallelEfficiency);
  return {
    onLambda: announced + p.eventHopSeconds + lambdaSeconds,
    onFargate: announced + p.eventHopSeconds + chunkTaskSeconds(p, p.leadSeconds),
    // the audio is encoded alongside the split, from the downloaded source
    audio: fetched + durationSeconds * p.splitSecondsPerSourceSecond,
    lambdaSeconds,
  };
}

/** Chunk lengths the planner could choose (whole GOPs of 2 s). */
export const CHUNK_CHOICES = [2, 4, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600];

/** The chunk length with the lowest latency at this parallelism (ties: the cheaper one). */
export function bestChunk(
  p: ScalingInputs,
  durationSeconds: number,
  tasks: number,
  choices: readonly number[] = CHUNK_CHOICES,
  route: JobShape["route"] = "fargate",
): Prediction {
  let best: Prediction | undefined;
  for (const c of choices.filter((c) => c <= durationSeconds || c === choices[0])) {
    const r = predict(p, { durationSeconds, chunkSeconds: c, tasks, route });
    if (!best || r.latency < best.latency - 1e-9 || (Math.abs(r.latency - best.latency) <= 1e-9 && r.cost < best.cost))
      best = r;
  }
  return best!;
}

export const PARALLELISM = [1, 2, 5, 10, 20, 50, 100, 200];

/** For each source length and each parallelism, the best chunk length and what it gives. */
export function scalingCurves(
  p: ScalingInputs,
  durations: readonly number[],
  parallelism: readonly number[] = PARALLELISM,
): { duration: number; points: Prediction[] }[] {
  return durations.map((duration) => ({ duration, points: parallelism.map((t) => bestChunk(p, duration, t)) }));
}
