import type { Spread } from "./measure.ts";

/** A Markdown table with padded columns: readable in a terminal, pasteable into docs as is. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const width = header.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(width[i]!)).join(" | ")} |`;
  return [line(header), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n") + "\n";
}

/** `27.4 (26.1–30.2)`: median and the range over repetitions. */
export function fmtSpread(s: Spread, digits = 2): string {
  if (!Number.isFinite(s.median)) return "n/a";
  return s.min === s.max
    ? s.median.toFixed(digits)
    : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

export const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
