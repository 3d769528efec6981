import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DmaBank, DmaForecaster, dmaDirect, dmaFromWindow } from './dma.ts';
import { WindowStore } from './window.ts';
import { forecastSeries } from './forecaster.ts';

describe('double moving average, hand-worked', () => {
  // N = 4, so 2N-1 = 7 points: x = 0.2 0.4 0.3 0.5 0.6 0.4 0.8
  // M1_3 = (0.2+0.4+0.3+0.5)/4 = 0.35      M1_4 = (0.4+0.3+0.5+0.6)/4 = 0.45
  // M1_5 = (0.3+0.5+0.6+0.4)/4 = 0.45      M1_6 = (0.5+0.6+0.4+0.8)/4 = 0.575
  // M2 = (0.35+0.45+0.45+0.575)/4 = 0.45625
  // a = 2*0.575 - 0.45625 = 0.69375;  b = 2/3 * (0.575 - 0.45625) = 0.0791666...
  const x = [0.2, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8];
  const table: [number, number][] = [
    [1, 0.69375 + 0.11875 * (2 / 3)], // 0.7729166...
    [2, 0.69375 + 0.11875 * (4 / 3)], // 0.8520833...
    [5, 0.69375 + 0.11875 * (10 / 3)], // 1.0895... clamped to 1
  ];
  it.each(table)('horizon %i', (T, expected) => {
    const d = dmaDirect(x, 4, T);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.terms.m1).toBeCloseTo(0.575, 12);
    expect(d.terms.m2).toBeCloseTo(0.45625, 12);
    expect(d.terms.a).toBeCloseTo(0.69375, 12);
    expect(d.terms.b).toBeCloseTo(0.11875 * (2 / 3), 12);
    expect(d.value).toBeCloseTo(Math.min(1, expected), 12);
    const inc = forecastSeries(new DmaForecaster(4), x, T);
    expect(inc.ok && inc.value).toBeCloseTo(Math.min(1, expected), 12);
  });

  it('has no forecast with fewer than 2N-1 samples, and says why', () => {
    expect(dmaDirect(x.slice(0, 6), 4, 1)).toEqual({ ok: false, reason: 'starting', needed: 7, have: 6 });
    expect(forecastSeries(new DmaForecaster(4), x.slice(0, 6), 1)).toEqual({ ok: false, reason: 'starting', needed: 7, have: 6 });
  });

  it('rejects a window below 2', () => {
    expect(() => dmaDirect(x, 1, 1)).toThrow(RangeError);
    expect(() => new DmaBank(1, 1.5)).toThrow(RangeError);
  });
});

const unit = fc.double({ min: 0, max: 1, noNaN: true });

describe('double moving average, properties', () => {
  it('a constant series forecasts that constant', () => {
    fc.assert(
      fc.property(unit, fc.integer({ min: 2, max: 15 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 20 }), (c, n, T, extra) => {
        const xs = new Array<number>(2 * n - 1 + extra).fill(c);
        const d = dmaDirect(xs, n, T);
        expect(d.ok && d.value).toBeCloseTo(c, 12);
        const inc = forecastSeries(new DmaForecaster(n), xs, T);
        expect(inc.ok && inc.value).toBeCloseTo(c, 12);
      }),
    );
  });

  it('a linear series is extrapolated exactly, until the clamp', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.5, max: 1.5, noNaN: true }),
        fc.double({ min: -0.05, max: 0.05, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 20 }),
        (c, slope, n, T) => {
          const len = 2 * n - 1;
          const xs = Array.from({ length: len }, (_, i) => c + slope * i);
          const expected = c + slope * (len - 1 + T);
          const d = dmaDirect(xs, n, T);
          expect(d.ok && d.value).toBeCloseTo(Math.min(1, Math.max(0, expected)), 9);
        },
      ),
    );
  });

  it('the incremental form equals the direct form at every step', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 120 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 10 }), (xs, n, T) => {
        const bank = new DmaBank(3, n);
        const one = new DmaForecaster(n);
        for (let i = 0; i < xs.length; i++) {
          bank.observe(1, xs[i]!);
          one.observe(xs[i]!);
          const inc = bank.forecast(1, T);
          const dir = dmaDirect(xs, n, T, i + 1);
          const f = one.forecast(T);
          expect(inc.ok).toBe(dir.ok);
          expect(f.ok).toBe(dir.ok);
          if (f.ok && dir.ok) expect(f.value).toBeCloseTo(dir.value, 12);
          if (inc.ok && dir.ok) {
            expect(inc.value).toBeCloseTo(dir.value, 12);
            expect(bank.forecastValue(1, T)).toBeCloseTo(dir.value, 12);
          }
        }
        expect(bank.samples(0)).toBe(0); // other series untouched
      }),
    );
  });

  it('stays with the direct form over a long series (running sums resummed)', () => {
    const n = 10;
    const bank = new DmaBank(1, n);
    const one = new DmaForecaster(n);
    const xs: number[] = [];
    let s = 12345;
    for (let i = 0; i < 20_000; i++) {
      s = (s * 1103515245 + 12345) % 2147483648; // a fixed LCG: deterministic data
      xs.push(s / 2147483648);
      bank.observe(0, xs[i]!);
      one.observe(xs[i]!);
    }
    const dir = dmaDirect(xs, n, 5);
    expect(bank.forecastValue(0, 5)).toBeCloseTo(dir.ok ? dir.value : NaN, 12);
    const f = one.forecast(5);
    expect(f.ok && f.value).toBeCloseTo(dir.ok ? dir.value : NaN, 12);
  });

  it('starts over after reset', () => {
    const bank = new DmaBank(1, 3);
    for (const v of [0.9, 0.9, 0.9, 0.9, 0.9]) bank.observe(0, v);
    bank.reset(0);
    for (const v of [0.1, 0.2, 0.3, 0.4]) bank.observe(0, v);
    expect(bank.forecast(0, 1).ok).toBe(false);
    bank.observe(0, 0.5);
    const d = dmaDirect([0.1, 0.2, 0.3, 0.4, 0.5], 3, 1);
    expect(bank.forecastValue(0, 1)).toBeCloseTo(d.ok ? d.value : NaN, 12);
    expect(bank.forecastValue(0, 1)).toBeCloseTo(0.6, 12);
  });
});

describe('dmaFromWindow', () => {
  it('forecasts from the newest 2N-1 minutes of a usage window', () => {
    const store = new WindowStore({ apps: 2 });
    const xs = [0.9, 0.9, 0.2, 0.4, 0.3, 0.5, 0.6, 0.4, 0.8]; // the first two fall outside 2N-1 = 7
    for (const x of xs) store.push(1, 'mem', x);
    const r = dmaFromWindow(store, 1, 'mem', 4, 2);
    expect(r.ok && r.value).toBeCloseTo(0.69375 + 0.11875 * (4 / 3), 6); // float32 storage
    expect(dmaFromWindow(store, 0, 'mem', 4, 2)).toEqual({ ok: false, reason: 'starting', needed: 7, have: 0 });
  });
});
