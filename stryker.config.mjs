// Mutation testing of the decision core (docs/testing.md). Run through `npm run mutate`
// (bin/mutate.js), which sets `mutate` and the incremental file per directory of src/core.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  checkers: [],
  concurrency: 1,
  incremental: true,
  // Static mutants (module-level tables and constants, e.g. the architecture alias table) run every
  // related test for each mutant: 63% of core/platform's mutants for 84% of the time. They are
  // reported as Ignored; the tables are checked by table tests (docs/testing.md).
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'json'],
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 85, break: null },
  // test/fixtures/proc holds dangling symlinks (a /proc snapshot) the sandbox copy would trip on.
  ignorePatterns: ['test/fixtures/proc', 'reports', 'dist', 'coverage', '.tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
