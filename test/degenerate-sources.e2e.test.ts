import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ffmpegBin } from "./fixtures.ts";
import { useTestCloud } from "./helpers/cloud.ts";
import { decodedVideo, download } from "./helpers/media.ts";

/**
 * Sources at the edges of the planner that used to end in a dead letter or a failure instead of
 * an output (issue 11): a video of one frame, an open-GOP source whose pieces start at non-IDR
 * keyframes, and keyframes exactly one chunk length (8 s) apart. Each is encoded to exactly its
 * frames. Clips are tiny and generated here.
 */
const env = useTestCloud();
const run = promisify(execFile);
const make = (out: string, args: string[]) =>
  run(ffmpegBin, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args, out]);
const h264 = (gop: number) => [
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-pix_fmt",
  "yuv420p",
  "-g",
  String(gop),
  "-keyint_min",
  String(gop),
  "-sc_threshold",
  "0",
];

async function expectEncoded(file: string) {
  const { cloud, dir } = env;
  const src = await decodedVideo(file);
  const view = await cloud.process(file, ["240p"]);
  expect(view.job.error).toBeNull();
  expect(view.job.status).toBe("COMPLETED");
  const outputs = await cloud.client.outputs(view.job.jobId);
  const out = join(dir, `${view.job.jobId}.mp4`);
  expect(await download(outputs.outputs[0]!.url, out)).toBe(outputs.outputs[0]!.bytes);
  expect((await decodedVideo(out)).frames).toBe(src.frames);
  expect(outputs.poster).toEqual(expect.any(String));
  return view;
}

describe("degenerate sources", () => {
  it("a video of one frame is encoded, poster included", async () => {
    const file = join(env.dir, "one-frame.mp4");
    await make(file, ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "1", ...h264(25)]);
    await expectEncoded(file);
  }, 120_000);

  it("a video of one frame with a second of sound is encoded", async () => {
    const file = join(env.dir, "one-frame-audio.mp4");
    await make(file, [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=25",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000:duration=1",
      "-frames:v",
      "1",
      ...h264(25),
      "-c:a",
      "aac",
    ]);
    await expectEncoded(file);
  }, 120_000);

  it("an open-GOP source (pieces start at non-IDR keyframes) is encoded in parallel chunks", async () => {
    // before: the second MPEG-TS piece had no SPS/PPS ("non-existing PPS 0"), and the job failed while splitting
    const file = join(env.dir, "open-gop.mp4");
    const x264 = [
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-bf",
      "3",
      "-x264-params",
      "keyint=480:min-keyint=480:scenecut=0:open-gop=1",
      "-pix_fmt",
      "yuv420p",
    ];
    await make(file, [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=60:duration=16.02",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000:duration=16.02",
      ...x264,
      "-c:a",
      "aac",
    ]);
    const view = await expectEncoded(file);
    expect(view.chunks.length).toBeGreaterThan(1);
  }, 120_000);

  it("keyframes every 8 s, the chunk length, are encoded in parallel chunks", async () => {
    const file = join(env.dir, "gop-8s.mp4");
    await make(file, [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=25:duration=24",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000:duration=24",
      ...h264(200),
      "-c:a",
      "aac",
    ]);
    const view = await expectEncoded(file);
    expect(view.chunks.length).toBeGreaterThan(1);
    expect(view.chunks.every((c) => c.frames > 1)).toBe(true);
  }, 120_000);
});
