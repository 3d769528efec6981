/**
 * Usage windows and the window baselines at edges no other test reaches, from the
 * documented semantics (window.ts): a late sample raises its closed minute without
 * touching the open one; each series keeps to its own ring; a baseline after reset reads
 * only what it was fed since.
 */
import { describe, expect, it } from 'vitest';
import { WindowMaxForecaster } from './baselines.ts';
import { MINUTE_MS, UsageWindow, WindowStore } from './window.ts';

const f32 = (x: number): number => Math.fround(x);

describe('usage window', () => {
  it('a late sample while a later minute is open raises its closed minute and leaves the open one open', () => {
    const w = new UsageWindow(5);
    for (let m = 0; m < 3; m++) w.record(m * MINUTE_MS, 0.1); // minutes 0, 1 closed, 2 open
    w.record(3 * MINUTE_MS, 0.2); // minute 2 closed, 3 open
    expect(w.record(1 * MINUTE_MS + 5, 0.8)).toBe('recorded');
    expect(w.openMinute).toBe(3);
    expect(w.values()).toEqual([0.1, 0.8, 0.1].map(f32));
    w.close(4 * MINUTE_MS);
    expect(w.values()).toEqual([0.1, 0.8, 0.1, 0.2].map(f32));
  });

  it('a series that wraps its ring does not write into the next series', () => {
    const s = new WindowStore({ apps: 1, minutes: 2 });
    s.push(0, 'mem', 0.01);
    s.push(0, 'mem', 0.02);
    for (const x of [0.1, 0.2, 0.3]) s.push(0, 'cpu', x); // cpu wraps after two minutes
    expect(s.values(0, 'cpu')).toEqual([0.2, 0.3].map(f32));
    expect(s.values(0, 'mem')).toEqual([0.01, 0.02].map(f32));
  });
});

describe('the window maximum baseline after reset', () => {
  it('the maximum reads only the values fed since, though fewer than before', () => {
    const f = new WindowMaxForecaster(3);
    for (const x of [0.9, 0.9, 0.9]) f.observe(x);
    f.reset();
    f.observe(0.1);
    expect(f.forecast()).toEqual({ ok: true, value: 0.1 });
    f.observe(0.2);
    expect(f.forecast()).toEqual({ ok: true, value: 0.2 });
  });
});
