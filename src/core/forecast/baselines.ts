/**
 * Baseline forecasters, so every claim about the double moving average is a comparison:
 * last value, window mean, window maximum, Holt's linear smoothing, and a VPA-style
 * recommender. All implement Forecaster and see the same per-minute values.
 */
import { WINDOW_MINUTES } from './window.ts';
import { clamp01, starting, type Forecast, type Forecaster } from './forecaster.ts';
import { DecayingHistogram, linearHistogramOptions } from './vpa.ts';

/** Tomorrow is like today: the last value. */
export class LastValueForecaster implements Forecaster {
  readonly name = 'last';
  private last = NaN;
  observe(x: number): void {
    this.last = x;
  }
  forecast(): Forecast {
    return Number.isNaN(this.last) ? starting(1, 0) : { ok: true, value: clamp01(this.last) };
  }
  reset(): void {
    this.last = NaN;
  }
}

/** A ring of the last `minutes` values (the usage window by default); plain array, see DmaForecaster. */
class Ring {
  readonly buf: number[];
  count = 0;
  pos = 0;
  sum = 0;
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`window must be a positive integer, got ${size}`);
    this.buf = new Array<number>(size).fill(0);
  }
  push(x: number): void {
    if (this.count >= this.size) this.sum -= this.buf[this.pos]!;
    else this.count++;
    this.buf[this.pos] = x;
    this.sum += x;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
  }
  max(): number {
    let m = -Infinity;
    for (let i = 0; i < this.count; i++) if (this.buf[i]! > m) m = this.buf[i]!;
    return m;
  }
  clear(): void {
    this.count = 0;
    this.pos = 0;
    this.sum = 0;
  }
}

/** The mean of the last `minutes` values (default: the 60-minute usage window). */
export class WindowMeanForecaster implements Forecaster {
  readonly name = 'mean';
  private readonly ring: Ring;
  private n = 0;
  constructor(minutes: number = WINDOW_MINUTES) {
    this.ring = new Ring(minutes);
  }
  observe(x: number): void {
    this.ring.push(x);
    // Running sums drift; resum now and then (cheap: one window per window's worth of values).
    if (++this.n % (this.ring.size * 64) === 0) {
      let s = 0;
      for (let i = 0; i < this.ring.count; i++) s += this.ring.buf[i]!;
      this.ring.sum = s;
    }
  }
  forecast(): Forecast {
    return this.ring.count === 0 ? starting(1, 0) : { ok: true, value: clamp01(this.ring.sum / this.ring.count) };
  }
  reset(): void {
    this.ring.clear();
    this.n = 0;
  }
}

/** The maximum of the last `minutes` values (default: the 60-minute usage window). */
export class WindowMaxForecaster implements Forecaster {
  readonly name = 'max';
  private readonly ring: Ring;
  constructor(minutes: number = WINDOW_MINUTES) {
    this.ring = new Ring(minutes);
  }
  observe(x: number): void {
    this.ring.push(x);
  }
  forecast(): Forecast {
    return this.ring.count === 0 ? starting(1, 0) : { ok: true, value: clamp01(this.ring.max()) };
  }
  reset(): void {
    this.ring.clear();
  }
}

export interface HoltOptions {
  /** Level smoothing in (0,1]. */
  readonly alpha?: number;
  /** Trend smoothing in (0,1]. */
  readonly beta?: number;
}

/**
 * Holt's linear (double exponential) smoothing: level l and trend b,
 *   l_t = alpha*x_t + (1-alpha)*(l_{t-1} + b_{t-1}),  b_t = beta*(l_t - l_{t-1}) + (1-beta)*b_{t-1},
 * forecast l_t + T*b_t. Initialised with l_1 = x_1, b_1 = x_1 - x_0 after two values.
 */
