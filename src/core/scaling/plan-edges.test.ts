/**
 * Rules of the scaling plan beyond the hand-worked tables (plan.test.ts): the disruption
 * budget, the tie-breaks of the release and grant orders, what the plan reads of each
 * application (recommendations, min/max, marks, resources it has no allocation of), the
 * headroom's inputs and how much usage the plan needs. Checked through `plan()`,
 * `forecastWithHeadroom()` and `usageKeepMinutes()`, with values worked out from the rules.
 */
import { describe, expect, it } from 'vitest';
import { dmaErrors } from '../forecast/dma.ts';
import { forecastWithHeadroom, plan } from './plan.ts';
import { Gi, actionsOf, appOf, flat, idleApp, roomy, runPlan, scalingApp, scalingPolicy } from '../../../test/builders/scaling.ts';
import { DEFAULT_POLICY, usageKeepMinutes, type Action, type AppInput, type Plan, type Resource } from './types.ts';

const policy = scalingPolicy;
const app = scalingApp;
const of = appOf;
const run = runPlan;
const idle = idleApp;
const kinds = (p: Plan, name: string, r: Resource = 'cpu'): Action['kind'][] => actionsOf(p, name, r).map((x) => x.kind);

describe('the disruption budget', () => {
  it('an application changed in one resource changes others at no further cost', () => {
    // 'both' (2 pods) gives back cpu and memory; the budget of 2 pods is spent on it once, so
    // 'other' (1 pod, lower score: it has run longer) waits.
    // Memory: 2Gi used for the last 5 minutes (the usage window), 6.4Gi before: a young 5.5Gi surplus.
    const both = idle('both', 5, { pods: 2, runningMinutes: 1, demand: { ...idle('x', 5).demand, mem: [...flat(6.4 * Gi, 15), ...flat(2 * Gi, 5)] } });
    const other = idle('other', 5, { runningMinutes: 30 });
    const p = run({}, [other, both], { maxPodChanges: 2, usageMinutes: 5 });
    expect(kinds(p, 'both')).toEqual(['release']);
    expect(kinds(p, 'both', 'memory')).toEqual(['proactive-reclaim', 'release']);
    expect(kinds(p, 'other')).toEqual(['held']);
  });

  it('a mark changes no pod: with the budget spent old surplus is still marked', () => {
    const p = run({}, [idle('a', 12)], { maxPodChanges: 0 });
    expect(kinds(p, 'a')).toEqual(['mark']);
    expect(of(p, 'a').marks).toEqual({ cpu: 2.75 });
  });

  it('a mark the budget kept from compacting is carried to the next plan, as far as the surplus goes', () => {
    // Old (idle exactly youngMinutes) and marked: the compaction waits, the mark stays.
    expect(of(run({}, [idle('a', 10, { marked: { cpu: 2 } })], { maxPodChanges: 0 }), 'a').marks).toEqual({ cpu: 2 });
    // A mark larger than the surplus is cut to the surplus.
    expect(of(run({}, [idle('a', 10, { marked: { cpu: 10 } })], { maxPodChanges: 0 }), 'a').marks).toEqual({ cpu: 2.75 });
    // The surplus turned young (used again within youngMinutes): the mark is dropped.
    const young = run({}, [idle('a', 9, { marked: { cpu: 2 } })], { maxPodChanges: 0 });
    expect(kinds(young, 'a')).toEqual(['held']);
    expect(of(young, 'a').marks).toEqual({});
  });

  it('in a deficit a marked surplus the budget holds keeps its mark, not the whole surplus', () => {
    const grow = app('grow', 2, flat(2), { priority: 1000 });
    const p = run({ cpu: 6 }, [idle('a', 12, { marked: { cpu: 1 } }), grow], { maxPodChanges: 0 });
    expect(of(p, 'a').marks).toEqual({ cpu: 1 });
    // Said once, though both the deficit and the give-back tried it.
    expect(of(p, 'a').actions.filter((x) => x.resource === 'cpu')).toEqual([expect.objectContaining({ kind: 'held', amount: 1, detail: 'decrease of 1 waits: this round\'s disruption budget is spent' })]);
    // Unmarked: held, then marked for the next plans.
    const q = run({ cpu: 6 }, [idle('a', 12), grow], { maxPodChanges: 0 });
    expect(kinds(q, 'a')).toEqual(['held', 'mark']);
    expect(of(q, 'a').marks).toEqual({ cpu: 2.75 });
    expect(of(p, 'a').allocation.cpu).toBe(4);
  });

  it('each resource\'s change that waits is said, once per resource', () => {
    // Young surplus in cpu and memory (2Gi used for the last 5 minutes, the usage window), old in network.
    const a = idle('a', 5, { demand: { ...idle('x', 5).demand, mem: [...flat(6.4 * Gi, 15), ...flat(2 * Gi, 5)], net: flat(0.4e9) } });
    const p = run({}, [a], { maxPodChanges: 0, usageMinutes: 5 });
    expect(kinds(p, 'a', 'cpu')).toEqual(['held']);
    expect(kinds(p, 'a', 'memory')).toEqual(['held']);
    expect(kinds(p, 'a', 'network')).toEqual(['mark']);
  });

  it('an increase with nothing to grant costs no budget: it is unmet, and the budget goes to the next', () => {
    // cpu: 'first' (higher priority) takes the only 0.5 free; 'second' gets nothing and is reported
    // unmet. The one pod of budget left goes to 'third', which gives back a young memory surplus
    // (2Gi used for the last 5 minutes, the usage window; 6.4Gi before).
    const first = app('first', 2, flat(2), { priority: 1000 });
    const second = app('second', 2, flat(2), { priority: 500 });
    const third = app('third', 4, flat(3.2), { priority: 0, demand: { ...app('t', 4, []).demand, cpu: flat(3.2), mem: [...flat(6.4 * Gi, 15), ...flat(2 * Gi, 5)] } });
    const p = run({ cpu: 8.5 }, [first, second, third], { maxPodChanges: 2, usageMinutes: 5 });
    expect(kinds(p, 'first')).toEqual(['grant']);
    expect(kinds(p, 'second')).toEqual(['unmet']);
    expect(kinds(p, 'third', 'memory')).toEqual(['proactive-reclaim', 'release']);
  });
});

