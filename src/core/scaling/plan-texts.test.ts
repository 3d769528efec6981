/**
 * What the plan tells an operator: each action's reason code and its `detail` (the numbers
 * behind the decision, in the units `describeAmount` prints), the amounts and the allocation
 * before and after. `polyarch plan` and the autoscaler's status print these texts as they are.
 */
import { describe, expect, it } from 'vitest';
import { Gi, actionsOf, flat, runPlan, scalingApp } from '../../../test/builders/scaling.ts';
import { describeAmount } from './plan.ts';
import type { Action, AppInput } from './types.ts';

const Mi = 2 ** 20;
const app = scalingApp;
const acts = actionsOf;
const run = runPlan;

describe('describeAmount: quantities as an operator reads them', () => {
  it('cpu in cores or millicores, rounded to the millicore', () => {
    expect(describeAmount('cpu', 2)).toBe('2');
    expect(describeAmount('cpu', 1.5)).toBe('1500m');
    expect(describeAmount('cpu', 1.2345)).toBe('1235m');
    expect(describeAmount('cpu', 0.0004)).toBe('0');
  });

  it('memory in binary units; an odd byte count of a mebibyte or more as approximate Mi', () => {
    expect(describeAmount('memory', 3 * Gi)).toBe('3Gi');
    expect(describeAmount('memory', Mi)).toBe('1Mi');
    expect(describeAmount('memory', 1.5 * Mi)).toBe('1536Ki');
    expect(describeAmount('memory', 1.5 * Mi + 0.4)).toBe('1536Ki'); // whole bytes
    expect(describeAmount('memory', Mi + 1)).toBe('~1.0Mi');
    expect(describeAmount('memory', 1.5 * Mi + 7)).toBe('~1.5Mi');
    expect(describeAmount('memory', 1023)).toBe('1023');
  });

  it('network and disk in bytes per second', () => {
    expect(describeAmount('network', 1.5e6)).toBe('1500k/s');
    expect(describeAmount('disk', 2e8)).toBe('200M/s');
    expect(describeAmount('disk', 1234.4)).toBe('1234/s');
  });
});

