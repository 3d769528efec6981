import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../adapters/system-clock.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { runEvery } from './run-loop.ts';

describe('runEvery', () => {
  it('adds no abort listener per round on the real clock (no MaxListenersExceededWarning after many rounds)', async () => {
    const ctl = new AbortController();
    const seen: number[] = [];
    let rounds = 0;
    await runEvery({
      signal: ctl.signal,
      clock: systemClock,
      intervalMs: 0,
      onError: (e) => {
        throw e;
      },
      round: async () => {
        seen.push(getEventListeners(ctl.signal, 'abort').length);
        if (++rounds === 30) ctl.abort();
      },
    });
    expect(rounds).toBe(30);
    // Before the fix each round left one listener behind: 0, 1, 2, ... 29.
    expect(Math.max(...seen)).toBe(0);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('adds none on the simulated clock either, and a failed round does not stop the loop', async () => {
    const clock = new SimClock(0);
    const ctl = new AbortController();
    const errors: string[] = [];
    let rounds = 0;
    const loop = runEvery({
      signal: ctl.signal,
      clock,
      intervalMs: 60_000,
      onError: (e) => errors.push((e as Error).message),
      round: async () => {
        rounds++;
        if (rounds === 2) throw new Error('round 2 failed');
      },
    });
    for (let m = 1; m <= 20; m++) {
      await new Promise((r) => setImmediate(r));
      clock.advanceTo(m * 60_000);
    }
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(ctl.signal, 'abort').length).toBeLessThanOrEqual(1);
    ctl.abort();
    await loop;
    expect(rounds).toBe(21);
    expect(errors).toEqual(['round 2 failed']);
  });
});
