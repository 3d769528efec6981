/** Safety over the simulator's default scenario: the autoscaler causes no OOM kill, where the VPA-style baseline does. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { DEFAULT_SCENARIO } from '../../src/cli/commands/simulate.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { figuresOf } from '../../src/sim/summary.ts';

describe('autoscaler in the simulator', () => {
  it('the simulator loop causes no OOM kill over the default scenario', async () => {
    const r = loadScenario(DEFAULT_SCENARIO);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate(r.value, { seed: r.value.seed ?? 42, strategies: ['polyarch', 'vpa'] });
    const [poly, vpa] = report.runs.map(figuresOf);
    expect(poly!.oomKills).toBe(0);
    // The scenario does press on memory: the VPA-style recommender, run the same way, gets OOM kills.
    expect(vpa!.oomKills).toBeGreaterThan(0);
  }, 240_000);

  it('the ScalingPolicy autoscaler (serve --autoscaler\'s app code) causes no OOM kill there either, and acts', async () => {
    const r = loadScenario(DEFAULT_SCENARIO);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const run = await runStrategy(r.value, { seed: r.value.seed ?? 42, strategy: 'polyarch', policies: true });
    const f = figuresOf(run);
    expect(f.oomKills).toBe(0);
    expect(run.scaling.resized).toBeGreaterThan(0);
  }, 240_000);
});
