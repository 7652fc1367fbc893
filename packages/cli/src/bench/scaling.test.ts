import { describe, expect, it } from "vitest";
import { LAMBDA_CHUNK_CPU_SECONDS } from "@videoforge/events";
import { ASSUMED, PUBLISHED } from "./scaling-run.ts";
import {
  bestChunk,
  chunkLambdaCost,
  chunkLambdaSeconds,
  chunkTaskCost,
  chunkTaskSeconds,
  launchDelay,
  leadTimes,
  predict,
  routedToLambda,
  scalingCurves,
  type ScalingInputs,
} from "./scaling.ts";

const inputs: ScalingInputs = {
  encodeCpuPerSourceSecond: 1.6,
  perChunkFixedSeconds: 1,
  taskStartSeconds: 40,
  launchBurst: 100,
  launchPerSecond: 20,
  vcpu: 2,
  memoryGb: 4,
  parallelEfficiency: 0.8,
  sourceBitsPerSecond: 16e6,
  outputBitsPerSecond: 8e6,
  s3BytesPerSecond: 100e6,
  splitSecondsPerSourceSecond: 0.02,
  assemblySecondsPerOutputMb: 0.01,
  eventHopSeconds: 0.5,
  prices: { vcpuHour: 0.04048, gbHour: 0.004445, minimumBilledSeconds: 60 },
  lambda: { startSeconds: 2, vcpu: 6, memoryGb: 10, gbSecond: 0.0000166667 },
  leadSeconds: 2,
};

