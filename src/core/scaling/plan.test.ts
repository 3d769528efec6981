import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { plan, toUnits } from './plan.ts';
import { DEFAULT_POLICY, RESOURCES, type Action, type AppInput, type Plan, type PlanInput } from './types.ts';

const Gi = 2 ** 30;
const flat = (v: number, n = 20): number[] => new Array<number>(n).fill(v);
// errorQuantile 0: the headroom is the floor alone in these hand-worked tables (error-driven headroom has its own tests).
const policy = { ...DEFAULT_POLICY, window: 2, horizon: 1, headroom: 0.25, errorQuantile: 0 };

// Three applications; cpu is the contended resource, the others have room.
//            priority  system  running  cpu alloc  cpu usage (last 20 min)         forecast  desired             inc / e
//   a        100       no      30       4          0.25, a 0.5 spike 4 min ago      0.25      0.25*4*1.25 = 1.25   e = 2.75
//   b        500       no      15       4          0.5 throughout                   0.5       0.5*4*1.25  = 2.5    e = 1.5
//   c        1000      yes     90       2          1.0 throughout                   1.0       1*2*1.25    = 2.5    inc = 0.5
// Scores: maxima (cpu, mem, net, disk); aplv = (p - 100) / 900 (all priorities differ: no bonus); aptl = running / 60.
//   a: 4 - (0.5 + 0.5 + 0.1 + 0.1) = 2.8;  (1 - 0) * (1 - 30/60)            -> 2.8 * 0.5          = 1.4
//   b: 4 - (0.5 + 0.5 + 0.1 + 0.1) = 2.8;  (1 - 400/900) * (1 - 15/60)      -> 2.8 * 5/9 * 0.75   = 1.1666...
//   c: 4 - (1.0 + 0.5 + 0.1 + 0.1) = 2.3;  (1 - 1) * (1 - 1)                -> 0
// a's surplus was unused for the last 4 minutes (< 10): young, released at once; b's for 20: old.
const app = (name: string, priority: number, system: boolean, running: number, cpu: number, cpuUsage: number[], marked?: AppInput['marked']): AppInput => ({
  name, priority, system, runningMinutes: running,
  allocation: { cpu, memory: 8 * Gi, network: 1e9, disk: 2e8 },
  demand: { cpu: cpuUsage.map((x) => x * cpu), mem: flat(0.5 * 8 * Gi), net: flat(0.1e9), disk: flat(0.2e8) },
  ...(marked ? { marked } : {}),
});
const a = app('a', 100, false, 30, 4, [...flat(0.25, 15), 0.5, 0.25, 0.25, 0.25, 0.25]);
const b = app('b', 500, false, 15, 4, flat(0.5));
const c = app('c', 1000, true, 90, 2, flat(1));
const roomy = { memory: 1024 * Gi, network: 1e11, disk: 1e11 };
const cpuActs = (p: Plan, i: number): Action[] => p.apps[i]!.actions.filter((x) => x.resource === 'cpu');

