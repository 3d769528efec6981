import { describe, expect, it } from 'vitest';
import { binaryQuantity, cpuShares, memoryPressureEvictions, rankMemoryPressure, shareCpu } from './contention.ts';

const Mi = 2 ** 20;

describe('shareCpu (CFS shares on a contended node)', () => {
  it('gives every pod its demand (capped at its limit) when they fit', () => {
    expect(shareCpu(4000, [{ request: 500, limit: 1000, demand: 1500 }, { request: 500, limit: Infinity, demand: 2000 }])).toEqual([1000, 2000]);
  });
  it('divides the cores in proportion to requests when they do not fit', () => {
    const got = shareCpu(3000, [{ request: 1000, limit: Infinity, demand: 4000 }, { request: 2000, limit: Infinity, demand: 4000 }]);
    expect(got[0]).toBeCloseTo(1000);
    expect(got[1]).toBeCloseTo(2000);
  });
  it('water-fills: what a pod capped at its demand or limit leaves goes to the others', () => {
    // Equal shares of 3000 would be 1000 each; the first wants 200, the second is limited to 500.
    const got = shareCpu(3000, [{ request: 500, limit: Infinity, demand: 200 }, { request: 500, limit: 500, demand: 3000 }, { request: 500, limit: Infinity, demand: 5000 }]);
    expect(got[0]).toBeCloseTo(200);
    expect(got[1]).toBeCloseTo(500);
    expect(got[2]).toBeCloseTo(2300);
  });
  it('a pod with no request still gets the kernel minimum of 2 shares', () => {
    expect(cpuShares(0)).toBe(2);
    expect(cpuShares(1000)).toBe(1024);
    const got = shareCpu(1000, [{ request: 0, limit: Infinity, demand: 1000 }, { request: 1000, limit: Infinity, demand: 1000 }]);
    expect(got[0]).toBeCloseTo((1000 * 2) / 1026);
  });
});

describe('memory-pressure eviction (kubelet rankMemoryPressure)', () => {
  const pod = (usage: number, request: number, priority = 0, container = 'app') => ({ usage: usage * Mi, request: request * Mi, priority, container });
  it('ranks pods above their request first, then lower priority, then more usage above the request', () => {
    const claims = [pod(100, 200, 0), pod(300, 200, 10), pod(400, 200, 10), pod(250, 200, 0), pod(50, 100, -5)];
    expect(rankMemoryPressure(claims)).toEqual([3, 2, 1, 4, 0]);
  });
  it('evicts none while memory.available stays at or above 100Mi', () => {
    expect(memoryPressureEvictions(1024 * Mi, [pod(500, 500), pod(424, 100)])).toEqual([]);
  });
  it('evicts in rank order until memory.available is back above the threshold, with the kubelet message', () => {
    const ev = memoryPressureEvictions(1024 * Mi, [pod(600, 600), pod(300, 100), pod(150, 100)]);
    expect(ev.map((e) => e.index)).toEqual([1]);
    expect(ev[0]!.reason).toBe('Evicted');
    expect(ev[0]!.message).toBe('The node was low on resource: memory. Threshold quantity: 100Mi, available: -26Mi. Container app was using 300Mi, request is 100Mi, has larger consumption of memory. ');
  });
  it('prints quantities as resource.Quantity does', () => {
    expect(binaryQuantity(1536 * 1024)).toBe('1536Ki');
    expect(binaryQuantity(2 * 2 ** 30)).toBe('2Gi');
    expect(binaryQuantity(1000)).toBe('1000');
  });
});
