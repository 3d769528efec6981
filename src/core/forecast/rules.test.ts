/**
 * core/forecast against the rules it implements, at their edges: the double moving average's
 * definition (scaling method, step 3), the usage window's semantics (window.ts), walk-forward
 * scoring (evaluate.ts), resampling limits (resample.ts) and the baselines' definitions.
 * Expected values are worked from those definitions, not read from the code's output.
 */
import { describe, expect, it } from 'vitest';
import { LastValueForecaster } from './baselines.ts';
import { DmaBank, DmaForecaster, dmaAmount, dmaDirect, dmaErrors } from './dma.ts';
import { ScoreSums, SeriesEvaluator } from './evaluate.ts';
import { forecastSeries, type Forecaster } from './forecaster.ts';
import { FORECASTER_NAMES, standardForecasters } from './standard.ts';
import { TraceEvaluation } from './trace-evaluation.ts';
import { MINUTE_MS, UsageWindow, WindowStore } from './window.ts';

const f32 = (x: number): number => Math.fround(x);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Brown's double moving average of xs[0..end-1] from its definition: a + b*T, not clamped. */
function dmaDefinition(xs: readonly number[], n: number, T: number, end = xs.length): number {
  const m1 = (k: number): number => mean(xs.slice(k - n + 1, k + 1));
  const t = end - 1;
  const m2 = mean(Array.from({ length: n }, (_, i) => m1(t - n + 1 + i)));
  return 2 * m1(t) - m2 + (2 / (n - 1)) * (m1(t) - m2) * T;
}

/** A deterministic series in [0.1, 0.3] with many significant bits. */
const wiggle = (i: number): number => 0.1 + 0.2 * ((i * 0.618033988749895) % 1);

describe('double moving average', () => {
  it('of an amount (cores) extrapolates a linear trend beyond 1, floored at 0', () => {
    // 1, 2, ..., 7 cores, N = 4: the trend continues, T = 3 after the last -> 10 cores.
    const rising = [1, 2, 3, 4, 5, 6, 7];
    expect(dmaAmount(rising, 4, 3)).toEqual({ ok: true, value: expect.closeTo(10, 12) as number });
    const falling = [7, 6, 5, 4, 3, 2, 1];
    expect(dmaAmount(falling, 4, 3)).toEqual({ ok: true, value: 0 }); // -2 cores floored
    expect(dmaAmount(falling, 4, 1)).toEqual({ ok: true, value: expect.closeTo(0, 12) as number });
    expect(dmaAmount(rising.slice(0, 6), 4, 1).ok).toBe(false);
  });

  it("errors: each minute's value minus the forecast made T minutes before, from the definition", () => {
    const xs = Array.from({ length: 20 }, (_, i) => wiggle(i) + i * 0.01);
    for (const [n, T] of [[2, 1], [3, 2], [4, 3]] as const) {
      const want: number[] = [];
      for (let t = 0; t < xs.length; t++) {
        const k = t - T; // the forecast is made from the values up to k
        if (k < 2 * n - 2) continue;
        want.push(xs[t]! - Math.max(0, dmaDefinition(xs, n, T, k + 1)));
      }
      const got = dmaErrors(xs, n, T, xs.length);
      expect(got).toHaveLength(want.length);
      got.forEach((e, i) => expect(e).toBeCloseTo(want[i]!, 12));
      // Only the last `window` minutes.
      expect(dmaErrors(xs, n, T, 5)).toHaveLength(5);
      expect(dmaErrors(xs, n, T, 5)[4]).toBeCloseTo(want[want.length - 1]!, 12);
    }
  });

  it('forecastValue: NaN until 2N-1 values, then the forecast', () => {
    const bank = new DmaBank(1, 3);
    expect(bank.forecastValue(0, 1)).toBeNaN();
    for (const x of [0.1, 0.2, 0.3, 0.4]) bank.observe(0, x);
    expect(bank.forecastValue(0, 1)).toBeNaN(); // 4 of 5
    bank.observe(0, 0.5);
    expect(bank.forecastValue(0, 1)).toBeCloseTo(0.6, 12);
  });

  it('the bank keeps each series to its own N values once the rings wrap', () => {
    const n = 3;
    const bank = new DmaBank(2, n);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 4 * n; i++) {
      a.push(wiggle(i));
      b.push(wiggle(i + 100));
      bank.observe(0, a[i]!);
      bank.observe(1, b[i]!);
      if (i + 1 >= 2 * n - 1) {
        const fa = bank.forecast(0, 2);
        expect(fa.ok && fa.terms.m2).toBeCloseTo(dmaDirect(a, n, 2).ok ? (dmaDirect(a, n, 2) as { terms: { m2: number } }).terms.m2 : NaN, 12);
        expect(bank.forecastValue(1, 2)).toBeCloseTo(Math.min(1, Math.max(0, dmaDefinition(b, n, 2))), 12);
      }
    }
  });

  it('running sums are recomputed from the rings every 4096 values: a spike that has left the window leaves no rounding error', () => {
    // 1e12 added to and later taken from a running sum of values near 0.2 leaves an error
    // of about 1e-4 (the spacing of doubles near 1e12). The recomputation at the 4096th value
    // clears the sums; the first averages computed before it have left the ring N values later.
    const n = 4;
    const xs = Array.from({ length: 4096 + n }, (_, i) => (i >= 4000 && i < 4000 + n ? 1e12 : wiggle(i)));
    const bank = new DmaBank(2, n);
    const one = new DmaForecaster(n);
    for (const x of xs) {
      bank.observe(1, x);
      one.observe(x);
    }
    const want = dmaDefinition(xs, n, 1);
    const b = bank.forecast(1, 1);
    expect(b.ok && b.terms.a + b.terms.b).toBeCloseTo(want, 12);
    const f = one.forecast(1);
    expect(f.ok && f.value).toBeCloseTo(want, 12);
  });
});

