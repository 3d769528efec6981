/**
 * The scaling plan (scaling method, steps 3 and 4), a pure function of a snapshot:
 *
 * 1. Per application and resource: forecast the demand T minutes ahead (double moving
 *    average over its per-minute demand, in cores, bytes, bytes/s; not capped at the
 *    allocation). Headroom = the `errorQuantile` of the forecaster's own recent errors
 *    (actual - forecast made T minutes before, over `errorWindow` minutes), at least
 *    `headroom` x forecast (the floor; 15 % until 10 errors are known). desired = forecast
 *    + headroom, rounded up to the resource's resolution; memory never below the highest
 *    demand of the usage window (which includes current use); within min/max. No forecast
 *    (still starting): desired = allocation. A resource the application has no allocation
 *    of gets no forecast-based desired (only a `min` raises it). Increase wanted = desired - allocation where positive; surplus
 *    e = allocation - desired where positive.
 * 2. Per resource: P = sum of increases, Q = capacity - sum of allocations.
 * 3. Deficit (P > Q): applications give back their e in descending score (ties: lower
 *    priority, then larger e, then name) until the deficit is covered: young surplus
 *    (unused for fewer than `youngMinutes`) at once; old surplus compacted now, at least
 *    one step and at most e (memory: a proactive reclaim first).
 * 4. Increases are granted from Q plus what was released, highest priority first (ties:
 *    system first, then name); what cannot be granted is unmet demand.
 * 5. Give-back: the surplus still left is released through the generations, in the same
 *    score order: young at once; old marked, then compacted by at most `compactStep` x
 *    allocation per plan (memory: a proactive reclaim before every decrease).
 * A disruption budget (`maxPodChanges`) bounds the pods changed per plan: the order above
 * decides who changes first; what is left waits (`held`). A mark changes no pod.
 *
 * An application with a `recommended` target (another forecaster's, the VPA baseline)
 * takes it as desired, and gives any surplus back at once.
 *
 * Amounts are handled in integer units (millicores, bytes) so sums are exact.
 */
import { dmaAmount, dmaErrors } from '../forecast/dma.ts';
import { headroomOf } from '../forecast/headroom.ts';
import type { Forecast } from '../forecast/forecaster.ts';
import type { Headroom } from '../forecast/headroom.ts';
import type { Metric } from '../forecast/window.ts';
import { formatQuantity } from '../k8s/quantity.ts';
import { scoreApps, windowMax } from './score.ts';
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
  type PlanPolicy,
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
export function describeAmount(r: Resource, x0: number): string {
  // Millicores, whole bytes: a forecast's decimals say nothing an operator can use.
  const x = r === 'cpu' ? Math.round(x0 * 1000) / 1000 : Math.round(x0);
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
  readonly pods: number;
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
  readonly headroom: Partial<Record<Resource, Headroom>>;
  /** Changed (resized) by this plan already: further changes cost no more of the budget. */
  changed: boolean;
}

/** The disruption budget of one plan: pods that may still change. */
class Budget {
  private left: number;
  constructor(limit: number | undefined) {
    this.left = limit === undefined ? Infinity : Math.max(0, limit);
  }
  take(w: Work): boolean {
    if (w.changed) return true;
    if (w.pods > this.left) return false;
    this.left -= w.pods;
    w.changed = true;
    return true;
  }
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
  const budget = new Budget(policy.maxPodChanges);

  const released = new Float64Array(R);
  const releases: Release[] = [];
  const take = (w: Work, r: number, got: Reclaimed): void => {
    if (got.amount <= 0) return;
    released[r] = released[r]! + got.amount;
    releases.push({ app: w.input.name, score: w.score, resource: RESOURCES[r]!, amount: fromUnits(RESOURCES[r]!, got.amount), generation: got.generation, kind: got.kind });
  };
  const eShare = (w: Work, only?: readonly boolean[]): number => {
    let s = 0;
    // e as a share of capacity, so resources of different units add up (tie-break only).
    for (let r = 0; r < R; r++) if ((!only || only[r]) && w.e[r]! > 0) s += w.e[r]! / Math.max(1, capacity[r]!);
    return s;
  };
  const byScore = (only?: readonly boolean[]): Work[] => {
    const shares = work.map((w) => eShare(w, only));
    return work
      .filter((w, i) => shares[i]! > 0)
      .sort((a, b) => b.score - a.score || a.input.priority - b.input.priority || shares[b.index]! - shares[a.index]! || cmp(a.input.name, b.input.name));
  };

