import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["events/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // the built artifacts' parity run is its own script (npm run test:aws-parity); the Pulumi-mock
    // suite and the workflow check are `npm run test:stacks`
    exclude: [
      ...configDefaults.exclude,
      "test/parity/**",
      "test/infra/stacks.mock.test.ts",
      "test/infra/workflows.test.ts",
    ],
    // two files at a time: one at a time left a third of the 2 cores idle (22.5 CPU-minutes in a 16.2-minute run:
    // between encodes the suite polls, starts processes, runs single-threaded Node). Back to back: 971 s one at a
    // time, 736 s two; a later pair 833 s against 883 s, the second with 4× the host's steal time (README, Tests)
    fileParallelism: true,
    maxWorkers: 2,
    // one worker keeps its module cache across files: Node, the AWS SDK and core load once, not per file
    // (65 s of a 15-minute run). Files restore what they stub (mocked clients, env) in afterAll.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // prints the reliability suite's counts (faults, bad inputs, ownership checks, jobs lost) at the end
    globalSetup: ["test/reliability/summary.ts"],
    // the JSON report lets .ci/run name the failed tests last, where a truncated CI log still shows them
    reporters: ["default", ["json", { outputFile: "test/.artifacts/vitest-report.json" }]],
  },
});
