import { expect, it } from "vitest";
import { join } from "node:path";
import { defaultFfmpeg, fitLadder } from "@videoforge/core";
import { makeFixture } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, download, singlePassEncode, ssim, streamSpans } from "./helpers/media.ts";

/**
 * A screen-recording-like source (keyframes only at 0 s and 6.5 s of 10 s) is still encoded
 * in parallel: with 2 s chunks no keyframe piece fits, so it is planned as frame windows
 * that each encoder decodes from the source, seeking to the keyframe before its window.
 */
const env = useTestCloud({ chunkSeconds: 2 });

it("sparse keyframes → several windows, frame-exact renditions, single-pass quality", async () => {
  const { cloud, dir } = env;
  // arrange
  const source = await makeFixture("sparse-keyframes", dir);
  const src = await decodedVideo(source);
  const srcSpans = await streamSpans(source);
  const frameTime = Math.max(srcSpans.video.lastFrame, (srcSpans.video.end - srcSpans.video.start) / src.frames);

  // act
  const view = await cloud.process(source, ["360p", "240p"]);

  // assert: parallel chunks covering every frame, some of them read from the second keyframe on
  expect(view.job.error).toBeNull();
  expect(view.job.status).toBe("COMPLETED");
  expect(view.chunks.length).toBeGreaterThan(1);
  expect(view.chunks.every((c) => c.status === "ENCODED")).toBe(true);
  expect(view.chunks.reduce((n, c) => n + c.frames, 0)).toBe(src.frames);
  const seeks = view.timeline
    .filter((t) => t.type === "ChunkReady")
    .map((t) => (t.detail.chunk as { window?: { seek: number } }).window?.seek);
  expect(seeks).toHaveLength(view.chunks.length);
  expect(new Set(seeks.map((s) => s?.toFixed(3)))).toEqual(new Set(["0.000", "6.500"]));

  // assert: the window planned from 4 s starts at the cut to colour bars (3.7 s) and the one before ends there,
  // each found by its own encoder; every frame is in exactly one window
  const rows = [...view.chunks].sort((a, b) => a.startTime - b.startTime);
  const frames = rows.map((c) => c.outputs![0]!.frames);
  expect(frames.reduce((a, b) => a + b, 0)).toBe(src.frames);
  const atCut = rows.findIndex((c) => Math.abs(c.startTime - 3.7) < 1e-3);
  expect(atCut, `chunk starts: ${rows.map((c) => c.startTime)}`).toBeGreaterThan(0);
  expect(rows[atCut - 1]!.startTime + rows[atCut - 1]!.duration).toBeCloseTo(3.7, 3);
  expect(frames[atCut - 1]! + frames[atCut]!).toBe(rows[atCut - 1]!.frames + rows[atCut]!.frames);
  const encoded = view.timeline.filter((t) => t.type === "ChunkEncoded").map((t) => t.detail.cut);
  expect(encoded.filter(Boolean)).toHaveLength(view.chunks.length);

  // assert: every rendition decodes to exactly the source's frames, duration and audio end
  const outputs = await cloud.client.outputs(view.job.jobId);
  expect(outputs.outputs.map((o) => o.rendition)).toEqual(["360p", "240p"]);
  const files: Record<string, string> = {};
  for (const o of outputs.outputs) {
    const file = (files[o.rendition] = join(dir, `${o.rendition}.mp4`));
    expect(await download(o.url, file)).toBe(o.bytes);
    expect((await decodedVideo(file)).frames, `${o.rendition} frames`).toBe(src.frames);
    const spans = await streamSpans(file, srcSpans.video.lastFrame);
    expect(
      Math.abs(spans.video.end - spans.video.start - (srcSpans.video.end - srcSpans.video.start)),
      `${o.rendition} duration`,
    ).toBeLessThanOrEqual(frameTime + 1e-3);
    expect(Math.abs(spans.audio!.end - spans.video.end), `${o.rendition} audio end`).toBeLessThanOrEqual(0.05);
  }

  // assert: the right frames in the right places, as good as one pass over the whole source
  const [top] = fitLadder(["360p"], 640, 360);
  const single = join(dir, "single.mp4");
  await singlePassEncode(source, top!, single);
  const [chunked, whole] = [
    await ssim(defaultFfmpeg(), files["360p"]!, source),
    await ssim(defaultFfmpeg(), single, source),
  ];
  expect(chunked).toBeGreaterThan(0.9);
  expect(Math.abs(chunked - whole)).toBeLessThanOrEqual(0.002);
}, 180_000);
