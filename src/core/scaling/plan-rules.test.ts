/**
 * The rules of the scaling plan that mutation testing found untested (docs/testing.md),
 * checked through the public `plan()`, `describeAmount()` and `scoreApps()` only (input:
 * PlanInput; output: allocations, actions, marks, releases), so they hold across a rewrite
 * of plan.ts's internals: scarce increases by priority, the youngMinutes boundary, every
 * action's amounts and reason text, marks carried to the next plan, the bounds of the idle
 * count, the order ties are broken in, and the score's terms.
 */
import { describe, expect, it } from 'vitest';
import { describeAmount, plan } from './plan.ts';
import { scoreApps } from './score.ts';
import { DEFAULT_POLICY, type AppInput, type PlanInput } from './types.ts';

const Gi = 2 ** 30;
const flat = (v: number, n = 20): number[] => new Array<number>(n).fill(v);
// Forecast = the last usage when it is flat (window 2, horizon 1); desired = forecast x allocation x 1.25.
const policy = { ...DEFAULT_POLICY, window: 2, horizon: 1, headroom: 0.25, youngMinutes: 10 };
const roomy = { memory: 1024 * Gi, network: 1e11, disk: 1e11 };

const app = (name: string, priority: number, cpu: number, cpuUsage: number[], extra: Partial<AppInput> = {}): AppInput => ({
  name, priority, system: false, runningMinutes: 30,
  allocation: { cpu, memory: 8 * Gi, network: 1e9, disk: 2e8 },
  usage: { cpu: cpuUsage, mem: flat(0.5), net: flat(0.1), disk: flat(0.1) },
  ...extra,
});
/** 4 cpu, 0.25 used for the last k minutes after 0.5: desired 1.25, surplus 2.75 idle k minutes. */
const idleFor = (k: number, extra: Partial<AppInput> = {}): AppInput => app('idle', 100, 4, [...flat(0.5, 20 - k), ...flat(0.25, k)], extra);
/** 2 cpu fully used: wants +0.5. */
const grower = app('grow', 1000, 2, flat(1));
const actionsOf = (p: ReturnType<typeof plan>, name: string) => p.apps.find((a) => a.name === name)?.actions ?? [];
const tight = (...apps: AppInput[]): PlanInput => ({ capacity: { cpu: 6, ...roomy }, policy, apps });

const cpuOf = (input: PlanInput, name: string): number => {
  const p = plan(input);
  const a = p.apps.find((x) => x.name === name);
  if (!a) throw new Error(`no application ${name} in the plan`);
  return a.allocation.cpu;
};

describe('plan: scarce increases go to the highest priority first', () => {
  // Each of these wants +0.5 cpu (usage 1.0 of 2 cpu -> desired 2.5); nobody has surplus to give.
  // The low-priority one comes first in the input and by name, so any other order shows.
  const low = app('a-low', 10, 2, flat(1));
  const mid = app('b-mid', 500, 2, flat(1));
  const high = app('c-high', 1000, 2, flat(1));

  it('room for one increase: the highest priority gets it, the lowest none', () => {
    const input = { capacity: { cpu: 4.5, ...roomy }, policy, apps: [low, high] };
    expect(cpuOf(input, 'c-high')).toBe(2.5);
    expect(cpuOf(input, 'a-low')).toBe(2);
  });

  it('room for one and a half: high whole, mid the rest, low nothing', () => {
    const input = { capacity: { cpu: 6.75, ...roomy }, policy, apps: [low, mid, high] };
    expect([cpuOf(input, 'c-high'), cpuOf(input, 'b-mid'), cpuOf(input, 'a-low')]).toEqual([2.5, 2.25, 2]);
  });

  it('equal priority: the system application first', () => {
    const user = app('a-user', 500, 2, flat(1));
    const sys = app('z-system', 500, 2, flat(1), { system: true });
    const input = { capacity: { cpu: 4.5, ...roomy }, policy, apps: [user, sys] };
    expect([cpuOf(input, 'z-system'), cpuOf(input, 'a-user')]).toEqual([2.5, 2]);
  });
});

