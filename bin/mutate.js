#!/usr/bin/env node
// `npm run mutate [-- part...] [--force]`: Stryker mutation testing of src/core, one part at a
// time (default: every directory of src/core). A part is a directory under src/core
// (`scaling`, `placement/filters`), its own files only (`placement/*`), or one file
// (`forecast/dma.ts`). Incremental: each
// part's previous results are kept in test/mutation/<part>.json (committed), so a run re-tests
// only mutants in changed code or covered by changed tests; `--force` re-tests everything.
// Prints the score per part and fails when a directory with a target (docs/testing.md) is below it.
import { Stryker } from '@stryker-mutator/core';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const core = join(root, 'src', 'core');
/** Mutation score targets (percent) of the decision core; other directories are reported only. */
const TARGET = { placement: 85, platform: 85, scaling: 85, forecast: 85 };

const args = process.argv.slice(2);
const force = args.includes('--force');
const all = readdirSync(core).filter((d) => statSync(join(core, d)).isDirectory()).sort();
const wanted = args.filter((a) => !a.startsWith('--'));
for (const w of wanted) {
  if (w.endsWith('.ts')) {
    if (!existsSync(join(core, w))) throw new Error(`mutate: no file src/core/${w}`);
    continue;
  }
  const dir = w.endsWith('/*') ? w.slice(0, -2) : w;
  if (!existsSync(join(core, dir)) || !statSync(join(core, dir)).isDirectory()) throw new Error(`mutate: no directory src/core/${dir} (have ${all.join(', ')})`);
}
const dirs = wanted.length > 0 ? wanted : all;
const concurrency = Number(process.env['MUTATE_CONCURRENCY'] ?? '1');
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`mutate: MUTATE_CONCURRENCY must be a positive integer, got "${process.env['MUTATE_CONCURRENCY']}"`);

/** File name of a part: placement/filters -> placement-filters, placement/* -> placement-files, forecast/dma.ts -> forecast-dma. */
const name = (part) => part.replace(/\/\*$/, '/files').replace(/\.ts$/, '').replaceAll('/', '-');

const rows = [];
for (const dir of dirs) {
  const stryker = new Stryker({
    configFile: join(root, 'stryker.config.mjs'),
    mutate: dir.endsWith('.ts') ? [`src/core/${dir}`] : dir.endsWith('/*') ? [`src/core/${dir}.ts`, `!src/core/${dir}.test.ts`] : [`src/core/${dir}/**/*.ts`, `!src/core/${dir}/**/*.test.ts`],
    incrementalFile: `test/mutation/${name(dir)}.json`,
    jsonReporter: { fileName: `reports/mutation/${name(dir)}.json` },
    htmlReporter: { fileName: `reports/mutation/${name(dir)}.html` },
    force,
    concurrency,
  });
  const results = await stryker.runMutationTest();
  const count = (...s) => results.filter((r) => s.includes(r.status)).length;
  const detected = count('Killed', 'Timeout');
  const undetected = count('Survived', 'NoCoverage');
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected);
  rows.push({ dir, mutants: results.length, killed: detected, survived: count('Survived'), noCoverage: count('NoCoverage'), ignored: count('Ignored'), score: Number(score.toFixed(2)), target: TARGET[dir] ?? '-' });
}
console.table(rows);
const below = rows.filter((r) => typeof r.target === 'number' && r.score < r.target);
if (below.length > 0) {
  console.error(`mutation score below target: ${below.map((r) => `src/core/${r.dir} ${r.score}% < ${r.target}%`).join(', ')}`);
  process.exitCode = 1;
}
