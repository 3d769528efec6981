/**
 * The VPA model where its rules have an edge no other test reaches (kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender). Expected values are worked by hand from the
 * recommender's rules: util/histogram_options.go's bucket count, util/histogram.go's
 * min/max bucket bookkeeping, model/container.go's aggregation windows, OOM bump and
 * RecordOOM's age limit.
 */
import { describe, expect, it } from 'vitest';
import { DecayingHistogram, exponentialHistogramOptions, linearHistogramOptions, oomBump, VpaRecommender, vpaCpuHistogramOptions, vpaMemoryHistogramOptions } from './vpa.ts';

const MB = 2 ** 20;
const DAY = 24 * 3_600_000;
/** Linear buckets of 1 over [0, 10], epsilon 0.5, half-life 1 h. */
const hist = (): DecayingHistogram => new DecayingHistogram(linearHistogramOptions(10, 1, 0.5), 3_600_000);

describe('exponential buckets: numBuckets = ceil(log_ratio(maxValue x (ratio - 1) / firstBucketSize + 1)) + 1', () => {
  it("the VPA's CPU and memory options: 176 buckets, the last one above maxValue", () => {
    // CPU: log_1.05(1000 x 0.05 / 0.01 + 1) = ln 5001 / ln 1.05 = 8.5174 / 0.048790 = 174.57 -> 175, + 1.
    // Memory: 1e12 x 0.05 / 1e7 + 1 = 5001 as well.
    const cpu = vpaCpuHistogramOptions();
    expect(cpu.numBuckets).toBe(176);
    expect(vpaMemoryHistogramOptions().numBuckets).toBe(176);
    // Bucket 174 starts at 0.01 x (1.05^174 - 1) / 0.05 = 972.5 cores, bucket 175 at 1021.1.
    expect(cpu.findBucket(1000)).toBe(174);
    expect(cpu.findBucket(1e6)).toBe(175);
    expect(cpu.bucketStart(175)).toBeCloseTo(1021.1, 0);
  });

  it('a maxValue just past a power of the ratio gets a bucket of its own: max 80, first 10, ratio 2 -> 5 buckets', () => {
    // log_2(80 x 1 / 10 + 1) = log_2 9 = 3.17 -> 4, + 1 = 5; buckets start 0, 10, 30, 70, 150.
    const o = exponentialHistogramOptions(80, 10, 2, 1e-3);
    expect(o.numBuckets).toBe(5);
    expect(o.findBucket(80)).toBe(3);
    expect(o.findBucket(150)).toBe(4);
    expect(o.findBucket(1e9)).toBe(4);
  });
});

describe('min and max buckets (util/histogram.go AddSample: only a bucket reaching epsilon widens them)', () => {
  it('a sample lighter than epsilon below the others does not become the minimum bucket', () => {
    const h = hist();
    h.addSample(5, 1, 0);
    h.addSample(2, 0.1, 0); // bucket 2 holds 0.1 < epsilon 0.5
    expect(h.isEmpty()).toBe(false); // emptiness is read at the minimum bucket: still bucket 5
    expect(h.percentile(0.5)).toBe(6);
  });

  it('a sample lighter than epsilon above the others does not become the maximum bucket', () => {
    const h = hist();
    h.addSample(2, 1, 0);
    h.addSample(7, 0.1, 0);
    // The percentile walk stops at the maximum bucket (2): P100 of weight 1.1 answers bucket 2's end.
    expect(h.percentile(1)).toBe(3);
    const g = hist();
    g.addSample(2, 1, 0);
    g.addSample(7, 0.5, 0); // exactly epsilon: bucket 7 is the maximum
    expect(g.percentile(1)).toBe(8);
  });
});

describe('subtracting (util/histogram.go SubtractSample: safeSubtract on the total and on the bucket)', () => {
  it('a bucket left below epsilon is zeroed, while the total keeps its own remainder', () => {
    const h = hist();
    h.addSample(1, 1, 0);
    h.addSample(3, 1, 0);
    h.addSample(5, 1, 0);
    h.subtractSample(3, 0.9, 0); // bucket 3: 0.1 < epsilon -> 0; total 3 - 0.9 = 2.1
    // P50: threshold 1.05; bucket 1 gives 1, bucket 3 nothing, so the walk ends at the maximum bucket, 5.
    expect(h.percentile(0.5)).toBe(6);
    // P100: the threshold 2.1 is never reached; the walk still ends at the maximum bucket.
    expect(h.percentile(1)).toBe(6);
  });

  it('the maximum bucket steps down past buckets zeroed by a subtraction', () => {
    const h = hist();
    h.addSample(2, 1, 0);
    h.addSample(7, 1, 0);
    h.subtractSample(7, 0.9, 0); // bucket 7 zeroed; total 1.1
    // P100: threshold 1.1 is above the weight left (1), so the walk runs to the maximum bucket: now 2.
    expect(h.percentile(1)).toBe(3);
    const g = hist();
    g.addSample(2, 1, 0);
    g.addSample(7, 1, 0);
    g.subtractSample(7, 0.5, 0); // exactly epsilon left: bucket 7 still counts
    expect(g.percentile(1)).toBe(8);
  });

  it('the minimum bucket steps up past them', () => {
    const h = hist();
    h.addSample(2, 1, 0);
    h.addSample(7, 1, 0);
    h.subtractSample(2, 0.9, 0);
    expect(h.isEmpty()).toBe(false);
    expect(h.percentile(0.5)).toBe(8);
  });
});