describe('tie-breaks', () => {
  it('scarce increases of equal priority and kind go by name, whatever the input order', () => {
    const want = (name: string): AppInput => app(name, 2, flat(2));
    for (const order of [['c', 'b', 'a'], ['b', 'c', 'a'], ['a', 'c', 'b']]) {
      const p = run({ cpu: 7 }, order.map(want)); // room for two of the three
      expect(['a', 'b', 'c'].map((n) => of(p, n).allocation.cpu)).toEqual([2.5, 2.5, 2]);
    }
  });

  it('in a deficit, equal scores and priorities: the larger surplus of the resources in deficit first', () => {
    // Every score is 0 (running the whole usage window). 'a' has 1 cpu of surplus and a large memory one
    // (memory is not in deficit); 'b' 2.75 cpu. The 0.5 cpu deficit is covered by 'b' first.
    const a = app('a', 2, flat(0.8), { runningMinutes: 60, demand: { ...app('a', 2, []).demand, cpu: flat(0.8), mem: flat(1 * Gi) } });
    const b = idle('b', 5, { runningMinutes: 60 });
    const grow = app('grow', 2, flat(2), { priority: 1000, runningMinutes: 60 });
    // Memory capacity 24Gi, all allocated: a's 6.75Gi memory surplus (28 % of it) and 1 cpu (12 %) would
    // outweigh b's 2.75 cpu (32 %) if memory counted.
    const p = run({ cpu: 8, memory: 24 * Gi }, [a, b, grow], { usageMinutes: 60 });
    expect([p.resources.cpu.deficit, p.resources.memory.deficit]).toEqual([0.5, 0]);
    expect(p.releases[0]).toMatchObject({ app: 'b', resource: 'cpu' });
  });

  it('with room, equal scores and priorities: the larger surplus as a share of capacity first', () => {
    // 'a' gives back 1Gi of 100Gi (1 %), 'z' 1 cpu of 10 (10 %): z first, though a comes first by name and in bytes.
    const z = app('z', 4, [...flat(3.6, 15), ...flat(2.4, 5)], { runningMinutes: 60 }); // desired 3: 1 young
    const a = app('a', 2, flat(1.6), { runningMinutes: 60, allocation: { cpu: 2, memory: 5 * Gi, network: 1e9, disk: 2e8 }, demand: { ...app('a', 2, []).demand, cpu: flat(1.6), mem: [...flat(6.4 * Gi, 15), ...flat(3.2 * Gi, 5)] } });
    const p = run({ cpu: 10, memory: 100 * Gi }, [a, z], { usageMinutes: 5 });
    expect(p.releases.map((r) => [r.app, r.resource, r.amount])).toEqual([['z', 'cpu', 1], ['a', 'memory', 1 * Gi]]);
  });
});

