/**
 * The VPA recommender's model (kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender),
 * the baseline every claim about polyarch's scaling is measured against. Written after
 * `util/histogram.go`, `util/decaying_histogram.go`, `util/histogram_options.go`,
 * `model/container.go`, `model/aggregate_container_state.go`, `model/aggregations_config.go`,
 * `logic/estimator.go`, `logic/recommender.go` and `config/config.go`, with their defaults:
 *
 * - CPU: every usage sample (cores) goes into a decaying histogram (half-life 24 h) with
 *   weight 0.1; exponential buckets, the first 0.01 core wide, each 5 % wider, up to 1000 cores.
 * - Memory: one sample per 24 h aggregation interval, the interval's peak (a higher sample
 *   in the same interval replaces the previous peak), into a decaying histogram (half-life
 *   24 h; buckets from 10 MB, 5 % growth, up to 1 TB).
 * - OOM: the interval's sample becomes max(used + 100 MiB, used x 1.2), used being
 *   max(the memory request, the interval's peak).
 * - Target: the histogram's P90 (the start of the bucket after the one holding it), + 15 %
 *   safety margin, at least 25 millicores and 250 MiB per pod.
 *
 * Time is a parameter (ms), never read. No headroom is added on top: that is the VPA.
 */

export interface HistogramOptions {
  readonly numBuckets: number;
  findBucket(value: number): number;
  bucketStart(bucket: number): number;
  readonly epsilon: number;
}

export function linearHistogramOptions(maxValue: number, bucketSize: number, epsilon: number): HistogramOptions {
  const numBuckets = Math.ceil(maxValue / bucketSize) + 1;
  return {
    numBuckets,
    epsilon,
    findBucket: (v) => Math.min(numBuckets - 1, Math.max(0, Math.floor(v / bucketSize))),
    bucketStart: (b) => b * bucketSize,
  };
}

export function exponentialHistogramOptions(maxValue: number, firstBucketSize: number, ratio: number, epsilon: number): HistogramOptions {
  if (!(maxValue > 0 && firstBucketSize > 0 && ratio > 1 && epsilon > 0)) throw new RangeError('maxValue, firstBucketSize and epsilon must be > 0, ratio > 1');
  const log = (x: number): number => Math.log(x) / Math.log(ratio);
  const numBuckets = Math.ceil(log((maxValue * (ratio - 1)) / firstBucketSize + 1)) + 1;
  return {
    numBuckets,
    epsilon,
    findBucket: (v) => (v < firstBucketSize ? 0 : Math.min(numBuckets - 1, Math.floor(log((v * (ratio - 1)) / firstBucketSize + 1)))),
    bucketStart: (b) => (b === 0 ? 0 : (firstBucketSize * (ratio ** b - 1)) / (ratio - 1)),
  };
}

const MIN_SAMPLE_WEIGHT = 0.1;
const EPSILON = 0.001 * MIN_SAMPLE_WEIGHT;
const MAX_DECAY_EXPONENT = 100;
const HOUR = 3_600_000;

/** util/decaying_histogram.go: a sample's weight grows 2x per half-life after a reference time. */
export class DecayingHistogram {
  private readonly weights: Float64Array;
  private total = 0;
  private minBucket: number;
  private maxBucket = 0;
  private referenceMs = 0;

  constructor(readonly options: HistogramOptions, readonly halfLifeMs: number) {
    this.weights = new Float64Array(options.numBuckets);
    this.minBucket = options.numBuckets - 1;
  }

  isEmpty(): boolean {
    return this.weights[this.minBucket]! < this.options.epsilon;
  }

  addSample(value: number, weight: number, ms: number): void {
    const w = weight * this.decayFactor(ms);
    const b = this.options.findBucket(value);
    this.weights[b] = this.weights[b]! + w;
    this.total += w;
    if (b < this.minBucket && this.weights[b]! >= this.options.epsilon) this.minBucket = b;
    if (b > this.maxBucket && this.weights[b]! >= this.options.epsilon) this.maxBucket = b;
  }

  subtractSample(value: number, weight: number, ms: number): void {
    const w = weight * this.decayFactor(ms);
    const b = this.options.findBucket(value);
    const eps = this.options.epsilon;
    const sub = (x: number): number => (x - w < eps ? 0 : x - w);
    this.total = sub(this.total);
    this.weights[b] = sub(this.weights[b]!);
    this.updateMinAndMaxBucket();
  }

  /** After weights went down: the min and max buckets step past buckets now below epsilon (histogram.go). */
  private updateMinAndMaxBucket(): void {
    const eps = this.options.epsilon;
    const last = this.options.numBuckets - 1;
    while (this.weights[this.minBucket]! < eps && this.minBucket < last) this.minBucket++;
    while (this.weights[this.maxBucket]! < eps && this.maxBucket > 0) this.maxBucket--;
  }

  /** The start of the bucket after the one where the cumulative weight reaches the percentile. */
  percentile(p: number): number {
    if (this.isEmpty()) return 0;
    const threshold = p * this.total;
    let sum = 0;
    let b = this.minBucket;
    for (; b < this.maxBucket; b++) {
      sum += this.weights[b]!;
      if (sum >= threshold) break;
    }
    return b < this.options.numBuckets - 1 ? this.options.bucketStart(b + 1) : this.options.bucketStart(b);
  }

  private decayFactor(ms: number): number {
    if (ms > this.referenceMs + this.halfLifeMs * MAX_DECAY_EXPONENT) this.shiftReference(ms);
    return 2 ** ((ms - this.referenceMs) / this.halfLifeMs);
  }

