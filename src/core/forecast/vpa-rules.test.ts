/**
 * The VPA model at the edges of the recommender's rules (kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender: util/histogram_options_test.go, util/histogram.go,
 * util/decaying_histogram.go, model/container.go). Expected values come from those rules.
 */
import { describe, expect, it } from 'vitest';
import { DecayingHistogram, exponentialHistogramOptions, linearHistogramOptions, VpaRecommender } from './vpa.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const near = (x: number, want: number, rel = 0.06): void => expect(Math.abs(x - want) / want).toBeLessThanOrEqual(rel);

describe('histogram options (util/histogram_options.go)', () => {
  it('exponential: TestExponentialHistogramOptions (max 100, first bucket 10, ratio 2)', () => {
    const o = exponentialHistogramOptions(100, 10, 2, 1e-3);
    expect(o.numBuckets).toBe(5);
    expect([0, 1, 2, 3, 4].map((b) => o.bucketStart(b))).toEqual([0, 10, 30, 70, 150]);
    const find: [number, number][] = [[-1, 0], [0, 0], [9.99, 0], [10, 1], [29.99, 1], [30, 2], [69.99, 2], [70, 3], [149.99, 3], [150, 4], [1000, 4]];
    for (const [v, b] of find) expect(o.findBucket(v), `findBucket(${v})`).toBe(b);
  });

  it('linear: ceil(max / size) + 1 buckets, values clamped into them', () => {
    const o = linearHistogramOptions(10, 1, 1e-3);
    expect(o.numBuckets).toBe(11);
    const find: [number, number][] = [[-1, 0], [0.5, 0], [9.99, 9], [10, 10], [100, 10]];
    for (const [v, b] of find) expect(o.findBucket(v), `findBucket(${v})`).toBe(b);
  });
});

describe('decaying histogram percentiles (util/histogram.go Percentile)', () => {
  const linear = (eps = 1e-3, halfLife = HOUR): DecayingHistogram => new DecayingHistogram(linearHistogramOptions(10, 1, eps), halfLife);

  it('the first bucket whose cumulative weight reaches p x total; the answer is the start of the next bucket', () => {
    for (const order of [[1, 5], [5, 1]]) {
      const h = linear();
      for (const v of order) h.addSample(v, 1, 0);
      expect(h.percentile(0.5)).toBe(2); // cumulative 1 of 2 reaches 0.5 x 2 at bucket 1
      expect(h.percentile(0.9)).toBe(6);
      expect(h.percentile(0.1)).toBe(2);
    }
  });

  it('in the last bucket the answer is its own start', () => {
    const h = linear();
    h.addSample(100, 1, 0);
    expect(h.percentile(0.9)).toBe(10);
  });

  it('a bucket weight of exactly epsilon counts; below it is empty', () => {
    const h = linear(0.5);
    h.addSample(3, 0.5, 0);
    expect(h.isEmpty()).toBe(false);
    expect(h.percentile(1)).toBe(4);
    const g = linear(0.5);
    g.addSample(3, 1.5, 0);
    g.subtractSample(3, 1, 0); // 0.5 left: exactly epsilon
    expect(g.isEmpty()).toBe(false);
    expect(g.percentile(1)).toBe(4);
    g.subtractSample(3, 0.25, 0); // 0.25 < epsilon: zero
    expect(g.isEmpty()).toBe(true);
  });

  it('subtracting a sample takes the weight it was added with (decayed at its time)', () => {
    const h = linear();
    h.addSample(1, 1, 0);
    h.addSample(5, 1, HOUR); // weighs 2 against the first
    h.addSample(5, 1, HOUR);
    h.subtractSample(5, 1, HOUR);
    // weights 1 and 2: P30 -> bucket 1, P40 -> bucket 5
    expect(h.percentile(0.3)).toBe(2);
    expect(h.percentile(0.4)).toBe(6);
    h.subtractSample(5, 1, HOUR);
    expect(h.percentile(0.9)).toBe(2); // only the sample at 1 is left
    h.subtractSample(1, 1, 0);
    expect(h.isEmpty()).toBe(true);
  });

  it('moving the reference time (to avoid overflow) keeps the samples relative weights', () => {
    const h = new DecayingHistogram(linearHistogramOptions(10, 1, 1e-300), HOUR);
    h.addSample(1, 1, 0);
    // 101 half-lives later, beyond the 100 that trigger the move: weight 3 x 2^-101 weighs 3 against the first.
    h.addSample(5, 3 * 2 ** -101, 101 * HOUR);
    expect(h.percentile(0.2)).toBe(2);
    expect(h.percentile(0.3)).toBe(6);
  });
});

describe('VpaRecommender (model/container.go)', () => {
  it('a zero usage sample is valid; negative and out-of-order ones are not', () => {
    const r = new VpaRecommender();
    expect(r.addCpu(0, 0)).toBe(true);
    expect(new VpaRecommender().addMemory(0, 0)).toBe(true);
    expect(r.addMemory(DAY, 1e9)).toBe(true);
    expect(r.addMemory(DAY, 3e9)).toBe(true); // same time: in order, the interval's new peak
    expect(r.addMemory(DAY - 1, 5e9)).toBe(false); // earlier than the last
    expect(r.addMemory(DAY + 1, -1)).toBe(false);
    near(r.target()!.memory, 3e9 * 1.15);
  });

  it('memory alone gives a target (CPU at the pod minimum)', () => {
    const r = new VpaRecommender();
    r.addMemory(0, 2e9);
    expect(r.target()?.cpu).toBe(0.025);
  });

  it('later lower samples of the same interval change nothing: only its peak counts', () => {
    const r = new VpaRecommender();
    r.addMemory(0, 2e9);
    for (let i = 1; i <= 9; i++) r.addMemory(i * 60_000, 1e9);
    near(r.target()!.memory, 2e9 * 1.15);
  });

  it('an OOM counts from max(request, the interval peak)', () => {
    const r = new VpaRecommender();
    r.addMemory(0, 2e9);
    expect(r.recordOom(1, 1e9)).toBe(true); // used = the 2 GB peak: 2.4 GB
    near(r.target()!.memory, 2.4e9 * 1.15);
    expect(r.recordOom(-5 * DAY, 1e9)).toBe(false); // before the current interval (from 0) starts
  });

  it('intervals: a sample at or after the window end opens the interval holding it', () => {
    // 1 s intervals, no decay: every peak weighs 1.
    const r = new VpaRecommender({ memoryAggregationIntervalMs: 1000, memoryHalfLifeMs: 1e15 });
    r.addMemory(0, 4e9); // [0, 1000)
    r.addMemory(2500, 1e9); // [2000, 3000)
    r.addMemory(2900, 2e9); // same interval: the peak is now 2 GB
    r.addMemory(3000, 1e9); // [3000, 4000)
    // Peaks 4, 2 and 1 GB.
    near(r.memoryPeaks.percentile(0.3), 1e9);
    near(r.memoryPeaks.percentile(0.5), 2e9);
    near(r.memoryPeaks.percentile(0.9), 4e9);
  });
});