describe('what the plan reads of each application', () => {
  it('a recommendation is rounded up to the resource\'s resolution, and taken as it is when it is on it', () => {
    const rec = (memory: number): number => of(run({}, [app('r', 2, flat(1.6), { recommended: { memory } })]), 'r').desired.memory;
    expect(rec(3 * Gi)).toBe(3 * Gi);
    expect(rec(3 * Gi + 1)).toBe(3 * Gi + 2 ** 20);
    expect(rec(100.5 * 2 ** 20)).toBe(101 * 2 ** 20);
  });

  it('min raises and max caps the desired allocation', () => {
    expect(of(run({}, [idle('a', 5, { min: { cpu: 2 } })]), 'a').desired.cpu).toBe(2);
    expect(of(run({}, [app('a', 2, flat(2), { max: { cpu: 2.2 } })]), 'a').desired.cpu).toBe(2.2);
    // Neither when the forecast is within them.
    expect(of(run({}, [idle('a', 5, { min: { cpu: 1 }, max: { cpu: 3 } })]), 'a').desired.cpu).toBe(1.25);
  });

  it('a resource the application has no allocation of is not planned, whatever its demand or recommendation', () => {
    // Network: no allocation, the probes' utilisation 0.9 (it feeds the score only).
    const a = app('a', 2, flat(1.6), { allocation: { cpu: 2, memory: 8 * Gi, network: 0, disk: 2e8 }, demand: { ...app('a', 2, []).demand, cpu: flat(1.6), net: flat(0.9) } });
    const p = run({}, [a, { ...a, name: 'b', recommended: { network: 5e6 } }]);
    for (const n of ['a', 'b']) {
      expect(of(p, n).desired.network).toBe(0);
      expect(kinds(p, n, 'network')).toEqual([]);
    }
  });

  it('a minimum on a resource the application has no allocation of is granted, named as the minimum', () => {
    // No cpu request yet (allocation 0; the demand is a utilisation): no forecast-based desired, but the minimum holds.
    const p = run({}, [app('a', 0, flat(0.5), { min: { cpu: 0.25 } })]);
    expect(of(p, 'a').actions.filter((x) => x.resource === 'cpu')).toEqual([expect.objectContaining({ kind: 'grant', amount: 0.25, from: 0, to: 0.25, detail: 'minimum allocation = 250m: +250m granted' })]);
  });

  it('an application at its desired allocation gets no action', () => {
    const p = run({}, [app('a', 2, flat(1.6))]);
    expect(of(p, 'a').actions).toEqual([]);
    expect(of(p, 'a').allocation).toEqual(app('a', 2, []).allocation);
  });

  it('in a deficit of two resources, a resource already at its recommendation is not touched', () => {
    // cpu and memory both short; 'rec' gives back cpu (recommended 1 of 4) but is recommended its whole memory.
    const rec = app('rec', 4, flat(2), { recommended: { cpu: 1, memory: 8 * Gi } });
    const grow = app('grow', 2, flat(2), { priority: 1000, demand: { ...app('g', 2, []).demand, cpu: flat(2), mem: flat(8 * Gi) } });
    const p = run({ cpu: 6, memory: 16 * Gi }, [rec, grow]);
    expect([p.resources.cpu.deficit > 0, p.resources.memory.deficit > 0]).toEqual([true, true]);
    expect(kinds(p, 'rec')).toEqual(['release']);
    expect(kinds(p, 'rec', 'memory')).toEqual([]);
  });

  it('marks lists only the resources with a mark', () => {
    expect(of(run({}, [app('a', 2, flat(1.6))]), 'a').marks).toEqual({});
  });

  it('surplus idle for the whole series, of exactly youngMinutes minutes, is old', () => {
    const p = run({}, [app('a', 4, flat(1, 10))]);
    expect(kinds(p, 'a')).toEqual(['mark']);
  });

  it('an application\'s own error settings are read, the policy\'s otherwise', () => {
    const noisy = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : 3));
    const p = plan({ capacity: roomy, policy: { ...policy, errorQuantile: 0.9, errorWindow: 12 }, apps: [app('policy', 1, noisy), app('own', 1, noisy, { forecast: { errorQuantile: 0.5, errorWindow: 20 } })] });
    expect(of(p, 'policy').headroom.cpu).toMatchObject({ source: 'errors', quantile: 0.9, errors: 12 });
    expect(of(p, 'own').headroom.cpu).toMatchObject({ quantile: 0.5, errors: 20 });
  });
});

describe('forecastWithHeadroom', () => {
  const o = { window: 2, horizon: 1, headroom: 0.1, errorQuantile: 0.9, errorWindow: 10 };

  it('no forecast yet: no headroom either', () => {
    expect(forecastWithHeadroom([1], o)).toEqual({ forecast: { ok: false, reason: 'starting', needed: 3, have: 1 } });
  });

  it('errorQuantile 0: the floor alone, no errors read', () => {
    const noisy = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 1 : 3));
    expect(forecastWithHeadroom(noisy, { ...o, errorQuantile: 0 }).headroom).toMatchObject({ source: 'floor', errors: 0 });
  });
});

describe('usageKeepMinutes: the usage the plan reads', () => {
  it('enough minutes for a full error window, and no more', () => {
    for (const p of [DEFAULT_POLICY, { ...DEFAULT_POLICY, window: 3, horizon: 7, errorWindow: 30, usageMinutes: 5 }]) {
      const keep = usageKeepMinutes(p);
      expect(keep).toBeGreaterThanOrEqual(p.usageMinutes);
      expect(dmaErrors(flat(1, keep), p.window, p.horizon, p.errorWindow)).toHaveLength(p.errorWindow);
      expect(dmaErrors(flat(1, keep - 1), p.window, p.horizon, p.errorWindow)).toHaveLength(p.errorWindow - 1);
    }
  });

  it('the usage window when that is longer', () => {
    expect(usageKeepMinutes({ ...DEFAULT_POLICY, usageMinutes: 500 })).toBe(500);
  });
});
