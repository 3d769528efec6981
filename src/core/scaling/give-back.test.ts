/**
 * Issue 13's plan tables: surplus given back with room (young at once, old marked then
 * compacted), never below the memory floor, a proactive reclaim before every memory
 * decrease, the disruption budget in score order, demand above the allocation raised in
 * one plan, and a headroom from the forecaster's own errors (floor on a constant series,
 * the asked coverage on noisy ones).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '../rng.ts';
import { forecastWithHeadroom, plan } from './plan.ts';
import { DEFAULT_POLICY, type AppInput, type PlanPolicy } from './types.ts';

const Gi = 2 ** 30;
const flat = (v: number, n = 30): number[] => new Array<number>(n).fill(v);
const roomy = { cpu: 1000, memory: 1024 * Gi, network: 0, disk: 0 };
const policy: PlanPolicy = { ...DEFAULT_POLICY, window: 3, horizon: 1, headroom: 0.1, errorQuantile: 0.95, errorWindow: 20, youngMinutes: 10, compactStep: 0.25, usageMinutes: 30 };
const mk = (name: string, o: { cpu?: number[]; mem?: number[]; allocCpu?: number; allocMem?: number; priority?: number; running?: number; marked?: AppInput['marked']; pods?: number }): AppInput => ({
  name,
  priority: o.priority ?? 0,
  system: false,
  runningMinutes: o.running ?? 30,
  allocation: { cpu: o.allocCpu ?? 4, memory: o.allocMem ?? 8 * Gi, network: 0, disk: 0 },
  demand: { cpu: o.cpu ?? flat(1), mem: o.mem ?? flat(2 * Gi), net: [], disk: [] },
  ...(o.marked ? { marked: o.marked } : {}),
  ...(o.pods ? { pods: o.pods } : {}),
});

describe('give back when the forecast falls', () => {
  it('with room: young surplus at once; old surplus marked, then compacted by a step per plan', () => {
    // cpu fell 5 minutes ago (young); memory has been flat all window (old).
    const app = mk('a', { cpu: [...flat(3.5, 25), ...flat(1, 5)], mem: flat(2 * Gi) });
    const p = plan({ capacity: roomy, policy, apps: [app] });
    expect(p.fits).toBe(true);
    const cpu = p.apps[0]!.actions.filter((x) => x.resource === 'cpu');
    // desired cpu = 1 + max(10 %, P95 of errors) -> well below 4: released at once.
    expect(cpu).toEqual([expect.objectContaining({ kind: 'release', generation: 'young', from: 4 })]);
    expect(p.apps[0]!.allocation.cpu).toBeLessThan(2);
    const mem = p.apps[0]!.actions.filter((x) => x.resource === 'memory');
    expect(mem).toEqual([expect.objectContaining({ kind: 'mark', generation: 'old' })]);
    expect(p.apps[0]!.allocation.memory).toBe(8 * Gi);
    // Next plans: compacted by at most 25 % of the allocation each, a proactive reclaim first.
    let alloc = 8 * Gi;
    let marked = p.apps[0]!.marks.memory!;
    for (let round = 0; round < 3; round++) {
      const q = plan({ capacity: roomy, policy, apps: [{ ...app, allocation: { ...app.allocation, memory: alloc }, marked: { memory: marked } }] });
      const acts = q.apps[0]!.actions.filter((x) => x.resource === 'memory');
      expect(acts.map((x) => x.kind)).toEqual(['proactive-reclaim', 'compact']);
      expect(acts[1]!.amount).toBeLessThanOrEqual(0.25 * alloc + 1);
      expect(acts[0]!.amount).toBe(acts[1]!.amount);
      alloc = q.apps[0]!.allocation.memory;
      marked = q.apps[0]!.marks.memory ?? 0;
    }
    expect(alloc).toBeLessThan(8 * Gi * 0.75 ** 2);
  });

  it('memory never below the highest working set of the window, nor current use', () => {
    // A 6Gi peak 20 minutes ago, 2Gi now: memory stays at or above 6Gi while the peak is in the window.
    const app = mk('a', { mem: [...flat(2 * Gi, 5), 6 * Gi, ...flat(2 * Gi, 24)], allocMem: 8 * Gi });
    const p = plan({ capacity: roomy, policy, apps: [app] });
    expect(p.apps[0]!.desired.memory).toBeGreaterThanOrEqual(6 * Gi);
    // Out of the window (usageMinutes 20): free to go down to the forecast + headroom.
    const q = plan({ capacity: roomy, policy: { ...policy, usageMinutes: 20 }, apps: [app] });
    expect(q.apps[0]!.desired.memory).toBeLessThan(3 * Gi);
    // Rising now: desired never below the latest minute.
    const r = plan({ capacity: roomy, policy, apps: [mk('b', { mem: [...flat(1 * Gi, 29), 5 * Gi], allocMem: 8 * Gi })] });
    expect(r.apps[0]!.desired.memory).toBeGreaterThanOrEqual(5 * Gi);
  });

  it('every memory decrease is preceded by a proactive reclaim of the same amount (property)', () => {
    const series = fc.array(fc.double({ min: 0, max: 10 * Gi, noNaN: true }), { minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(fc.array(fc.record({ mem: series, alloc: fc.integer({ min: 1, max: 12 }), marked: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 80 }), (apps, cap) => {
        const p = plan({ capacity: { ...roomy, memory: cap * Gi }, policy, apps: apps.map((a, i) => mk(`a${i}`, { mem: a.mem, allocMem: a.alloc * Gi, ...(a.marked !== undefined ? { marked: { memory: a.marked * Gi } } : {}) })) });
        for (const ap of p.apps) {
          const acts = ap.actions.filter((x) => x.resource === 'memory');
          acts.forEach((x, k) => {
            if (x.to < x.from) {
              expect(acts[k - 1]).toMatchObject({ kind: 'proactive-reclaim', amount: x.amount });
              // and never below the window's peak
              expect(x.to).toBeGreaterThanOrEqual(Math.max(0, ...apps[p.apps.indexOf(ap)]!.mem.slice(-policy.usageMinutes)) - 2 ** 20);
            }
          });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the disruption budget bounds the pods changed per plan; the score decides who gives first', () => {
    // Three idle applications (young surplus); the one running longest has the lowest score.
    const apps = [mk('old', { cpu: [...flat(3, 25), ...flat(0.5, 5)], running: 30, pods: 2 }), mk('mid', { cpu: [...flat(3, 25), ...flat(0.5, 5)], running: 15, pods: 2 }), mk('new', { cpu: [...flat(3, 25), ...flat(0.5, 5)], running: 5, pods: 2 })];
    const p = plan({ capacity: roomy, policy: { ...policy, maxPodChanges: 4 }, apps });
    const changed = p.apps.filter((a) => a.allocation.cpu < 4).map((a) => a.name);
    expect(changed).toEqual(['mid', 'new']);
    expect(p.apps.find((a) => a.name === 'old')!.actions.filter((x) => x.resource === 'cpu')).toEqual([expect.objectContaining({ kind: 'held', reason: 'DisruptionBudget' })]);
    // No budget: all three.
    expect(plan({ capacity: roomy, policy, apps }).apps.every((a) => a.allocation.cpu < 4)).toBe(true);
  });

  it('in a deficit the same order covers it, within the budget', () => {
    const idle = (name: string, running: number): AppInput => mk(name, { cpu: [...flat(3, 25), ...flat(0.5, 5)], running });
    const hungry = mk('hungry', { cpu: flat(6), allocCpu: 4, priority: 1000, running: 30 });
    const p = plan({ capacity: { ...roomy, cpu: 12 }, policy: { ...policy, maxPodChanges: 2 }, apps: [idle('x', 30), idle('y', 5), hungry] });
    // y (higher score) gives first, then hungry takes its grant: two pods; x waits.
    expect(p.releases.filter((r) => r.resource === 'cpu').map((r) => r.app)).toEqual(['y']);
    expect(p.apps[2]!.allocation.cpu).toBeGreaterThan(6);
  });
});

describe('demand, not utilisation', () => {
  it('a pod using 1.3 cores against 0.5 is raised to its demand in one plan, not by 15 %', () => {
    const p = plan({ capacity: roomy, policy, apps: [mk('busy', { cpu: flat(1.3), allocCpu: 0.5 })] });
    expect(p.apps[0]!.allocation.cpu).toBeGreaterThanOrEqual(1.3 * 1.1 - 0.001);
    expect(p.apps[0]!.actions.filter((x) => x.resource === 'cpu')).toEqual([expect.objectContaining({ kind: 'grant', from: 0.5, reason: 'IncreaseGranted' })]);
  });
});

describe('headroom from the forecaster\'s own errors', () => {
  const o = { window: 10, horizon: 5, headroom: 0.05, errorQuantile: 0.9, errorWindow: 60 };

  it('a constant series gets the floor', () => {
    const f = forecastWithHeadroom(flat(2, 90), o);
    expect(f.headroom).toEqual({ amount: expect.closeTo(0.1, 9), source: 'floor', quantile: 0.9, errors: 60 });
  });

  it('too few errors yet: at least 15 %', () => {
    const f = forecastWithHeadroom(flat(2, 22), o);
    expect(f.headroom?.amount).toBeCloseTo(0.3, 9);
  });

  for (const q of [0.8, 0.9, 0.95]) {
    it(`a noisy series gets the coverage it asked for (P${q * 100}, generated series)`, () => {
      const rng = createRng(7);
      const n = 4000;
      const xs: number[] = [];
      for (let t = 0; t < n; t++) xs.push(Math.max(0, 2 + 0.5 * Math.sin(t / 90) + (rng.next() - 0.5) * 1.2 + (rng.next() < 0.03 ? rng.next() * 1.5 : 0)));
      let covered = 0;
      let total = 0;
      for (let t = 100; t + o.horizon < n; t++) {
        const f = forecastWithHeadroom(xs.slice(t - 90, t), { ...o, errorQuantile: q });
        if (!f.forecast.ok || !f.headroom) continue;
        total++;
        if (xs[t + o.horizon - 1]! <= f.forecast.value + f.headroom.amount) covered++;
      }
      const coverage = covered / total;
      expect(Math.abs(coverage - q)).toBeLessThan(0.04);
    });
  }
});
