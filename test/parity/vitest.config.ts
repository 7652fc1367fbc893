import { defineConfig } from "vitest/config";

/**
 * `npm run test:aws-parity` (after `npm run build:aws`): the built artifacts, run under their
 * AWS runtimes' limits. Not part of `npm test`: it needs the build and root (to run the
 * artifacts as an unprivileged user).
 */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/parity/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
