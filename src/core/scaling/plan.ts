/**
 * The scaling plan (scaling method, steps 3 and 4), a pure function of a snapshot:
 *
 * 1. Per application and resource: forecast the utilisation T minutes ahead (double moving
 *    average over its usage window); desired = forecast x allocation x (1 + headroom),
 *    rounded up to the resource's resolution, within min/max. No forecast (still starting):
 *    desired = allocation. Increase wanted = desired - allocation where positive; releasable
 *    e = allocation - desired where positive.
 * 2. Per resource: P = sum of increases, Q = capacity - sum of allocations. If P <= Q for
 *    every resource, every increase is granted and nothing is reclaimed.
 * 3. Otherwise, for the resources in deficit (P > Q), applications give back their e in
 *    descending score (ties: lower priority, then larger e, then name) until every deficit
 *    is covered. Generations: surplus idle (unused) for fewer than `youngMinutes` is young
 *    and released at once; older surplus is marked in this plan and compacted in the next,
 *    at most `compactStep` x allocation per plan; memory compaction is preceded by a
 *    proactive reclaim. Only releases and compactions cover a deficit; a mark does not.
 * 4. Increases of a resource in deficit are granted from Q plus what was released, highest
 *    priority first (ties: system first, then name); what cannot be granted is unmet demand.
 *
 * Amounts are handled in integer units (millicores, bytes) so sums are exact.
 */
import { dmaDirect } from '../forecast/dma.ts';
import type { Forecast } from '../forecast/forecaster.ts';
import { METRICS, type Metric } from '../forecast/window.ts';
import { formatQuantity } from '../k8s/quantity.ts';
import { scoreApps } from './score.ts';
import {
  RESOURCES,
  RESOURCE_METRIC,
  Reason,
  type Action,
  type Amounts,
  type AppInput,
  type AppPlan,
  type Generation,
  type Plan,
  type PlanInput,
  type Release,
  type Resource,
  type ResourceSummary,
} from './types.ts';

const R = RESOURCES.length;

/** Desired allocations are rounded up to: 1m cpu, 1Mi memory, 1k bytes/s network and disk. */
const GRANULE: Readonly<Record<Resource, number>> = { cpu: 1, memory: 2 ** 20, network: 1000, disk: 1000 };
const RI: Readonly<Record<Resource, number>> = { cpu: 0, memory: 1, network: 2, disk: 3 };

/** Base units -> integer units (millicores for cpu). */
export const toUnits = (r: Resource, x: number): number => (r === 'cpu' ? Math.round(x * 1000) : Math.round(x));
export const fromUnits = (r: Resource, u: number): number => (r === 'cpu' ? u / 1000 : u);

