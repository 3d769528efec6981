import { describe, expect, it } from 'vitest';
import { HoltForecaster, LastValueForecaster, VpaForecaster, WindowMaxForecaster, WindowMeanForecaster } from './baselines.ts';
import { forecastSeries } from './forecaster.ts';

const value = (r: ReturnType<typeof forecastSeries>): number => (r.ok ? r.value : NaN);

describe('baselines', () => {
  const xs = [0.1, 0.5, 0.3, 0.2];

  it('last value, window mean and window maximum', () => {
    expect(value(forecastSeries(new LastValueForecaster(), xs, 5))).toBe(0.2);
    expect(value(forecastSeries(new WindowMeanForecaster(3), xs, 5))).toBeCloseTo((0.5 + 0.3 + 0.2) / 3, 12);
    expect(value(forecastSeries(new WindowMaxForecaster(3), xs, 5))).toBe(0.5);
    expect(value(forecastSeries(new WindowMaxForecaster(2), xs, 5))).toBe(0.3);
    expect(forecastSeries(new LastValueForecaster(), [], 1)).toEqual({ ok: false, reason: 'starting', needed: 1, have: 0 });
  });

  it('Holt: hand-worked with alpha 0.5, beta 0.1', () => {
    // x0 = 0.1; x1 = 0.5 -> l = 0.5, b = 0.4
    // x2 = 0.3: l = 0.5*0.3 + 0.5*(0.5+0.4) = 0.6; b = 0.1*(0.6-0.5) + 0.9*0.4 = 0.37
    // x3 = 0.2: l = 0.5*0.2 + 0.5*(0.6+0.37) = 0.585; b = 0.1*(0.585-0.6) + 0.9*0.37 = 0.3315
    // T = 1: 0.585 + 0.3315 = 0.9165
    expect(value(forecastSeries(new HoltForecaster({ alpha: 0.5, beta: 0.1 }), xs, 1))).toBeCloseTo(0.9165, 12);
    expect(value(forecastSeries(new HoltForecaster(), xs, 2))).toBe(1); // 0.585 + 0.663 clamped
    expect(forecastSeries(new HoltForecaster(), [0.3], 1).ok).toBe(false);
    expect(() => new HoltForecaster({ alpha: 0 })).toThrow(RangeError);
  });

  it('VPA-style: 90th percentile bucket edge times the safety margin', () => {
    // Ten (nearly) equal-weight values 0.05..0.95: p85 needs 8.5 of 10, reached at 0.85 -> edge 0.86.
    const ten = Array.from({ length: 10 }, (_, i) => 0.05 + i / 10);
    const v = new VpaForecaster({ halfLifeMinutes: 1e12, margin: 0, percentile: 0.85 });
    expect(value(forecastSeries(v, ten, 1))).toBeCloseTo(0.86, 12);
    const m = new VpaForecaster({ halfLifeMinutes: 1e12, margin: 0.15, percentile: 0.85 });
    expect(value(forecastSeries(m, ten, 1))).toBeCloseTo(0.86 * 1.15, 12);
  });

  it('VPA-style: recent samples weigh more', () => {
    // 100 minutes at 0.2 then 100 at 0.6; with a 10-minute half-life the old ones barely count.
    const xs2 = [...new Array<number>(100).fill(0.2), ...new Array<number>(100).fill(0.6)];
    expect(value(forecastSeries(new VpaForecaster({ halfLifeMinutes: 10, margin: 0 }), xs2, 1))).toBeCloseTo(0.61, 12);
    // With no decay, p90 of half 0.2 / half 0.6 is still 0.6's bucket, but p40 is 0.2's.
    expect(value(forecastSeries(new VpaForecaster({ halfLifeMinutes: 1e12, margin: 0, percentile: 0.4 }), xs2, 1))).toBeCloseTo(0.21, 12);
    expect(value(forecastSeries(new VpaForecaster({ halfLifeMinutes: 10, margin: 0, percentile: 0.4 }), xs2, 1))).toBeCloseTo(0.61, 12);
  });

  it('VPA-style: weights renormalise without overflow over a long series', () => {
    const v = new VpaForecaster({ halfLifeMinutes: 1, margin: 0 });
    for (let i = 0; i < 5000; i++) v.observe(i < 4990 ? 0.1 : 0.7);
    expect(value(v.forecast())).toBeCloseTo(0.71, 12);
  });
});
