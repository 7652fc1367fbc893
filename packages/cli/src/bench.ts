import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { config, DEFAULT_LADDER, ffmpeg, ffmpegBinaries, fitLadder, gopFor, ladderFilter, passthroughTiming, ssim, x264Args } from "@videoforge/core";

/**
 * The pipeline (`videoforge encode`, local cloud and all) against one plain ffmpeg command
 * producing the same MP4 renditions with the same x264 settings, alternating, same machine.
 */
const BIN = fileURLToPath(new URL("../bin/videoforge.js", import.meta.url));

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function runCli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`videoforge encode exited ${code}: ${err}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function bench(opts: { seconds: number; reps: number; chunkSeconds?: number }): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "videoforge-bench-"));
  try {
    const source = join(dir, "source.mp4");
    process.stderr.write(`generating a ${opts.seconds} s 1080p30 source…\n`);
    await ffmpeg(["-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${opts.seconds}`, "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${opts.seconds}`, "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", source]);
    const renditions = fitLadder(DEFAULT_LADDER, 1920, 1080);
    const settings = { ...config().x264, gop: gopFor(30) };
    const plainArgs = ["-i", source, "-filter_complex", ladderFilter(renditions, 0)];
    renditions.forEach((r, i) => plainArgs.push("-map", `[v${i}]`, "-map", "0:a:0", ...x264Args(r, settings), ...passthroughTiming(), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", join(dir, `plain-${r.name}.mp4`)));

    const times = { pipeline: [] as number[], plain: [] as number[] };
    const env: Record<string, string> = opts.chunkSeconds ? { VIDEOFORGE_CHUNK_SECONDS: String(opts.chunkSeconds) } : {};
    for (let rep = 0; rep < opts.reps; rep++) {
      times.plain.push(await timed(() => ffmpeg(plainArgs)));
      times.pipeline.push(await timed(() => runCli(["encode", source, "--out", join(dir, "pipeline"), "--json"], env)));
      process.stderr.write(`rep ${rep + 1}: pipeline ${times.pipeline.at(-1)!.toFixed(2)} s, plain ffmpeg ${times.plain.at(-1)!.toFixed(2)} s\n`);
    }
    const top = renditions[0]!.name;
    const [pipeSsim, plainSsim] = [await ssim(join(dir, "pipeline", `${top}.mp4`), source), await ssim(join(dir, `plain-${top}.mp4`), source)];
    const sizes = async (f: (r: string) => string) => (await Promise.all(renditions.map(async (r) => (await stat(f(r.name))).size / 1e6))).map((s) => s.toFixed(2)).join(" / ");
    const rows = [
      ["", "pipeline (videoforge encode)", "plain ffmpeg (one command)"],
      ["wall time, median (s)", median(times.pipeline).toFixed(2), median(times.plain).toFixed(2)],
      ["wall time, min-max (s)", `${Math.min(...times.pipeline).toFixed(2)}-${Math.max(...times.pipeline).toFixed(2)}`, `${Math.min(...times.plain).toFixed(2)}-${Math.max(...times.plain).toFixed(2)}`],
      [`SSIM of ${top} vs source`, pipeSsim.toFixed(5), plainSsim.toFixed(5)],
      [`MP4 sizes ${renditions.map((r) => r.name).join("/")} (MB)`, await sizes((r) => join(dir, "pipeline", `${r}.mp4`)), await sizes((r) => join(dir, `plain-${r}.mp4`))],
    ];
    const width = [28, 30, 28];
    for (const row of rows) process.stdout.write(row.map((c, i) => c.padEnd(width[i]!)).join("  ") + "\n");
    process.stdout.write(`ratio pipeline/plain (median wall time): ${(median(times.pipeline) / median(times.plain)).toFixed(2)}  — ${opts.seconds} s 1080p30 source, ${opts.reps} reps, chunk ${opts.chunkSeconds ?? config().chunkSeconds} s, ffmpeg ${ffmpegBinaries().origin} ${ffmpegBinaries().version}\n`);
    process.stdout.write("(the pipeline also packages HLS and a poster; the plain command writes only the MP4s)\n");
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
