import { describe, expect, it } from 'vitest';
import { SchedulingQueue } from './scheduling-queue.ts';

describe('SchedulingQueue', () => {
  it('pops the highest priority first, then the oldest', () => {
    const q = new SchedulingQueue();
    q.add('a', 0, 1);
    q.add('b', 10, 2);
    q.add('c', 0, 0);
    expect([q.pop(5)?.key, q.pop(5)?.key, q.pop(5)?.key, q.pop(5)]).toEqual(['b', 'c', 'a', undefined]);
  });

  it('backs a failed pod off 1 s, then 2 s, doubling to the cap', () => {
    const q = new SchedulingQueue({ initialBackoffMs: 1000, maxBackoffMs: 3000 });
    q.add('a', 0, 0);
    expect(q.pop(0)?.key).toBe('a');
    q.requeue('a', false, 0); // attempt 1 -> 1 s
    expect(q.pop(999)).toBeUndefined();
    expect(q.nextWakeAt()).toBe(1000);
    expect(q.pop(1000)?.key).toBe('a');
    q.requeue('a', false, 1000); // attempt 2 -> 2 s
    expect(q.pop(2999)).toBeUndefined();
    expect(q.pop(3000)?.key).toBe('a');
    q.requeue('a', false, 3000); // attempt 3 -> 4 s capped to 3 s
    expect(q.pop(5999)).toBeUndefined();
    expect(q.pop(6000)?.key).toBe('a');
  });

  it('keeps unschedulable pods until a cluster event moves them back', () => {
    const q = new SchedulingQueue({ initialBackoffMs: 10, maxUnschedulableMs: 60_000 });
    q.add('a', 0, 0);
    q.pop(0);
    q.requeue('a', true, 0);
    expect(q.pop(1000)).toBeUndefined();
    expect(q.counts().unschedulable).toBe(1);
    expect(q.moveAllToActiveOrBackoff(1000)).toBe(1);
    expect(q.pop(1010)?.key).toBe('a');
  });

  it('flushes an unschedulable pod after the safety timeout', () => {
    const q = new SchedulingQueue({ maxUnschedulableMs: 60_000 });
    q.add('a', 0, 0);
    q.pop(0);
    q.requeue('a', true, 0);
    expect(q.pop(59_999)).toBeUndefined();
    expect(q.pop(60_000)?.key).toBe('a');
  });

  it('drops a pod deleted while in flight and requeues one moved while in flight', () => {
    const q = new SchedulingQueue({ initialBackoffMs: 0 });
    q.add('a', 0, 0);
    q.add('b', 0, 0);
    q.pop(0);
    q.pop(0);
    q.delete('a');
    q.moveAllToActiveOrBackoff(0);
    q.requeue('a', true, 0);
    q.requeue('b', true, 0);
    expect(q.has('a')).toBe(false);
    expect(q.pop(0)?.key).toBe('b');
  });
});

describe('SchedulingQueue gating', () => {
  it('holds a gated pod aside without counting an attempt, until ungated', () => {
    const q = new SchedulingQueue({ initialBackoffMs: 1000 });
    q.add('a', 0, 0);
    const first = q.pop(0);
    q.gate('a');
    expect(q.pop(10_000)).toBeUndefined();
    expect(q.counts().gated).toBe(1);
    q.ungate('a', 5);
    expect(q.pop(5)?.key).toBe('a');
    expect(first?.attempts).toBe(1);
  });
});
