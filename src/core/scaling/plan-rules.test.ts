/**
 * The rules of the scaling plan that mutation testing found untested (docs/testing.md),
 * checked through the public `plan()` only (input: PlanInput; output: each application's
 * allocation after the plan and its actions' kinds), so they hold across a rewrite of
 * plan.ts's internals.
 */
import { describe, expect, it } from 'vitest';
import { plan } from './plan.ts';
import { DEFAULT_POLICY, type AppInput, type PlanInput } from './types.ts';

const Gi = 2 ** 30;
const flat = (v: number, n = 20): number[] => new Array<number>(n).fill(v);
// Forecast = the last usage when it is flat (window 2, horizon 1); desired = forecast x allocation x 1.25.
// errorQuantile 0: the headroom is the floor alone (the error-driven margin has its own tests).
const policy = { ...DEFAULT_POLICY, window: 2, horizon: 1, headroom: 0.25, errorQuantile: 0, youngMinutes: 10 };
const roomy = { memory: 1024 * Gi, network: 1e11, disk: 1e11 };

const app = (name: string, priority: number, cpu: number, cpuUsage: number[], extra: Partial<AppInput> = {}): AppInput => ({
  name, priority, system: false, runningMinutes: 30,
  allocation: { cpu, memory: 8 * Gi, network: 1e9, disk: 2e8 },
  demand: { cpu: cpuUsage.map((x) => x * cpu), mem: flat(0.5 * 8 * Gi), net: flat(0.1e9), disk: flat(0.2e8) },
  ...extra,
});
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
  const idleFor = (k: number, extra: Partial<AppInput> = {}): AppInput => app('idle', 100, 4, [...flat(0.5, 20 - k), ...flat(0.25, k)], extra);
  const grower = app('grow', 1000, 2, flat(1));
  const input = (idle: AppInput): PlanInput => ({ capacity: { cpu: 6, ...roomy }, policy, apps: [idle, grower] });

  it('idle youngMinutes - 1: young, released at once', () => {
    expect(cpuOf(input(idleFor(policy.youngMinutes - 1)), 'idle')).toBe(1.25);
    expect(cpuOf(input(idleFor(policy.youngMinutes - 1)), 'grow')).toBe(2.5);
  });

  it('idle exactly youngMinutes: old, so in a deficit compacted by one step (25% of 4) now, the rest marked', () => {
    const p = plan(input(idleFor(policy.youngMinutes)));
    const idle = p.apps.find((x) => x.name === 'idle');
    expect(idle?.allocation.cpu).toBe(3);
    expect(idle?.actions.filter((x) => x.resource === 'cpu').map((x) => x.kind)).toEqual(['compact', 'mark']);
    expect(p.apps.find((x) => x.name === 'grow')?.allocation.cpu).toBe(2.5);
  });

  it('idle exactly youngMinutes and marked: compacted one step (25% of 4), not released whole', () => {
    expect(cpuOf(input(idleFor(policy.youngMinutes, { marked: { cpu: 2.75 } })), 'idle')).toBe(3);
  });
});
