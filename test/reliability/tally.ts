import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The reliability suite's counts. Test files run in separate workers, so each count is a
 * line appended to one file; the global teardown (test/reliability/summary.ts) adds them up.
 */
export const TALLY_FILE = join(dirname(fileURLToPath(import.meta.url)), "..", ".artifacts", "reliability.jsonl");

export type TallyKind =
  | "fault"
  | "badInput"
  | "ownership"
  | "jobLost"
  | "jobCompleted"
  | "jobFailed"
  | "attack"
  | "attackWorked";

/** Count something the suite tried; `what` names it in the summary. */
export function tally(kind: TallyKind, what: string, n = 1): void {
  mkdirSync(dirname(TALLY_FILE), { recursive: true });
  appendFileSync(TALLY_FILE, JSON.stringify({ kind, what, n }) + "\n");
}
