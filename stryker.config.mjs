// @ts-check
/**
 * Mutation testing of the money path's pure modules against their unit tests (`npm run mutate`).
 * The unit tests run under vitest.mutation.config.ts (no PostgreSQL global setup). Files with
 * database code are mutated only in their pure functions (line ranges). Survivors that remain
 * are listed, with why, in docs/testing.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export const MONEY_PATH = [
  'shared/domain/fees.ts',
  'shared/domain/sizing.ts',
  'shared/domain/edge.ts',
  'shared/exits/conditions.ts',
  'shared/exits/trailingStop.ts',
  'shared/exits/pricing.ts',
  'shared/execution/positionMath.ts',
  // evaluateEntryChecks only (the snapshot loader above it is SQL, tested with PostgreSQL).
  'shared/execution/entryChecks.ts:122-190',
  // breakerConditions, breakerEffect, evaluateBreakers (the rest reads and writes the database).
  'shared/risk/breakers.ts:104-186',
];

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: MONEY_PATH,
  coverageAnalysis: 'perTest',
  // Module-level constants (defaults tables) would re-run every test per mutant; their values are
  // asserted where used. Reason texts are asserted by pattern, not letter by letter.
  ignoreStatic: true,
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 95, low: 90, break: 90 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
