import { describe, expect, it } from 'vitest';
import { LastValueForecaster, WindowMaxForecaster } from './baselines.ts';
import { DmaForecaster } from './dma.ts';
import { ScoreSums, SeriesEvaluator } from './evaluate.ts';
import { MinuteResampler } from './resample.ts';
import { MINUTE_MS } from './window.ts';

describe('SeriesEvaluator', () => {
  it('scores the last-value forecaster by hand', () => {
    // horizon 1: forecasts 0.2 for 0.4, 0.4 for 0.1, 0.1 for 0.1
    const sums = [new ScoreSums()];
    const ev = new SeriesEvaluator([new LastValueForecaster()], sums, 1, 0.5);
    for (const x of [0.2, 0.4, 0.1, 0.1]) ev.observe(x);
    const s = sums[0]!.scores();
    expect(s.points).toBe(3);
    expect(s.mae).toBeCloseTo((0.2 + 0.3 + 0) / 3, 12);
    expect(s.rmse).toBeCloseTo(Math.sqrt((0.04 + 0.09) / 3), 12);
    expect(s.under).toBeCloseTo(1 / 3, 12);
    // allocations 0.3, 0.6, 0.15 against 0.4, 0.1, 0.1: shortage once; slack 0.5 and 0.05
    expect(s.shortage).toBeCloseTo(1 / 3, 12);
    expect(s.slack).toBeCloseTo((0.5 + 0.05) / 3, 12);
  });

  it('scores only minutes where every forecaster had a forecast', () => {
    const sums = [new ScoreSums(), new ScoreSums()];
    const ev = new SeriesEvaluator([new DmaForecaster(2), new WindowMaxForecaster()], sums, 2, 0);
    for (const x of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) ev.observe(x);
    // DMA (N=2) forecasts from the 3rd minute (index 2); those at 2 and 3 resolve at 4 and 5.
    expect(sums[0]!.points).toBe(2);
    expect(sums[1]!.points).toBe(2);
    expect(sums[0]!.scores().mae).toBeCloseTo(0, 12); // linear: exact
    expect(sums[1]!.scores().mae).toBeCloseTo(0.2, 12); // max lags by the horizon
    ev.reset();
    ev.observe(0.9);
    expect(sums[0]!.points).toBe(2);
  });

  it('a rounding error below a flat series is not an under-prediction', () => {
    const sums = [new ScoreSums()];
    const ev = new SeriesEvaluator([new DmaForecaster(3)], sums, 1, 0);
    for (let i = 0; i < 20; i++) ev.observe(0.7); // DMA of 0.7s can come out 1 ulp low
    expect(sums[0]!.points).toBe(15);
    expect(sums[0]!.scores()).toMatchObject({ under: 0, shortage: 0 });
  });

  it('merges sums', () => {
    const a = new ScoreSums();
    const b = new ScoreSums();
    a.add(0.5, 0.4, 0);
    b.add(0.2, 0.4, 0);
    a.merge(b);
    expect(a.scores()).toMatchObject({ points: 2, under: 0.5, shortage: 0.5 });
    expect(new ScoreSums().scores().points).toBe(0);
  });
});

describe('MinuteResampler', () => {
  const collect = (opts = {}) => {
    const out: [number, number][] = [];
    const gaps: [number, number][] = [];
    const r = new MinuteResampler({ minute: (m, v) => out.push([m, v]), gap: (a, b) => gaps.push([a, b]) }, opts);
    return { r, out, gaps };
  };

  it('takes per-minute maxima and holds a 5-minute step for each minute of its interval', () => {
    const { r, out } = collect();
    r.add(0, 0.25);
    r.add(20_000, 0.5);
    r.add(5 * MINUTE_MS, 0.75);
    r.flush();
    expect(out).toEqual([[0, 0.5], [1, 0.5], [2, 0.5], [3, 0.5], [4, 0.5], [5, 0.75]]);
  });

  it('resamples to steps of several minutes: one value per step, limits in whole steps', () => {
    const { r, out, gaps } = collect({ stepMinutes: 5, maxHoldMinutes: 60 });
    r.add(0, 0.25);
    r.add(4 * MINUTE_MS, 0.5); // same 5-minute step
    r.add(5 * MINUTE_MS, 0.125);
    r.add(20 * MINUTE_MS, 0.75); // steps 2 and 3 held
    r.add(100 * MINUTE_MS, 1); // 15 empty steps (75 minutes): a gap
    r.flush();
    expect(out).toEqual([[0, 0.5], [1, 0.125], [2, 0.125], [3, 0.125], [4, 0.75], [20, 1]]);
    expect(gaps).toEqual([[5, 19]]);
    expect(() => collect({ stepMinutes: 0 })).toThrow(RangeError);
  });

  it('reorders within the horizon, drops later samples, breaks on long gaps', () => {
    const { r, out, gaps } = collect({ reorderMinutes: 3, maxHoldMinutes: 10 });
    expect(r.add(2 * MINUTE_MS, 0.5)).toBe('ok');
    expect(r.add(1 * MINUTE_MS, 0.25)).toBe('ok'); // late but inside the window
    expect(r.add(10 * MINUTE_MS, 0.125)).toBe('ok');
    expect(r.add(1 * MINUTE_MS, 0.25)).toBe('late');
    expect(r.add(NaN, 0.25)).toBe('invalid');
    expect(r.add(30 * MINUTE_MS, 1)).toBe('ok');
    r.flush();
    expect(gaps).toEqual([[11, 29]]);
    expect(out.map(([m]) => m)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30]);
    expect(out[2]).toEqual([3, 0.5]);
    expect(r.minutes).toBe(11);
  });

  it('a sample for the oldest minute still buffered is in time', () => {
    const { r } = collect({ reorderMinutes: 3 });
    r.add(10 * MINUTE_MS, 0.5);
    expect(r.add(8 * MINUTE_MS, 0.5)).toBe('ok');
    expect(r.add(7 * MINUTE_MS, 0.5)).toBe('late');
  });

  it('maxHoldMinutes empty minutes break the series; one fewer are held', () => {
    const held = collect({ maxHoldMinutes: 3 });
    held.r.add(0, 0.5);
    held.r.add(3 * MINUTE_MS, 0.25); // minutes 1, 2 empty
    held.r.flush();
    expect(held.gaps).toEqual([]);
    expect(held.out).toEqual([[0, 0.5], [1, 0.5], [2, 0.5], [3, 0.25]]);
    const broken = collect({ maxHoldMinutes: 3 });
    broken.r.add(0, 0.5);
    broken.r.add(4 * MINUTE_MS, 0.25); // minutes 1, 2, 3 empty
    broken.r.flush();
    expect(broken.gaps).toEqual([[1, 3]]);
    expect(broken.out).toEqual([[0, 0.5], [4, 0.25]]);
  });
});
