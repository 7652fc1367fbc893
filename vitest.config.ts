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
    // ffmpeg-heavy suites share 2 cores; running files in parallel only adds contention
    fileParallelism: false,
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
