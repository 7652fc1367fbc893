import type { JobView } from "./api-client.ts";

/** One line of progress: chunks done / total, frames per second, ETA. */
export function progressLine(view: JobView, startedAt: number): string {
  const { job, chunks } = view;
  const total = job.chunkCount ?? 0;
  const done = job.chunksEncoded;
  const frames = chunks.filter((c) => c.status === "ENCODED").reduce((n, c) => n + c.frames, 0);
  const allFrames = job.source?.frames ?? 0;
  const encodingSince = view.timeline.find((t) => t.type === "ChunkReady")?.at;
  const seconds = encodingSince ? (Date.now() - Date.parse(encodingSince)) / 1000 : (Date.now() - startedAt) / 1000;
  const fps = seconds > 0 ? frames / seconds : 0;
  const eta = fps > 0 && allFrames > frames ? `${Math.ceil((allFrames - frames) / fps)}s` : "-";
  const width = 24;
  const filled = total ? Math.round((done / total) * width) : 0;
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  return `${job.status.padEnd(10)} ${bar} ${done}/${total || "?"} chunks  ${fps.toFixed(1)} fps  ETA ${eta}`;
}