describe('plan: surplus idle for exactly youngMinutes is old', () => {
  // 4 cpu, usage 0.25 for the last k minutes after 0.5 before: desired 0.25 x 4 x 1.25 = 1.25,
  // surplus 2.75 idle k minutes. A high-priority application wants +0.5 and there is no room.
  const input = (idle: AppInput): PlanInput => ({ capacity: { cpu: 6, ...roomy }, policy, apps: [idle, grower] });

  it('idle youngMinutes - 1: young, released at once', () => {
    expect(cpuOf(input(idleFor(policy.youngMinutes - 1)), 'idle')).toBe(1.25);
    expect(cpuOf(input(idleFor(policy.youngMinutes - 1)), 'grow')).toBe(2.5);
  });

  it('idle exactly youngMinutes: old, only marked in this plan', () => {
    const p = plan(input(idleFor(policy.youngMinutes)));
    const idle = p.apps.find((x) => x.name === 'idle');
    expect(idle?.allocation.cpu).toBe(4);
    expect(idle?.actions.map((x) => x.kind)).toEqual(['mark']);
    expect(p.apps.find((x) => x.name === 'grow')?.allocation.cpu).toBe(2);
  });

  it('idle exactly youngMinutes and marked: compacted one step (25% of 4), not released whole', () => {
    expect(cpuOf(input(idleFor(policy.youngMinutes, { marked: { cpu: 2.75 } })), 'idle')).toBe(3);
  });
});

describe('describeAmount', () => {
  it('cpu in cores, memory in binary units (approximate Mi when odd), network and disk per second', () => {
    expect([describeAmount('cpu', 1.5), describeAmount('cpu', 2)]).toEqual(['1500m', '2']);
    expect([describeAmount('memory', 8 * Gi), describeAmount('memory', 2 ** 20), describeAmount('memory', 1.5 * 2 ** 20 + 1), describeAmount('memory', 1000)]).toEqual(['8Gi', '1Mi', '~1.5Mi', '1k']);
    expect([describeAmount('network', 1e9), describeAmount('disk', 2.5e6)]).toEqual(['1G/s', '2500k/s']);
  });
});

