/**
 * Forecasts and scores every series of a usage trace, fed sample by sample in constant
 * memory per series: per (id, metric) a MinuteResampler turns samples into per-minute maxima,
 * which a SeriesEvaluator walks forward with every forecaster. At the end each series gets
 * its double moving average forecast T minutes after its last minute, and every forecaster
 * its scores per metric over all series.
 */
import { CoverageSums, SeriesEvaluator, ScoreSums, type Coverage, type CoverageSettings, type Scores } from './evaluate.ts';
import type { Forecast, Forecaster } from './forecaster.ts';
import { MinuteResampler } from './resample.ts';
import { FORECASTER_NAMES, standardForecasters, type ForecasterName } from './standard.ts';
import { METRICS, type Metric } from './window.ts';

export interface TraceEvaluationOptions {
  readonly window: number;
  readonly horizon: number;
  readonly headroom: number;
  /** Samples may arrive this many minutes out of order (default 10). */
  readonly reorderMinutes?: number;
  /** Runs of empty minutes this long break a series (default 60). */
  readonly maxHoldMinutes?: number;
  /** Resample to steps of this many minutes (default 1); window and horizon then count steps. */
  readonly stepMinutes?: number;
  /** The double moving average's coverage with a headroom from its own errors, as the scaling plan sets it. */
  readonly coverage?: CoverageSettings;
}

export interface SeriesForecast {
  readonly id: string;
  readonly metric: Metric;
  /** Per-minute values seen (held minutes of a longer step included). */
  readonly samples: number;
  /** The double moving average forecast `horizon` minutes after the last minute. */
  readonly next: Forecast;
  /** Times the series broke on a gap and started over. */
  readonly gaps: number;
}

export interface TraceEvaluationResult {
  readonly series: SeriesForecast[];
  readonly evaluation: Record<ForecasterName, Record<Metric, Scores>>;
  /** Scores over every metric together. */
  readonly overall: Record<ForecasterName, Scores>;
  /** With `coverage`: per metric and over all, how often forecast + error headroom covered the actual. */
  readonly coverage?: { readonly perMetric: Record<Metric, Coverage>; readonly overall: Coverage };
  /** Samples dropped because they came more than reorderMinutes late. */
  readonly late: number;
}

interface MetricState {
  readonly resampler: MinuteResampler;
  readonly evaluator: SeriesEvaluator;
  readonly forecasters: readonly Forecaster[];
  gaps: number;
}

export type SampleValues = Readonly<Partial<Record<Metric, number>>>;

export class TraceEvaluation {
  private readonly series = new Map<string, (MetricState | undefined)[]>();
  private readonly sums: Record<Metric, ScoreSums[]>;
  private readonly covered?: Record<Metric, CoverageSums>;
  private late = 0;

  constructor(readonly opts: TraceEvaluationOptions) {
    standardForecasters({ window: opts.window }); // validates the window before any sample
    this.sums = {} as Record<Metric, ScoreSums[]>;
    for (const m of METRICS) this.sums[m] = FORECASTER_NAMES.map(() => new ScoreSums());
    const c = opts.coverage;
    if (c) {
      if (!(c.errorQuantile >= 0 && c.errorQuantile <= 1)) throw new RangeError(`error quantile must be in [0, 1], got ${c.errorQuantile}`);
      if (!Number.isInteger(c.errorWindow) || c.errorWindow < 1) throw new RangeError(`error window must be an integer >= 1, got ${c.errorWindow}`);
      const covered = {} as Record<Metric, CoverageSums>;
      for (const m of METRICS) covered[m] = new CoverageSums(c.errorQuantile);
      this.covered = covered;
    }
  }

  /** One sample of series `id` at tMs; metrics absent or NaN are skipped. */
  add(id: string, tMs: number, values: SampleValues): void {
    let states = this.series.get(id);
    if (!states) {
      states = METRICS.map(() => undefined);
      this.series.set(id, states);
    }
    for (let k = 0; k < METRICS.length; k++) {
      const m = METRICS[k]!;
      const v = values[m];
      if (v === undefined || Number.isNaN(v)) continue;
      const st = states[k] ?? (states[k] = this.newState(m));
      if (st.resampler.add(tMs, v) === 'late') this.late++;
    }
  }

  finish(): TraceEvaluationResult {
    const series: SeriesForecast[] = [];
    for (const [id, states] of this.series) {
      for (let k = 0; k < METRICS.length; k++) {
        const st = states[k];
        if (!st) continue;
        st.resampler.flush();
        series.push({ id, metric: METRICS[k]!, samples: st.resampler.minutes, next: st.forecasters[0]!.forecast(this.opts.horizon), gaps: st.gaps });
      }
    }
    const evaluation = {} as Record<ForecasterName, Record<Metric, Scores>>;
    const overall = {} as Record<ForecasterName, Scores>;
    FORECASTER_NAMES.forEach((name, f) => {
      const per = {} as Record<Metric, Scores>;
      const all = new ScoreSums();
      for (const m of METRICS) {
        per[m] = this.sums[m][f]!.scores();
        all.merge(this.sums[m][f]!);
      }
      evaluation[name] = per;
      overall[name] = all.scores();
    });
    let coverage: TraceEvaluationResult['coverage'];
    if (this.covered) {
      const perMetric = {} as Record<Metric, Coverage>;
      const all = new CoverageSums(this.opts.coverage!.errorQuantile);
      for (const m of METRICS) {
        perMetric[m] = this.covered[m].coverage();
        all.merge(this.covered[m]);
      }
      coverage = { perMetric, overall: all.coverage() };
    }
    return { series, evaluation, overall, late: this.late, ...(coverage ? { coverage } : {}) };
  }

  private newState(m: Metric): MetricState {
    const forecasters = standardForecasters({ window: this.opts.window });
    const c = this.opts.coverage;
    const evaluator = new SeriesEvaluator(forecasters, this.sums[m], this.opts.horizon, this.opts.headroom, c && this.covered ? { settings: c, sums: this.covered[m] } : undefined);
    const st: MetricState = {
      forecasters,
      evaluator,
      gaps: 0,
      resampler: new MinuteResampler(
        {
          minute: (_minute, v) => evaluator.observe(v),
          gap: () => {
            st.gaps++;
            evaluator.reset();
          },
        },
        { reorderMinutes: this.opts.reorderMinutes ?? 10, maxHoldMinutes: this.opts.maxHoldMinutes ?? 60, stepMinutes: this.opts.stepMinutes ?? 1 },
      ),
    };
    return st;
  }
}
