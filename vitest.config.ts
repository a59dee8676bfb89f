import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    // Builds dist/ for the CLI suite when it is missing or older than src/.
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // e2e suites start real servers on random ports; two cores on CI.
    fileParallelism: true,
    maxWorkers: 2,
    // CI also keeps a machine-readable result, summarised by .ci/run as its last line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: process.env.VITEST_JSON ?? "test-results/vitest.json" },
  },
});
