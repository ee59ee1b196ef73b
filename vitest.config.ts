import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and e2e suites share one PostgreSQL and one Redis; each test
    // namespaces its keys and schemas, but child processes and ports make
    // running files in parallel on 2 cores flaky rather than faster.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
