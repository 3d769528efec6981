/** The VPA model against the VPA's own worked numbers (its Go tests), so the baseline is the VPA's. */
import { describe, expect, it } from 'vitest';
import { DecayingHistogram, linearHistogramOptions, VpaRecommender, vpaCpuHistogramOptions, vpaMemoryHistogramOptions } from './vpa.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MB = 2 ** 20;
const near = (x: number, want: number, rel = 0.05): void => expect(Math.abs(x - want) / want).toBeLessThanOrEqual(rel);

describe('VPA histograms', () => {
  it('decays: four samples one half-life apart (util/decaying_histogram_test.go TestDecayingHistogramPercentiles)', () => {
    const h = new DecayingHistogram(linearHistogramOptions(10, 1, 1e-15), HOUR);
    for (let i = 1; i <= 4; i++) h.addSample(i, i, (i - 1) * HOUR);
    const want: [number, number][] = [[0, 2], [0.02, 2], [0.03, 3], [0.1, 3], [0.11, 4], [0.34, 4], [0.35, 5], [1, 5]];
    for (const [p, v] of want) near(h.percentile(p), v, 1e-6);
  });

  it('exponential buckets: the percentile estimator of logic/estimator_test.go (1, 2, 3 cores: P20 ~ 1 core; 1, 2, 3 GB: P50 ~ 2 GB)', () => {
    const cpu = new DecayingHistogram(vpaCpuHistogramOptions(), DAY);
    for (const v of [1, 2, 3]) cpu.addSample(v, 1, 0);
    near(cpu.percentile(0.2), 1);
    const mem = new DecayingHistogram(vpaMemoryHistogramOptions(), DAY);
    for (const v of [1e9, 2e9, 3e9]) mem.addSample(v, 1, 0);
    near(mem.percentile(0.5), 2e9);
    // Buckets grow by 5 %: the first is 0.01 core wide, and a value reads back at most one bucket up.
    const o = vpaCpuHistogramOptions();
    expect(o.bucketStart(1)).toBeCloseTo(0.01, 12);
    expect(o.bucketStart(2) - o.bucketStart(1)).toBeCloseTo(0.0105, 12);
  });

  it('subtracting the only sample empties the histogram', () => {
    const h = new DecayingHistogram(vpaMemoryHistogramOptions(), DAY);
    h.addSample(5e8, 1, 0);
    h.subtractSample(5e8, 1, 0);
    expect(h.isEmpty()).toBe(true);
    expect(h.percentile(0.9)).toBe(0);
  });
});

describe('VpaRecommender', () => {
  it('target = P90 + 15 % of CPU samples, and memory from per-interval peaks', () => {
    const r = new VpaRecommender();
    // 100 CPU samples: 10 at 4 cores (the oldest, so they weigh a little less), 90 at 1 core -> P90 is in the 1-core bucket.
    for (let i = 0; i < 100; i++) r.addCpu(i * 60_000, i < 10 ? 4 : 1);
    // Memory: within one 24 h interval only the peak counts (2 GB), whatever came before it.
    r.addMemory(0, 1e9);
    r.addMemory(60_000, 2e9);
    r.addMemory(120_000, 1.5e9);
    const t = r.target()!;
    near(t.cpu, 1 * 1.15);
    expect(t.cpu).toBeGreaterThanOrEqual(1.15);
    near(t.memory, 2e9 * 1.15);
    expect(t.memory).toBeGreaterThanOrEqual(2e9 * 1.15);
  });

  it('a new interval adds a new peak; P90 over daily peaks', () => {
    const r = new VpaRecommender();
    r.addCpu(0, 0.1);
    for (let d = 0; d < 10; d++) r.addMemory(d * DAY + 1, d === 9 ? 8e9 : 1e9);
    // 10 peaks, the newest weighs most (half-life 24 h): 8 GB holds more than 10 % of the weight.
    near(r.target()!.memory, 8e9 * 1.15);
  });

  it('OOM bump: max(used + 100 MiB, used x 1.2) (model/container_test.go TestRecordOOM*)', () => {
    const a = new VpaRecommender();
    a.addCpu(0, 0.1);
    expect(a.recordOom(0, 1000 * MB)).toBe(true);
    near(a.target()!.memory, 1200 * MB * 1.15);
    const b = new VpaRecommender();
    b.addCpu(0, 0.1);
    b.recordOom(0, 1 * MB);
    // 101 MiB x 1.15 is below the 250 MiB pod minimum.
    expect(b.target()!.memory).toBe(250 * MB);
    // A smaller OOM in the same interval does not lower it; a larger one raises it.
    a.recordOom(0, 999 * MB);
    near(a.target()!.memory, 1200 * MB * 1.15);
    a.recordOom(0, 2000 * MB);
    near(a.target()!.memory, 2400 * MB * 1.15);
  });

  it('minimums: 25 millicores and 250 MiB per pod; out-of-order and negative samples dropped', () => {
    const r = new VpaRecommender();
    expect(r.target()).toBeUndefined();
    expect(r.addCpu(60_000, 0.001)).toBe(true);
    expect(r.addCpu(60_000, 5)).toBe(false);
    expect(r.addCpu(120_000, -1)).toBe(false);
    r.addMemory(0, 1e6);
    expect(r.target()).toEqual({ cpu: 0.025, memory: 250 * MB });
  });
});
