import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Rendition } from "@videoforge/events";
import { defaultFfmpeg, ffmpeg } from "../ffmpeg/locate.ts";
import { encodeToTarget } from "./target-quality.ts";

/**
 * Target quality with real x264 (issue 16, item 2): two chunks of one source, an easy one (testsrc2) and a hard
 * one (a zooming Mandelbrot set with grain), each encoded to SSIM 0.97 at two rungs. What the search reports is
 * checked by a measurement of its own: each kept file against the source's frames of that chunk, scaled to the
 * rung by a separate ffmpeg.
 */
const TARGET = 0.97;
const rungs: Rendition[] = [
  { name: "360p", width: 640, height: 360, videoBitrate: 800_000, maxrate: 8_000_000 },
  { name: "240p", width: 426, height: 240, videoBitrate: 400_000, maxrate: 4_000_000 },
];
let dir: string;
let source: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "videoforge-target-"));
  source = join(dir, "source.mkv");
  await ffmpeg(
    [
      ...["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=1"],
      ...["-f", "lavfi", "-i", "mandelbrot=size=640x360:rate=30,trim=duration=1,noise=alls=14:allf=t+u"],
      ...["-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "4", "-g", "15", "-pix_fmt", "yuv420p", source],
    ],
    { timeoutMs: 60_000 },
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** SSIM of `file` against the source's frames in [start, start + 1 s), scaled to `r` (frames paired in order). */
async function measured(file: string, start: number, r: Rendition): Promise<number> {
  const byOrder = "setpts=N/(25*TB)";
  const { stderr } = await defaultFfmpeg().exec("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-i", file, "-i", source],
    "-lavfi",
    `[0:v]${byOrder}[d];[1:v]trim=start=${start}:duration=1,` +
      `scale=${r.width}:${r.height}:flags=bicubic,${byOrder}[r];[d][r]ssim`,
    ...["-f", "null", "-"],
  ]);
  return Number(/All:([\d.]+)/.exec(stderr)![1]);
}

async function frames(file: string): Promise<number> {
  const { stdout } = await defaultFfmpeg().exec("ffprobe", [
    ...["-v", "error", "-count_packets", "-select_streams", "v:0"],
    ...["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file],
  ]);
  // MPEG-TS lists the stream under its program too: the first line is the stream's
  return Number(stdout.trim().split("\n")[0]);
}

describe("a chunk encoded to a target SSIM", () => {
  it("gets each rung to the target with the fewest bits found: a higher CRF for easier pictures", async () => {
    const ff = defaultFfmpeg();
    const results = [];
    for (const [i, start] of [0, 1].entries()) {
      const outputs = rungs.map((rendition) => ({ rendition, file: join(dir, `c${i}-${rendition.name}.ts`) }));
      const reached = await encodeToTarget(ff, {
        input: source,
        outputs,
        settings: { preset: "veryfast", crf: 23, gop: 15 },
        pictures: {
          codec: "h264",
          rotation: 0,
          threads: 2,
          range: { start, end: start + 1 },
          seek: start,
          frames: 30,
          format: "matroska",
        },
        target: { ssim: TARGET, maxProbes: 4 },
        encode: (args) => ff.run(args, { timeoutMs: 60_000 }),
        measure: { timeoutMs: 60_000 },
      });
      for (const [k, q] of reached.entries()) {
        const { file, rendition } = outputs[k]!;
        // what the search says it kept is what the file holds, measured apart from it
        const own = await measured(file, start, rendition);
        expect(own).toBeCloseTo(q.ssim, 3);
        expect(q).toMatchObject({ met: true });
        expect(own).toBeGreaterThanOrEqual(TARGET);
        expect(q.probes).toBeLessThanOrEqual(6);
        expect(await frames(file)).toBe(30);
        results.push({ chunk: i, rung: rendition.name, ...q, bytes: (await stat(file)).size });
      }
    }
    // the probes are gone: only the kept encodes stay
    expect((await readdir(dir)).filter((f) => f.includes(".probe"))).toEqual([]);
    const easy = results.filter((r) => r.chunk === 0);
    const hard = results.filter((r) => r.chunk === 1);
    for (const rung of ["360p", "240p"]) {
      const e = easy.find((r) => r.rung === rung)!;
      const h = hard.find((r) => r.rung === rung)!;
      expect(e.crf).toBeGreaterThan(h.crf + 3);
    }
  });
});
