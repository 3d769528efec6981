/**
 * `polyarch simulate [--scenario FILE] [--seed N] [--output json] [--report FILE]`: runs
 * the embedded cluster with polyarch and the baselines, prints the summary (or JSON)
 * and writes report.html.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { CliError } from '../errors.ts';
import { outputOption, printJson } from '../output.ts';
import { loadScenario } from '../../sim/scenario/load.ts';
import { renderReport } from '../../sim/report/html.ts';
import { summaryJson } from '../../sim/summary.ts';
import type { Strategy } from '../../sim/results.ts';
import { ALL_STRATEGIES, simulate } from '../simulate/simulate.ts';
import { renderSummary } from '../simulate/tables.ts';

export const DEFAULT_SCENARIO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'default-scenario.yaml');

interface Opts {
  scenario?: string;
  seed?: string;
  output: 'text' | 'json';
  report: string | false;
  strategies?: string;
  tradeoff?: string;
}

function progressBar(): ((done: number, label: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = -1;
  return (done, label) => {
    const pct = Math.floor(done * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const full = Math.round(done * width);
    process.stderr.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(pct).padStart(3)}% ${label.padEnd(16)}`);
    if (done >= 1) process.stderr.write('\r' + ' '.repeat(width + 24) + '\r');
  };
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .option('-s, --scenario <file>', 'scenario file (multi-document YAML)')
    .option('--seed <n>', 'random seed (default: the scenario\'s, else 42)')
    .addOption(outputOption())
    .option('-r, --report <file>', 'where to write the HTML report', 'report.html')
    .option('--no-report', 'do not write the HTML report')
    .addOption(new Option('--strategies <list>', `comma-separated subset of ${ALL_STRATEGIES.join(',')}`))
    .option('--tradeoff <quantiles>', 'also run polyarch at these headroom quantiles (e.g. 0.5,0.8,0.9,0.95,0.99) and draw slack against shortage in the report')
    .action(async (opts: Opts) => {
      let seed: number | undefined;
      if (opts.seed !== undefined) {
        if (!/^[0-9]+$/.test(opts.seed) || Number(opts.seed) > 2 ** 32 - 1) throw new CliError(`--seed: want an integer between 0 and 4294967295, got "${opts.seed}"`, 2);
        seed = Number(opts.seed);
      }
      let strategies: Strategy[] | undefined;
      if (opts.strategies !== undefined) {
        strategies = opts.strategies.split(',').map((s) => s.trim()) as Strategy[];
        const bad = strategies.filter((s) => !ALL_STRATEGIES.includes(s));
        if (bad.length > 0 || strategies.length === 0) throw new CliError(`--strategies: unknown ${bad.join(', ') || '(empty)'} (known: ${ALL_STRATEGIES.join(', ')})`, 2);
      }
      let tradeoff: number[] | undefined;
      if (opts.tradeoff !== undefined) {
        tradeoff = opts.tradeoff.split(',').map((q) => Number(q.trim()));
        if (tradeoff.length === 0 || tradeoff.some((q) => !(q > 0 && q < 1))) throw new CliError(`--tradeoff: want quantiles in (0, 1) separated by commas, got "${opts.tradeoff}"`, 2);
      }
      const file = opts.scenario ?? DEFAULT_SCENARIO;
      const loaded = loadScenario(file);
      if (!loaded.ok) {
        // Several errors: all but the last on their own lines, the CLI's one-line error last.
        for (const e of loaded.errors.slice(0, -1)) process.stderr.write(`polyarch: ${e}\n`);
        throw new CliError(loaded.errors[loaded.errors.length - 1] ?? 'invalid scenario', 2);
      }
      const scenario = loaded.value;
      const progress = opts.output === 'text' ? progressBar() : undefined;
      const report = await simulate(scenario, {
        seed: seed ?? scenario.seed ?? 42,
        ...(strategies ? { strategies } : {}),
        ...(tradeoff ? { tradeoff } : {}),
        ...(progress ? { onProgress: (d: number, s: string) => progress(d, s) } : {}),
      });
      let reportPath: string | undefined;
      if (opts.report !== false) {
        reportPath = resolve(opts.report);
        try {
          writeFileSync(reportPath, renderReport(report));
        } catch (err) {
          throw new CliError(`--report: cannot write ${reportPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 1);
        }
      }
      const summary = summaryJson(report);
      if (opts.output === 'json') printJson(reportPath ? { ...summary, report: reportPath } : summary);
      else process.stdout.write(`${renderSummary(summary, reportPath)}\n`);
    });
}