describe('plan: every action with its amounts and reason', () => {
  it('young surplus released; the increase granted from it', () => {
    const p = plan(tight(idleFor(4), grower));
    expect(actionsOf(p, 'idle')).toEqual([{ kind: 'release', resource: 'cpu', amount: 2.75, from: 4, to: 1.25, generation: 'young', reason: 'YoungSurplusReleased', detail: 'surplus 2750m above desired 1250m idle 4 min (< 10): released at once' }]);
    expect(actionsOf(p, 'grow')).toEqual([{ kind: 'grant', resource: 'cpu', amount: 0.5, from: 2, to: 2.5, reason: 'IncreaseGranted', detail: 'forecast 100.0% x 2 x 1.25 = 2500m: +500m granted' }]);
  });

  it('old surplus marked; the increase unmet', () => {
    const p = plan(tight(idleFor(12), grower));
    expect(actionsOf(p, 'idle')).toEqual([{ kind: 'mark', resource: 'cpu', amount: 2.75, from: 4, to: 4, generation: 'old', reason: 'OldSurplusMarked', detail: 'surplus 2750m idle 12 min (>= 10): marked, to compact in the next plan' }]);
    expect(actionsOf(p, 'grow')).toEqual([{ kind: 'unmet', resource: 'cpu', amount: 0.5, from: 2, to: 2, reason: 'IncreaseUnmet', detail: '500m of the increase cannot be granted: capacity short after reclaim' }]);
    expect(p.apps.find((a) => a.name === 'idle')?.marks).toEqual({ cpu: 2.75 });
  });

  it('marked cpu surplus compacted one step, without a memory reclaim', () => {
    const p = plan(tight(idleFor(12, { marked: { cpu: 2.75 } }), grower));
    expect(actionsOf(p, 'idle')).toEqual([{ kind: 'compact', resource: 'cpu', amount: 1, from: 4, to: 3, generation: 'old', reason: 'OldSurplusCompacted', detail: 'marked surplus compacted by 1 (at most 25.0% of 4 per step); 1750m still marked' }]);
    expect(p.apps.find((a) => a.name === 'idle')?.marks).toEqual({ cpu: 1.75 });
  });

  it('marked memory compaction: the proactive reclaim says how much, before the limit drops', () => {
    const m = app('m', 100, 4, flat(0.5), { usage: { cpu: flat(0.5), mem: flat(0.25), net: flat(0.1), disk: flat(0.1) }, marked: { memory: 4 * Gi } });
    const g = app('g', 1000, 2, flat(0.5), { usage: { cpu: flat(0.5), mem: flat(1), net: flat(0.1), disk: flat(0.1) } });
    const p = plan({ capacity: { cpu: 100, memory: 16 * Gi, network: 1e11, disk: 1e11 }, policy, apps: [m, g] });
    expect(actionsOf(p, 'm').filter((a) => a.resource === 'memory')).toEqual([
      { kind: 'proactive-reclaim', resource: 'memory', amount: 2 * Gi, from: 8 * Gi, to: 8 * Gi, generation: 'old', reason: 'ProactiveReclaim', detail: "reclaim 2Gi of the container's memory (memory.reclaim) before its limit drops" },
      { kind: 'compact', resource: 'memory', amount: 2 * Gi, from: 8 * Gi, to: 6 * Gi, generation: 'old', reason: 'OldSurplusCompacted', detail: 'marked surplus compacted by 2Gi (at most 25.0% of 8Gi per step); 2Gi still marked' },
    ]);
  });

  it('a partial grant says how much of how much, with the application\'s own headroom, then the rest unmet', () => {
    const low = app('a-low', 10, 2, flat(1));
    const mid = app('b-mid', 500, 2, flat(1), { forecast: { headroom: 0.5 } });
    const p = plan({ capacity: { cpu: 7, ...roomy }, policy, apps: [low, mid, grower] });
    expect(actionsOf(p, 'b-mid')).toEqual([
      { kind: 'grant', resource: 'cpu', amount: 0.5, from: 2, to: 2.5, reason: 'IncreasePartlyGranted', detail: 'forecast 100.0% x 2 x 1.50 = 3: +500m of 1 granted, capacity short' },
      { kind: 'unmet', resource: 'cpu', amount: 0.5, from: 2.5, to: 2.5, reason: 'IncreaseUnmet', detail: '500m of the increase cannot be granted: capacity short after reclaim' },
    ]);
    expect(actionsOf(p, 'a-low').map((a) => a.kind)).toEqual(['unmet']);
  });

  it('a grant where the resource fits uses the application\'s own headroom in its reason', () => {
    const own = app('own', 10, 2, flat(1), { forecast: { headroom: 0.5 } });
    const p = plan({ capacity: { cpu: 100, ...roomy }, policy, apps: [own] });
    expect(actionsOf(p, 'own')).toEqual([{ kind: 'grant', resource: 'cpu', amount: 1, from: 2, to: 3, reason: 'IncreaseGranted', detail: 'forecast 100.0% x 2 x 1.50 = 3: +1 granted' }]);
  });

  it('a compaction step that rounds to nothing does nothing', () => {
    // 3 millicores: 25% is below one millicore.
    const tiny = app('tiny', 100, 0.003, flat(0.25), { marked: { cpu: 0.002 } });
    const p = plan({ capacity: { cpu: 0.003 + 2, ...roomy }, policy: { ...policy, headroom: 0 }, apps: [tiny, grower] });
    expect(actionsOf(p, 'tiny')).toEqual([]);
  });
});

describe('plan: min and max bound the desired allocation', () => {
  it('min raises it, max lowers it', () => {
    const p = plan({ capacity: { cpu: 100, ...roomy }, policy, apps: [idleFor(4, { name: 'floor', min: { cpu: 2 } }), app('cap', 10, 2, flat(1), { max: { cpu: 2.2 } })] });
    expect(p.apps.map((a) => a.desired.cpu)).toEqual([2, 2.2]);
  });
});

