/**
 * Issue 13's bar over the simulator's default scenario, through the one autoscaler (the one
 * `serve --autoscaler` runs): polyarch's CPU and memory slack at most the VPA-style
 * baseline's and static requests', no more OOM kills than either, no more throttled
 * pod-minutes than the VPA-style one; and it acts.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { DEFAULT_SCENARIO } from '../../src/cli/commands/simulate.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { figuresOf } from '../../src/sim/summary.ts';

describe('autoscaler in the simulator', () => {
  it('gives back: less slack than VPA-style and static, no more OOM kills than either, no more throttling than VPA-style', async () => {
    const r = loadScenario(DEFAULT_SCENARIO);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate(r.value, { seed: r.value.seed ?? 42, strategies: ['polyarch', 'vpa', 'static'] });
    const [poly, vpa, fixed] = report.runs.map(figuresOf);
    for (const base of [vpa!, fixed!]) {
      expect(poly!.slackCpuCoreHours).toBeLessThanOrEqual(base.slackCpuCoreHours);
      expect(poly!.slackMemoryGiBHours).toBeLessThanOrEqual(base.slackMemoryGiBHours);
      expect(poly!.oomKills).toBeLessThanOrEqual(base.oomKills);
    }
    expect(poly!.throttledPodMinutes).toBeLessThanOrEqual(vpa!.throttledPodMinutes);
    // Limits only rise: a burst is never throttled or killed at a limit the autoscaler lowered (static requests throttle 60 pod-minutes here).
    expect(poly!.throttledPodMinutes).toBeLessThanOrEqual(fixed!.throttledPodMinutes);
    expect(poly!.oomKills).toBe(0);
    expect(poly!.resizes).toBeGreaterThan(0);
    // The same loop with the VPA recommender as its forecaster also acts.
    expect(vpa!.resizes).toBeGreaterThan(0);
  }, 240_000);
});
