import type { VideoFormat } from "@videoforge/core/formats";
import { deliveryOf } from "./baseline.ts";
import { spread, type Measured } from "./measure.ts";
import { markdownTable, mb } from "./table.ts";

/** One codec's comparison, as much of it as the summary shows. */
export interface CodecSummary {
  codec: VideoFormat;
  hasAudio: boolean;
  pipeline: readonly Pick<Measured, "wall" | "cpu">[];
  plain: readonly Pick<Measured, "wall" | "cpu">[];
  /** SSIM of the top rung against the source. */
  ssim: { pipeline: number; plain: number };
  /** Bytes of the top rung's delivery file. */
  topBytes: { pipeline: number; plain: number };
  frameExact: boolean;
}

/** `MP4`, `MP4 (hvc1)`, `WebM`. */
export function containerLabel(codec: VideoFormat): string {
  const d = deliveryOf(codec);
  return d.tag ? `${d.container} (${d.tag})` : d.container;
}

/** Encoder and speed/quality knobs from the arguments both sides use: `libx265 preset veryfast crf 28`. */
export function encoderLabel(args: readonly string[]): string {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const knobs = ["-preset", "-cpu-used", "-crf"].flatMap((flag) =>
    value(flag) ? [`${flag.slice(1)} ${value(flag)}`] : [],
  );
  return [value("-c:v") ?? "?", ...knobs].join(" ");
}

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "n/a");

/** One row per codec: medians over the repetitions, the pipeline's figure first, then the baseline's. */
export function summaryTable(rows: readonly CodecSummary[]): string {
  const header = [
    "codec",
    "container",
    "audio",
    "pipeline wall, s",
    "ffmpeg wall, s",
    "wall ratio",
    "CPU ratio",
    "SSIM pipeline / ffmpeg",
    "top-rung MB pipeline / ffmpeg",
    "frame-exact",
  ];
  const body = rows.map((r) => {
    const median = (ms: CodecSummary["pipeline"], key: "wall" | "cpu") => spread(ms.map((m) => m[key])).median;
    const wall = { pipe: median(r.pipeline, "wall"), plain: median(r.plain, "wall") };
    return [
      r.codec,
      containerLabel(r.codec),
      r.hasAudio ? deliveryOf(r.codec).audio.label : "none",
      wall.pipe.toFixed(2),
      wall.plain.toFixed(2),
      ratio(wall.pipe, wall.plain),
      ratio(median(r.pipeline, "cpu"), median(r.plain, "cpu")),
      `${r.ssim.pipeline.toFixed(5)} / ${r.ssim.plain.toFixed(5)}`,
      `${mb(r.topBytes.pipeline)} / ${mb(r.topBytes.plain)}`,
      r.frameExact ? "PASS" : "FAIL",
    ];
  });
  return markdownTable(header, body);
}
