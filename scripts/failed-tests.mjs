// Prints the failed tests of a vitest JSON report, one per line with the first line of the
// error, and keeps a copy of the report in /var/tmp (a CI clone is thrown away).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.error(`no vitest report at ${file}: ${err.message}`);
  process.exit(0);
}
try {
  mkdirSync("/var/tmp/videoforge-ci", { recursive: true });
  copyFileSync(file, `/var/tmp/videoforge-ci/vitest-report-${Date.now()}.json`);
} catch {
  // best effort: the list below is what matters
}
console.error(`\nFAILED TESTS (${report.numFailedTests} of ${report.numTotalTests}):`);
for (const suite of report.testResults ?? []) {
  if (suite.status === "failed" && !(suite.assertionResults ?? []).some((t) => t.status === "failed")) {
    console.error(`  ${suite.name}: ${String(suite.message ?? "").split("\n")[0]}`);
  }
  for (const t of suite.assertionResults ?? []) {
    if (t.status !== "failed") continue;
    const first = String(t.failureMessages?.[0] ?? "")
      .split("\n")[0]
      .slice(0, 300);
    console.error(`  ${suite.name} › ${t.fullName} (${Math.round(t.duration ?? 0)} ms): ${first}`);
  }
}
