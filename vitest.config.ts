import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // e2e suites start real servers on random ports; two cores on CI.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
