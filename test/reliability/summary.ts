import { readFileSync, rmSync } from "node:fs";
import { TALLY_FILE, type TallyKind } from "./tally.ts";

/**
 * vitest globalSetup for the reliability suite: `setup` starts every run with no counts,
 * `teardown` prints what the test files tallied. It only reports; the tests themselves
 * assert, so nothing here can fail the run.
 */

const LABELS: [TallyKind, string][] = [
  ["fault", "faults injected"],
  ["badInput", "bad inputs tried"],
  ["ownership", "ownership checks"],
  ["jobCompleted", "jobs completed"],
  ["jobFailed", "jobs failed with a reason"],
  ["jobLost", "jobs lost"],
  ["attack", "attacks tried"],
  ["attackWorked", "attacks that worked"],
];

export interface Summary {
  totals: Record<TallyKind, number>;
  /** Per kind, per `what`, summed; in the order first seen. */
  breakdown: Map<TallyKind, Map<string, number>>;
  /** Lines that were not a count (a worker killed mid-write leaves half a line). */
  unreadable: number;
}

/** Sum the JSON lines written by tally(). */
export function summarize(text: string): Summary {
  const totals = Object.fromEntries(LABELS.map(([kind]) => [kind, 0])) as Record<TallyKind, number>;
  const breakdown = new Map<TallyKind, Map<string, number>>();
  let unreadable = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let entry: { kind?: unknown; what?: unknown; n?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      unreadable++;
      continue;
    }
    const { kind, what, n } = entry;
    if (
      typeof kind !== "string" ||
      !(kind in totals) ||
      typeof what !== "string" ||
      typeof n !== "number" ||
      !Number.isFinite(n)
    ) {
      unreadable++;
      continue;
    }
    const k = kind as TallyKind;
    totals[k] += n;
    const perWhat = breakdown.get(k) ?? new Map<string, number>();
    perWhat.set(what, (perWhat.get(what) ?? 0) + n);
    breakdown.set(k, perWhat);
  }
  return { totals, breakdown, unreadable };
}

/** The printed report: one line of totals, the per-`what` table, and a loud line for lost jobs. */
export function formatSummary(s: Summary): string {
  const out = [`reliability: ${LABELS.map(([kind, label]) => `${label} ${s.totals[kind]}`).join(" · ")}`];
  const rows = LABELS.flatMap(([kind]) =>
    [...(s.breakdown.get(kind) ?? [])].map(([what, n]) => [kind, what, n] as const),
  );
  const kindWidth = Math.max(0, ...rows.map(([kind]) => kind.length));
  const nWidth = Math.max(0, ...rows.map(([, , n]) => String(n).length));
  for (const [kind, what, n] of rows) out.push(`  ${kind.padEnd(kindWidth)}  ${String(n).padStart(nWidth)}  ${what}`);
  if (s.unreadable)
    out.push(`  (${s.unreadable} unreadable line${s.unreadable === 1 ? "" : "s"} in ${TALLY_FILE} skipped)`);
  if (s.totals.jobLost > 0) {
    const lost = [...(s.breakdown.get("jobLost") ?? [])].map(([what]) => what).join("; ");
    out.push(
      "",
      `!!!!! reliability: ${s.totals.jobLost} JOB${s.totals.jobLost === 1 ? "" : "S"} LOST — ${lost} !!!!!`,
      "",
    );
  }
  if (s.totals.attackWorked > 0) {
    const worked = [...(s.breakdown.get("attackWorked") ?? [])].map(([what]) => what).join("; ");
    const attacks = `${s.totals.attackWorked} ATTACK${s.totals.attackWorked === 1 ? "" : "S"}`;
    out.push("", `!!!!! security: ${attacks} WORKED — ${worked} !!!!!`, "");
  }
  return out.join("\n");
}

export function setup(): void {
  rmSync(TALLY_FILE, { force: true });
}

export function teardown(): void {
  try {
    const text = readFileSync(TALLY_FILE, "utf8");
    process.stdout.write(`\n${formatSummary(summarize(text))}\n`);
  } catch (err) {
    // no file: no reliability test ran in this run, so there is nothing to report
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      process.stdout.write(`reliability: could not read ${TALLY_FILE}: ${(err as Error).message}\n`);
  }
}
