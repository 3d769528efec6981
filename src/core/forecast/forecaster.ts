/**
 * The common shape of every forecaster (double moving average and the baselines), so the
 * evaluation and the scaling plan walk them alike. A forecaster is fed one per-minute value
 * at a time (oldest first) and forecasts the value `horizon` minutes after the last one.
 */

/** Why a forecaster has no forecast. */
export const NoForecastReason = {
  /** Fewer samples than the forecaster needs: the application is still starting. */
  Starting: 'starting',
} as const;
export type NoForecastReason = (typeof NoForecastReason)[keyof typeof NoForecastReason];

export interface NoForecast {
  readonly ok: false;
  readonly reason: NoForecastReason;
  readonly needed: number;
  readonly have: number;
}

export type Forecast = { readonly ok: true; readonly value: number } | NoForecast;

export interface Forecaster {
  /** Short stable name used in reports ('dma', 'last', 'mean', 'max', 'holt', 'vpa'). */
  readonly name: string;
  /** Feeds the next per-minute value (a utilisation in [0,1]). */
  observe(x: number): void;
  /** The forecast `horizon` (>= 1) minutes after the last observed value, within [0,1]. */
  forecast(horizon: number): Forecast;
  /** Forgets everything (a new series, or a gap that broke the series). */
  reset(): void;
}

export type ForecasterFactory = () => Forecaster;

export const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

export const starting = (needed: number, have: number): NoForecast => ({ ok: false, reason: NoForecastReason.Starting, needed, have });

/** Feeds a whole series to a fresh forecaster and returns its forecast. */
export function forecastSeries(f: Forecaster, values: ArrayLike<number>, horizon: number): Forecast {
  f.reset();
  for (let i = 0; i < values.length; i++) f.observe(values[i]!);
  return f.forecast(horizon);
}
