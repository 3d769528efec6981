/**
 * Usage windows: per application and metric, the per-minute maxima of the last 60 minutes
 * (scaling method, step 2). Pure, O(1) per sample, typed arrays (a cluster has 100,000
 * containers x 4 metrics).
 *
 * STABLE API (the node probe and the simulator both use it; keep it so):
 *
 *   METRICS = ['cpu', 'mem', 'net', 'disk'];  type Metric;  metricIndex(m);  isMetric(s)
 *   MINUTE_MS = 60_000;  WINDOW_MINUTES = 60
 *
 *   new WindowStore({ apps, minutes? = 60 })      struct-of-arrays for many applications,
 *                                                   keyed by app index 0..apps-1
 *     .record(app, metric, tMs, value) -> RecordOutcome   probe: many samples per minute
 *     .push(app, metric, value)                            simulator: one closed minute
 *     .close(app, metric, tMs) / .closeAll(tMs)            close minutes ended before tMs
 *     .length(app, metric)      closed minutes held (0..minutes)
 *     .at(app, metric, age)     age 0 = newest closed minute (NaN when age >= length)
 *     .last / .max / .mean(app, metric)                    over the closed minutes (NaN if none)
 *     .copy(app, metric, out, n?) -> count                 the newest n closed minutes,
 *                                                          oldest first, into out
 *     .values(app, metric) -> number[]                     all closed minutes, oldest first
 *     .minutesSeen(app, metric)  closed minutes ever recorded (not capped at the window)
 *     .openMinute(app, metric)   minute index (floor(tMs / 60000)) being filled, or NaN
 *     .reset(app)                forget an application (its slot can be reused)
 *
 *   new UsageWindow(minutes? = 60)   one series with the same methods minus (app, metric):
 *     record(tMs, v), push(v), close(tMs), length, at(age), last(), max(), mean(),
 *     copy(out, n?), values(), minutesSeen, openMinute
 *
 * Semantics:
 * - Only closed minutes are in the window. A probe's samples go into the open minute
 *   (the minute of their timestamp, floor(tMs / 60000)), which keeps their maximum; a
 *   sample of a later minute closes it. `close(tMs)` closes every minute that ended at or
 *   before tMs, so a probe calls it on each minute tick even when no sample came.
 * - Minutes with no sample between two sampled minutes (the probe missed them) hold the
 *   previous minute's value. A gap as long as the window clears it: nothing recent is known,
 *   the application starts over (a forecaster then reports "still starting").
 * - A late sample for a closed minute still in the window raises that minute's maximum; an
 *   older one is 'stale' and ignored. A value that is not a finite number >= 0 is
 *   'invalid'; values above 1 are clamped to 1 ('clamped').
 * - `push` is for one value per minute (simulator, trace replay); it closes an open minute
 *   first. Do not mix push and record on one series unless that is what you mean.
 * - Values are stored as float32 (utilisations; 7 significant digits is plenty).
 */

export const METRICS = ['cpu', 'mem', 'net', 'disk'] as const;
export type Metric = (typeof METRICS)[number];
export const MINUTE_MS = 60_000;
export const WINDOW_MINUTES = 60;

export type RecordOutcome = 'recorded' | 'clamped' | 'stale' | 'invalid';

const METRIC_INDEX: Readonly<Record<Metric, number>> = { cpu: 0, mem: 1, net: 2, disk: 3 };
export const metricIndex = (m: Metric): number => METRIC_INDEX[m];
export const isMetric = (s: string): s is Metric => Object.hasOwn(METRIC_INDEX, s);

export interface WindowStoreOptions {
  /** Number of application slots (app indexes 0..apps-1). */
  readonly apps: number;
  /** Minutes kept per series (default 60). */
  readonly minutes?: number;
}

export class WindowStore {
  readonly apps: number;
  readonly minutes: number;
  private readonly vals: Float32Array; // series * minutes, ring per series
  private readonly head: Int32Array; // next write position per series
  private readonly len: Int32Array; // closed minutes held per series
  private readonly seen: Float64Array; // closed minutes ever per series
  private readonly lastMin: Float64Array; // minute index of the newest closed minute, NaN if none
  private readonly openMin: Float64Array; // minute index being filled, NaN if none
  private readonly openMax: Float32Array; // max of the open minute