describe('plan: three applications, hand-worked', () => {
  it('scores', () => {
    const p = plan({ capacity: { cpu: 10, ...roomy }, policy, apps: [a, b, c] });
    expect(p.apps.map((x) => x.score)).toEqual([expect.closeTo(1.4, 12), expect.closeTo((2.8 * 5) / 9 * 0.75, 12), 0]);
    expect(p.apps[1]!.aplv).toBeCloseTo(4 / 9, 12);
    expect(p.apps[0]!.desired.cpu).toBe(1.25);
  });

  it('deficit 0.5 (Q = 10 - 10 = 0, P = 0.5): a, the top score, releases its young 2.75; c gets its 0.5', () => {
    const p = plan({ capacity: { cpu: 10, ...roomy }, policy, apps: [a, b, c] });
    expect(p.fits).toBe(false);
    expect(p.resources.cpu).toMatchObject({ wanted: 0.5, free: 0, deficit: 0.5, released: 2.75, granted: 0.5, unmet: 0 });
    expect(p.releases).toEqual([{ app: 'a', score: expect.closeTo(1.4, 12), resource: 'cpu', amount: 2.75, generation: 'young', kind: 'release' }]);
    expect(p.apps[0]!.allocation.cpu).toBe(1.25);
    // The deficit is covered before b's turn; b's old surplus is then only marked (the give-back).
    expect(cpuActs(p, 1)).toEqual([expect.objectContaining({ kind: 'mark', amount: 1.5 })]);
    expect(cpuActs(p, 2)).toEqual([expect.objectContaining({ kind: 'grant', resource: 'cpu', amount: 0.5, from: 2, to: 2.5, reason: 'IncreaseGranted' })]);
    // Memory, network and disk fit: their surplus is old (unused all window), marked, not yet taken.
    expect(p.apps[0]!.allocation.memory).toBe(8 * Gi);
    expect(p.apps[0]!.marks.memory).toBe(3 * Gi);
  });

  it('deficit 3.5 (capacity 7): a releases 2.75; b is old, compacted now by a step (1) since it is a deficit; c gets its 0.5', () => {
    const p = plan({ capacity: { cpu: 7, ...roomy }, policy, apps: [a, b, c] });
    expect(p.resources.cpu).toMatchObject({ free: -3, deficit: 3.5, released: 3.75, granted: 0.5, unmet: 0 });
    expect(p.releases.map((r) => [r.app, r.amount, r.kind])).toEqual([['a', 2.75, 'release'], ['b', 1, 'compact']]);
    // The old surplus left after the deficit is marked, to compact in steps in the next plans.
    expect(cpuActs(p, 1)).toEqual([expect.objectContaining({ kind: 'compact', amount: 1, from: 4, to: 3, generation: 'old', reason: 'OldSurplusCompacted' }), expect.objectContaining({ kind: 'mark', amount: 0.5, reason: 'OldSurplusMarked' })]);
    expect(p.apps[1]!.marks.cpu).toBe(0.5);
    expect(cpuActs(p, 2)).toEqual([expect.objectContaining({ kind: 'grant', amount: 0.5 })]);
  });

  it('capacity 6: what is released does not cover c, the rest is unmet', () => {
    const p = plan({ capacity: { cpu: 6, ...roomy }, policy, apps: [a, b, c] });
    expect(p.resources.cpu).toMatchObject({ free: -4, deficit: 4.5, released: 4.25, granted: 0.25, unmet: 0.25 });
    expect(cpuActs(p, 2)).toEqual([expect.objectContaining({ kind: 'grant', amount: 0.25 }), expect.objectContaining({ kind: 'unmet', amount: 0.25, reason: 'IncreaseUnmet' })]);
    expect(p.unmet.cpu).toBe(0.25);
  });

  it('the next plan compacts b\'s mark by at most 25% of 4 = 1; c gets its 0.5 from -3 + 2.75 + 1', () => {
    const b2 = { ...b, marked: { cpu: 1.5 } };
    const p = plan({ capacity: { cpu: 7, ...roomy }, policy, apps: [a, b2, c] });
    expect(p.releases.map((r) => [r.app, r.amount, r.generation, r.kind])).toEqual([['a', 2.75, 'young', 'release'], ['b', 1, 'old', 'compact']]);
    expect(p.apps[1]!.allocation.cpu).toBe(3);
    expect(p.apps[1]!.marks.cpu).toBe(0.5);
    expect(p.resources.cpu).toMatchObject({ released: 3.75, granted: 0.5, unmet: 0 });
  });

  it('when P <= Q every increase is granted, and surplus is still given back: young at once, old marked', () => {
    const p = plan({ capacity: { cpu: 10.5, ...roomy }, policy, apps: [a, b, c] });
    expect(p.fits).toBe(true);
    expect(p.apps[2]!.allocation.cpu).toBe(2.5);
    expect(p.releases.filter((r) => r.resource === 'cpu').map((r) => [r.app, r.amount, r.generation])).toEqual([['a', 2.75, 'young']]);
    expect(cpuActs(p, 1)).toEqual([expect.objectContaining({ kind: 'mark', amount: 1.5 })]);
    // The next plan compacts b's mark by one step (25 % of 4), no deficit needed.
    const next = plan({ capacity: { cpu: 10.5, ...roomy }, policy, apps: [a, { ...b, marked: { cpu: 1.5 } }, c] });
    expect(cpuActs(next, 1)).toEqual([expect.objectContaining({ kind: 'compact', amount: 1, from: 4, to: 3 })]);
    expect(next.apps[1]!.marks.cpu).toBe(0.5);
  });

  it('memory compaction carries a proactive reclaim before the limit drops', () => {
    const m = { ...b, demand: { ...b.demand, mem: flat(2 * Gi) }, marked: { memory: 4 * Gi } };
    const grow = { ...c, demand: { ...c.demand, mem: flat(8 * Gi) } }; // wants 8Gi * 1.25 = 10Gi: +2Gi
    const p = plan({ capacity: { cpu: 100, memory: 16 * Gi, network: 1e11, disk: 1e11 }, policy, apps: [m, grow] });
    // m: desired 2Gi * 1.25 = 2.5Gi (above the 2Gi window peak), e = 5.5Gi; the 2Gi deficit is compacted now (a step is 2Gi), the rest marked.
    const acts = p.apps[0]!.actions.filter((x) => x.resource === 'memory');
    expect(acts.map((x) => [x.kind, x.amount / Gi, x.to / Gi])).toEqual([['proactive-reclaim', 2, 8], ['compact', 2, 6], ['mark', 3.5, 6]]);
    expect(p.apps[1]!.allocation.memory).toBe(10 * Gi);
  });

  it('ties: lower priority first, then larger e, then name', () => {
    const mk = (name: string, priority: number, cpu: number): AppInput => ({ ...app(name, priority, false, 60, cpu, [...flat(0.5, 17), 0.25, 0.25, 0.25]) });
    // All running 60 minutes: aptl = 1, every score is 0. Each wants 0.25*alloc*1.25 = 0.3125*alloc (young):
    // e: z 1.375, y 2.75, x 2.75, w 5.5. Allocated 20, capacity 14: Q = -6, P = 0.5, deficit 6.5.
    // Priority 5 before 9; among those larger e first (x, y by name), then z: 2.75 + 2.75 + 1.375 >= 6.5.
    const apps = [mk('z', 5, 2), mk('y', 5, 4), mk('x', 5, 4), mk('w', 9, 8), { ...c, name: 'grow', runningMinutes: 60 }];
    const p = plan({ capacity: { cpu: 14, ...roomy }, policy, apps });
    // The deficit is covered by x, y, z; w's young surplus then goes back too (the give-back).
    expect(p.releases.filter((r) => r.resource === 'cpu').map((r) => [r.app, r.amount])).toEqual([['x', 2.75], ['y', 2.75], ['z', 1.375], ['w', 5.5]]);
    expect(p.releases.every((r) => r.score === 0)).toBe(true);
  });

  it('reclaims even when a resource has no capacity at all', () => {
    // Found by fast-check: a zero capacity once kept every application out of the release order.
    const idle = { ...a, demand: { cpu: flat(1), mem: [0, 0, 0], net: [], disk: [] } };
    const p = plan({ capacity: { cpu: 10, memory: 0, network: 1e11, disk: 1e11 }, policy: { ...policy, headroom: 0, youngMinutes: 4 }, apps: [idle] });
    expect(p.releases).toEqual([expect.objectContaining({ app: 'a', resource: 'memory', amount: 8 * Gi, generation: 'young' })]);
  });

  it('an application still starting keeps its allocation and says why', () => {
    const young = { ...a, demand: { cpu: [0.4], mem: [0.8 * Gi], net: [], disk: [] } };
    const p = plan({ capacity: { cpu: 10, ...roomy }, policy, apps: [young] });
    expect(p.apps[0]!.forecasts.cpu).toEqual({ ok: false, reason: 'starting', needed: 3, have: 1 });
    expect(p.apps[0]!.desired).toEqual(young.allocation);
  });
});