/** A quantity as an operator reads it (cores, Mi/Gi, bytes per second). */
export function describeAmount(r: Resource, x: number): string {
  if (r === 'cpu') return formatQuantity(x, 'DecimalSI');
  if (r === 'memory') {
    const q = formatQuantity(x, 'BinarySI');
    // An odd byte count reads better as approximate Mi than as a long integer.
    return /^\d+$/.test(q) && x >= 2 ** 20 ? `~${(x / 2 ** 20).toFixed(1)}Mi` : q;
  }
  return `${formatQuantity(x, 'DecimalSI')}/s`;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

interface Work {
  readonly input: AppInput;
  readonly index: number;
  readonly score: number;
  // Per resource, in integer units. Plain arrays: small typed arrays cost more to allocate.
  readonly alloc: number[]; // updated as actions apply
  readonly desired: number[];
  readonly inc: number[];
  readonly e: number[];
  readonly idle: number[]; // minutes the surplus has been unused
  readonly marked: number[];
  readonly marks: number[]; // marks carried to the next plan
  readonly actions: Action[];
  readonly forecasts: Record<Metric, Forecast>;
}

export function plan(input: PlanInput): Plan {
  const { policy } = input;
  const terms = scoreApps(input.apps, policy.usageMinutes);
  const capacity = RESOURCES.map((r) => toUnits(r, input.capacity[r]));

  const work: Work[] = input.apps.map((app, index) => prepare(app, index, terms[index]!.score, input));

  // P and Q per resource.
  const allocated = new Float64Array(R);
  const wanted = new Float64Array(R);
  for (const w of work) for (let r = 0; r < R; r++) {
    allocated[r] = allocated[r]! + w.alloc[r]!;
    wanted[r] = wanted[r]! + w.inc[r]!;
  }
  const free = capacity.map((c, r) => c - allocated[r]!);
  const deficit = free.map((q, r) => Math.max(0, wanted[r]! - q));
  const inDeficit = deficit.map((d) => d > 0);
  const fits = !inDeficit.some(Boolean);

  const released = new Float64Array(R);
  const releases: Release[] = [];
  // An application following another forecaster's recommendation gives its surplus back at once.
  for (const w of work) {
    if (!w.input.recommended) continue;
    for (let r = 0; r < R; r++) {
      const e = w.e[r]!;
      if (e <= 0) continue;
      const res = RESOURCES[r]!;
      const alloc = w.alloc[r]!;
      w.alloc[r] = alloc - e;
      w.e[r] = 0;
      w.actions.push({
        kind: 'release', resource: res, amount: fromUnits(res, e), from: fromUnits(res, alloc), to: fromUnits(res, alloc - e), generation: 'young',
        reason: Reason.RecommendationFollowed, detail: `recommendation ${describeAmount(res, fromUnits(res, w.desired[r]!))}: ${describeAmount(res, fromUnits(res, e))} released`,
      });
      released[r] = released[r]! + e;
      releases.push({ app: w.input.name, score: w.score, resource: res, amount: fromUnits(res, e), generation: 'young', kind: 'release' });
    }
  }

  // Reclaim, in score order, for the resources in deficit.
  if (!fits) {
    const eShare = (w: Work): number => {
      let s = 0;
      // e as a share of capacity, so resources of different units add up (tie-break only).
      for (let r = 0; r < R; r++) if (inDeficit[r] && w.e[r]! > 0) s += w.e[r]! / Math.max(1, capacity[r]!);
      return s;
    };
    const shares = work.map(eShare);
    const order = work
      .filter((w, i) => shares[i]! > 0)
      .sort((a, b) => b.score - a.score || a.input.priority - b.input.priority || shares[b.index]! - shares[a.index]! || cmp(a.input.name, b.input.name));
    const remaining = deficit.slice();
    for (const w of order) {
      if (!remaining.some((d) => d > 0)) break;
      for (let r = 0; r < R; r++) {
        if (!(remaining[r]! > 0) || w.e[r]! <= 0) continue;
        const got = reclaim(w, r, policy.youngMinutes, policy.compactStep);
        if (got.amount > 0) {
          remaining[r] = remaining[r]! - got.amount;
          released[r] = released[r]! + got.amount;
          releases.push({ app: w.input.name, score: w.score, resource: RESOURCES[r]!, amount: fromUnits(RESOURCES[r]!, got.amount), generation: got.generation, kind: got.kind });
        }
      }
    }
  }

  // Grants: all of them where the resource fits; by priority from what is free where not.
  const granted = new Float64Array(R);
  const unmet = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const wanting = work.filter((w) => w.inc[r]! > 0);
    if (!inDeficit[r]) {
      for (const w of wanting) granted[r] = granted[r]! + grant(w, r, w.inc[r]!, w.input.forecast?.headroom ?? input.policy.headroom);
      continue;
    }
    wanting.sort((a, b) => b.input.priority - a.input.priority || Number(b.input.system) - Number(a.input.system) || cmp(a.input.name, b.input.name));
    let available = Math.max(0, free[r]! + released[r]!);
    for (const w of wanting) {
      const g = Math.min(w.inc[r]!, available);
      available -= g;
      granted[r] = granted[r]! + grant(w, r, g, w.input.forecast?.headroom ?? input.policy.headroom);
      unmet[r] = unmet[r]! + (w.inc[r]! - g);
    }
  }

  const amounts = (xs: ArrayLike<number>): Amounts => ({
    cpu: fromUnits('cpu', xs[0]!),
    memory: fromUnits('memory', xs[1]!),
    network: fromUnits('network', xs[2]!),
    disk: fromUnits('disk', xs[3]!),
  });
  const resources = {} as Record<Resource, ResourceSummary>;
  for (const res of RESOURCES) {
    const r = RI[res];
    resources[res] = {
      capacity: fromUnits(res, capacity[r]!),
      allocated: fromUnits(res, allocated[r]!),
      wanted: fromUnits(res, wanted[r]!),
      free: fromUnits(res, free[r]!),
      deficit: fromUnits(res, deficit[r]!),
      released: fromUnits(res, released[r]!),
      granted: fromUnits(res, granted[r]!),
      unmet: fromUnits(res, unmet[r]!),
    };
  }

  const apps: AppPlan[] = work.map((w, i) => {
    const t = terms[i]!;
    const marks: Partial<Amounts> = {};
    for (const res of RESOURCES) if (w.marks[RI[res]]! > 0) marks[res] = fromUnits(res, w.marks[RI[res]]!);
    return {
      name: w.input.name,
      priority: w.input.priority,
      score: t.score,
      aplv: t.aplv,
      aptl: t.aptl,
      maxima: t.maxima,
      forecasts: w.forecasts,
      desired: amounts(w.desired),
      allocation: amounts(w.alloc),
      actions: w.actions,
      marks,
    };
  });

  return { fits, resources, apps, releases, unmet: amounts(unmet) };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function prepare(app: AppInput, index: number, score: number, input: PlanInput): Work {
  const { policy } = input;
  const forecasts = {} as Record<Metric, Forecast>;
  for (const m of METRICS) {
    const series = app.usage[m];
    const d = dmaDirect(series, app.forecast?.window ?? policy.window, app.forecast?.horizon ?? policy.horizon, series.length);
    forecasts[m] = d.ok ? { ok: true, value: d.value } : d;
  }
  const w: Work = {
    input: app,
    index,
    score,
    alloc: [0, 0, 0, 0],
    desired: [0, 0, 0, 0],
    inc: [0, 0, 0, 0],
    e: [0, 0, 0, 0],
    idle: [0, 0, 0, 0],
    marked: [0, 0, 0, 0],
    marks: [0, 0, 0, 0],
    actions: [],
    forecasts,
  };
  for (const res of RESOURCES) {
    const r = RI[res];
    const alloc = toUnits(res, app.allocation[res]);
    const f = forecasts[RESOURCE_METRIC[res]];
    const g = GRANULE[res];
    const rec = app.recommended?.[res];
    let desired = rec !== undefined ? Math.ceil(toUnits(res, rec) / g - 1e-9) * g : f.ok ? Math.ceil((f.value * alloc * (1 + (app.forecast?.headroom ?? policy.headroom))) / g - 1e-9) * g : alloc;
    const lo = app.min?.[res];
    const hi = app.max?.[res];
    if (lo !== undefined) desired = Math.max(desired, toUnits(res, lo));
    if (hi !== undefined) desired = Math.min(desired, toUnits(res, hi));
    w.alloc[r] = alloc;
    w.desired[r] = desired;
    w.inc[r] = Math.max(0, desired - alloc);
    w.e[r] = Math.max(0, alloc - desired);
    w.idle[r] = idleMinutes(app.usage[RESOURCE_METRIC[res]], alloc, desired);
    const marked = app.marked?.[res];
    w.marked[r] = marked === undefined ? 0 : Math.min(toUnits(res, marked), w.e[r]!);
    // A mark stays while its surplus stays old and unreclaimed.
    if (w.marked[r]! > 0 && w.idle[r]! >= policy.youngMinutes) w.marks[r] = w.marked[r]!;
  }
  return w;
}

/** Minutes, counted back from the newest, in which usage stayed within the desired allocation. */
function idleMinutes(usage: readonly number[], alloc: number, desired: number): number {
  if (alloc <= 0) return 0;
  const limit = desired / alloc + 1e-12;
  let n = 0;
  for (let i = usage.length - 1; i >= 0 && usage[i]! <= limit; i--) n++;
  return n;
}

interface Reclaimed {
  readonly amount: number;
  readonly generation: Generation;
  readonly kind: 'release' | 'compact';
}

/** Takes application w's surplus of resource r, by generation. Returns what it frees now. */
function reclaim(w: Work, r: number, youngMinutes: number, compactStep: number): Reclaimed {
  const res = RESOURCES[r]!;
  const alloc = w.alloc[r]!;
  const e = w.e[r]!;
  const young = w.idle[r]! < youngMinutes;
  const say = (u: number): string => describeAmount(res, fromUnits(res, u));
  if (young) {
    w.alloc[r] = alloc - e;
    w.marks[r] = 0;
    w.actions.push({
      kind: 'release', resource: res, amount: fromUnits(res, e), from: fromUnits(res, alloc), to: fromUnits(res, alloc - e), generation: 'young',
      reason: Reason.YoungSurplusReleased,
      detail: `surplus ${say(e)} above desired ${say(w.desired[r]!)} idle ${w.idle[r]} min (< ${youngMinutes}): released at once`,
    });
    return { amount: e, generation: 'young', kind: 'release' };
  }
  const marked = w.marked[r]!;
  if (marked <= 0) {
    w.marks[r] = e;
    w.actions.push({
      kind: 'mark', resource: res, amount: fromUnits(res, e), from: fromUnits(res, alloc), to: fromUnits(res, alloc), generation: 'old',
      reason: Reason.OldSurplusMarked,
      detail: `surplus ${say(e)} idle ${w.idle[r]} min (>= ${youngMinutes}): marked, to compact in the next plan`,
    });
    return { amount: 0, generation: 'old', kind: 'compact' };
  }
  const stepCap = Math.floor(compactStep * alloc);
  const step = Math.min(marked, e, stepCap);
  if (step <= 0) return { amount: 0, generation: 'old', kind: 'compact' };
  if (res === 'memory') {
    w.actions.push({
      kind: 'proactive-reclaim', resource: res, amount: fromUnits(res, step), from: fromUnits(res, alloc), to: fromUnits(res, alloc), generation: 'old',
      reason: Reason.ProactiveReclaim,
      detail: `reclaim ${say(step)} of the container's memory (memory.reclaim) before its limit drops`,
    });
  }
  w.alloc[r] = alloc - step;
  w.marks[r] = marked - step;
  w.actions.push({
    kind: 'compact', resource: res, amount: fromUnits(res, step), from: fromUnits(res, alloc), to: fromUnits(res, alloc - step), generation: 'old',
    reason: Reason.OldSurplusCompacted,
    detail: `marked surplus compacted by ${say(step)} (at most ${pct(compactStep)} of ${say(alloc)} per step); ${say(marked - step)} still marked`,
  });
  return { amount: step, generation: 'old', kind: 'compact' };
}

function grant(w: Work, r: number, amount: number, headroom: number): number {
  const res = RESOURCES[r]!;
  const alloc = w.alloc[r]!;
  const want = w.inc[r]!;
  const f = w.forecasts[RESOURCE_METRIC[res]];
  const why = f.ok ? `forecast ${pct(f.value)} x ${describeAmount(res, fromUnits(res, alloc))} x ${(1 + headroom).toFixed(2)}` : 'minimum allocation';
  const say = (u: number): string => describeAmount(res, fromUnits(res, u));
  if (amount > 0) {
    w.alloc[r] = alloc + amount;
    w.actions.push({
      kind: 'grant', resource: res, amount: fromUnits(res, amount), from: fromUnits(res, alloc), to: fromUnits(res, alloc + amount),
      reason: amount === want ? Reason.IncreaseGranted : Reason.IncreasePartlyGranted,
      detail: amount === want ? `${why} = ${say(w.desired[r]!)}: +${say(amount)} granted` : `${why} = ${say(w.desired[r]!)}: +${say(amount)} of ${say(want)} granted, capacity short`,
    });
  }
  if (amount < want) {
    w.actions.push({
      kind: 'unmet', resource: res, amount: fromUnits(res, want - amount), from: fromUnits(res, alloc + amount), to: fromUnits(res, alloc + amount),
      reason: Reason.IncreaseUnmet,
      detail: `${say(want - amount)} of the increase cannot be granted: capacity short after reclaim`,
    });
  }
  return amount;
}
