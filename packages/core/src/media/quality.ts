import type { Ffmpeg } from "../ffmpeg/run.ts";

/** Mean SSIM (All) of `distorted` against `reference`, scaled to the reference's size if needed. */
export async function ssim(ff: Ffmpeg, distorted: string, reference: string): Promise<number> {
  const { stderr } = await ff.exec("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-i",
    distorted,
    "-i",
    reference,
    "-lavfi",
    "[0:v][1:v]scale2ref=flags=bicubic[d][r];[d][r]ssim",
    "-f",
    "null",
    "-",
  ]);
  const m = /SSIM .*All:([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no SSIM in ffmpeg output: ${stderr.slice(-500)}`);
  return Number(m[1]);
}
