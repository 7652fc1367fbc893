import type { Prediction } from "./scaling.ts";

/** Two panels — latency and cost against tasks, log–log — as a self-contained SVG. */
export function scalingSvg(curves: { duration: number; points: Prediction[] }[], title: string): string {
  const W = 980;
  const H = 460;
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
  const panel = (
    x0: number,
    label: string,
    value: (p: Prediction) => number,
    fmt: (v: number) => string,
    withChunks: boolean,
  ) => {
    const [pw, ph, left, top] = [400, 300, x0 + 70, 80];
    const all = curves.flatMap((c) => c.points);
    const xs = all.map((p) => p.tasks);
    const ys = all.map(value);
    const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
    const [yMin, yMax] = [Math.min(...ys) / 1.5, Math.max(...ys) * 1.5];
    const lx = (v: number) => left + ((Math.log(v) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * pw;
    const ly = (v: number) => top + ph - ((Math.log(v) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * ph;
    const parts = [
      `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`,
      `<text x="${left + pw / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">${label}</text>`,
    ];
    for (const t of [...new Set(xs)])
      parts.push(
        `<line x1="${lx(t)}" x2="${lx(t)}" y1="${top}" y2="${top + ph}" stroke="#eee"/>` +
          `<text x="${lx(t)}" y="${top + ph + 16}" text-anchor="middle" font-size="11">${t}</text>`,
      );
    for (let e = Math.floor(Math.log10(yMin)); e <= Math.ceil(Math.log10(yMax)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v < yMin || v > yMax) continue;
        parts.push(
          `<line x1="${left}" x2="${left + pw}" y1="${ly(v)}" y2="${ly(v)}" stroke="#eee"/>` +
            `<text x="${left - 6}" y="${ly(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`,
        );
      }
    }
    parts.push(
      `<text x="${left + pw / 2}" y="${top + ph + 36}" text-anchor="middle" font-size="12">` +
        "Fargate tasks at once (log)</text>",
    );
    curves.forEach((c, i) => {
      const color = colors[i % colors.length]!;
      const pts = c.points.map((p) => `${lx(p.tasks).toFixed(1)},${ly(value(p)).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const p of c.points) {
        parts.push(`<circle cx="${lx(p.tasks)}" cy="${ly(value(p))}" r="3" fill="${color}"/>`);
        if (withChunks)
          parts.push(
            `<text x="${lx(p.tasks) + 4}" y="${ly(value(p)) - 6}" font-size="10" fill="${color}">` +
              `${p.chunkSeconds}s</text>`,
          );
      }
      parts.push(
        `<line x1="${left + 10}" x2="${left + 30}" y1="${top + 16 + i * 18}" y2="${top + 16 + i * 18}" ` +
          `stroke="${color}" stroke-width="2"/>` +
          `<text x="${left + 36}" y="${top + 20 + i * 18}" font-size="12">` +
          `${c.duration / 60}-minute 1080p source</text>`,
      );
    });
    return parts.join("\n");
  };
  const minutes = (v: number) => `${v < 1 ? v.toFixed(1) : v.toFixed(0)} min`;
  const dollars = (v: number) => `$${v < 0.1 ? v.toFixed(3) : v.toFixed(2)}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `font-family="DejaVu Sans, Arial, sans-serif" font-size="13">
<rect width="${W}" height="${H}" fill="#fafafa"/>
<text x="${W / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${title}</text>
${panel(0, "job latency (labels: best chunk length)", (p) => p.latency / 60, minutes, true)}
${panel(490, "Fargate cost per job (USD)", (p) => p.cost, dollars, false)}
</svg>`
  );
}
