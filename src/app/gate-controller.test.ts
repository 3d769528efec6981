import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../sim/sim-clock.ts';
import { GateController, type GateCluster } from './gate-controller.ts';
import type { ImageLookupService } from './image-lookup.ts';

describe('GateController.run', () => {
  it('goes through the one loop: a pass that throws is reported and the next pass runs (serve keeps going)', async () => {
    let passes = 0;
    const cluster = {
      listGatedPods: async () => {
        passes++;
        if (passes === 2) throw new Error('API server gone for a moment');
        return { ok: true, value: [] };
      },
    } as unknown as GateCluster;
    const clock = new SimClock(0);
    const errors: string[] = [];
    const ctl = new AbortController();
    const gate = new GateController({ cluster, resolver: {} as ImageLookupService, clock, preferences: [], deadlineMs: 1000, releaseAfterMs: 0, intervalMs: 10_000 });
    const loop = gate.run(ctl.signal, () => undefined, (e) => errors.push((e as Error).message));
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advanceTo(i * 10_000);
    }
    await new Promise((r) => setImmediate(r));
    ctl.abort();
    await loop;
    expect(errors).toEqual(['API server gone for a moment']);
    expect(passes).toBe(6);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });
});