export class HoltForecaster implements Forecaster {
  readonly name = 'holt';
  readonly alpha: number;
  readonly beta: number;
  private level = NaN;
  private trend = 0;
  private n = 0;
  constructor(opts: HoltOptions = {}) {
    this.alpha = opts.alpha ?? 0.5;
    this.beta = opts.beta ?? 0.1;
    for (const [k, v] of [['alpha', this.alpha], ['beta', this.beta]] as const) {
      if (!(v > 0 && v <= 1)) throw new RangeError(`Holt ${k} must be in (0,1], got ${v}`);
    }
  }
  observe(x: number): void {
    this.n++;
    if (this.n === 1) {
      this.level = x;
      return;
    }
    if (this.n === 2) {
      this.trend = x - this.level;
      this.level = x;
      return;
    }
    const prev = this.level;
    this.level = this.alpha * x + (1 - this.alpha) * (prev + this.trend);
    this.trend = this.beta * (this.level - prev) + (1 - this.beta) * this.trend;
  }
  forecast(horizon: number): Forecast {
    return this.n < 2 ? starting(2, this.n) : { ok: true, value: clamp01(this.level + horizon * this.trend) };
  }
  reset(): void {
    this.level = NaN;
    this.trend = 0;
    this.n = 0;
  }
}

export interface VpaOptions {
  /** Histogram buckets over [0,1] (default 100: 1% each). */
  readonly buckets?: number;
  /** Half-life of a sample's weight, in minutes (default 24 h, as the VPA recommender's CPU histogram). */
  readonly halfLifeMinutes?: number;
  /** The percentile recommended (default 0.9). */
  readonly percentile?: number;
  /** Safety margin added on top (default 0.15, as the VPA recommender's). */
  readonly margin?: number;
}

/**
 * The VPA recommender's CPU estimator (core/forecast/vpa.ts, the same decaying histogram)
 * as a per-minute forecaster of utilisations, for `polyarch forecast`'s comparison: linear
 * buckets over [0, 1] instead of the VPA's exponential ones over cores, the sample at
 * minute t weighing 2^(t / half-life), its percentile (the end of the bucket holding it),
 * times (1 + safety margin).
 */
export class VpaForecaster implements Forecaster {
  readonly name = 'vpa';
  readonly buckets: number;
  readonly halfLife: number;
  readonly percentile: number;
  readonly margin: number;
  private hist: DecayingHistogram;
  private t = 0; // minutes observed
  constructor(opts: VpaOptions = {}) {
    this.buckets = opts.buckets ?? 100;
    this.halfLife = opts.halfLifeMinutes ?? 24 * 60;
    this.percentile = opts.percentile ?? 0.9;
    this.margin = opts.margin ?? 0.15;
    if (!Number.isInteger(this.buckets) || this.buckets < 1) throw new RangeError(`VPA buckets must be a positive integer, got ${this.buckets}`);
    if (!(this.halfLife > 0)) throw new RangeError(`VPA half-life must be > 0, got ${this.halfLife}`);
    if (!(this.percentile > 0 && this.percentile <= 1)) throw new RangeError(`VPA percentile must be in (0,1], got ${this.percentile}`);
    if (!(this.margin >= 0)) throw new RangeError(`VPA margin must be >= 0, got ${this.margin}`);
    this.hist = this.fresh();
  }
  private fresh(): DecayingHistogram {
    // Bucket i holds [i/buckets, (i+1)/buckets); a value of exactly 1 goes to the last one.
    return new DecayingHistogram(linearHistogramOptions((this.buckets - 1) / this.buckets, 1 / this.buckets, 1e-300), this.halfLife * 60_000);
  }
  observe(x: number): void {
    this.hist.addSample(Math.min(x, 1 - 1e-12), 1, this.t * 60_000);
    this.t++;
  }
  forecast(): Forecast {
    if (this.t === 0) return starting(1, 0);
    return { ok: true, value: clamp01(this.hist.percentile(this.percentile) * (1 + this.margin)) };
  }
  reset(): void {
    this.hist = this.fresh();
    this.t = 0;
  }
}