describe('plan: marks carried to the next plan', () => {
  const roomyCpu = (a: AppInput): PlanInput => ({ capacity: { cpu: 100, ...roomy }, policy, apps: [a] });
  it('kept while the surplus stays old (idle exactly youngMinutes counts), capped at the surplus', () => {
    expect(plan(roomyCpu(idleFor(12, { marked: { cpu: 2 } }))).apps[0]?.marks).toEqual({ cpu: 2 });
    expect(plan(roomyCpu(idleFor(10, { marked: { cpu: 2 } }))).apps[0]?.marks).toEqual({ cpu: 2 });
    expect(plan(roomyCpu(idleFor(12, { marked: { cpu: 9 } }))).apps[0]?.marks).toEqual({ cpu: 2.75 });
  });

  it('dropped once the surplus is young again', () => {
    expect(plan(roomyCpu(idleFor(9, { marked: { cpu: 2 } }))).apps[0]?.marks).toEqual({});
  });
});

describe('plan: idle minutes', () => {
  it('usage exactly at the desired share counts as idle, back to the oldest minute', () => {
    // headroom 0, usage 0.25 of 4 cpu throughout: desired 1, usage is exactly desired / allocation.
    const wants = app('grow', 1000, 2, flat(1), { forecast: { headroom: 0.25 } });
    const p = plan({ capacity: { cpu: 6, ...roomy }, policy: { ...policy, headroom: 0 }, apps: [app('flat', 100, 4, flat(0.25)), wants] });
    expect(actionsOf(p, 'flat')).toEqual([expect.objectContaining({ kind: 'mark', amount: 3, detail: 'surplus 3 idle 20 min (>= 10): marked, to compact in the next plan' })]);
  });
});

/** Used at share u for the last 3 minutes after full use: forecast u, surplus idle 3 minutes (young). */
const young = (u: number): number[] => [...flat(1, 17), u, u, u];

