/**
 * The margin above a forecast, from the forecaster's own recent errors: the `errorQuantile`
 * of its recent errors (actual - forecast made T minutes before), at least `headroom` x
 * forecast (the floor; STARTING_HEADROOM until MIN_ERRORS errors are known). One rule for
 * the scaling plan (core/scaling/plan.ts) and for the forecast evaluation's coverage
 * (evaluate.ts: how often forecast + headroom covered the actual, against the quantile asked).
 */

/** The margin above the forecast, and where it came from. */
export interface Headroom {
  /** In the forecast's units. */
  readonly amount: number;
  /** 'errors': the quantile of recent errors; 'floor': the floor share (the errors asked for less, or too few yet). */
  readonly source: 'errors' | 'floor';
  readonly quantile: number;
  /** Recent one-forecast errors the quantile read. */
  readonly errors: number;
}

export interface HeadroomSettings {
  /** The floor, a share of the forecast. */
  readonly headroom: number;
  /** The quantile of recent errors; 0 turns it off (the floor alone). */
  readonly errorQuantile: number;
}

/** Until the forecaster has this many errors to judge itself by, the margin is at least STARTING_HEADROOM. */
export const MIN_ERRORS = 10;
export const STARTING_HEADROOM = 0.15;

/** The nearest-rank quantile q of xs (unsorted, not empty). */
export function quantile(xs: readonly number[], q: number): number {
  // A typed array sorts numerically without a comparator call per pair (the plan takes two quantiles per application per round).
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The headroom above `forecast` given the forecaster's recent errors. */
export function headroomOf(forecast: number, errors: readonly number[], o: HeadroomSettings): Headroom {
  const known = errors.length >= MIN_ERRORS || o.errorQuantile <= 0;
  const floor = forecast * (known ? o.headroom : Math.max(o.headroom, STARTING_HEADROOM));
  const q = known && errors.length > 0 && o.errorQuantile > 0 ? quantile(errors, o.errorQuantile) : -Infinity;
  return q > floor ? { amount: q, source: 'errors', quantile: o.errorQuantile, errors: errors.length } : { amount: floor, source: 'floor', quantile: o.errorQuantile, errors: errors.length };
}
