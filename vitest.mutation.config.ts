import { defineConfig } from 'vitest/config';

/**
 * The unit tests of the pure money path, without the database global setup: what StrykerJS runs
 * against each mutant (`npm run mutate`). Test files that need PostgreSQL stay out.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/pool.test.ts', 'test/unit/time-scale.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
