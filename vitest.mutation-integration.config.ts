import { defineConfig } from 'vitest/config';

/**
 * The integration tests of the exit and ledger path, on embedded PostgreSQL: what
 * `npm run mutate:integration` runs against each mutant (see stryker.integration.config.mjs).
 */
export default defineConfig({
  test: {
    include: ['exit-delivery', 'position-version-races'].map((name) => `test/integration/${name}.test.ts`),
    // The tests that pin the exit cap and the ledger's lock. (Stryker needs a green dry run; widen
    // this to all of exits/exit-delivery/settlement once their Decimal-quantity updates pass.)
    testNamePattern: 'larger than the holding|waits for the identity lock',
    globalSetup: ['test/helpers/globalSetup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
