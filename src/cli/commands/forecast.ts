/**
 * `polyarch forecast --input FILE`: forecasts every series of a usage trace with the double
 * moving average and scores it, walking forward over the history, against the baselines.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { z } from 'zod';
import { readTraceFile } from '../../adapters/metrics/csv-trace.ts';
import { FORECASTER_NAMES, METRICS, TraceEvaluation, type Coverage, type Scores } from '../../core/forecast/index.ts';
import { DEFAULT_POLICY } from '../../core/scaling/types.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';

const optionsSchema = z.object({
  input: z.string().min(1),
  window: z.coerce.number().int().min(2).max(1000),
  horizon: z.coerce.number().int().min(1).max(1440),
  headroom: z.coerce.number().min(0).max(10),
  errorQuantile: z.coerce.number().min(0).max(1),
  errorWindow: z.coerce.number().int().min(1).max(10080),
  headroomFloor: z.coerce.number().min(0).max(10),
  step: z.coerce.number().int().min(1).max(1440),
  units: z.enum(['auto', 'fraction', 'percent']),
  output: z.enum(['text', 'json']),
});

/** Machine output carries full precision (JSON has no NaN or Infinity: those are null); only the tables round. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

const coverageJson = (c: Coverage) => ({ points: c.points, asked: c.asked, achieved: finite(c.achieved), slack: finite(c.slack) });

const scoresJson = (s: Scores) => ({ points: s.points, mae: finite(s.mae), rmse: finite(s.rmse), under: finite(s.under), slack: finite(s.slack), shortage: finite(s.shortage) });

export function registerForecast(program: Command): void {
  program
    .command('forecast')
    .requiredOption('-i, --input <file>', 'usage trace: generic timestamp,id,cpu,mem,net,disk CSV or Alibaba container_usage.csv')
    .option('-w, --window <n>', 'double moving average window N (minutes)', '10')
    .option('-T, --horizon <t>', 'forecast horizon T (minutes)', '5')
    .option('--headroom <h>', 'headroom for the slack and shortage scores', '0.15')
    .option('--error-quantile <q>', 'coverage: the double moving average + this quantile of its own recent errors, as the scaling plan sets it', String(DEFAULT_POLICY.errorQuantile))
    .option('--error-window <n>', 'coverage: recent errors the quantile reads (minutes, or steps)', String(DEFAULT_POLICY.errorWindow))
    .option('--headroom-floor <h>', "coverage: the headroom's floor, a share of the forecast", String(DEFAULT_POLICY.headroom))
    .option('--step <minutes>', 'resample to steps of this many minutes (window and horizon then count steps)', '1')
    .addOption(new Option('--units <units>', 'utilisation units of a generic file').choices(['auto', 'fraction', 'percent']).default('auto'))
    .addOption(outputOption())
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw usageError(`--${String(issue.path[0])}: ${issue.message}`);
      }
      const opts = parsed.data;
      await runForecast(opts, opts.output);
    });
}

async function runForecast(opts: z.infer<typeof optionsSchema>, output: OutputFormat): Promise<void> {
  const evaluation = new TraceEvaluation({
    window: opts.window, horizon: opts.horizon, headroom: opts.headroom, stepMinutes: opts.step,
    coverage: { errorQuantile: opts.errorQuantile, errorWindow: opts.errorWindow, headroom: opts.headroomFloor },
  });
  const read = await readTraceFile(opts.input, (s) => evaluation.add(s.id, s.tMs, s.values), { units: opts.units });
  if (!read.ok) throw new CliError(`${opts.input}: ${read.error}`, 1);
  const summary = read.value;
  // One summary line however many lines were skipped (--output json lists the first ones under input.issues).
  const firstIssue = summary.issues[0];
  if (firstIssue) process.stderr.write(`polyarch: ${opts.input}: ${summary.corrupt} corrupt line(s) skipped (first: line ${firstIssue.line}: ${firstIssue.message})\n`);
  if (summary.samples === 0) throw new CliError(`${opts.input}: no samples (${summary.corrupt} corrupt line(s))`, 1);
  const result = evaluation.finish();
  const cov = result.coverage!;

  const evaluationJson: Record<string, Record<string, ReturnType<typeof scoresJson>>> = {};
  const overallJson: Record<string, ReturnType<typeof scoresJson>> = {};
  for (const name of FORECASTER_NAMES) {
    const per: Record<string, ReturnType<typeof scoresJson>> = {};
    for (const m of METRICS) per[m] = scoresJson(result.evaluation[name][m]);
    evaluationJson[name] = per;
    overallJson[name] = scoresJson(result.overall[name]);
  }
  const series = result.series.map((s) => ({
    id: s.id,
    metric: s.metric,
    samples: s.samples,
    next: s.next.ok ? finite(s.next.value) : null,
    ...(s.next.ok ? {} : { reason: `${s.next.reason}: ${s.next.have} of ${s.next.needed} minutes` }),
    ...(s.gaps > 0 ? { gaps: s.gaps } : {}),
  }));

  if (output === 'json') {
    printJson({
      window: opts.window,
      horizon: opts.horizon,
      headroom: opts.headroom,
      step: opts.step,
      input: { file: opts.input, format: summary.format, units: summary.units, lines: summary.lines, samples: summary.samples, corrupt: summary.corrupt, missing: summary.missing, late: result.late, issues: summary.issues },
      series,
      evaluation: evaluationJson,
      overall: overallJson,
      coverage: {
        errorQuantile: opts.errorQuantile,
        errorWindow: opts.errorWindow,
        headroomFloor: opts.headroomFloor,
        ...Object.fromEntries(METRICS.map((m) => [m, coverageJson(cov.perMetric[m])])),
        all: coverageJson(cov.overall),
      },
    });
    return;
  }

  const out: string[] = [];
  out.push(`${opts.input}: ${summary.format} format, ${summary.units}s, ${summary.samples} samples, ${summary.corrupt} corrupt line(s) skipped, ${result.late} late sample(s) dropped`);
  const unit = opts.step === 1 ? 'min' : `steps of ${opts.step} min`;
  out.push(`window N=${opts.window}, horizon T=${opts.horizon} ${unit}, headroom ${opts.headroom}`);
  out.push('');
  out.push(formatTable(['series', 'metric', opts.step === 1 ? 'minutes' : 'steps', `next (+${opts.horizon} ${opts.step === 1 ? 'min' : 'steps'})`], series.map((s) => [s.id, s.metric, String(s.samples), s.next === null ? `- (${s.reason})` : s.next.toFixed(4)])));
  out.push('');
  const f = (x: number | null): string => (x === null ? '-' : x.toFixed(4));
  const rows: string[][] = [];
  for (const name of FORECASTER_NAMES) {
    for (const m of [...METRICS, 'all'] as const) {
      const s = m === 'all' ? overallJson[name]! : evaluationJson[name]![m]!;
      rows.push([name, m, String(s.points), f(s.mae), f(s.rmse), f(s.under), f(s.slack), f(s.shortage)]);
    }
  }
  out.push(formatTable(['forecaster', 'metric', 'points', 'MAE', 'RMSE', 'under', 'slack', 'shortage'], rows));
  out.push('');
  out.push(`coverage: dma + P${+(opts.errorQuantile * 100).toFixed(1)} of its last ${opts.errorWindow} errors (floor ${opts.headroomFloor} x forecast), as the scaling plan sets it`);
  const pc = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const covRows = [...METRICS, 'all' as const].map((m) => {
    const c = coverageJson(m === 'all' ? cov.overall : cov.perMetric[m]);
    return [m, String(c.points), pc(c.asked), pc(c.achieved), f(c.slack)];
  });
  out.push(formatTable(['metric', 'points', 'asked', 'achieved', 'slack'], covRows));
  process.stdout.write(`${out.join('\n')}\n`);
}
