import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    // Decimal counts compare equal to integer literals of the same value (see the file).
    setupFiles: ['test/helpers/decimalEquality.ts'],
    reporters: ['default', './test/helpers/summaryReporter.ts'],
    // Each test file gets its own database, so files run in parallel safely.
    pool: 'forks',
    testTimeout: 60_000,
    // Handlers log JSON through Powertools; tests assert outcomes, so the logs stay quiet.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    hookTimeout: 120_000,
  },
});
