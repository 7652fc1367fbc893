import { createMemo, For, Show } from "solid-js";
import type { ChunkRow } from "../api.ts";

/** One rung of one chunk as a targeted encode reached it. */
interface Point {
  chunk: number;
  start: number;
  end: number;
  crf: number;
  ssim: number;
  kbps: number;
  probes: number;
  met: boolean;
}

interface Metric {
  key: "crf" | "ssim" | "kbps";
  label: string;
  format: (v: number) => string;
}

const METRICS: Metric[] = [
  { key: "crf", label: "CRF", format: (v) => String(v) },
  { key: "ssim", label: "SSIM", format: (v) => v.toFixed(4) },
  { key: "kbps", label: "kb/s", format: (v) => String(Math.round(v)) },
];
const COLOURS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
const W = 900;
const PANEL = 80;
const GAP = 18;
const LEFT = 52;

/** Each rung's points, in the order they play, from the chunks' stored outputs. */
function byRung(chunks: readonly ChunkRow[]): Map<string, Point[]> {
  const rungs = new Map<string, Point[]>();
  for (const c of chunks)
    for (const o of c.outputs ?? []) {
      if (!o.quality) continue;
      const list = rungs.get(o.rendition) ?? [];
      const kbps = (o.bytes * 8) / Math.max(c.duration, 1e-3) / 1000;
      list.push({ chunk: c.index, start: c.startTime, end: c.startTime + c.duration, kbps, ...o.quality });
      rungs.set(o.rendition, list);
    }
  for (const list of rungs.values()) list.sort((a, b) => a.start - b.start);
  return rungs;
}

/**
 * A targeted job's chunks over the video's time: per rung, the CRF its search chose, the SSIM measured on the
 * kept encode (against a dashed line at the target) and the bitrate that cost, each chunk a step as long as
 * it plays. The same figures follow as a table.
 */
export function QualityChart(props: { chunks: ChunkRow[]; target: number }) {
  const rungs = createMemo(() => byRung(props.chunks));
  const all = () => [...rungs().values()].flat();
  const span = () => Math.max(...all().map((p) => p.end), 1e-3);
  const x = (t: number) => LEFT + (t / span()) * (W - LEFT - 8);
  const panel = (m: Metric, i: number) => {
    const values = [...all().map((p) => p[m.key]), ...(m.key === "ssim" ? [props.target] : [])];
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.01 || 1;
    const top = i * (PANEL + GAP) + 6;
    const y = (v: number) => top + PANEL - ((v - (lo - pad)) / (hi - lo + 2 * pad)) * PANEL;
    return { m, top, y, lo, hi };
  };
  const steps = (points: Point[], y: (v: number) => number, key: Metric["key"]) =>
    points
      .map((p, k) => `${k ? "L" : "M"}${x(p.start).toFixed(1)},${y(p[key]).toFixed(1)}H${x(p.end).toFixed(1)}`)
      .join("");

  return (
    <Show when={all().length} fallback={<p class="muted">No chunk has reached its target yet.</p>}>
      <div class="quality" data-testid="quality-chart">
        <ul class="legend">
          <For each={[...rungs().keys()]}>
            {(rung, i) => (
              <li>
                <span class="swatch" style={{ background: COLOURS[i() % COLOURS.length] }} /> {rung}
              </li>
            )}
          </For>
        </ul>
        <svg
          viewBox={`0 0 ${W} ${METRICS.length * (PANEL + GAP)}`}
          role="img"
          aria-label={`CRF, SSIM and bitrate of each chunk, target SSIM ${props.target}`}
        >
          <For each={METRICS.map(panel)}>
            {(p) => (
              <g>
                <text x="0" y={p.top + PANEL / 2} class="axis-label">
                  {p.m.label}
                </text>
                <text x={LEFT - 4} y={p.y(p.hi) + 4} class="axis-tick" text-anchor="end">
                  {p.m.format(p.hi)}
                </text>
                <text x={LEFT - 4} y={p.y(p.lo) + 4} class="axis-tick" text-anchor="end">
                  {p.m.format(p.lo)}
                </text>
                <line x1={LEFT} x2={W - 8} y1={p.top + PANEL} y2={p.top + PANEL} class="axis" />
                <Show when={p.m.key === "ssim"}>
                  <line
                    x1={LEFT}
                    x2={W - 8}
                    y1={p.y(props.target)}
                    y2={p.y(props.target)}
                    class="target"
                    data-testid="quality-target"
                  />
                </Show>
                <For each={[...rungs().entries()]}>
                  {([rung, points], i) => (
                    <path
                      d={steps(points, p.y, p.m.key)}
                      stroke={COLOURS[i() % COLOURS.length]}
                      fill="none"
                      stroke-width="2"
                      data-rung={rung}
                      data-metric={p.m.key}
                    />
                  )}
                </For>
              </g>
            )}
          </For>
        </svg>
        <table class="quality-table" data-testid="quality-table">
          <thead>
            <tr>
              <th>Chunk</th>
              <th>From</th>
              <th>Rung</th>
              <th>CRF</th>
              <th>SSIM</th>
              <th>kb/s</th>
              <th>Encodes</th>
            </tr>
          </thead>
          <tbody>
            <For each={[...rungs().entries()].flatMap(([rung, points]) => points.map((p) => ({ rung, ...p })))}>
              {(r) => (
                <tr data-met={String(r.met)}>
                  <td class="num">{r.chunk}</td>
                  <td class="num">{r.start.toFixed(1)} s</td>
                  <td>{r.rung}</td>
                  <td class="num">{r.crf}</td>
                  <td class="num">
                    {r.ssim.toFixed(4)}
                    {r.met ? "" : " (below: more bits stopped helping)"}
                  </td>
                  <td class="num">{Math.round(r.kbps)}</td>
                  <td class="num">{r.probes}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
    </Show>
  );
}