// ---- properties ----

const usage = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 0, maxLength: 25 });
const appArb = (i: number): fc.Arbitrary<AppInput> =>
  fc.record({
    priority: fc.integer({ min: 0, max: 5 }),
    system: fc.boolean(),
    runningMinutes: fc.integer({ min: 0, max: 120 }),
    cpu: fc.integer({ min: 0, max: 16_000 }),
    mem: fc.integer({ min: 0, max: 64 }),
    u: fc.record({ cpu: usage, mem: usage, net: usage, disk: usage }),
    mark: fc.option(fc.record({ cpu: fc.integer({ min: 0, max: 16_000 }), mem: fc.integer({ min: 0, max: 64 }) }), { nil: undefined }),
  }).map((r) => ({
    name: `app${i}`,
    priority: r.priority,
    system: r.system,
    runningMinutes: r.runningMinutes,
    allocation: { cpu: r.cpu / 1000, memory: r.mem * Gi, network: 1e8, disk: 1e8 },
    // Demand up to twice the allocation: not capped.
    demand: { cpu: r.u.cpu.map((x) => (2 * x * r.cpu) / 1000), mem: r.u.mem.map((x) => 2 * x * r.mem * Gi), net: r.u.net.map((x) => 2 * x * 1e8), disk: r.u.disk.map((x) => 2 * x * 1e8) },
    ...(r.mark ? { marked: { cpu: r.mark.cpu / 1000, memory: r.mark.mem * Gi } } : {}),
  }));