describe("scaling model", () => {
  it("prices a chunk's task from its start, transfers and encode on the task's vCPUs", () => {
    // 10 s of source: 30 MB moved at 100 MB/s, 16 CPU-s over 2 × 0.8 vCPU
    expect(chunkTaskSeconds(inputs, 10)).toBeCloseTo(40 + 1 + 0.3 + 10, 9);
    expect(launchDelay(inputs, 99)).toBe(0);
    expect(launchDelay(inputs, 100)).toBeCloseTo(0.05, 9);
    expect(launchDelay(inputs, 199)).toBeCloseTo(5, 9);
  });

  it("runs N chunks over P tasks in waves, and bills each task at least the minimum", () => {
    const r = predict(inputs, { durationSeconds: 600, chunkSeconds: 10, tasks: 20 });
    expect(r.chunks).toBe(60);
    expect(r.waves).toBe(3);
    expect(r.encode).toBeCloseTo(3 * chunkTaskSeconds(inputs, 10), 9);
    expect(r.latency).toBeCloseTo(r.split + r.encode + r.assembly + 1.5, 9);
    // 60 chunk tasks at the 60 s minimum, plus the splitter and the assembler
    const perTaskSecond = (2 * 0.04048 + 4 * 0.004445) / 3600;
    expect(r.cost).toBeGreaterThanOrEqual(62 * 60 * perTaskSecond);
  });

  it("with one task, one big chunk wins; with many, short chunks win", () => {
    const one = bestChunk(inputs, 600, 1);
    expect(one.chunks).toBe(1);
    const many = bestChunk(inputs, 600, 200);
    expect(many.chunkSeconds).toBeLessThanOrEqual(10);
    // the fixed costs (three task starts) stay: about 5× faster, not 200×
    expect(many.latency).toBeLessThan(one.latency / 4);
  });

  it("plays from the lead chunk: on Lambda a task start sooner than on Fargate, never before the split ends", () => {
    const r = predict(inputs, { durationSeconds: 600, chunkSeconds: 8, tasks: 20 });
    const lead = leadTimes(inputs, 600);
    // the Lambda: its start, the fixed cost, 2 s × 1.6 CPU-s over 6 × 0.8 vCPU
    expect(lead.lambdaSeconds).toBeCloseTo(2 + 1 + 3.2 / 4.8, 9);
    expect(lead.onFargate - lead.onLambda).toBeCloseTo(chunkTaskSeconds(inputs, 2) - lead.lambdaSeconds, 9);
    // PlaybackReady waits for the chunker's last write as well as for the lead
    expect(r.playable).toBeCloseTo(Math.max(r.split, lead.onLambda) + 1, 9);
    expect(r.playable).toBeLessThanOrEqual(r.playableOnFargate);
    expect(r.playableEarly).toBeLessThanOrEqual(r.playable);
    expect(r.playable).toBeLessThan(r.latency / 2);
    // 10 GB for a few seconds
    expect(r.leadCost).toBeCloseTo(lead.lambdaSeconds * 10 * 0.0000166667, 12);
  });

  it("routes light chunks to Lambda: no task start, no 1-minute minimum, so short chunks pay off", () => {
    const fargate = predict(inputs, { durationSeconds: 600, chunkSeconds: 10, tasks: 60 });
    const routed = predict(inputs, { durationSeconds: 600, chunkSeconds: 10, tasks: 60, route: "by-cost" });
    // the same 60 chunks in one wave; each on Lambda: 2 s start + 1 s fixed + 0.3 s transfer + 16 CPU-s / 4.8
    expect(routed.encode).toBeCloseTo(2 + 1 + 0.3 + 16 / 4.8, 9);
    expect(fargate.encode - routed.encode).toBeGreaterThan(40);
    expect(routed.cost).toBeLessThan(fargate.cost);
    // a chunk over LAMBDA_CHUNK_CPU_SECONDS (30 s × 1.6 = 48 CPU-s) stays on a task
    const heavy = predict(inputs, { durationSeconds: 600, chunkSeconds: 30, tasks: 20, route: "by-cost" });
    expect(heavy.encode).toBeCloseTo(predict(inputs, { durationSeconds: 600, chunkSeconds: 30, tasks: 20 }).encode, 9);
    // the best chunk with the route is a light one, and beats the best on Fargate alone
    const best = bestChunk(inputs, 3600, 200, undefined, "by-cost");
    expect(routedToLambda(inputs, best.chunkSeconds)).toBe(true);
    expect(best.latency).toBeLessThan(bestChunk(inputs, 3600, 200).latency);
  });

  it("puts LAMBDA_CHUNK_CPU_SECONDS at the price break-even of a 10 GB Lambda and a 2 vCPU task", () => {
    // the published prices, and the assumptions the model runs with (scaling-run.ts)
    const p = { ...inputs, ...PUBLISHED, ...ASSUMED, encodeCpuPerSourceSecond: 1 };
    // with 1 CPU-second per source second, a chunk's length is its CPU-seconds
    const lambdaOverTask = (cpu: number) => chunkLambdaCost(p, cpu) / chunkTaskCost(p, cpu);
    expect(lambdaOverTask(LAMBDA_CHUNK_CPU_SECONDS)).toBeGreaterThan(0.9);
    expect(lambdaOverTask(LAMBDA_CHUNK_CPU_SECONDS)).toBeLessThan(1.1);
    expect(lambdaOverTask(LAMBDA_CHUNK_CPU_SECONDS / 2)).toBeLessThan(0.75);
    expect(lambdaOverTask(LAMBDA_CHUNK_CPU_SECONDS * 3)).toBeGreaterThan(1.4);
    // and on Lambda the chunk is done sooner at any size: no task start, three times the vCPUs
    expect(chunkLambdaSeconds(p, LAMBDA_CHUNK_CPU_SECONDS)).toBeLessThan(chunkTaskSeconds(p, LAMBDA_CHUNK_CPU_SECONDS));
  });

  it("latency never grows with more tasks; it flattens once every chunk has a task", () => {
    for (const { points } of scalingCurves(inputs, [600, 3600])) {
      for (let i = 1; i < points.length; i++)
        expect(points[i]!.latency).toBeLessThanOrEqual(points[i - 1]!.latency + 1e-9);
    }
    // the task start is paid at least once: nothing beats it
    const fastest = bestChunk(inputs, 3600, 200);
    expect(fastest.latency).toBeGreaterThan(3 * inputs.taskStartSeconds);
  });
});