  // Deficit: reclaim, in score order, for the resources in deficit, until covered.
  if (!fits) {
    const remaining = deficit.slice();
    for (const w of byScore(inDeficit)) {
      if (!remaining.some((d) => d > 0)) break;
      for (let r = 0; r < R; r++) {
        if (!(remaining[r]! > 0) || w.e[r]! <= 0) continue;
        const got = reclaim(w, r, policy, budget, remaining[r]!);
        remaining[r] = remaining[r]! - got.amount;
        take(w, r, got);
      }
    }
  }

  // Grants, highest priority first: all of them where the resource fits; from what is free (plus released) where not.
  const granted = new Float64Array(R);
  const unmet = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const wanting = work.filter((w) => w.inc[r]! > 0);
    wanting.sort((a, b) => b.input.priority - a.input.priority || Number(b.input.system) - Number(a.input.system) || cmp(a.input.name, b.input.name));
    let available = inDeficit[r] ? Math.max(0, free[r]! + released[r]!) : Infinity;
    for (const w of wanting) {
      let g = Math.min(w.inc[r]!, available);
      if (g > 0 && !budget.take(w)) {
        hold(w, r, g, 'increase');
        g = 0;
      }
      available -= g;
      granted[r] = granted[r]! + grant(w, r, g);
      unmet[r] = unmet[r]! + (w.inc[r]! - g);
    }
  }

  // Give-back: what is still surplus goes through the generations, in score order.
  for (const w of byScore()) {
    for (let r = 0; r < R; r++) {
      if (w.e[r]! <= 0) continue;
      take(w, r, reclaim(w, r, policy, budget, undefined));
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
      headroom: w.headroom,
      desired: amounts(w.desired),
      allocation: amounts(w.alloc),
      actions: w.actions,
      marks,
    };
  });

  return { fits, resources, apps, releases, unmet: amounts(unmet) };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Forecast + headroom for one demand series (amounts in the resource's units). `headroom:
 * false` leaves the headroom out (the forecaster's errors are not read): the plan's way for a
 * resource whose desired allocation does not come from the forecast.
 */
export function forecastWithHeadroom(series: readonly number[], o: { readonly window: number; readonly horizon: number; readonly headroom: number; readonly errorQuantile: number; readonly errorWindow: number }, headroom = true): { forecast: Forecast; headroom?: Headroom } {
  const f = dmaAmount(series, o.window, o.horizon);
  if (!f.ok || !headroom) return { forecast: f };
  const errors = o.errorQuantile > 0 ? dmaErrors(series, o.window, o.horizon, o.errorWindow) : [];
  return { forecast: f, headroom: headroomOf(f.value, errors, o) };
}

function prepare(app: AppInput, index: number, score: number, input: PlanInput): Work {
  const { policy } = input;
  const settings = {
    window: app.forecast?.window ?? policy.window,
    horizon: app.forecast?.horizon ?? policy.horizon,
    headroom: app.forecast?.headroom ?? policy.headroom,
    errorQuantile: app.forecast?.errorQuantile ?? policy.errorQuantile,
    errorWindow: app.forecast?.errorWindow ?? policy.errorWindow,
  };
  const forecasts = {} as Record<Metric, Forecast>;
  const headroom: Partial<Record<Resource, Headroom>> = {};
  const w: Work = {
    input: app,
    index,
    score,
    pods: Math.max(1, app.pods ?? 1),
    alloc: [0, 0, 0, 0],
    desired: [0, 0, 0, 0],
    inc: [0, 0, 0, 0],
    e: [0, 0, 0, 0],
    idle: [0, 0, 0, 0],
    marked: [0, 0, 0, 0],
    marks: [0, 0, 0, 0],
    actions: [],
    forecasts,
    headroom,
    changed: false,
  };
  for (const res of RESOURCES) {
    const r = RI[res];
    const m = RESOURCE_METRIC[res];
    const series = app.demand[m];
    const alloc = toUnits(res, app.allocation[res]);
    const rec = app.recommended?.[res];
    // The headroom is read only where desired comes from the forecast: an allocation, no recommendation.
    const fh = forecastWithHeadroom(series, settings, alloc > 0 && rec === undefined);
    forecasts[m] = fh.forecast;
    const g = GRANULE[res];
    let desired = alloc;
    if (alloc > 0 && rec !== undefined) desired = Math.ceil(toUnits(res, rec) / g - 1e-9) * g;
    else if (alloc > 0 && fh.forecast.ok && fh.headroom) {
      headroom[res] = fh.headroom;
      desired = Math.ceil(toUnits(res, fh.forecast.value + fh.headroom.amount) / g - 1e-9) * g;
      // Memory never below the window's highest working set (current use included): the kernel would OOM-kill.
      if (res === 'memory') desired = Math.max(desired, Math.ceil(toUnits(res, windowMax(series, policy.usageMinutes)) / g - 1e-9) * g);
    }
    const lo = app.min?.[res];
    const hi = app.max?.[res];
    if (lo !== undefined) desired = Math.max(desired, toUnits(res, lo));
    if (hi !== undefined) desired = Math.min(desired, toUnits(res, hi));
    w.alloc[r] = alloc;
    w.desired[r] = desired;
    w.inc[r] = Math.max(0, desired - alloc);
    w.e[r] = Math.max(0, alloc - desired);
    w.idle[r] = idleMinutes(series, res, desired);
    const marked = app.marked?.[res];
    w.marked[r] = marked === undefined ? 0 : Math.min(toUnits(res, marked), w.e[r]!);
    // A mark stays while its surplus stays old and unreclaimed.
    if (w.marked[r]! > 0 && w.idle[r]! >= policy.youngMinutes) w.marks[r] = w.marked[r]!;
  }
  return w;
}

/** Minutes, counted back from the newest, in which demand stayed within the desired allocation. */
function idleMinutes(demand: readonly number[], res: Resource, desired: number): number {
  let n = 0;
  for (let i = demand.length - 1; i >= 0 && toUnits(res, demand[i]!) <= desired; i--) n++;
  return n;
}

interface Reclaimed {
  readonly amount: number;
  readonly generation: Generation;
  readonly kind: 'release' | 'compact';
}

const NOTHING: Reclaimed = { amount: 0, generation: 'old', kind: 'compact' };

function hold(w: Work, r: number, amount: number, what: 'increase' | 'decrease'): void {
  const res = RESOURCES[r]!;
  // A resource's change waits once, though a deficit's compaction and the give-back both try it.
  if (w.actions.some((a) => a.kind === 'held' && a.resource === res)) return;
  const at = fromUnits(res, w.alloc[r]!);
  w.actions.push({
    kind: 'held', resource: res, amount: fromUnits(res, amount), from: at, to: at, reason: Reason.DisruptionBudget,
    detail: `${what} of ${describeAmount(res, fromUnits(res, amount))} waits: this round's disruption budget is spent`,
  });
}

