import { describe, expect, it } from "vitest";
import { LAMBDA_CHUNK_CPU_SECONDS } from "@videoforge/events";
import { chunkCpuSeconds, lambdaChunk } from "./cost.ts";

const ladder1080 = [
  { width: 1920, height: 1080 },
  { width: 1280, height: 720 },
  { width: 854, height: 480 },
  { width: 640, height: 360 },
];
const chunk = (seconds: number, codec: "h264" | "vp9" | "av1" | "hevc" = "h264", encodes = 1) =>
  chunkCpuSeconds({
    codec,
    frames: seconds * 30,
    decodedFrames: seconds * 30,
    sourcePixels: 1920 * 1080,
    renditions: ladder1080,
    encodes,
  });

describe("a chunk's estimated encode CPU-seconds", () => {
  it("counts 1080p frames of output at the format's rate plus the source's decode", () => {
    // 8 s of 1080p30 to the 4-rung ladder: 240 × 1.753 1080p frames × 0.045 + 240 × 0.01
    expect(chunk(8)).toBeCloseTo(
      240 * ((1920 * 1080 + 1280 * 720 + 854 * 480 + 640 * 360) / (1920 * 1080)) * 0.045 + 2.4,
      6,
    );
    expect(chunk(16)).toBeCloseTo(2 * chunk(8), 9);
    // a window that seeks 2 s before its first frame decodes 60 frames more
    const windowed = chunkCpuSeconds({
      codec: "h264",
      frames: 240,
      decodedFrames: 300,
      sourcePixels: 1920 * 1080,
      renditions: ladder1080,
      encodes: 1,
    });
    expect(windowed - chunk(8)).toBeCloseTo(60 * 0.01, 9);
  });

  it("weighs the formats by their measured cost and a target quality by its probes", () => {
    expect(chunk(8, "vp9") / chunk(8)).toBeGreaterThan(8);
    expect(chunk(8, "av1") / chunk(8)).toBeGreaterThan(2.5);
    expect(chunk(8, "hevc") / chunk(8)).toBeGreaterThan(2.5);
    expect(chunk(8, "h264", 4)).toBeCloseTo(4 * chunk(8), 9);
  });

  it("puts everyday H.264 chunks on Lambda and long, heavy or targeted ones on tasks at the default", () => {
    const onLambda = (cpu: number, lead = false) => lambdaChunk(cpu, LAMBDA_CHUNK_CPU_SECONDS, lead);
    // 8 s of 1080p to four rungs: about 21 CPU-seconds, under the break-even
    expect(onLambda(chunk(8))).toBe(true);
    expect(onLambda(chunk(30))).toBe(false);
    expect(onLambda(chunk(8, "vp9"))).toBe(false);
    expect(onLambda(chunk(8, "h264", 4))).toBe(false);
    // the lead goes to Lambda whatever its estimate: the preview waits for it
    expect(onLambda(chunk(8, "vp9"), true)).toBe(true);
    expect(onLambda(LAMBDA_CHUNK_CPU_SECONDS)).toBe(true);
    expect(onLambda(LAMBDA_CHUNK_CPU_SECONDS + 0.01)).toBe(false);
    // 0: the operator keeps every chunk on tasks, the lead too
    expect(lambdaChunk(0, 0, true)).toBe(false);
  });
});