describe('moving the reference time (decaying_histogram.go shiftReferenceTimestamp, histogram.go scale)', () => {
  it('buckets whose samples fall below epsilon when rescaled no longer count: the histogram is not read as empty', () => {
    const h = new DecayingHistogram(linearHistogramOptions(10, 1, 1e-3), 3_600_000);
    h.addSample(1, 1, 0);
    // 101 half-lives later the reference moves to 101 h: the first sample weighs 2^-101, below epsilon.
    h.addSample(5, 1, 101 * 3_600_000);
    expect(h.isEmpty()).toBe(false);
    expect(h.percentile(0.5)).toBe(6);
    expect(h.percentile(0.01)).toBe(6);
  });

  it('the reference moves only after 100 half-lives: before, an old sample keeps its weight against the new', () => {
    const H = 3_600_000;
    const h = new DecayingHistogram(linearHistogramOptions(10, 1, 1e-3), H);
    h.addSample(1, 1, 0);
    h.addSample(5, 1, 10 * H); // weighs 2^10 against the first, which still weighs 1 >= epsilon
    expect(h.percentile(0.0005)).toBe(2); // threshold 0.0005 x 1025 = 0.51: reached in bucket 1
    const g = new DecayingHistogram(linearHistogramOptions(10, 1, 1e-3), H);
    g.addSample(1, 1, 0);
    g.addSample(5, 1, 100 * H); // exactly 100 half-lives: no move yet; the first weighs 1 against 2^100
    expect(g.percentile(1e-31)).toBe(2); // threshold 1e-31 x (1 + 2^100) = 0.13
  });

  it("the VPA's CPU target after 101 days of samples reads the recent ones", () => {
    // Half-life 24 h: at day 101 the reference moves and the samples of day 0 (0.1 core) weigh 0.1 x 2^-101.
    const r = new VpaRecommender();
    r.addCpu(0, 0.1);
    r.addCpu(101 * DAY, 1);
    const cpu = r.target()!.cpu;
    expect(cpu).toBeGreaterThanOrEqual(1 * 1.15);
    expect(cpu).toBeLessThan(1.06 * 1.15);
  });
});

describe('VpaRecommender memory intervals (model/container.go addMemorySample)', () => {
  it('a sample past the window end shifts it by whole intervals: the end is the next interval boundary after the sample', () => {
    // 1 s intervals, no decay: every peak weighs 1. The first sample at 0 opens [0, 1000).
    const r = new VpaRecommender({ memoryAggregationIntervalMs: 1000, memoryHalfLifeMs: 1e15 });
    r.addMemory(0, 4e9);
    r.addMemory(2500, 1e9); // 1.5 intervals past the end: shift 1000 + 1000, window [2000, 3000)
    r.addMemory(2900, 2e9); // same window: its peak becomes 2 GB
    r.addMemory(3500, 1e9); // window [3000, 4000)
    // Peaks 4, 2 and 1 GB (three peaks, one each): the median is 2 GB.
    const p50 = r.memoryPeaks.percentile(0.5);
    expect(p50).toBeGreaterThanOrEqual(2e9);
    expect(p50).toBeLessThan(2e9 * 1.06);
    const p30 = r.memoryPeaks.percentile(0.3);
    expect(p30).toBeGreaterThanOrEqual(1e9);
    expect(p30).toBeLessThan(1e9 * 1.06);
  });
});

describe('memory peaks (model/container.go addMemorySample: a zero peak is not replaced within its interval)', () => {
  it('after a zero sample, a higher one in the same interval adds no peak; the next interval does', () => {
    const r = new VpaRecommender({ memoryAggregationIntervalMs: 1000, memoryHalfLifeMs: 1e15 });
    r.addMemory(0, 0);
    r.addMemory(500, 2e9);
    expect(r.memoryPeaks.percentile(1)).toBe(vpaMemoryHistogramOptions().bucketStart(1)); // the one peak is 0
    r.addMemory(1000, 2e9);
    expect(r.memoryPeaks.percentile(1)).toBeGreaterThanOrEqual(2e9);
  });
});

describe('OOM (model/container.go RecordOOM and the OOM bump)', () => {
  it('the bump is max(used + 100 MiB, used x 1.2): the 100 MiB minimum wins below 500 MiB', () => {
    expect(oomBump(300 * MB)).toBe(400 * MB);
    expect(oomBump(500 * MB)).toBe(600 * MB);
    expect(oomBump(1000 * MB)).toBe(1200 * MB);
    expect(oomBump(300, { oomBumpUpRatio: 2, oomMinBumpUpBytes: 50 })).toBe(600);
  });

  it('an OOM before the current interval starts is dropped; one at its start counts', () => {
    const r = new VpaRecommender({ memoryHalfLifeMs: 1e15 });
    r.addMemory(0, 1e9); // window [0, DAY)
    r.addMemory(DAY + 1000, 1e9); // window [DAY, 2 DAY)
    expect(r.recordOom(DAY - 1, 1e9)).toBe(false); // in the previous interval, though within a day of the last sample
    expect(r.recordOom(DAY, 1e9)).toBe(true); // the current interval's first millisecond
    // The current interval's peak is now the OOM's 1.2 GB: peaks 1 GB and 1.2 GB.
    const p90 = r.memoryPeaks.percentile(0.9);
    expect(p90).toBeGreaterThanOrEqual(1.2e9);
    expect(p90).toBeLessThan(1.2e9 * 1.06);
  });

  it('an OOM before any memory sample counts', () => {
    const r = new VpaRecommender();
    expect(r.recordOom(-5 * DAY, 1000 * MB)).toBe(true);
    expect(r.target()!.memory).toBeGreaterThanOrEqual(1200 * MB * 1.15);
  });
});
