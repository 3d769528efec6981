/**
 * The tests Stryker runs against mutants of src/core (`npm run mutate`): the pure, in-process
 * tests only — the unit tests beside the code, the placement golden and property tests and the
 * simulator's cluster tests. The tests that start a registry, kubectl, Chromium or a server
 * are left out: they exercise the same core code through adapters and would make every mutant
 * cost seconds. Stryker's vitest runner runs only the tests `related` to the mutated file.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/core/**/*.test.ts', 'src/app/*.test.ts', 'src/sim/*.test.ts', 'test/placement-*.test.ts', 'test/platform-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
