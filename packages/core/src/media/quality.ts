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
    // frames paired by their order, not their timestamps: WebM keeps milliseconds, so a frame at 0.033 s
    // would be paired with the source's previous one (0.0333 s is later); our outputs are frame-exact
    "[0:v]setpts=N/(25*TB)[d0];[1:v]setpts=N/(25*TB)[r0];[d0][r0]scale2ref=flags=bicubic[d][r];[d][r]ssim",
    "-f",
    "null",
    "-",
  ]);
  const m = /SSIM .*All:([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no SSIM in ffmpeg output: ${stderr.slice(-500)}`);
  return Number(m[1]);
}
