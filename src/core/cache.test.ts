import { describe, expect, it } from 'vitest';
import { SingleFlight, TtlCache } from './cache.ts';

const clockAt = (t: { now: number }) => ({ now: () => t.now, sleep: async () => undefined });

describe('TtlCache', () => {
  it('forgets entries at their TTL, and keeps at most maxEntries (oldest written go first)', () => {
    const t = { now: 0 };
    const c = new TtlCache<string>(clockAt(t), 2);
    c.set('a', 'A', 100);
    c.set('b', 'B', 300);
    t.now = 99;
    expect(c.get('a')).toBe('A');
    t.now = 100;
    expect(c.get('a')).toBeUndefined();
    c.set('c', 'C', 300);
    c.set('d', 'D', 300);
    expect([c.get('b'), c.get('c'), c.get('d')]).toEqual([undefined, 'C', 'D']);
    expect(c.size).toBe(2);
  });

  it('does not store with a TTL of zero', () => {
    const c = new TtlCache<number>(clockAt({ now: 0 }), 10);
    c.set('x', 1, 0);
    expect(c.get('x')).toBeUndefined();
  });
});

describe('SingleFlight', () => {
  it('runs identical work once while it is in flight, and again afterwards', async () => {
    const f = new SingleFlight<number>();
    let runs = 0;
    let release: () => void = () => undefined;
    const work = () => new Promise<number>((r) => ((runs += 1), (release = () => r(runs))));
    const a = f.run('k', work);
    const b = f.run('k', work);
    expect(f.inFlight).toBe(1);
    release();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect(f.inFlight).toBe(0);
    const c = f.run('k', work);
    release();
    expect(await c).toBe(2);
  });
});