/**
 * Takes application w's surplus of resource r, by generation. `need`: the deficit still to
 * cover (compact old surplus now, at least a step); undefined: a give-back (mark, then compact in steps).
 */
function reclaim(w: Work, r: number, policy: PlanPolicy, budget: Budget, need: number | undefined): Reclaimed {
  const res = RESOURCES[r]!;
  const alloc = w.alloc[r]!;
  const e = w.e[r]!;
  const follow = w.input.recommended !== undefined;
  const young = follow || w.idle[r]! < policy.youngMinutes;
  const say = (u: number): string => describeAmount(res, fromUnits(res, u));
  const stepCap = Math.max(1, Math.floor(policy.compactStep * alloc));
  if (young) {
    if (!budget.take(w)) {
      hold(w, r, e, 'decrease');
      return NOTHING;
    }
    if (res === 'memory') proactive(w, res, e, alloc, 'young');
    w.alloc[r] = alloc - e;
    w.e[r] = 0;
    w.marks[r] = 0;
    w.actions.push({
      kind: 'release', resource: res, amount: fromUnits(res, e), from: fromUnits(res, alloc), to: fromUnits(res, alloc - e), generation: 'young',
      reason: follow ? Reason.RecommendationFollowed : Reason.YoungSurplusReleased,
      detail: follow ? `recommendation ${say(w.desired[r]!)}: ${say(e)} released` : `surplus ${say(e)} above desired ${say(w.desired[r]!)} idle ${w.idle[r]} min (< ${policy.youngMinutes}): released at once`,
    });
    return { amount: e, generation: 'young', kind: 'release' };
  }
  const marked = w.marked[r]!;
  if (need === undefined && marked <= 0) {
    w.marks[r] = e;
    w.actions.push({
      kind: 'mark', resource: res, amount: fromUnits(res, e), from: fromUnits(res, alloc), to: fromUnits(res, alloc), generation: 'old',
      reason: Reason.OldSurplusMarked,
      detail: `surplus ${say(e)} idle ${w.idle[r]} min (>= ${policy.youngMinutes}): marked, to compact in the next plans`,
    });
    return NOTHING;
  }
  // A deficit compacts now (at least a step, at most the surplus); a give-back one step of what was marked.
  const step = need !== undefined ? Math.min(e, Math.max(need, stepCap)) : Math.min(marked, e, stepCap);
  if (step <= 0) return NOTHING;
  if (!budget.take(w)) {
    // Unmarked surplus is then marked by the give-back, for the next plans.
    hold(w, r, step, 'decrease');
    return NOTHING;
  }
  if (res === 'memory') proactive(w, res, step, alloc, 'old');
  const left = Math.max(0, (need !== undefined ? e : marked) - step);
  w.alloc[r] = alloc - step;
  w.e[r] = e - step;
  w.marks[r] = left;
  // What a deficit left is marked by the give-back below, for the next plans; a give-back's mark goes on.
  w.marked[r] = need !== undefined ? 0 : left;
  w.actions.push({
    kind: 'compact', resource: res, amount: fromUnits(res, step), from: fromUnits(res, alloc), to: fromUnits(res, alloc - step), generation: 'old',
    reason: Reason.OldSurplusCompacted,
    detail: need !== undefined
      ? `old surplus compacted by ${say(step)} to cover a deficit; ${say(left)} still surplus`
      : `marked surplus compacted by ${say(step)} (at most ${pct(policy.compactStep)} of ${say(alloc)} per step); ${say(left)} still marked`,
  });
  return { amount: step, generation: 'old', kind: 'compact' };
}

