/** Safety over the simulator's default scenario: the autoscaler (the one `serve --autoscaler` runs) causes no OOM kill, and acts. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { DEFAULT_SCENARIO } from '../../src/cli/commands/simulate.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { figuresOf } from '../../src/sim/summary.ts';

describe('autoscaler in the simulator', () => {
  it('causes no OOM kill over the default scenario, and resizes', async () => {
    const r = loadScenario(DEFAULT_SCENARIO);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate(r.value, { seed: r.value.seed ?? 42, strategies: ['polyarch', 'vpa'] });
    const [poly, vpa] = report.runs.map(figuresOf);
    expect(poly!.oomKills).toBe(0);
    expect(poly!.resizes).toBeGreaterThan(0);
    // The same loop with the VPA recommender as its forecaster also acts.
    expect(vpa!.resizes).toBeGreaterThan(0);
  }, 240_000);
});