describe('plan: ties', () => {
  it('releases: equal score and priority, the larger share of the deficit resources first', () => {
    // Every score is 0 (running a full usage window). Only cpu is short; memory has room but little.
    const mk = (name: string, cpu: number, mem: number): AppInput => app(name, 5, cpu, young(0.25), { runningMinutes: 60, usage: { cpu: young(0.25), mem: flat(mem), net: flat(0.1), disk: flat(0.1) } });
    // x: cpu surplus 4 - 1.25 = 2.75 and a large memory surplus; y: cpu surplus 8 - 2.5 = 5.5, no memory surplus.
    const x = mk('x', 4, 0.01);
    const y = mk('y', 8, 0.8);
    const need = app('need', 1000, 2, flat(1), { runningMinutes: 60 });
    const p = plan({ capacity: { cpu: 14, memory: 25 * Gi, network: 1e11, disk: 1e11 }, policy, apps: [x, y, need] });
    expect(p.resources.memory.deficit).toBe(0);
    expect(p.releases.map((r) => r.app)).toEqual(['y']);
  });

  it('releases: with two deficit resources, the surplus weighs by its share of each capacity', () => {
    // cpu capacity 10: x frees 1 core (0.1 of it), y 0.5 (0.05); memory capacity 100Gi: x frees 1Gi (0.01), y 2Gi (0.02).
    const mk = (name: string, cpuUse: number, memUse: number): AppInput => ({
      name, priority: 5, system: false, runningMinutes: 60,
      allocation: { cpu: 4, memory: 40 * Gi, network: 1e9, disk: 2e8 },
      usage: { cpu: young(cpuUse), mem: young(memUse), net: flat(0.1), disk: flat(0.1) },
    });
    const x = mk('x', 0.6, 0.78); // desired 3 cpu, 39Gi
    const y = mk('y', 0.7, 0.76); // desired 3.5 cpu, 38Gi
    const need: AppInput = { ...app('need', 1000, 2, flat(1), { runningMinutes: 60 }), allocation: { cpu: 2, memory: 20 * Gi, network: 1e9, disk: 2e8 }, usage: { cpu: flat(1), mem: flat(1), net: flat(0.1), disk: flat(0.1) } };
    const p = plan({ capacity: { cpu: 10, memory: 100 * Gi, network: 1e11, disk: 1e11 }, policy, apps: [y, x, need] });
    expect([p.resources.cpu.deficit, p.resources.memory.deficit / Gi]).toEqual([0.5, 5]);
    expect(p.releases.map((r) => [r.app, r.resource])).toEqual([['x', 'cpu'], ['x', 'memory'], ['y', 'memory']]);
  });

  it('releases: a resource not in deficit is left alone even for an application giving back another', () => {
    const both = app('both', 5, 4, young(0.25), { runningMinutes: 60, usage: { cpu: young(0.25), mem: young(0.25), net: flat(0.1), disk: flat(0.1) } });
    const need = app('need', 1000, 2, flat(1), { runningMinutes: 60 });
    const p = plan({ capacity: { cpu: 6, ...roomy }, policy, apps: [both, need] });
    expect(actionsOf(p, 'both').map((a) => [a.kind, a.resource])).toEqual([['release', 'cpu']]);
  });

  it('releases and grants: all else equal, by name', () => {
    const twin = (name: string): AppInput => app(name, 5, 4, young(0.25), { runningMinutes: 60 });
    const p = plan({ capacity: { cpu: 10, ...roomy }, policy, apps: [twin('b'), twin('a'), grower] });
    expect(p.releases.map((r) => r.app)).toEqual(['a']);
    const want = (name: string): AppInput => app(name, 5, 2, flat(1));
    const q = plan({ capacity: { cpu: 4.5, ...roomy }, policy, apps: [want('b'), want('a')] });
    expect(q.apps.map((a) => [a.name, a.allocation.cpu])).toEqual([['b', 2], ['a', 2.5]]);
  });

  it('a resource in deficit where an application has no surplus: nothing taken from it there', () => {
    // cpu and memory both short; "cpuonly" gives back cpu but has no memory surplus.
    const cpuonly: AppInput = { ...app('cpuonly', 5, 4, young(0.25), { runningMinutes: 60 }), usage: { cpu: young(0.25), mem: flat(0.8), net: flat(0.1), disk: flat(0.1) } };
    const need: AppInput = { ...app('need', 1000, 2, flat(1), { runningMinutes: 60 }), usage: { cpu: flat(1), mem: flat(1), net: flat(0.1), disk: flat(0.1) } };
    const p = plan({ capacity: { cpu: 6, memory: 16 * Gi, network: 1e11, disk: 1e11 }, policy, apps: [cpuonly, need] });
    expect(p.resources.memory.deficit).toBeGreaterThan(0);
    expect(actionsOf(p, 'cpuonly').map((a) => [a.kind, a.resource])).toEqual([['release', 'cpu']]);
  });
});

describe('scoreApps', () => {
  const u = (cpu: number[]): AppInput['usage'] => ({ cpu, mem: [0.5], net: [0.1], disk: [0.1] });
  it('maxima over the last usage window only, capped at 1', () => {
    const [t] = scoreApps([{ priority: 1, system: false, runningMinutes: 0, usage: u([0.9, ...flat(0.2, 60)]) }], 60);
    expect(t?.maxima.cpu).toBe(0.2);
    const [b] = scoreApps([{ priority: 1, system: false, runningMinutes: 0, usage: u([1.7]) }], 60);
    expect(b?.maxima.cpu).toBe(1);
  });

  it('aplv spans the lowest to the highest priority wherever they are in the list', () => {
    const t = scoreApps([1000, 100, 550].map((priority) => ({ priority, system: false, runningMinutes: 0, usage: u([0.5]) })), 60);
    expect(t.map((x) => x.aplv)).toEqual([1, 0, 0.5]);
  });

  it('equal priorities: +0.2 for a system application, +0.1 for a user one, capped at 1', () => {
    const t = scoreApps([
      { priority: 100, system: true, runningMinutes: 0, usage: u([0.5]) },
      { priority: 100, system: false, runningMinutes: 0, usage: u([0.5]) },
      { priority: 500, system: false, runningMinutes: 0, usage: u([0.5]) },
      { priority: 500, system: true, runningMinutes: 0, usage: u([0.5]) },
      { priority: 300, system: false, runningMinutes: 0, usage: u([0.5]) },
    ], 60);
    expect(t.map((x) => x.aplv)).toEqual([0.2, 0.1, 1, 1, 0.5]);
  });
});
