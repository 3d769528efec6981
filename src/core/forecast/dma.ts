/**
 * Brown's double moving average (scaling method, step 3), window N, horizon T:
 *   M1_k = mean(x_{k-N+1..k})            for the last N values of k
 *   M2   = mean(M1_{t-N+1..t})
 *   a = 2*M1_t - M2,  b = 2/(N-1) * (M1_t - M2),  forecast = clamp01(a + b*T)
 * It needs the last 2N-1 per-minute values; with fewer there is no forecast (the application
 * is still starting).
 *
 * Two forms: `dmaDirect` computes it from the definition (O(N^2), the reference), and
 * `DmaBank` keeps running sums per series in typed arrays (O(1) per minute, for 100,000
 * containers x 4 metrics). Tests check one against the other.
 */
import { clamp01, starting, type Forecast, type Forecaster, type NoForecast } from './forecaster.ts';
import type { Metric, WindowStore } from './window.ts';

export interface DmaTerms {
  readonly m1: number;
  readonly m2: number;
  readonly a: number;
  readonly b: number;
}

export type DmaResult = NoForecast | { readonly ok: true; readonly value: number; readonly terms: DmaTerms };

export const dmaSamplesNeeded = (n: number): number => 2 * n - 1;

function checkWindow(n: number): void {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`double moving average window must be an integer >= 2, got ${n}`);
}

const terms = (m1: number, m2: number, n: number): DmaTerms => ({ m1, m2, a: 2 * m1 - m2, b: (2 / (n - 1)) * (m1 - m2) });

/** The direct form over `values` (oldest first), using values[end-2N+1 .. end-1]. */
export function dmaDirect(values: ArrayLike<number>, n: number, horizon: number, end: number = values.length): DmaResult {
  checkWindow(n);
  const need = dmaSamplesNeeded(n);
  if (end < need) return starting(need, end);
  const t = end - 1;
  let sumM1 = 0;
  let m1t = 0;
  for (let k = t - n + 1; k <= t; k++) {
    let s = 0;
    for (let j = k - n + 1; j <= k; j++) s += values[j]!;
    const m1 = s / n;
    sumM1 += m1;
    if (k === t) m1t = m1;
  }
  const tm = terms(m1t, sumM1 / n, n);
  return { ok: true, value: clamp01(tm.a + tm.b * horizon), terms: tm };
}

/**
 * The direct form over a usage window's newest 2N-1 closed minutes (the autoscaler's path:
 * one forecast per plan, no state to keep). `scratch` (length >= 2N-1) avoids allocating.
 */
export function dmaFromWindow(store: WindowStore, app: number, metric: Metric, n: number, horizon: number, scratch: Float64Array = new Float64Array(dmaSamplesNeeded(n))): DmaResult {
  const count = store.copy(app, metric, scratch, dmaSamplesNeeded(n));
  return dmaDirect(scratch, n, horizon, count);
}

// Running sums drift by rounding; recomputing them from the rings every so often keeps
// the incremental form within ~1e-12 of the direct one at O(N)/RESUM amortised cost.
const RESUM = 4096;

/** Incremental double moving averages for many series (struct of arrays). */
export class DmaBank {
  readonly size: number;
  readonly n: number;
  private readonly xs: Float64Array; // size * n: last n values per series
  private readonly m1s: Float64Array; // size * n: last n first averages per series
  private readonly s1: Float64Array; // running sum of xs
  private readonly s2: Float64Array; // running sum of m1s
  private readonly count: Float64Array; // values observed
  private readonly pos: Int32Array; // ring position of the next value (shared by both rings)
  private readonly m1pos: Int32Array;

  constructor(size: number, n: number) {
    checkWindow(n);
    this.size = size;
    this.n = n;
    this.xs = new Float64Array(size * n);
    this.m1s = new Float64Array(size * n);
    this.s1 = new Float64Array(size);
    this.s2 = new Float64Array(size);
    this.count = new Float64Array(size);
    this.pos = new Int32Array(size);
    this.m1pos = new Int32Array(size);
  }

  /** Feeds series `s` its next per-minute value. O(1) amortised. */
  observe(s: number, x: number): void {
    const n = this.n;
    const base = s * n;
    const c = this.count[s]!;
    const p = this.pos[s]!;
    this.s1[s] = this.s1[s]! + x - (c >= n ? this.xs[base + p]! : 0);
    this.xs[base + p] = x;
    this.pos[s] = p + 1 === n ? 0 : p + 1;
    this.count[s] = c + 1;
    if (c + 1 < n) return;
    const m1 = this.s1[s]! / n;
    const q = this.m1pos[s]!;
    const m1count = c + 1 - n; // first averages stored before this one
    this.s2[s] = this.s2[s]! + m1 - (m1count >= n ? this.m1s[base + q]! : 0);
    this.m1s[base + q] = m1;
    this.m1pos[s] = q + 1 === n ? 0 : q + 1;
    if ((c + 1) % RESUM === 0 && m1count + 1 >= n) this.resum(s);
  }

  samples(s: number): number {
    return this.count[s]!;
  }

