// @ts-check
/**
 * The narrower, slower mutation run of the integration-tested money path (`npm run
 * mutate:integration`): each mutant runs the exit/ledger/settlement integration tests on embedded
 * PostgreSQL, so only the decisions that guard money are mutated (line ranges), one runner at a time.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation-integration.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    // executeExit: the request's state, the never-oversell cap, the filled / nothing-left decisions.
    'shared/execution/executeExit.ts:147-165',
  ],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 1,
  timeoutMS: 120_000,
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation-integration/index.html' },
  thresholds: { high: 90, low: 75, break: null },
  tempDirName: '.stryker-tmp-integration',
  cleanTempDir: true,
};