/** Every memory decrease is preceded by a proactive reclaim of that amount on the node (memory.reclaim). */
function proactive(w: Work, res: Resource, amount: number, alloc: number, generation: Generation): void {
  w.actions.push({
    kind: 'proactive-reclaim', resource: res, amount: fromUnits(res, amount), from: fromUnits(res, alloc), to: fromUnits(res, alloc), generation,
    reason: Reason.ProactiveReclaim,
    detail: `reclaim ${describeAmount(res, fromUnits(res, amount))} of the container's memory (memory.reclaim) before its limit drops`,
  });
}

function grant(w: Work, r: number, amount: number): number {
  const res = RESOURCES[r]!;
  const alloc = w.alloc[r]!;
  const want = w.inc[r]!;
  const f = w.forecasts[RESOURCE_METRIC[res]];
  const h = w.headroom[res];
  const say = (u: number): string => describeAmount(res, fromUnits(res, u));
  const why = w.input.recommended?.[res] !== undefined ? 'recommendation' : f.ok && h ? `forecast ${describeAmount(res, f.value)} + headroom ${describeAmount(res, h.amount)} (${h.source === 'errors' ? `P${Math.round(h.quantile * 100)} of ${h.errors} recent errors` : 'floor'})` : 'minimum allocation';
  if (amount > 0) {
    w.alloc[r] = alloc + amount;
    w.actions.push({
      kind: 'grant', resource: res, amount: fromUnits(res, amount), from: fromUnits(res, alloc), to: fromUnits(res, alloc + amount),
      reason: amount === want ? Reason.IncreaseGranted : Reason.IncreasePartlyGranted,
      detail: amount === want ? `${why} = ${say(w.desired[r]!)}: +${say(amount)} granted` : `${why} = ${say(w.desired[r]!)}: +${say(amount)} of ${say(want)} granted, capacity short`,
    });
  }
  if (amount < want && w.actions[w.actions.length - 1]?.kind !== 'held') {
    w.actions.push({
      kind: 'unmet', resource: res, amount: fromUnits(res, want - amount), from: fromUnits(res, alloc + amount), to: fromUnits(res, alloc + amount),
      reason: Reason.IncreaseUnmet,
      detail: `${say(want - amount)} of the increase cannot be granted: capacity short after reclaim`,
    });
  }
  return amount;
}
