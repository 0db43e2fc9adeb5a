import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Lab suites share one machine's namespaces and CPU: run files one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Skipped lab suites and ctx.skip reasons are named after the summary; under CI a skipped lab suite fails the run.
    reporters: ['default', './test/skipreport.ts'],
  },
});
