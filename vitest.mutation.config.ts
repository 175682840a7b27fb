import { defineConfig } from 'vitest/config';

/**
 * The unit tests of the pure money path, without the database global setup: what StrykerJS runs
 * against each mutant (`npm run mutate`). Only the money path's unit test files: every other
 * file would only add start-up time to each mutant's run.
 */
export default defineConfig({
  test: {
    include: [
      'fees', 'sizing', 'edge', 'exit-conditions', 'exit-pricing', 'trailing-stop', 'position-math', 'entry-checks', 'breakers',
    ].map((name) => `test/unit/${name}.test.ts`),
    pool: 'forks',
    testTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
