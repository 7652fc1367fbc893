import { For, Show } from "solid-js";
import type { TimelineRow } from "../api.ts";

/** A short human line for an event's payload: what a person looks for in each type. */
function describe(e: TimelineRow): string {
  const d = e.detail as Record<string, unknown> & {
    chunk?: { index: number; count: number; codec?: string };
    source?: { name?: string; size?: number };
  };
  // a job with several formats encodes each as its own chunks: say which
  const codec = d.chunk?.codec ? ` (${String(d.chunk.codec)})` : "";
  const chunk = d.chunk ? `chunk ${d.chunk.index + 1} of ${d.chunk.count}${codec}` : "";
  switch (e.type) {
    case "SourceImportRequested":
      return `from ${String(d.url ?? "")}${d.large ? " (large: on the task runtime)" : ""}`;
    case "VideoUploaded":
      return (
        `${d.source?.name ?? ""} · ladder ${(d.ladder as string[] | undefined)?.join(", ") ?? ""}` +
        ` · formats ${(d.formats as string[] | undefined)?.join(", ") ?? "h264"}`
      );
    case "ChunkReady":
      return chunk;
    case "ChunkEncoded":
      return `${chunk} · ${String(d.worker ?? "")} · attempt ${String(d.attempt ?? 1)}`;
    case "ChunkFailed":
      return `${chunk} · attempt ${String(d.attempt ?? "?")}${d.final ? " (final)" : ""} · ${String(d.reason ?? "")}`;
    case "PlaybackReady":
      return `preview plays: ${String(d.segments)} chunk(s) of ${((d.variants as string[]) ?? []).join(", ")}`;
    case "ChunksEncoded":
      return `${String(d.chunkCount)} chunks encoded`;
    case "VideoAssembled":
    case "JobCompleted":
      return `${(d.outputs as unknown[] | undefined)?.length ?? 0} renditions`;
    case "JobFailed":
      return `${String(d.stage)}: ${String(d.reason)}`;
    case "JobCancelled":
      return `by ${String(d.by)}`;
    default:
      return "";
  }
}

/** Every domain event of the job in the order it happened, with its offset from the first. */
export function Timeline(props: { events: TimelineRow[] }) {
  const t0 = () => (props.events[0] ? Date.parse(props.events[0].at) : 0);
  return (
    <Show when={props.events.length} fallback={<p class="muted">No events yet.</p>}>
      <ol class="timeline" data-testid="timeline">
        <For each={props.events}>
          {(e) => (
            <li
              data-event-type={e.type}
              classList={{
                bad: e.type === "JobFailed" || e.type === "ChunkFailed",
                good: e.type === "JobCompleted" || e.type === "PlaybackReady",
              }}
            >
              <span class="offset num">+{((Date.parse(e.at) - t0()) / 1000).toFixed(3)} s</span>
              <span class="type">{e.type}</span>
              <span class="detail">{describe(e)}</span>
            </li>
          )}
        </For>
      </ol>
    </Show>
  );
}
