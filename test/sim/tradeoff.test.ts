/**
 * The oracle baseline and the slack / shortage trade-off: the same loop with another
 * forecaster, and polyarch again at several headroom quantiles, drawn in the report.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { renderReport } from '../../src/sim/report/html.ts';
import { figuresOf } from '../../src/sim/summary.ts';

const file = fileURLToPath(new URL('../fixtures/small-scenario.yaml', import.meta.url));

describe('oracle and trade-off', () => {
  it('the oracle has the least slack; a higher headroom quantile buys less shortage with more slack; the report draws it', async () => {
    const r = loadScenario(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate(r.value, { seed: 7, strategies: ['polyarch', 'static', 'oracle'], tradeoff: [0.5, 0.9], trackApps: [] });
    const [poly, fixed, oracle] = report.runs.map(figuresOf);
    expect(oracle!.slackCpuCoreHours).toBeLessThan(poly!.slackCpuCoreHours);
    expect(oracle!.slackCpuCoreHours).toBeLessThan(fixed!.slackCpuCoreHours);
    expect(oracle!.oomKills).toBe(0);
    // P50 -> P90 buys less shortage on every seed tried (7, 1, 2, 3); P99 of a 60-error
    // window is nearly the window's maximum and is not monotone (seed 7 has more CPU
    // shortage at P99 than at P50: docs/scaling-quality.md).
    const [low, high] = report.tradeoff!;
    expect(low).toMatchObject({ label: 'polyarch P50', quantile: 0.5 });
    expect(high!.slackCpuCoreHours).toBeGreaterThan(low!.slackCpuCoreHours);
    expect(high!.shortfallCpuCoreHours).toBeLessThanOrEqual(low!.shortfallCpuCoreHours);
    const html = renderReport(report);
    expect(html).toContain('<h2>Slack against shortage</h2>');
    expect(html).toMatch(/<svg class="chart" data-points="4"/);
  }, 120_000);
});