describe('the reasons and details of each action', () => {
  // 4 cpu, 1 core used for the last k minutes after 2: desired 1.25, surplus 2.75 idle k minutes.
  const idle = (k: number, extra: Partial<AppInput> = {}): AppInput => app('idle', 4, [...flat(2, 20 - k), ...flat(1, k)], extra);

  it('young surplus: released at once, saying how long it was idle', () => {
    expect(acts(run({}, [idle(5)]), 'idle')).toEqual([{
      kind: 'release', resource: 'cpu', amount: 2.75, from: 4, to: 1.25, generation: 'young', reason: 'YoungSurplusReleased',
      detail: 'surplus 2750m above desired 1250m idle 5 min (< 10): released at once',
    }]);
  });

  it('old surplus with room: marked, allocation unchanged', () => {
    expect(acts(run({}, [idle(12)]), 'idle')).toEqual([{
      kind: 'mark', resource: 'cpu', amount: 2.75, from: 4, to: 4, generation: 'old', reason: 'OldSurplusMarked',
      detail: 'surplus 2750m idle 12 min (>= 10): marked, to compact in the next plans',
    }]);
  });

  it('a marked surplus compacted by a step of the give-back, and what stays marked', () => {
    // Marked 2 of the 2.75: a step is 25 % of 4 = 1; 1 stays marked (not the 1.75 of surplus).
    const p = run({}, [idle(12, { marked: { cpu: 2 } })]);
    expect(acts(p, 'idle')).toEqual([{
      kind: 'compact', resource: 'cpu', amount: 1, from: 4, to: 3, generation: 'old', reason: 'OldSurplusCompacted',
      detail: 'marked surplus compacted by 1 (at most 25.0% of 4 per step); 1 still marked',
    }]);
    expect(p.apps[0]!.marks).toEqual({ cpu: 1 });
  });

  it('old surplus compacted to cover a deficit, and what is still surplus', () => {
    const grow = app('grow', 2, flat(2), { priority: 1000 }); // wants 2.5: +0.5, nothing free
    const p = run({ cpu: 6 }, [idle(12), grow]);
    expect(acts(p, 'idle')).toEqual([
      { kind: 'compact', resource: 'cpu', amount: 1, from: 4, to: 3, generation: 'old', reason: 'OldSurplusCompacted', detail: 'old surplus compacted by 1 to cover a deficit; 1750m still surplus' },
      { kind: 'mark', resource: 'cpu', amount: 1.75, from: 3, to: 3, generation: 'old', reason: 'OldSurplusMarked', detail: 'surplus 1750m idle 12 min (>= 10): marked, to compact in the next plans' },
    ]);
    expect(acts(p, 'grow')).toEqual([{
      kind: 'grant', resource: 'cpu', amount: 0.5, from: 2, to: 2.5, reason: 'IncreaseGranted',
      detail: 'forecast 2 + headroom 500m (floor) = 2500m: +500m granted',
    }]);
  });

  it('memory: a proactive reclaim of the same generation before every decrease', () => {
    const mem = (k: number, extra: Partial<AppInput> = {}): AppInput => ({ ...app('m', 4, flat(3.2)), demand: { ...app('m', 4, flat(3.2)).demand, mem: [...flat(6.4 * Gi, 20 - k), ...flat(2 * Gi, k)] }, ...extra });
    const reclaim = (amount: number, from: number, generation: 'young' | 'old'): Action => ({
      kind: 'proactive-reclaim', resource: 'memory', amount, from, to: from, generation, reason: 'ProactiveReclaim',
      detail: `reclaim ${describeAmount('memory', amount)} of the container's memory (memory.reclaim) before its limit drops`,
    });
    // Desired 2.5Gi (the 6.4Gi of before is out of the usage window): young surplus 5.5Gi released at once.
    expect(acts(run({}, [mem(5)], { usageMinutes: 5 }), 'm', 'memory')).toEqual([reclaim(5.5 * Gi, 8 * Gi, 'young'), expect.objectContaining({ kind: 'release', amount: 5.5 * Gi, to: 2.5 * Gi })]);
    // Old and marked: one step of 2Gi.
    expect(acts(run({}, [mem(12, { marked: { memory: 5.5 * Gi } })], { usageMinutes: 12 }), 'm', 'memory')).toEqual([reclaim(2 * Gi, 8 * Gi, 'old'), expect.objectContaining({ kind: 'compact', amount: 2 * Gi, to: 6 * Gi })]);
  });

  it('a recommendation is followed at once, whatever the surplus\'s age, and named in the grant', () => {
    const p = run({}, [idle(12, { recommended: { cpu: 1 } }), app('up', 2, flat(2), { recommended: { cpu: 3 } })]);
    expect(acts(p, 'idle')).toEqual([{
      kind: 'release', resource: 'cpu', amount: 3, from: 4, to: 1, generation: 'young', reason: 'RecommendationFollowed',
      detail: 'recommendation 1: 3 released',
    }]);
    expect(acts(p, 'up')).toEqual([expect.objectContaining({ kind: 'grant', amount: 1, from: 2, to: 3, detail: 'recommendation = 3: +1 granted' })]);
  });

  it('a minimum above the allocation of an application still starting is granted as the minimum', () => {
    const p = run({}, [app('new', 2, [1], { min: { cpu: 3 } })]);
    expect(acts(p, 'new')).toEqual([expect.objectContaining({ kind: 'grant', amount: 1, from: 2, to: 3, reason: 'IncreaseGranted', detail: 'minimum allocation = 3: +1 granted' })]);
  });

  it('a headroom from the recent errors is named with its quantile and count', () => {
    // Alternating 1 and 3 cores: the forecast misses by about 1 either way; P90 of 10 errors is above the floor.
    const noisy = app('noisy', 1, Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 1 : 3)), { forecast: { errorQuantile: 0.9, errorWindow: 10 } });
    const p = run({}, [noisy]);
    const h = p.apps[0]!.headroom.cpu!;
    const f = p.apps[0]!.forecasts.cpu;
    expect(h).toMatchObject({ source: 'errors', quantile: 0.9, errors: 10 });
    if (!f.ok) throw new Error('expected a cpu forecast');
    const [grant] = acts(p, 'noisy');
    expect(grant?.detail).toBe(`forecast ${describeAmount('cpu', f.value)} + headroom ${describeAmount('cpu', h.amount)} (P90 of 10 recent errors) = ${describeAmount('cpu', p.apps[0]!.desired.cpu)}: +${describeAmount('cpu', p.apps[0]!.desired.cpu - 1)} granted`);
  });

  it('capacity short: part granted, the rest unmet, each saying so', () => {
    // Two want +0.5; 0.75 free: the higher priority gets 0.5, the other 0.25 of 0.5.
    const p = run({ cpu: 4.75 }, [app('lo', 2, flat(2), { priority: 1 }), app('hi', 2, flat(2), { priority: 2 })]);
    expect(acts(p, 'lo')).toEqual([
      { kind: 'grant', resource: 'cpu', amount: 0.25, from: 2, to: 2.25, reason: 'IncreasePartlyGranted', detail: 'forecast 2 + headroom 500m (floor) = 2500m: +250m of 500m granted, capacity short' },
      { kind: 'unmet', resource: 'cpu', amount: 0.25, from: 2.25, to: 2.25, reason: 'IncreaseUnmet', detail: '250m of the increase cannot be granted: capacity short after reclaim' },
    ]);
  });

  it('nothing free: the whole increase unmet, and no grant of nothing', () => {
    const p = run({ cpu: 4.5 }, [app('lo', 2, flat(2), { priority: 1 }), app('hi', 2, flat(2), { priority: 2 })]);
    expect(acts(p, 'lo')).toEqual([
      { kind: 'unmet', resource: 'cpu', amount: 0.5, from: 2, to: 2, reason: 'IncreaseUnmet', detail: '500m of the increase cannot be granted: capacity short after reclaim' },
    ]);
  });

  it('the disruption budget spent: increases and decreases wait, saying which', () => {
    const p = run({}, [idle(5), app('grow', 2, flat(2))], { maxPodChanges: 0 });
    expect(acts(p, 'idle')).toEqual([{ kind: 'held', resource: 'cpu', amount: 2.75, from: 4, to: 4, reason: 'DisruptionBudget', detail: 'decrease of 2750m waits: this round\'s disruption budget is spent' }]);
    // Held, not also reported unmet: the capacity is there.
    expect(acts(p, 'grow')).toEqual([{ kind: 'held', resource: 'cpu', amount: 0.5, from: 2, to: 2, reason: 'DisruptionBudget', detail: 'increase of 500m waits: this round\'s disruption budget is spent' }]);
  });
});