describe('every forecaster', () => {
  const all = (): Forecaster[] => standardForecasters({ window: 3, usageMinutes: 4 });

  it('has no forecast before its first value, and says it is starting', () => {
    for (const f of all()) {
      const r = f.forecast(1);
      expect(r.ok, f.name).toBe(false);
      expect(r).toMatchObject({ reason: 'starting', have: 0 });
    }
  });

  it('after reset forecasts a new series exactly as a fresh one does', () => {
    const old = [0.9, 0.95, 1, 0.9, 0.95, 1, 0.9, 0.95];
    const next = [0.1, 0.2, 0.15, 0.3, 0.25];
    const used = all();
    const fresh = all();
    used.forEach((f, i) => {
      for (const x of old) f.observe(x);
      f.reset();
      expect(f.forecast(1).ok, `${f.name} after reset`).toBe(false);
      for (const x of next) f.observe(x);
      const g = fresh[i]!;
      for (const x of next) g.observe(x);
      const a = f.forecast(2);
      const b = g.forecast(2);
      expect(a.ok, f.name).toBe(b.ok);
      if (a.ok && b.ok) expect(a.value, f.name).toBeCloseTo(b.value, 12);
    });
  });

  it('is named as the reports name it, in the standard order', () => {
    expect(all().map((f) => f.name)).toEqual([...FORECASTER_NAMES]);
    expect(FORECASTER_NAMES).toEqual(['dma', 'last', 'mean', 'max', 'holt', 'vpa']);
  });

  it('the mean and maximum baselines use the usage window given', () => {
    const [, , meanF, maxF] = standardForecasters({ window: 3, usageMinutes: 2 });
    for (const x of [0.9, 0.1, 0.3]) {
      meanF!.observe(x);
      maxF!.observe(x);
    }
    expect(meanF!.forecast(1)).toEqual({ ok: true, value: expect.closeTo(0.2, 12) as number });
    expect(maxF!.forecast(1)).toEqual({ ok: true, value: 0.3 });
  });

  it('Holt forecasts from its second value: l = x1, b = x1 - x0', () => {
    const h = standardForecasters({ window: 3 })[4]!;
    h.observe(0.2);
    h.observe(0.3);
    expect(h.forecast(2)).toEqual({ ok: true, value: expect.closeTo(0.5, 12) as number });
  });

  it('the window mean is recomputed every 64 windows: a spike that has left leaves no rounding error', () => {
    const meanF = standardForecasters({ window: 3, usageMinutes: 3 })[2]!;
    const xs = Array.from({ length: 192 }, (_, i) => (i === 150 ? 1e12 : wiggle(i)));
    const r = forecastSeries(meanF, xs, 1);
    expect(r.ok && r.value).toBeCloseTo(mean(xs.slice(-3)), 12);
  });

  it('VPA-style: a saturated series reads the start of the last bucket (the VPA histogram: the last bucket returns its own start)', () => {
    const v = standardForecasters({ window: 3 })[5]!;
    expect(v.name).toBe('vpa');
    const bare = new (v.constructor as new (o: object) => Forecaster)({ margin: 0 });
    for (let i = 0; i < 10; i++) bare.observe(1);
    expect(bare.forecast(1)).toEqual({ ok: true, value: expect.closeTo(0.99, 12) as number });
  });
});