const planArb: fc.Arbitrary<PlanInput> = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    apps: fc.tuple(...Array.from({ length: n }, (_, i) => appArb(i))),
    cpu: fc.integer({ min: 0, max: 80_000 }),
    mem: fc.integer({ min: 0, max: 300 }),
    policy: fc.record({ window: fc.integer({ min: 2, max: 5 }), horizon: fc.integer({ min: 1, max: 6 }), headroom: fc.double({ min: 0, max: 0.5, noNaN: true }), youngMinutes: fc.integer({ min: 1, max: 15 }), compactStep: fc.double({ min: 0.05, max: 1, noNaN: true }) }),
  }).map((r) => ({ apps: r.apps, capacity: { cpu: r.cpu / 1000, memory: r.mem * Gi, network: 1e12, disk: 1e12 }, policy: { ...DEFAULT_POLICY, ...r.policy } })),
);

describe('plan properties', () => {
  it('releases cover the deficit whenever the surplus does; grants stay within what is free', () => {
    fc.assert(
      fc.property(planArb, (input) => {
        const p = plan(input);
        for (const res of RESOURCES) {
          const s = p.resources[res];
          expect(toUnits(res, s.granted) + toUnits(res, s.unmet)).toBe(toUnits(res, s.wanted));
          if (s.deficit <= 0) {
            expect(s.granted).toBe(s.wanted);
            continue;
          }
          // In a deficit young surplus goes whole and old surplus is compacted now: all of it can cover.
          let surplus = 0;
          for (const [i, a] of input.apps.entries()) surplus += Math.max(0, toUnits(res, a.allocation[res]) - toUnits(res, p.apps[i]!.desired[res]));
          if (surplus >= toUnits(res, s.deficit)) expect(toUnits(res, s.released)).toBeGreaterThanOrEqual(toUnits(res, s.deficit));
          expect(toUnits(res, s.granted)).toBeLessThanOrEqual(Math.max(0, toUnits(res, s.free) + toUnits(res, s.released)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('no application is cut below its desired allocation', () => {
    fc.assert(
      fc.property(planArb, (input) => {
        const p = plan(input);
        for (const [i, a] of input.apps.entries()) {
          for (const res of RESOURCES) {
            const after = p.apps[i]!.allocation[res];
            if (after < a.allocation[res]) expect(after).toBeGreaterThanOrEqual(p.apps[i]!.desired[res]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('releases of a resource in deficit are taken in descending score', () => {
    fc.assert(
      fc.property(planArb, (input) => {
        const p = plan(input);
        for (const res of RESOURCES) {
          if (p.resources[res].deficit <= 0) continue;
          const rs = p.releases.filter((r) => r.resource === res);
          for (let k = 1; k < rs.length; k++) expect(rs[k]!.score).toBeLessThanOrEqual(rs[k - 1]!.score);
        }
      }),
      { numRuns: 300 },
    );
  });
});
