/**
 * A whole simulation: the scenario run once per strategy (polyarch and the baselines),
 * same scenario, same seed, into one SimulationReport.
 */
import { nodePlatform, formatPlatform } from '../../core/platform/platform.ts';
import { SimRegistry } from '../../sim/registry.ts';
import { UsageModel } from '../../sim/usage.ts';
import { createRng } from '../../core/rng.ts';
import type { Scenario } from '../../sim/scenario/load.ts';
import type { RunResult, SimulationReport, Strategy, TradeoffPoint } from '../../sim/results.ts';
import { tradeoffPoint } from '../../sim/summary.ts';
import { runStrategy } from './runner.ts';

export const ALL_STRATEGIES: readonly Strategy[] = ['polyarch', 'kube-scheduler', 'per-arch', 'static', 'vpa', 'oracle'];

export interface SimulateOptions {
  readonly seed: number;
  readonly strategies?: readonly Strategy[];
  readonly checkInvariants?: boolean;
  /** Called with the share of the work done, 0..1, and the strategy running. */
  readonly onProgress?: (done: number, strategy: Strategy) => void;
  /** Workloads to chart (default: the first four with a trace). */
  readonly trackApps?: readonly string[];
  /** Headroom quantiles at which polyarch runs again for the slack / shortage trade-off curve. */
  readonly tradeoff?: readonly number[];
}

export async function simulate(scenario: Scenario, opts: SimulateOptions): Promise<SimulationReport> {
  const strategies = opts.strategies ?? ALL_STRATEGIES;
  const registry = new SimRegistry(scenario.images);
  const usage = new UsageModel(scenario.usage, scenario.durationMinutes, createRng(opts.seed).fork('usage'));
  const tracked = opts.trackApps ?? [...scenario.usage.values()].filter((u) => u.trace).slice(0, 4).map((u) => u.workload);
  const runs: RunResult[] = [];
  const total = (strategies.length + (opts.tradeoff?.length ?? 0)) * scenario.durationMinutes;
  let done = 0;
  for (const strategy of strategies) {
    runs.push(await runStrategy(scenario, {
      seed: opts.seed, strategy, registry, usage, trackApps: tracked,
      ...(opts.checkInvariants ? { checkInvariants: true } : {}),
      onProgress: (m) => opts.onProgress?.((done + m + 1) / total, strategy),
    }));
    done += scenario.durationMinutes;
  }
  const tradeoff: TradeoffPoint[] = [];
  for (const q of opts.tradeoff ?? []) {
    const run = await runStrategy(scenario, {
      seed: opts.seed, strategy: 'polyarch', registry, usage, errorQuantile: q,
      onProgress: (m) => opts.onProgress?.((done + m + 1) / total, 'polyarch'),
    });
    done += scenario.durationMinutes;
    tradeoff.push(tradeoffPoint(`polyarch P${Math.round(q * 100)}`, run, q));
  }
  const platforms: Record<string, number> = {};
  for (const n of scenario.nodes) {
    const p = nodePlatform(n);
    const k = p.ok ? formatPlatform(p.value) : 'unknown';
    platforms[k] = (platforms[k] ?? 0) + 1;
  }
  return {
    scenario: {
      name: scenario.name, file: scenario.file, minutes: scenario.durationMinutes, nodes: scenario.nodes.length,
      workloads: scenario.deployments.length + scenario.statefulSets.length + scenario.pods.length,
      platforms: Object.fromEntries(Object.entries(platforms).sort(([a], [b]) => a.localeCompare(b))),
    },
    seed: opts.seed,
    runs,
    ...(tradeoff.length > 0 ? { tradeoff } : {}),
  };
}
