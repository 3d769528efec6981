/**
 * Walk-forward evaluation: every forecaster sees a series one minute at a time; after each
 * minute t it forecasts minute t+T, and when minute t+T arrives the forecast is scored.
 * Only minutes where every forecaster had a forecast are scored, so all are compared on
 * the same points (the double moving average needs 2N-1 minutes first).
 *
 * Scores: MAE, RMSE, under-prediction rate (forecast < actual by more than 1e-9), and with an allocation of
 * forecast x (1 + headroom): the mean slack max(0, allocation - actual) and the share of
 * minutes in shortage (actual > allocation). Constant memory per series.
 *
 * Coverage (the first forecaster, the double moving average, as the scaling plan runs it):
 * allocation = forecast + the headroom from its own recent errors (headroom.ts), and the
 * share of minutes that allocation covered, to set against the quantile asked.
 */
import type { Forecaster } from './forecaster.ts';
import { headroomOf, type HeadroomSettings } from './headroom.ts';

/** How often forecast + error-quantile headroom covered the actual. */
export interface Coverage {
  readonly points: number;
  /** The error quantile asked. */
  readonly asked: number;
  /** Share of minutes with actual <= forecast + headroom. */
  readonly achieved: number;
  /** Mean max(0, forecast + headroom - actual). */
  readonly slack: number;
}

export interface CoverageSettings extends HeadroomSettings {
  /** Recent errors the quantile reads. */
  readonly errorWindow: number;
}

/** Sums of the coverage of one metric; mergeable across series. */
export class CoverageSums {
  points = 0;
  covered = 0;
  slack = 0;

  constructor(readonly asked: number) {}

  add(allocation: number, actual: number): void {
    this.points++;
    if (allocation >= actual - EPS) {
      this.covered++;
      this.slack += Math.max(0, allocation - actual);
    }
  }

  merge(o: CoverageSums): void {
    this.points += o.points;
    this.covered += o.covered;
    this.slack += o.slack;
  }

  coverage(): Coverage {
    const n = this.points;
    return { points: n, asked: this.asked, achieved: n === 0 ? NaN : this.covered / n, slack: n === 0 ? NaN : this.slack / n };
  }
}

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
  // Coverage of the first forecaster: its raw forecast and forecast + headroom per horizon slot, its recent errors.
  private readonly first: number[];
  private readonly allocs: number[];
  private readonly errors: number[] = [];

  constructor(
    readonly forecasters: readonly Forecaster[],
    readonly sums: readonly ScoreSums[],
    readonly horizon: number,
    readonly headroom: number,
    readonly coverage?: { readonly settings: CoverageSettings; readonly sums: CoverageSums },
  ) {
    if (sums.length !== forecasters.length) throw new RangeError('one ScoreSums per forecaster');
    if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizon must be an integer >= 1, got ${horizon}`);
    this.pending = new Array<number>(horizon * forecasters.length).fill(NaN);
    this.first = new Array<number>(horizon).fill(NaN);
    this.allocs = new Array<number>(horizon).fill(NaN);
  }

  observe(x: number): void {
    const k = this.forecasters.length;
    const slot = this.t % this.horizon;
    const base = slot * k;
    // The forecasts made `horizon` minutes ago are for this minute.
    if (this.t >= this.horizon && !Number.isNaN(this.pending[base]!)) {
      for (let f = 0; f < k; f++) this.sums[f]!.add(this.pending[base + f]!, x, this.headroom);
      if (this.coverage && !Number.isNaN(this.allocs[slot]!)) this.coverage.sums.add(this.allocs[slot]!, x);
    }
    const cov = this.coverage;
    if (cov && this.t >= this.horizon && !Number.isNaN(this.first[slot]!)) {
      // The first forecaster's error on this minute joins the ones its next headroom reads.
      this.errors.push(x - this.first[slot]!);
      if (this.errors.length > cov.settings.errorWindow) this.errors.shift();
    }
    let all = true;
    for (let f = 0; f < k; f++) {
      const fc = this.forecasters[f]!;
      fc.observe(x);
      const r = fc.forecast(this.horizon);
      if (r.ok) this.pending[base + f] = r.value;
      else all = false;
      if (f === 0 && cov) {
        this.first[slot] = r.ok ? r.value : NaN;
        this.allocs[slot] = r.ok ? r.value + headroomOf(r.value, this.errors, cov.settings).amount : NaN;
      }
    }
    // Score a minute only when every forecaster had a forecast for it.
    if (!all) {
      this.pending[base] = NaN;
      this.allocs[slot] = NaN;
    }
    this.t++;
  }

  /** The series broke (a long gap): start over. */
  reset(): void {
    for (const f of this.forecasters) f.reset();
    this.pending.fill(NaN);
    this.first.fill(NaN);
    this.allocs.fill(NaN);
    this.errors.length = 0;
    this.t = 0;
  }
}
