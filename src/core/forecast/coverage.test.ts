/**
 * The forecast evaluation's coverage (evaluate.ts): the first forecaster's allocation is its
 * forecast plus the headroom from its own recent errors, as the scaling plan sets it, and
 * each minute counts as covered when the actual is at most that allocation. Worked by hand
 * on a last-value forecaster, horizon 1.
 */
import { describe, expect, it } from 'vitest';
import { LastValueForecaster } from './baselines.ts';
import { DmaForecaster } from './dma.ts';
import { CoverageSums, ScoreSums, SeriesEvaluator, type CoverageSettings } from './evaluate.ts';
import type { Forecaster } from './forecaster.ts';
import { TraceEvaluation } from './trace-evaluation.ts';
import { MINUTE_MS } from './window.ts';

// Quantile 1 (the largest error), no floor, the last 10 errors.
const settings: CoverageSettings = { headroom: 0, errorQuantile: 1, errorWindow: 10 };
// 0.2, then 0.6 for 11 minutes: the last-value forecast misses once by +0.4, then never.
const series = [0.2, ...new Array<number>(11).fill(0.6)];

describe('CoverageSums', () => {
  it('an allocation 1e-9 below the actual is a rounding error: covered, with no slack', () => {
    const c = new CoverageSums(0.9);
    c.add(0.5 - 1e-9, 0.5);
    c.add(0.7, 0.5);
    c.add(0.4, 0.5);
    const r = c.coverage();
    expect(r.points).toBe(3);
    expect(r.asked).toBe(0.9);
    expect(r.achieved).toBeCloseTo(2 / 3, 12);
    expect(r.slack).toBeCloseTo(0.2 / 3, 12);
  });

  it('merging adds the points, the covered minutes and the slack; with no points nothing is achieved', () => {
    const a = new CoverageSums(0.5);
    const b = new CoverageSums(0.5);
    a.add(0.6, 0.5);
    b.add(0.4, 0.5);
    b.add(0.8, 0.5);
    a.merge(b);
    expect(a.coverage()).toMatchObject({ points: 3, asked: 0.5 });
    expect(a.coverage().achieved).toBeCloseTo(2 / 3, 12);
    expect(a.coverage().slack).toBeCloseTo(0.4 / 3, 12);
    const none = new CoverageSums(0.5).coverage();
    expect(none.points).toBe(0);
    expect(none.achieved).toBeNaN();
    expect(none.slack).toBeNaN();
  });
});

describe('SeriesEvaluator coverage', () => {
  const run = (forecasters: Forecaster[] = [new LastValueForecaster()]) => {
    const sums = new CoverageSums(1);
    const ev = new SeriesEvaluator(forecasters, forecasters.map(() => new ScoreSums()), 1, 0, { settings, sums });
    return { ev, sums };
  };

  it('15 % of the forecast until 10 errors are known, then the largest of the last 10 errors', () => {
    const { ev, sums } = run();
    for (const x of series) ev.observe(x);
    // Minute 1: allocation 0.2 + 15 % = 0.23 < 0.6, short. Minutes 2..10: 0.6 + 15 % = 0.69, slack 0.09 each.
    // Minute 11: made at minute 10 with 10 errors known (+0.4 and nine 0s): 0.6 + 0.4 = 1.0, slack 0.4.
    const c = sums.coverage();
    expect(c.points).toBe(11);
    expect(c.achieved).toBeCloseTo(10 / 11, 12);
    expect(c.slack).toBeCloseTo((9 * 0.09 + 0.4) / 11, 12);
  });

  it('an error older than the last errorWindow is forgotten', () => {
    const { ev, sums } = run();
    for (const x of [...series, 0.6]) ev.observe(x);
    // Minute 12: made at minute 11, whose last 10 errors are all 0: the allocation is 0.6, no slack.
    const c = sums.coverage();
    expect(c.points).toBe(12);
    expect(c.slack).toBeCloseTo((9 * 0.09 + 0.4) / 12, 12);
  });

  it('minutes another forecaster had no forecast for are not counted, but their errors are known', () => {
    // The double moving average (N = 2) forecasts from its third value: minutes 1 and 2 are not scored.
    const { ev, sums } = run([new LastValueForecaster(), new DmaForecaster(2)]);
    for (const x of series) ev.observe(x);
    const c = sums.coverage();
    expect(c.points).toBe(9);
    expect(c.achieved).toBe(1);
    // Minute 11 still reads the +0.4 of minute 1.
    expect(c.slack).toBeCloseTo((8 * 0.09 + 0.4) / 9, 12);
  });

  it('after reset the errors are forgotten: 15 % again', () => {
    const { ev, sums } = run();
    for (const x of series) ev.observe(x);
    ev.reset();
    for (const x of [0.6, 0.6]) ev.observe(x);
    // One more point: made with no errors known, 0.69 against 0.6.
    const c = sums.coverage();
    expect(c.points).toBe(12);
    expect(c.slack).toBeCloseTo((10 * 0.09 + 0.4) / 12, 12);
  });
});

