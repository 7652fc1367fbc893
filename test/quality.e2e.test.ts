import { expect, it } from "vitest";
import { join } from "node:path";
import { defaultFfmpeg, fitLadder } from "@videoforge/core";
import { makeFixture } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { download, singlePassEncode, ssim } from "./helpers/media.ts";

/**
 * Chunked encoding must cost no quality: the top rung's SSIM against the source is
 * within 0.002 of one plain ffmpeg pass with identical x264 settings.
 */
// 1 s chunks: a 4 s source gets three chunk boundaries, where a chunked encode could lose quality
const env = useTestCloud({ chunkSeconds: 1 });

it("top rung SSIM is within 0.002 of a single-pass encode", async () => {
  const { cloud, dir } = env;
  // arrange: the source, and the same rung encoded in one pass with the pipeline's settings
  const source = await makeFixture("h264-1080p-bframes-audio", dir);
  const [top] = fitLadder(["1080p"], 1920, 1080);
  const single = join(dir, "single.mp4");
  await singlePassEncode(source, top!, single);

  // act: the same source through the pipeline, in chunks
  const view = await cloud.process(source, ["1080p"]);
  expect(view.job.status).toBe("COMPLETED");
  expect(view.chunks.length).toBeGreaterThanOrEqual(3);
  const outputs = await cloud.client.outputs(view.job.jobId);
  const chunked = join(dir, "chunked.mp4");
  await download(outputs.outputs[0]!.url, chunked);

  // assert
  const [chunkedSsim, singleSsim] = [
    await ssim(defaultFfmpeg(), chunked, source),
    await ssim(defaultFfmpeg(), single, source),
  ];
  console.log(
    `SSIM vs source: chunked ${chunkedSsim.toFixed(5)}, single pass ${singleSsim.toFixed(5)}, ` +
      `delta ${(chunkedSsim - singleSsim).toFixed(5)} (${view.chunks.length} chunks)`,
  );
  expect(chunkedSsim).toBeGreaterThan(0.9);
  expect(Math.abs(chunkedSsim - singleSsim)).toBeLessThanOrEqual(0.002);
}, 240_000);

it("HEVC, VP9 and AV1: each format's rung within 0.002 SSIM of its own single-pass encode", async () => {
  const { cloud, dir } = env;
  const source = await makeFixture("h264-bframes-audio-360p", dir);
  const [rung] = fitLadder(["360p"], 640, 360);
  const codecs = ["hevc", "vp9", "av1"] as const;
  // the baselines: one plain ffmpeg per codec, with the pipeline's settings, the same container
  const single = Object.fromEntries(codecs.map((c) => [c, join(dir, `single-${c}.${c === "vp9" ? "webm" : "mp4"}`)]));
  for (const c of codecs) await singlePassEncode(source, rung!, single[c]!, { codec: c });

  const view = await cloud.process(source, ["360p"], [...codecs]);
  expect(view.job.error).toBeNull();
  expect(view.job.status).toBe("COMPLETED");
  const outputs = await cloud.client.outputs(view.job.jobId);
  expect(outputs.outputs.map((o) => o.format)).toEqual([...codecs]);
  for (const o of outputs.outputs) {
    const chunked = join(dir, `chunked-${o.key.split("/").at(-1)}`);
    await download(o.url, chunked);
    const [chunkedSsim, singleSsim] = [
      await ssim(defaultFfmpeg(), chunked, source),
      await ssim(defaultFfmpeg(), single[o.format]!, source),
    ];
    const chunks = view.chunks?.filter((ch) => ch.codec === o.format).length;
    console.log(
      `${o.format} SSIM vs source: chunked ${chunkedSsim.toFixed(5)}, single pass ${singleSsim.toFixed(5)}, ` +
        `delta ${(chunkedSsim - singleSsim).toFixed(5)} (${chunks} chunks, ${o.bytes} bytes)`,
    );
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(chunkedSsim).toBeGreaterThan(0.9);
    expect(Math.abs(chunkedSsim - singleSsim), `${o.format} SSIM delta`).toBeLessThanOrEqual(0.002);
  }
}, 300_000);