  private shiftReference(ms: number): void {
    const next = Math.round(ms / this.halfLifeMs) * this.halfLifeMs;
    const scale = 2 ** Math.floor((this.referenceMs - next) / this.halfLifeMs + 0.5);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = this.weights[i]! * scale;
    this.total *= scale;
    this.referenceMs = next;
    // Old samples may now weigh less than epsilon (histogram.go's scale does the same).
    this.updateMinAndMaxBucket();
  }
}

export interface VpaConfig {
  readonly targetCpuPercentile: number;
  readonly targetMemoryPercentile: number;
  readonly safetyMarginFraction: number;
  readonly podMinCpuMillicores: number;
  readonly podMinMemoryMb: number;
  readonly memoryAggregationIntervalMs: number;
  readonly cpuHalfLifeMs: number;
  readonly memoryHalfLifeMs: number;
  readonly oomBumpUpRatio: number;
  readonly oomMinBumpUpBytes: number;
}

/** config/config.go and model/aggregations_config.go defaults. */
export const VPA_DEFAULTS: VpaConfig = {
  targetCpuPercentile: 0.9,
  targetMemoryPercentile: 0.9,
  safetyMarginFraction: 0.15,
  podMinCpuMillicores: 25,
  podMinMemoryMb: 250,
  memoryAggregationIntervalMs: 24 * HOUR,
  cpuHalfLifeMs: 24 * HOUR,
  memoryHalfLifeMs: 24 * HOUR,
  oomBumpUpRatio: 1.2,
  oomMinBumpUpBytes: 100 * 2 ** 20,
};

export const vpaCpuHistogramOptions = (): HistogramOptions => exponentialHistogramOptions(1000, 0.01, 1.05, EPSILON);
export const vpaMemoryHistogramOptions = (): HistogramOptions => exponentialHistogramOptions(1e12, 1e7, 1.05, EPSILON);

/** One workload's aggregate state (model/container.go + aggregate_container_state.go) and its target. */
/** The memory an OOM-killed container is deemed to need: max(used + 100 MiB, used x 1.2) (VPA's OOM bump). */
export const oomBump = (usedBytes: number, c: Pick<VpaConfig, 'oomBumpUpRatio' | 'oomMinBumpUpBytes'> = VPA_DEFAULTS): number => Math.max(usedBytes + c.oomMinBumpUpBytes, usedBytes * c.oomBumpUpRatio);

export class VpaRecommender {
  readonly cpu: DecayingHistogram;
  readonly memoryPeaks: DecayingHistogram;
  private readonly c: VpaConfig;
  private lastCpuMs = -Infinity;
  private lastMemMs = -Infinity;
  private windowEnd: number | undefined;
  private memoryPeak = 0;
  private oomPeak = 0;

  constructor(config: Partial<VpaConfig> = {}) {
    this.c = { ...VPA_DEFAULTS, ...config };
    this.cpu = new DecayingHistogram(vpaCpuHistogramOptions(), this.c.cpuHalfLifeMs);
    this.memoryPeaks = new DecayingHistogram(vpaMemoryHistogramOptions(), this.c.memoryHalfLifeMs);
  }

  /** A CPU usage sample (cores) measured from `ms`; out-of-order or negative samples are dropped. */
  addCpu(ms: number, cores: number): boolean {
    if (!(cores >= 0) || ms <= this.lastCpuMs) return false;
    this.cpu.addSample(cores, MIN_SAMPLE_WEIGHT, ms);
    this.lastCpuMs = ms;
    return true;
  }

  /** A memory usage sample (bytes): kept only as its aggregation interval's peak. */
  addMemory(ms: number, bytes: number, oom = false): boolean {
    if (!(bytes >= 0) || (!oom && ms < this.lastMemMs)) return false;
    this.lastMemMs = ms;
    this.windowEnd ??= ms;
    const interval = this.c.memoryAggregationIntervalMs;
    let addNewPeak = false;
    if (ms < this.windowEnd) {
      const old = Math.max(this.memoryPeak, this.oomPeak);
      if (old !== 0 && bytes > old) {
        this.memoryPeaks.subtractSample(old, 1, this.windowEnd);
        addNewPeak = true;
      }
    } else {
      this.windowEnd += Math.floor((ms - this.windowEnd) / interval) * interval + interval;
      this.memoryPeak = 0;
      this.oomPeak = 0;
      addNewPeak = true;
    }
    if (addNewPeak) {
      this.memoryPeaks.addSample(bytes, 1, this.windowEnd);
      if (oom) this.oomPeak = bytes;
      else this.memoryPeak = bytes;
    }
    return true;
  }

  /**
   * An OOM kill at `ms` of a container whose memory request was `requestBytes`. Dropped when
   * it is older than the current aggregation interval's start (RecordOOM: before
   * WindowEnd - interval), since it would be counted in that interval's peak.
   */
  recordOom(ms: number, requestBytes: number): boolean {
    if (this.windowEnd !== undefined && ms < this.windowEnd - this.c.memoryAggregationIntervalMs) return false;
    return this.addMemory(ms, oomBump(Math.max(requestBytes, this.memoryPeak), this.c), true);
  }

  /** The target: P90 + 15 %, at the pod minimums; undefined before the first sample. */
  target(): { cpu: number; memory: number } | undefined {
    if (this.cpu.isEmpty() && this.memoryPeaks.isEmpty()) return undefined;
    const m = 1 + this.c.safetyMarginFraction;
    return {
      cpu: Math.max(this.cpu.percentile(this.c.targetCpuPercentile) * m, this.c.podMinCpuMillicores / 1000),
      memory: Math.max(this.memoryPeaks.percentile(this.c.targetMemoryPercentile) * m, this.c.podMinMemoryMb * 2 ** 20),
    };
  }
}
