import { defineConfig } from 'vitest/config';

// End-to-end tests drive a real browser against a running backend and worker:
// one file at a time, and timeouts long enough for a CPU model to finish a study.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
