/** Times as people type and read them: `75.5`, `1:15.5`, `0:01:15.5`. */

/** A field's value, or the message to show beside it. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Longest trim or poster time the contract takes: a day. */
const MAX_SECONDS = 86_400;

const problem = (message: string): { ok: false; message: string } => ({ ok: false, message });

/**
 * A time typed by a person: `75`, `75.5`, `1:15`, `1:15.5` or `0:01:15.5`, in seconds. Minutes and
 * seconds after a larger unit are below 60. Empty is `null` (the field was left out).
 */
export function parseTime(text: string, what: string): Checked<number | null> {
  const s = text.trim();
  if (s === "") return { ok: true, value: null };
  const m = /^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)$/.exec(s);
  if (!m) return problem(`${what}: write seconds (75 or 75.5), m:ss (1:15) or h:mm:ss (0:01:15).`);
  const [, h, min, sec] = m;
  if (min !== undefined && Number(sec) >= 60) return problem(`${what}: seconds after minutes must be below 60.`);
  if (h !== undefined && Number(min) >= 60) return problem(`${what}: minutes after hours must be below 60.`);
  const value = Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(sec);
  if (value > MAX_SECONDS) return problem(`${what}: at most 24 hours.`);
  return { ok: true, value };
}

/** Seconds as the pages show them: `m:ss`, `h:mm:ss`, with up to three decimals when there are any. */
export function formatTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const whole = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  const decimals = fraction ? `.${String(fraction).padStart(3, "0").replace(/0+$/, "")}` : "";
  return (h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`) + decimals;
}