  /** The forecast for series `s`, `horizon` minutes after its last value. */
  forecast(s: number, horizon: number): DmaResult {
    const n = this.n;
    const need = dmaSamplesNeeded(n);
    const c = this.count[s]!;
    if (c < need) return starting(need, c);
    const q = this.m1pos[s]!;
    const m1t = this.m1s[s * n + (q === 0 ? n - 1 : q - 1)]!;
    const tm = terms(m1t, this.s2[s]! / n, n);
    return { ok: true, value: clamp01(tm.a + tm.b * horizon), terms: tm };
  }

  /** The forecast value only (NaN when still starting), without allocating. */
  forecastValue(s: number, horizon: number): number {
    const n = this.n;
    if (this.count[s]! < 2 * n - 1) return NaN;
    const q = this.m1pos[s]!;
    const m1t = this.m1s[s * n + (q === 0 ? n - 1 : q - 1)]!;
    const m2 = this.s2[s]! / n;
    return clamp01(2 * m1t - m2 + (2 / (n - 1)) * (m1t - m2) * horizon);
  }

  reset(s: number): void {
    this.s1[s] = 0;
    this.s2[s] = 0;
    this.count[s] = 0;
    this.pos[s] = 0;
    this.m1pos[s] = 0;
  }

  private resum(s: number): void {
    const base = s * this.n;
    let a = 0;
    let b = 0;
    for (let k = 0; k < this.n; k++) {
      a += this.xs[base + k]!;
      b += this.m1s[base + k]!;
    }
    this.s1[s] = a;
    this.s2[s] = b;
  }
}

/**
 * The double moving average as a Forecaster: the incremental form for one series, on plain
 * arrays (a dozen small typed arrays per series cost more memory than the values they hold
 * when a trace has 100,000 series). Same arithmetic as DmaBank; both are checked against
 * the direct form.
 */
export class DmaForecaster implements Forecaster {
  readonly name = 'dma';
  private readonly xs: number[];
  private readonly m1s: number[];
  private s1 = 0;
  private s2 = 0;
  private count = 0;
  private pos = 0;
  private m1pos = 0;

  constructor(readonly window: number) {
    checkWindow(window);
    this.xs = new Array<number>(window).fill(0);
    this.m1s = new Array<number>(window).fill(0);
  }

  observe(x: number): void {
    const n = this.window;
    const c = this.count;
    this.s1 += x - (c >= n ? this.xs[this.pos]! : 0);
    this.xs[this.pos] = x;
    this.pos = this.pos + 1 === n ? 0 : this.pos + 1;
    this.count = c + 1;
    if (c + 1 < n) return;
    const m1 = this.s1 / n;
    const m1count = c + 1 - n;
    this.s2 += m1 - (m1count >= n ? this.m1s[this.m1pos]! : 0);
    this.m1s[this.m1pos] = m1;
    this.m1pos = this.m1pos + 1 === n ? 0 : this.m1pos + 1;
    if ((c + 1) % RESUM === 0 && m1count + 1 >= n) {
      this.s1 = this.xs.reduce((a, b) => a + b, 0);
      this.s2 = this.m1s.reduce((a, b) => a + b, 0);
    }
  }

  forecast(horizon: number): Forecast {
    const n = this.window;
    const need = dmaSamplesNeeded(n);
    if (this.count < need) return starting(need, this.count);
    const m1t = this.m1s[this.m1pos === 0 ? n - 1 : this.m1pos - 1]!;
    const tm = terms(m1t, this.s2 / n, n);
    return { ok: true, value: clamp01(tm.a + tm.b * horizon) };
  }

  reset(): void {
    this.s1 = 0;
    this.s2 = 0;
    this.count = 0;
    this.pos = 0;
    this.m1pos = 0;
  }
}

/**
 * The double moving average of an amount (cores, bytes): the same a + b*T as `dmaDirect`,
 * floored at 0 but not capped at 1.
 */
export function dmaAmount(values: ArrayLike<number>, n: number, horizon: number): Forecast {
  const d = dmaDirect(values, n, horizon);
  return d.ok ? { ok: true, value: Math.max(0, d.terms.a + d.terms.b * horizon) } : d;
}

/**
 * The forecaster's own recent errors: for each of the last `window` minutes t whose
 * forecast could be made T minutes before (from the values up to t - T), x_t - forecast.
 * Positive: the forecast was short. O(length) with running sums.
 */
export function dmaErrors(values: ArrayLike<number>, n: number, horizon: number, window: number): number[] {
  checkWindow(n);
  const len = values.length;
  // m1[k] = mean(x[k-n+1..k]) for k >= n-1; m2[k] = mean(m1[k-n+1..k]) for k >= 2n-2.
  const m1 = new Float64Array(len);
  const m2 = new Float64Array(len);
  let s1 = 0;
  let s2 = 0;
  for (let k = 0; k < len; k++) {
    s1 += values[k]!;
    if (k >= n) s1 -= values[k - n]!;
    if (k < n - 1) continue;
    m1[k] = s1 / n;
    s2 += m1[k]!;
    if (k >= 2 * n - 1) s2 -= m1[k - n]!;
    if (k >= 2 * n - 2) m2[k] = s2 / n;
  }
  const out: number[] = [];
  for (let t = Math.max(0, len - window); t < len; t++) {
    const k = t - horizon;
    if (k < 2 * n - 2) continue;
    const a = 2 * m1[k]! - m2[k]!;
    const b = (2 / (n - 1)) * (m1[k]! - m2[k]!);
    out.push(values[t]! - Math.max(0, a + b * horizon));
  }
  return out;
}
