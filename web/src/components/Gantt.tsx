import { createMemo, For, Show } from "solid-js";
import type { ChunkRow } from "../api.ts";
import { seconds } from "../format.ts";

interface Bar {
  chunk: ChunkRow;
  from: number;
  /** When a worker took the chunk (the end of its wait in the queue). */
  started: number | null;
  to: number;
  open: boolean;
  straggler: boolean;
  /** Sub-row inside the worker's row: a chunk waiting while the worker encodes another must not hide it. */
  lane: number;
}

const LANE_REM = 1.5;

/** The tooltip of a bar: how long the chunk waited, how long it took to encode, and any retries. */
function barTitle(b: Bar): string {
  const waited = b.started ? seconds((b.started - b.from) / 1000, 2) : "—";
  const encoded = b.started && !b.open ? seconds((b.to - b.started) / 1000, 2) : "—";
  const attempts = b.chunk.attempts && b.chunk.attempts > 1 ? `, ${b.chunk.attempts} attempts` : "";
  const codec = b.chunk.codec ? ` (${b.chunk.codec})` : "";
  return `chunk ${b.chunk.index}${codec}: waited ${waited}, encoded in ${encoded}${attempts}`;
}

/**
 * One bar per chunk, from ChunkReady (stored, waiting for a worker) to ChunkEncoded, one
 * row per worker: the light part is the wait, the dark part the encoding. Bars much longer
 * than the median are marked as stragglers. Positions are percentages of a fixed-height
 * box, so updates move bars without moving the page.
 */
export function Gantt(props: { chunks: ChunkRow[]; now: number }) {
  const layout = createMemo(() => {
    const withTimes = props.chunks.filter((c) => c.readyAt !== undefined);
    if (!withTimes.length) return null;
    const t0 = Math.min(...withTimes.map((c) => c.readyAt!));
    const bars: Bar[] = withTimes.map((c) => {
      const open = c.status !== "ENCODED" || c.finishedAt === undefined;
      return {
        chunk: c,
        from: c.readyAt!,
        started: c.startedAt ?? null,
        to: open ? props.now : c.finishedAt!,
        open,
        straggler: false,
        lane: 0,
      };
    });
    const t1 = Math.max(...bars.map((b) => b.to), t0 + 1);
    const done = bars
      .filter((b) => !b.open)
      .map((b) => b.to - b.from)
      .sort((a, b) => a - b);
    const median = done.length ? done[Math.floor(done.length / 2)]! : 0;
    for (const b of bars) b.straggler = !b.open && done.length >= 3 && b.to - b.from > median * 1.5;
    const rows = new Map<string, Bar[]>();
    for (const b of bars) {
      const worker = b.chunk.worker ?? "waiting for a worker";
      rows.set(worker, [...(rows.get(worker) ?? []), b]);
    }
    for (const list of rows.values()) {
      // greedy interval packing: each bar takes the first lane free at its start
      const laneEnds: number[] = [];
      for (const b of list.sort((x, y) => x.from - y.from || x.chunk.index - y.chunk.index)) {
        const free = laneEnds.findIndex((end) => end <= b.from);
        b.lane = free === -1 ? laneEnds.length : free;
        laneEnds[b.lane] = b.to;
      }
    }
    return { t0, span: t1 - t0, rows: [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)) };
  });

  const pct = (t: number) => ((t - layout()!.t0) / layout()!.span) * 100;

  return (
    <Show when={layout()} fallback={<p class="muted">No chunks yet: they appear once the source is split.</p>}>
      {(l) => (
        <figure class="gantt" data-testid="gantt">
          <For each={l().rows}>
            {([worker, bars]) => (
              <div class="gantt-row">
                <div class="gantt-worker mono" title={worker}>
                  {worker}
                </div>
                <div
                  class="gantt-track"
                  style={{ height: `${(Math.max(...bars.map((b) => b.lane)) + 1) * LANE_REM}rem` }}
                >
                  <For each={bars}>
                    {(b) => (
                      <div
                        class="gantt-bar"
                        classList={{ open: b.open, straggler: b.straggler, failed: b.chunk.status === "FAILED" }}
                        data-testid="gantt-bar"
                        data-chunk={b.chunk.index}
                        style={{
                          left: `${pct(b.from)}%`,
                          width: `${Math.max(pct(b.to) - pct(b.from), 0.5)}%`,
                          top: `${b.lane * LANE_REM + 0.15}rem`,
                        }}
                        title={barTitle(b)}
                      >
                        <Show when={b.started !== null}>
                          <span
                            class="gantt-work"
                            style={{ left: `${((b.started! - b.from) / Math.max(b.to - b.from, 1)) * 100}%` }}
                          />
                        </Show>
                        <span class="gantt-label">{b.chunk.index}</span>
                      </div>
                    )}
                  </For>
                </div>
              </div>
            )}
          </For>
          <figcaption class="muted small">
            0 – {seconds(l().span / 1000, 2)} from the first ChunkReady · light: waiting, dark: encoding
            <Show when={l().rows.some(([, bars]) => bars.some((b) => b.straggler))}>
              {" "}
              · outlined: stragglers (over 1.5× the median)
            </Show>
          </figcaption>
        </figure>
      )}
    </Show>
  );
}
