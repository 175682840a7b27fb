import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    // Each test file gets its own database, so files run in parallel safely.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