  constructor(opts: WindowStoreOptions) {
    const minutes = opts.minutes ?? WINDOW_MINUTES;
    if (!Number.isInteger(opts.apps) || opts.apps < 0) throw new RangeError(`apps must be a non-negative integer, got ${opts.apps}`);
    if (!Number.isInteger(minutes) || minutes < 1) throw new RangeError(`minutes must be a positive integer, got ${minutes}`);
    this.apps = opts.apps;
    this.minutes = minutes;
    const series = opts.apps * METRICS.length;
    this.vals = new Float32Array(series * minutes);
    this.head = new Int32Array(series);
    this.len = new Int32Array(series);
    this.seen = new Float64Array(series);
    this.lastMin = new Float64Array(series).fill(NaN);
    this.openMin = new Float64Array(series).fill(NaN);
    this.openMax = new Float32Array(series);
  }

  /** Index of a series in the store's arrays. */
  series(app: number, metric: Metric): number {
    if (!(app >= 0 && app < this.apps) || !Number.isInteger(app)) throw new RangeError(`app index ${app} outside 0..${this.apps - 1}`);
    return app * METRICS.length + METRIC_INDEX[metric];
  }

  /** A probe sample: keeps the maximum within the sample's minute, rolls minutes. O(1). */
  record(app: number, metric: Metric, tMs: number, value: number): RecordOutcome {
    const s = this.series(app, metric);
    if (!Number.isFinite(tMs) || !Number.isFinite(value) || value < 0) return 'invalid';
    const outcome: RecordOutcome = value > 1 ? 'clamped' : 'recorded';
    const v = value > 1 ? 1 : value;
    const m = Math.floor(tMs / MINUTE_MS);
    const open = this.openMin[s]!;
    if (m === open) {
      if (v > this.openMax[s]!) this.openMax[s] = v;
      return outcome;
    }
    if (Number.isNaN(open) ? !(m <= this.lastMin[s]!) : m > open) {
      if (!Number.isNaN(open)) this.closeOpen(s);
      this.fillGap(s, m);
      this.openMin[s] = m;
      this.openMax[s] = v;
      return outcome;
    }
    // A late sample for a closed minute.
    const age = this.lastMin[s]! - m;
    if (!(age >= 0 && age < this.len[s]!)) return 'stale';
    const i = this.ringIndex(s, age);
    if (v > this.vals[i]!) this.vals[i] = v;
    return outcome;
  }

  /** A whole minute's maximum (simulator, replay): appended as the next minute. */
  push(app: number, metric: Metric, value: number): RecordOutcome {
    const s = this.series(app, metric);
    if (!Number.isFinite(value) || value < 0) return 'invalid';
    if (!Number.isNaN(this.openMin[s]!)) this.closeOpen(s);
    const last = this.lastMin[s]!;
    this.append(s, value > 1 ? 1 : value, Number.isNaN(last) ? 0 : last + 1);
    return value > 1 ? 'clamped' : 'recorded';
  }

  /** Closes the minutes that ended at or before tMs (the open one, and held gaps). */
  close(app: number, metric: Metric, tMs: number): void {
    this.closeSeries(this.series(app, metric), tMs);
  }

  closeAll(tMs: number): void {
    const n = this.apps * METRICS.length;
    for (let s = 0; s < n; s++) this.closeSeries(s, tMs);
  }

  length(app: number, metric: Metric): number {
    return this.len[this.series(app, metric)]!;
  }

  minutesSeen(app: number, metric: Metric): number {
    return this.seen[this.series(app, metric)]!;
  }

  openMinute(app: number, metric: Metric): number {
    return this.openMin[this.series(app, metric)]!;
  }

  /** The closed minute `age` minutes before the newest (age 0 = newest). */
  at(app: number, metric: Metric, age: number): number {
    const s = this.series(app, metric);
    if (!(age >= 0 && age < this.len[s]!)) return NaN;
    return this.vals[this.ringIndex(s, age)]!;
  }

  last(app: number, metric: Metric): number {
    return this.at(app, metric, 0);
  }

  max(app: number, metric: Metric): number {
    const s = this.series(app, metric);
    const n = this.len[s]!;
    if (n === 0) return NaN;
    let m = -Infinity;
    for (let age = 0; age < n; age++) {
      const v = this.vals[this.ringIndex(s, age)]!;
      if (v > m) m = v;
    }
    return m;
  }

