/**
 * The reclaim score of the scaling method (formula 7):
 *   score_i = (4 - mem - cpu - net - disk) * (1 - aplv) * (1 - aptl)
 * with each metric the application's highest utilisation over its usage window (demand /
 * allocation, capped at 1; a resource with no allocation: its demand, already a
 * utilisation), aplv its priority
 * normalised over the plan's applications (+0.2 for a system application, +0.1 for a user
 * one, when its priority equals another application's; capped at 1), and aptl the share of
 * the usage window it has been running (capped at 1). A higher score is reclaimed first.
 */
import { METRICS, type Metric } from '../forecast/window.ts';
import { RESOURCE_OF_METRIC, type Amounts } from './types.ts';

export interface ScoreInput {
  readonly priority: number;
  readonly system: boolean;
  readonly runningMinutes: number;
  readonly allocation: Amounts;
  readonly demand: Readonly<Record<Metric, readonly number[]>>;
}

export interface ScoreTerms {
  readonly score: number;
  readonly aplv: number;
  readonly aptl: number;
  readonly maxima: Record<Metric, number>;
}

/** Maximum of the last `minutes` values (0 when there are none). */
export function windowMax(values: readonly number[], minutes: number): number {
  let m = 0;
  for (let i = Math.max(0, values.length - minutes); i < values.length; i++) if (values[i]! > m) m = values[i]!;
  return m;
}

/** Scores every application; aplv is normalised over all of them. */
export function scoreApps(apps: readonly ScoreInput[], usageMinutes: number): ScoreTerms[] {
  let pmin = Infinity;
  let pmax = -Infinity;
  const same = new Map<number, number>();
  for (const a of apps) {
    if (a.priority < pmin) pmin = a.priority;
    if (a.priority > pmax) pmax = a.priority;
    same.set(a.priority, (same.get(a.priority) ?? 0) + 1);
  }
  return apps.map((a) => {
    let aplv = pmax > pmin ? (a.priority - pmin) / (pmax - pmin) : 0;
    if ((same.get(a.priority) ?? 0) > 1) aplv += a.system ? 0.2 : 0.1;
    if (aplv > 1) aplv = 1;
    const aptl = Math.min(1, Math.max(0, a.runningMinutes) / usageMinutes);
    const maxima = { cpu: 0, mem: 0, net: 0, disk: 0 };
    let idle = 4;
    for (const m of METRICS) {
      const alloc = a.allocation[RESOURCE_OF_METRIC[m]];
      const peak = windowMax(a.demand[m], usageMinutes);
      maxima[m] = Math.min(1, alloc > 0 ? peak / alloc : peak);
      idle -= maxima[m];
    }
    return { score: idle * (1 - aplv) * (1 - aptl), aplv, aptl, maxima };
  });
}
