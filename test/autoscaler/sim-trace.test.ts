/**
 * Issue 13's bar on a real, bursty trace: three days of the Bitbrains replay
 * (examples/scaling/bitbrains-10vm-14d.yaml), where VMs jump several-fold within a 5-minute
 * step. polyarch has less slack than the VPA recommender and static requests, no OOM kill and
 * no throttled minute (limits only rise: docs/autoscaler.md); the VPA recommender, whose
 * limits follow its requests, has both.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { figuresOf } from '../../src/sim/summary.ts';

const file = fileURLToPath(new URL('../../examples/scaling/bitbrains-10vm-14d.yaml', import.meta.url));

describe('autoscaler on the Bitbrains trace', () => {
  it('less slack than VPA-style and static, no OOM kill and no throttling where VPA-style has both', async () => {
    const r = loadScenario(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const report = await simulate({ ...r.value, durationMinutes: 3 * 1440 }, { seed: 42, strategies: ['polyarch', 'vpa', 'static'], trackApps: [] });
    const [poly, vpa, fixed] = report.runs.map(figuresOf);
    for (const base of [vpa!, fixed!]) {
      expect(poly!.slackCpuCoreHours).toBeLessThanOrEqual(base.slackCpuCoreHours);
      expect(poly!.slackMemoryGiBHours).toBeLessThanOrEqual(base.slackMemoryGiBHours);
    }
    expect(vpa!.oomKills).toBeGreaterThan(0);
    expect(vpa!.throttledPodMinutes).toBeGreaterThan(0);
    expect(poly!.oomKills).toBe(0);
    expect(poly!.throttledPodMinutes).toBe(0);
  }, 240_000);
});
