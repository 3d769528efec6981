/**
 * Every constructor of core/forecast refuses a value outside its documented range with an
 * error naming the parameter, and accepts the edges of that range (house rule: outside
 * input validated with a clear error naming the field).
 */
import { describe, expect, it } from 'vitest';
import { HoltForecaster, LastValueForecaster, VpaForecaster, WindowMaxForecaster, WindowMeanForecaster } from './baselines.ts';
import { DmaBank, dmaDirect } from './dma.ts';
import { ScoreSums, SeriesEvaluator } from './evaluate.ts';
import { MinuteResampler } from './resample.ts';
import { WindowStore } from './window.ts';
import { exponentialHistogramOptions } from './vpa.ts';

const sink = { minute: (): void => {}, gap: (): void => {} };

describe('forecast inputs', () => {
  it('double moving average window: an integer >= 2', () => {
    expect(() => dmaDirect([0.1, 0.2, 0.3], 1, 1)).toThrow(/double moving average window must be an integer >= 2, got 1/);
    expect(() => new DmaBank(1, 2.5)).toThrow(/got 2.5/);
    expect(dmaDirect([0.1, 0.2, 0.3], 2, 1).ok).toBe(true);
  });

  it('mean and maximum windows: a positive integer (1 is the last value)', () => {
    for (const bad of [0, -1, 1.5]) {
      expect(() => new WindowMeanForecaster(bad)).toThrow(new RegExp(`window must be a positive integer, got ${bad}`));
      expect(() => new WindowMaxForecaster(bad)).toThrow(RangeError);
    }
    const one = new WindowMeanForecaster(1);
    one.observe(0.25);
    one.observe(0.75);
    expect(one.forecast()).toEqual({ ok: true, value: 0.75 });
  });

  it('Holt alpha and beta: in (0, 1]', () => {
    expect(() => new HoltForecaster({ alpha: 0 })).toThrow(/Holt alpha must be in \(0,1\], got 0/);
    expect(() => new HoltForecaster({ alpha: 1.5 })).toThrow(/Holt alpha must be in \(0,1\], got 1.5/);
    expect(() => new HoltForecaster({ beta: 1.01 })).toThrow(/Holt beta/);
    expect(() => new HoltForecaster({ beta: Number.NaN })).toThrow(/Holt beta/);
    // alpha 1: the level is the last value; beta 1: the trend is the last step.
    const h = new HoltForecaster({ alpha: 1, beta: 1 });
    for (const x of [0.1, 0.2, 0.4]) h.observe(x);
    const r = h.forecast(1);
    expect(r.ok && r.value).toBeCloseTo(0.6, 12);
  });

  it('VPA-style forecaster: buckets a positive integer, half-life > 0, percentile in (0, 1], margin >= 0', () => {
    expect(() => new VpaForecaster({ buckets: 0 })).toThrow(/VPA buckets must be a positive integer, got 0/);
    expect(() => new VpaForecaster({ buckets: 2.5 })).toThrow(/VPA buckets/);
    expect(() => new VpaForecaster({ halfLifeMinutes: 0 })).toThrow(/VPA half-life must be > 0, got 0/);
    expect(() => new VpaForecaster({ halfLifeMinutes: Number.NaN })).toThrow(/VPA half-life/);
    expect(() => new VpaForecaster({ percentile: 0 })).toThrow(/VPA percentile must be in \(0,1\], got 0/);
    expect(() => new VpaForecaster({ percentile: 1.1 })).toThrow(/VPA percentile/);
    expect(() => new VpaForecaster({ margin: -0.1 })).toThrow(/VPA margin must be >= 0, got -0.1/);
    expect(() => new VpaForecaster({ margin: Number.NaN })).toThrow(/VPA margin/);
    // The edges are valid: one bucket, the 100th percentile, no margin.
    const v = new VpaForecaster({ buckets: 1, percentile: 1, margin: 0 });
    v.observe(0.3);
    expect(v.forecast().ok).toBe(true);
    // The default half-life is the VPA recommender's: 24 hours.
    expect(new VpaForecaster().halfLife).toBe(24 * 60);
  });

  it('exponential histogram: every parameter > 0, ratio > 1', () => {
    expect(() => exponentialHistogramOptions(0, 1, 2, 1)).toThrow(/maxValue, firstBucketSize and epsilon must be > 0, ratio > 1/);
    expect(() => exponentialHistogramOptions(100, 0, 2, 1)).toThrow(RangeError);
    expect(() => exponentialHistogramOptions(100, 10, 1, 1)).toThrow(RangeError);
    expect(() => exponentialHistogramOptions(100, 10, 2, 0)).toThrow(RangeError);
    expect(() => exponentialHistogramOptions(Number.NaN, 10, 2, 1)).toThrow(RangeError);
    expect(exponentialHistogramOptions(100, 10, 2, 1).numBuckets).toBe(5);
  });

  it('series evaluation: one ScoreSums per forecaster, horizon an integer >= 1', () => {
    expect(() => new SeriesEvaluator([new LastValueForecaster()], [], 1, 0)).toThrow(/one ScoreSums per forecaster/);
    expect(() => new SeriesEvaluator([new LastValueForecaster()], [new ScoreSums()], 0, 0)).toThrow(/horizon must be an integer >= 1, got 0/);
    expect(() => new SeriesEvaluator([new LastValueForecaster()], [new ScoreSums()], 1.5, 0)).toThrow(/horizon/);
  });

  it('resampler: step, reorder and hold limits positive whole numbers (in steps)', () => {
    expect(() => new MinuteResampler(sink, { stepMinutes: 0 })).toThrow(/stepMinutes must be a positive integer, got 0/);
    expect(() => new MinuteResampler(sink, { stepMinutes: 1.5 })).toThrow(/stepMinutes/);
    expect(() => new MinuteResampler(sink, { reorderMinutes: 0 })).toThrow(/reorderMinutes must be a positive integer, got 0/);
    expect(() => new MinuteResampler(sink, { reorderMinutes: Number.NaN })).toThrow(/reorderMinutes/);
    expect(() => new MinuteResampler(sink, { maxHoldMinutes: 0 })).toThrow(/maxHoldMinutes must be a positive integer, got 0/);
    expect(() => new MinuteResampler(sink, { maxHoldMinutes: Number.NaN })).toThrow(/maxHoldMinutes/);
    const edge = new MinuteResampler(sink, { reorderMinutes: 1, maxHoldMinutes: 1 });
    expect([edge.reorder, edge.maxHold]).toEqual([1, 1]);
    // Limits are rounded up to whole steps: 7 minutes of reordering at 5-minute steps is 2 steps.
    const steps = new MinuteResampler(sink, { stepMinutes: 5, reorderMinutes: 7, maxHoldMinutes: 60 });
    expect([steps.reorder, steps.maxHold]).toEqual([2, 12]);
  });

  it('usage windows: apps a non-negative integer, minutes a positive integer, app indexes in range', () => {
    expect(() => new WindowStore({ apps: -1 })).toThrow(/apps must be a non-negative integer, got -1/);
    expect(() => new WindowStore({ apps: 1.5 })).toThrow(/apps/);
    expect(() => new WindowStore({ apps: Number.NaN })).toThrow(/apps/);
    expect(() => new WindowStore({ apps: 1, minutes: 0 })).toThrow(/minutes must be a positive integer, got 0/);
    expect(() => new WindowStore({ apps: 1, minutes: 2.5 })).toThrow(/minutes/);
    expect(() => new WindowStore({ apps: 1, minutes: Number.NaN })).toThrow(/minutes/);
    expect(new WindowStore({ apps: 0 }).apps).toBe(0);
    const one = new WindowStore({ apps: 2, minutes: 1 });
    one.push(1, 'cpu', 0.5);
    one.push(1, 'cpu', 0.25);
    expect(one.values(1, 'cpu')).toEqual([0.25]);
    expect(() => one.length(2, 'cpu')).toThrow(/app index 2 outside 0..1/);
    expect(() => one.length(-1, 'cpu')).toThrow(/app index -1 outside 0..1/);
    expect(() => one.length(0.5, 'cpu')).toThrow(/app index 0.5/);
  });
});