describe('TraceEvaluation coverage', () => {
  const cover: CoverageSettings = { headroom: 0, errorQuantile: 1, errorWindow: 10 };

  it('per metric and over every metric, from the double moving average (N = 2: first forecast after 3 minutes)', () => {
    const ev = new TraceEvaluation({ window: 2, horizon: 1, headroom: 0, coverage: cover });
    const cpu = [0.4, 0.4, 0.4, 0.4, 0.4, 0.4];
    const mem = [0.2, 0.2, 0.2, 0.2, 0.2, 0.9];
    cpu.forEach((c, m) => ev.add('a', m * MINUTE_MS, { cpu: c, mem: mem[m]! }));
    const r = ev.finish().coverage!;
    // Minutes 3, 4, 5 are scored, each with a forecast + 15 % (fewer than 10 errors known).
    // cpu: 0.46 against 0.4 each time. mem: 0.23 against 0.2, 0.2, then 0.9: short.
    expect(r.perMetric.cpu).toMatchObject({ points: 3, asked: 1, achieved: 1 });
    expect(r.perMetric.cpu.slack).toBeCloseTo(0.06, 12);
    expect(r.perMetric.mem).toMatchObject({ points: 3, asked: 1 });
    expect(r.perMetric.mem.achieved).toBeCloseTo(2 / 3, 12);
    expect(r.perMetric.mem.slack).toBeCloseTo(0.06 / 3, 12);
    expect(r.perMetric.net.points).toBe(0);
    expect(r.overall).toMatchObject({ points: 6, asked: 1 });
    expect(r.overall.achieved).toBeCloseTo(5 / 6, 12);
    expect(r.overall.slack).toBeCloseTo((0.18 + 0.06) / 6, 12);
  });

  it('without coverage settings there is no coverage', () => {
    const ev = new TraceEvaluation({ window: 2, horizon: 1, headroom: 0 });
    for (let m = 0; m < 5; m++) ev.add('a', m * MINUTE_MS, { cpu: 0.4 });
    expect('coverage' in ev.finish()).toBe(false);
  });

  it('the error quantile must be in [0, 1] and the error window an integer >= 1, each named', () => {
    const make = (c: Partial<CoverageSettings>) => () => new TraceEvaluation({ window: 2, horizon: 1, headroom: 0, coverage: { ...cover, ...c } });
    for (const q of [-0.1, 1.1, Number.NaN]) expect(make({ errorQuantile: q })).toThrow(/error quantile must be in \[0, 1\]/);
    for (const q of [0, 1]) expect(make({ errorQuantile: q })).not.toThrow();
    for (const w of [0, 1.5, Number.NaN]) expect(make({ errorWindow: w })).toThrow(/error window must be an integer >= 1/);
    expect(make({ errorWindow: 1 })).not.toThrow();
  });
});