describe('usage window edges', () => {
  it('0 is a valid value, exactly 1 is not clamped, above 1 is recorded as 1', () => {
    const w = new UsageWindow(5);
    expect(w.record(0, 0)).toBe('recorded');
    expect(w.record(MINUTE_MS, 1)).toBe('recorded');
    expect(w.record(2 * MINUTE_MS, 1.5)).toBe('clamped');
    expect(w.record(2 * MINUTE_MS + 1, -0.5)).toBe('invalid');
    expect(w.record(2 * MINUTE_MS + 2, Number.POSITIVE_INFINITY)).toBe('invalid');
    w.close(3 * MINUTE_MS);
    expect(w.values()).toEqual([0, 1, 1]);
    expect(w.push(1)).toBe('recorded');
    expect(w.push(2)).toBe('clamped');
  });

  it('a late sample for the newest closed minute raises it; a lower one changes nothing', () => {
    const w = new UsageWindow(5);
    w.record(0, 0.2);
    w.close(MINUTE_MS);
    expect(w.record(30_000, 0.6)).toBe('recorded');
    expect(w.length).toBe(1);
    expect(w.last()).toBe(f32(0.6));
    expect(w.record(40_000, 0.1)).toBe('recorded');
    expect(w.last()).toBe(f32(0.6));
    w.close(3 * MINUTE_MS);
    expect(w.values()).toEqual([0.6, 0.6, 0.6].map(f32));
  });

  it('a minute is closed only once it has ended; close(NaN) closes nothing', () => {
    const w = new UsageWindow(5);
    w.record(2 * MINUTE_MS + 5, 0.4);
    w.close(2 * MINUTE_MS + 30_000);
    w.close(Number.NaN);
    expect(w.length).toBe(0);
    expect(w.openMinute).toBe(2);
    w.close(3 * MINUTE_MS);
    expect(w.length).toBe(1);
  });

  it('push closes an open minute first and numbers its minutes after it', () => {
    const w = new UsageWindow(5);
    w.record(0, 0.3);
    w.push(0.5); // minute 1
    w.push(0.6); // minute 2
    expect(w.values()).toEqual([0.3, 0.5, 0.6].map(f32));
    w.record(3 * MINUTE_MS, 0.7); // the next minute: no gap to hold
    w.close(4 * MINUTE_MS);
    expect(w.values()).toEqual([0.3, 0.5, 0.6, 0.7].map(f32));
  });

  it('a gap of exactly the window starts over; one minute less is held', () => {
    const held = new UsageWindow(3);
    held.push(0.5); // minute 0
    held.record(3 * MINUTE_MS, 0.7); // minutes 1, 2 empty: 2 < 3
    held.close(4 * MINUTE_MS);
    expect(held.values()).toEqual([0.5, 0.5, 0.7].map(f32));
    const over = new UsageWindow(3);
    over.push(0.5);
    over.record(4 * MINUTE_MS, 0.7); // minutes 1, 2, 3 empty: as long as the window
    over.close(5 * MINUTE_MS);
    expect(over.values()).toEqual([f32(0.7)]);
    expect(over.max()).toBe(f32(0.7)); // the minutes before the gap are forgotten
    expect(over.mean()).toBe(f32(0.7));
  });

  it('after starting over on a minute tick, the next sample is for a new minute', () => {
    const w = new UsageWindow(3);
    w.record(0, 0.9);
    w.close(10 * MINUTE_MS); // minutes 1..9 empty: nothing recent is known
    expect(w.length).toBe(0);
    expect(w.record(10 * MINUTE_MS, 0.2)).toBe('recorded');
    w.close(11 * MINUTE_MS);
    expect(w.values()).toEqual([f32(0.2)]);
  });

  it('a minute tick on a series with no sample yet does not make its first sample stale', () => {
    const s = new WindowStore({ apps: 1 });
    s.closeAll(10 * MINUTE_MS);
    expect(s.record(0, 'cpu', 5 * MINUTE_MS, 0.4)).toBe('recorded');
  });

  it('at(age): 0 the newest, NaN past the held minutes; max, mean and copy over what is held', () => {
    const w = new UsageWindow(4);
    expect(w.minutes).toBe(4);
    expect(w.max()).toBeNaN();
    expect(w.mean()).toBeNaN();
    for (const x of [0.25, 0.75, 0.5]) w.push(x);
    expect([w.at(0), w.at(1), w.at(2)]).toEqual([0.5, 0.75, 0.25]);
    expect(w.at(3)).toBeNaN();
    expect(w.at(-1)).toBeNaN();
    expect(w.max()).toBe(0.75);
    expect(w.mean()).toBe(0.5);
    const out = [0, 0];
    expect(w.copy(out)).toBe(2);
    expect(out).toEqual([0.75, 0.5]);
  });

  it('series next to each other keep apart once their rings wrap', () => {
    const s = new WindowStore({ apps: 2, minutes: 2 });
    for (let i = 1; i <= 5; i++) {
      s.push(0, 'cpu', i / 10);
      s.push(0, 'mem', i / 100);
      s.push(1, 'cpu', i / 1000);
    }
    expect(s.values(0, 'cpu')).toEqual([0.4, 0.5].map(f32));
    expect(s.values(0, 'mem')).toEqual([0.04, 0.05].map(f32));
    expect(s.values(1, 'cpu')).toEqual([0.004, 0.005].map(f32));
  });
});

