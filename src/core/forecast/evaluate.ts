/**
 * Walk-forward evaluation: every forecaster sees a series one minute at a time; after each
 * minute t it forecasts minute t+T, and when minute t+T arrives the forecast is scored.
 * Only minutes where every forecaster had a forecast are scored, so all are compared on
 * the same points (the double moving average needs 2N-1 minutes first).
 *
 * Scores: MAE, RMSE, under-prediction rate (forecast < actual by more than 1e-9), and with an allocation of
 * forecast x (1 + headroom): the mean slack max(0, allocation - actual) and the share of
 * minutes in shortage (actual > allocation). Constant memory per series.
 */
import type { Forecaster } from './forecaster.ts';

export interface Scores {
  readonly points: number;
  readonly mae: number;
  readonly rmse: number;
  readonly under: number;
  readonly slack: number;
  readonly shortage: number;
}

const EPS = 1e-9;

/** Sums for one forecaster on one metric; mergeable across series. */
export class ScoreSums {
  points = 0;
  abs = 0;
  sq = 0;
  under = 0;
  slack = 0;
  shortage = 0;

  add(forecast: number, actual: number, headroom: number): void {
    const err = forecast - actual;
    this.points++;
    this.abs += Math.abs(err);
    this.sq += err * err;
    // A forecast a rounding error below a flat series is not an under-prediction.
    if (forecast < actual - EPS) this.under++;
    const alloc = forecast * (1 + headroom);
    if (alloc >= actual - EPS) this.slack += Math.max(0, alloc - actual);
    else this.shortage++;
  }

  merge(o: ScoreSums): void {
    this.points += o.points;
    this.abs += o.abs;
    this.sq += o.sq;
    this.under += o.under;
    this.slack += o.slack;
    this.shortage += o.shortage;
  }

  scores(): Scores {
    const n = this.points;
    if (n === 0) return { points: 0, mae: NaN, rmse: NaN, under: NaN, slack: NaN, shortage: NaN };
    return { points: n, mae: this.abs / n, rmse: Math.sqrt(this.sq / n), under: this.under / n, slack: this.slack / n, shortage: this.shortage / n };
  }
}

/** Evaluates a set of forecasters on one series, fed minute by minute. */
export class SeriesEvaluator {
  private readonly pending: number[]; // horizon slots x forecasters; NaN = no forecast made
  private t = 0; // minutes observed since the last reset

  constructor(
    readonly forecasters: readonly Forecaster[],
    readonly sums: readonly ScoreSums[],
    readonly horizon: number,
    readonly headroom: number,
  ) {
    if (sums.length !== forecasters.length) throw new RangeError('one ScoreSums per forecaster');
    if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizon must be an integer >= 1, got ${horizon}`);
    this.pending = new Array<number>(horizon * forecasters.length).fill(NaN);
  }

  observe(x: number): void {
    const k = this.forecasters.length;
    const base = (this.t % this.horizon) * k;
    // The forecasts made `horizon` minutes ago are for this minute.
    if (this.t >= this.horizon && !Number.isNaN(this.pending[base]!)) {
      for (let f = 0; f < k; f++) this.sums[f]!.add(this.pending[base + f]!, x, this.headroom);
    }
    let all = true;
    for (let f = 0; f < k; f++) {
      const fc = this.forecasters[f]!;
      fc.observe(x);
      const r = fc.forecast(this.horizon);
      if (r.ok) this.pending[base + f] = r.value;
      else all = false;
    }
    // Score a minute only when every forecaster had a forecast for it.
    if (!all) this.pending[base] = NaN;
    this.t++;
  }

  /** The series broke (a long gap): start over. */
  reset(): void {
    for (const f of this.forecasters) f.reset();
    this.pending.fill(NaN);
    this.t = 0;
  }
}
