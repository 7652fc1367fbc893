import { defineConfig } from "vitest/config";

/** `npm run test:stacks`: the Pulumi-mock suite alone (excluded from `npm test`'s include). */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/infra/stacks.mock.test.ts", "test/infra/workflows.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
