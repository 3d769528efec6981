/**
 * `polyarch scaling-quality [SCENARIO...]`: the table of docs/scaling-quality.md. Each
 * scenario (default: the default scenario and examples/scaling/*.yaml) through polyarch,
 * static requests, the VPA recommender and the oracle; per strategy CPU and memory slack,
 * CPU used above request, OOM kills, throttled pod-minutes, CPU starved by node contention,
 * node-pressure evictions and resizes, as Markdown (or JSON).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import { outputOption, printJson } from '../output.ts';
import { loadScenario } from '../../sim/scenario/load.ts';
import { figuresOf } from '../../sim/summary.ts';
import type { Strategy } from '../../sim/results.ts';
import { simulate } from '../simulate/simulate.ts';
import { DEFAULT_SCENARIO } from './simulate.ts';

const STRATEGIES: readonly Strategy[] = ['polyarch', 'static', 'vpa', 'oracle'];

export function defaultQualityScenarios(): string[] {
  const dir = join(dirname(DEFAULT_SCENARIO), 'scaling');
  return [DEFAULT_SCENARIO, ...readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f))];
}

export function registerScalingQuality(program: Command): void {
  program
    .command('scaling-quality')
    .argument('[scenarios...]', 'scenario files (default: the default scenario and examples/scaling/*.yaml)')
    .addOption(outputOption())
    .action(async (files: string[], opts: { output: 'text' | 'json' }) => {
      const rows: { scenario: string; days: number; strategy: string; cpuSlack: number; memSlack: number; cpuAbove: number; oomKills: number; throttled: number; starved: number; starvedCpu: number; evictions: number; resizes: number }[] = [];
      for (const file of files.length > 0 ? files : defaultQualityScenarios()) {
        const loaded = loadScenario(file);
        if (!loaded.ok) throw new CliError(loaded.errors.join('; '), 2);
        const s = loaded.value;
        const report = await simulate(s, { seed: s.seed ?? 42, strategies: STRATEGIES, trackApps: [] });
        for (const run of report.runs) {
          const f = figuresOf(run);
          rows.push({ scenario: s.name, days: Math.round((s.durationMinutes / 1440) * 10) / 10, strategy: f.title, cpuSlack: f.slackCpuCoreHours, memSlack: f.slackMemoryGiBHours, cpuAbove: f.shortfallCpuCoreHours, oomKills: f.oomKills, throttled: f.throttledPodMinutes, starved: f.starvedPodMinutes, starvedCpu: f.starvedCpuCoreHours, evictions: f.nodePressureEvictions, resizes: f.resizes });
        }
      }
      if (opts.output === 'json') {
        printJson(rows);
        return;
      }
      const out = ['| scenario | days | strategy | CPU slack (core-h) | memory slack (GiB-h) | CPU above request (core-h) | OOM kills | throttled pod-min | CPU-starved pod-min (contention) | CPU starved (core-h) | evictions (node pressure) | resizes |', '|---|---|---|---|---|---|---|---|---|---|---|---|'];
      for (const r of rows) out.push(`| ${r.scenario} | ${r.days} | ${r.strategy} | ${r.cpuSlack} | ${r.memSlack} | ${r.cpuAbove} | ${r.oomKills} | ${r.throttled} | ${r.starved} | ${r.starvedCpu} | ${r.evictions} | ${r.resizes} |`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
