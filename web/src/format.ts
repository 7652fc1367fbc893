/** Number formatting shared by the views; fixed decimals keep widths stable while values change. */

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function bitrate(bps: number): string {
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(2)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}

export function seconds(s: number | null | undefined, digits = 1): string {
  if (s === null || s === undefined) return "—";
  if (s < 60) return `${s.toFixed(digits)} s`;
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  if (m < 60) return `${m} min ${Math.round(rest)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function age(from: number, now: number): string {
  const s = Math.max(0, Math.round((now - from) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

/** A day as the reader's locale writes it (e.g. "Dec 2, 2026"). */
export const day = (ms: number) => new Date(ms).toLocaleDateString(undefined, { dateStyle: "medium" });