describe('walk-forward scoring', () => {
  it('a forecast exactly 1e-9 below the actual is a rounding error: not under, no shortage', () => {
    const s = new ScoreSums();
    s.add(0.5 - 1e-9, 0.5, 0);
    expect(s.scores()).toMatchObject({ under: 0, shortage: 0 });
  });

  it('merging adds every sum', () => {
    const a = new ScoreSums();
    const b = new ScoreSums();
    a.add(0.5, 0.2, 0); // error 0.3, slack 0.3
    b.add(0.1, 0.4, 1); // error -0.3, allocation 0.2: shortage
    b.add(0.6, 0.4, 0); // error 0.2, slack 0.2
    a.merge(b);
    const s = a.scores();
    expect(s.points).toBe(3);
    expect(s.mae).toBeCloseTo(0.8 / 3, 12);
    expect(s.rmse).toBeCloseTo(Math.sqrt((0.09 + 0.09 + 0.04) / 3), 12);
    expect(s.slack).toBeCloseTo(0.5 / 3, 12);
    expect(s.shortage).toBeCloseTo(1 / 3, 12);
  });

  it('each forecast is scored against the value `horizon` minutes later, per forecaster', () => {
    // Two forecasters, horizon 3: last value, and a constant 0.
    const zero: Forecaster = { name: 'zero', observe: () => {}, forecast: () => ({ ok: true, value: 0 }), reset: () => {} };
    const sums = [new ScoreSums(), new ScoreSums()];
    const ev = new SeriesEvaluator([new LastValueForecaster(), zero], sums, 3, 0);
    const xs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    for (const x of xs) ev.observe(x);
    // Scored minutes 3, 4, 5 with forecasts from minutes 0, 1, 2: last-value errors 0.3 each.
    expect(sums[0]!.points).toBe(3);
    expect(sums[0]!.scores().mae).toBeCloseTo(0.3, 12);
    expect(sums[1]!.scores().mae).toBeCloseTo((0.4 + 0.5 + 0.6) / 3, 12);
  });

  it('a minute is not scored when a later forecaster has no forecast for it', () => {
    const sums = [new ScoreSums(), new ScoreSums()];
    const ev = new SeriesEvaluator([new LastValueForecaster(), new DmaForecaster(3)], sums, 1, 0);
    for (let i = 0; i < 10; i++) ev.observe(wiggle(i));
    // DMA (N = 3) forecasts from the 5th minute (index 4): minutes 5..9 are scored.
    expect(sums[0]!.points).toBe(5);
    expect(sums[1]!.points).toBe(5);
  });
});

describe('trace evaluation options', () => {
  it('maxHoldMinutes and stepMinutes reach the resampler', () => {
    const hold = new TraceEvaluation({ window: 2, horizon: 1, headroom: 0, maxHoldMinutes: 5 });
    hold.add('a', 0, { cpu: 0.5 });
    hold.add('a', 10 * MINUTE_MS, { cpu: 0.5 }); // 9 empty minutes >= 5: a gap
    expect(hold.finish().series[0]).toMatchObject({ gaps: 1, samples: 2 });
    const step = new TraceEvaluation({ window: 2, horizon: 1, headroom: 0, stepMinutes: 5 });
    for (let m = 0; m < 30; m += 5) step.add('a', m * MINUTE_MS, { cpu: 0.5 });
    expect(step.finish().series[0]).toMatchObject({ gaps: 0, samples: 6 });
  });
});
