/** The forecasters every evaluation compares: the double moving average first, then the baselines. */
import { DmaForecaster } from './dma.ts';
import { HoltForecaster, LastValueForecaster, VpaForecaster, WindowMaxForecaster, WindowMeanForecaster } from './baselines.ts';
import type { Forecaster } from './forecaster.ts';
import { WINDOW_MINUTES } from './window.ts';

export const FORECASTER_NAMES = ['dma', 'last', 'mean', 'max', 'holt', 'vpa'] as const;
export type ForecasterName = (typeof FORECASTER_NAMES)[number];

export interface StandardOptions {
  /** Double moving average window N. */
  readonly window: number;
  /** Window of the mean and maximum baselines (default: the 60-minute usage window). */
  readonly usageMinutes?: number;
}

export function standardForecasters(opts: StandardOptions): Forecaster[] {
  const usage = opts.usageMinutes ?? WINDOW_MINUTES;
  return [
    new DmaForecaster(opts.window),
    new LastValueForecaster(),
    new WindowMeanForecaster(usage),
    new WindowMaxForecaster(usage),
    new HoltForecaster(),
    new VpaForecaster(),
  ];
}