  mean(app: number, metric: Metric): number {
    const s = this.series(app, metric);
    const n = this.len[s]!;
    if (n === 0) return NaN;
    let sum = 0;
    for (let age = 0; age < n; age++) sum += this.vals[this.ringIndex(s, age)]!;
    return sum / n;
  }

  /** Copies the newest `n` (default all) closed minutes, oldest first; returns the count. */
  copy(app: number, metric: Metric, out: Float64Array | number[], n?: number): number {
    const s = this.series(app, metric);
    const count = Math.min(n ?? this.len[s]!, this.len[s]!, out.length);
    for (let k = 0; k < count; k++) out[k] = this.vals[this.ringIndex(s, count - 1 - k)]!;
    return count;
  }

  values(app: number, metric: Metric): number[] {
    const arr = new Array<number>(this.length(app, metric));
    this.copy(app, metric, arr);
    return arr;
  }

  /** Forgets an application, so its slot can be reused. */
  reset(app: number): void {
    for (const metric of METRICS) {
      const s = this.series(app, metric);
      this.head[s] = 0;
      this.len[s] = 0;
      this.seen[s] = 0;
      this.lastMin[s] = NaN;
      this.openMin[s] = NaN;
      this.openMax[s] = 0;
    }
  }

  private ringIndex(s: number, age: number): number {
    let pos = this.head[s]! - 1 - age;
    if (pos < 0) pos += this.minutes;
    return s * this.minutes + pos;
  }

  private append(s: number, v: number, minute: number): void {
    const base = s * this.minutes;
    const h = this.head[s]!;
    this.vals[base + h] = v;
    this.head[s] = h + 1 === this.minutes ? 0 : h + 1;
    if (this.len[s]! < this.minutes) this.len[s] = this.len[s]! + 1;
    this.seen[s] = this.seen[s]! + 1;
    this.lastMin[s] = minute;
  }

  private closeOpen(s: number): void {
    this.fillGap(s, this.openMin[s]!);
    this.append(s, this.openMax[s]!, this.openMin[s]!);
    this.openMin[s] = NaN;
  }

  /** Fills the minutes strictly between the newest closed minute and `m` (bounded by the window). */
  private fillGap(s: number, m: number): void {
    const last = this.lastMin[s]!;
    if (Number.isNaN(last) || m <= last + 1) return;
    const gap = m - last - 1;
    if (gap >= this.minutes || this.len[s] === 0) {
      // Nothing recent is known: start over.
      this.head[s] = 0;
      this.len[s] = 0;
      this.lastMin[s] = m - 1;
      return;
    }
    const hold = this.vals[this.ringIndex(s, 0)]!;
    for (let k = 1; k <= gap; k++) this.append(s, hold, last + k);
  }

  private closeSeries(s: number, tMs: number): void {
    if (!Number.isFinite(tMs)) return;
    const current = Math.floor(tMs / MINUTE_MS); // minutes before `current` have ended
    const open = this.openMin[s]!;
    if (!Number.isNaN(open)) {
      if (open >= current) return;
      this.closeOpen(s);
    }
    this.fillGap(s, current);
  }
}

/** One series (one application, one metric): a WindowStore of one slot. */
export class UsageWindow {
  private readonly store: WindowStore;

  constructor(minutes: number = WINDOW_MINUTES) {
    this.store = new WindowStore({ apps: 1, minutes });
  }

  get minutes(): number {
    return this.store.minutes;
  }
  get length(): number {
    return this.store.length(0, 'cpu');
  }
  get minutesSeen(): number {
    return this.store.minutesSeen(0, 'cpu');
  }
  get openMinute(): number {
    return this.store.openMinute(0, 'cpu');
  }
  record(tMs: number, value: number): RecordOutcome {
    return this.store.record(0, 'cpu', tMs, value);
  }
  push(value: number): RecordOutcome {
    return this.store.push(0, 'cpu', value);
  }
  close(tMs: number): void {
    this.store.close(0, 'cpu', tMs);
  }
  at(age: number): number {
    return this.store.at(0, 'cpu', age);
  }
  last(): number {
    return this.store.last(0, 'cpu');
  }
  max(): number {
    return this.store.max(0, 'cpu');
  }
  mean(): number {
    return this.store.mean(0, 'cpu');
  }
  copy(out: Float64Array | number[], n?: number): number {
    return this.store.copy(0, 'cpu', out, n);
  }
  values(): number[] {
    return this.store.values(0, 'cpu');
  }
}
