import { describe, expect, it } from 'vitest';
import { chooseBasis, monitoringState, ratesBetween, type Counters } from './usage.ts';
import { containerOfDir, podOfDir, qosOfDir, runtimeIdOf } from './paths.ts';
import { quantityToNumber } from './quantity.ts';

const at = (t: number, over: Partial<Counters> = {}): Counters => ({ t, cpuUsec: 0, memUsage: 100, memWorkingSet: 80, memInactiveFile: 20, ...over });

describe('ratesBetween', () => {
  it('turns CPU microseconds, disk and network bytes into per-second rates', () => {
    const r = ratesBetween(at(0, { cpuUsec: 1_000_000, ioBytes: 0, netBytes: 100 }), at(10_000, { cpuUsec: 6_000_000, ioBytes: 50_000, netBytes: 20_100 }));
    expect(r.cpuCores).toBeCloseTo(0.5, 12);
    expect(r.diskBytesPerSec).toBe(5000);
    expect(r.netBytesPerSec).toBe(2000);
    expect(r.notes).toEqual([]);
  });

  it('gives no rate on the first reading, when no time passed, or for a counter that went backwards', () => {
    expect(ratesBetween(undefined, at(0)).cpuCores).toBeUndefined();
    expect(ratesBetween(at(5), at(5)).notes).toEqual(['no time passed']);
    const r = ratesBetween(at(0, { cpuUsec: 10 }), at(1000, { cpuUsec: 5 }));
    expect(r.cpuCores).toBeUndefined();
    expect(r.notes).toEqual(['counter went backwards: cpu']);
  });

  it('memory is the working set, raised to the peak (less inactive cache) when memory.peak rose in between', () => {
    const quiet = ratesBetween(at(0, { memPeak: 500 }), at(1000, { memPeak: 500, memWorkingSet: 80 }));
    expect(quiet).toMatchObject({ memBytes: 80, memPeakBetween: false });
    const spiked = ratesBetween(at(0, { memPeak: 500 }), at(1000, { memPeak: 900, memWorkingSet: 80, memInactiveFile: 20 }));
    expect(spiked).toMatchObject({ memBytes: 880, memPeakBetween: true });
  });
});

describe('chooseBasis', () => {
  const node = { amount: 8, source: 'node' };
  it('limit, else request, else the node', () => {
    expect(chooseBasis({ amount: 2, source: 'pod spec' }, { amount: 1, source: 'pod spec' }, node)).toEqual({ kind: 'limit', amount: 2, source: 'pod spec' });
    expect(chooseBasis(undefined, { amount: 1, source: 'pod spec' }, node).kind).toBe('request');
    expect(chooseBasis({ amount: 0, source: 'x' }, undefined, node)).toEqual({ kind: 'node', amount: 8, source: 'node' });
  });
});

describe('monitoringState', () => {
  it('not ready -> warming up for the warm-up after Ready -> monitoring', () => {
    expect(monitoringState({ ready: false }, 0, 1000)).toEqual({ state: 'not-ready', reason: 'containers not ready' });
    expect(monitoringState({ ready: true, readySince: 100 }, 500, 1000)).toEqual({ state: 'warming-up', readySince: 100, monitoringFrom: 1100 });
    expect(monitoringState({ ready: true, readySince: 100 }, 1100, 1000)).toEqual({ state: 'monitoring', since: 1100 });
  });
  it('without a time from the API, counts from when the probe first saw it Ready', () => {
    expect(monitoringState({ ready: true, firstSeenReady: 2000 }, 2500, 1000).state).toBe('warming-up');
  });
});

describe('kubelet cgroup names', () => {
  it('systemd driver: pod slices per QoS, uid underscores back to dashes; runtime scopes', () => {
    expect(podOfDir('kubepods-burstable-pod0f4a1c2e_7b3d_4f5a_9c8b_1234567890ab.slice', 'systemd')).toEqual({ uid: '0f4a1c2e-7b3d-4f5a-9c8b-1234567890ab', qos: 'Burstable' });
    expect(podOfDir('kubepods-pod0f4a1c2e_7b3d.slice', 'systemd')?.qos).toBe('Guaranteed');
    expect(podOfDir('kubepods-besteffort.slice', 'systemd')).toBeUndefined();
    expect(qosOfDir('kubepods-besteffort.slice', 'systemd')).toBe('BestEffort');
    const id = 'ab'.repeat(32);
    expect(containerOfDir(`cri-containerd-${id}.scope`, 'systemd')).toEqual({ id, runtime: 'containerd' });
    expect(containerOfDir(`crio-${id}.scope`, 'systemd')).toEqual({ id, runtime: 'crio' });
    expect(containerOfDir(`docker-${id}.scope`, 'systemd')).toEqual({ id, runtime: 'docker' });
    expect(containerOfDir(`crio-conmon-${id}.scope`, 'systemd')).toBeUndefined();
    expect(containerOfDir('init.scope', 'systemd')).toBeUndefined();
  });

  it('cgroupfs driver: pod<uid> and bare ids', () => {
    expect(podOfDir('pod0f4a1c2e-7b3d-4f5a-9c8b-1234567890ab', 'cgroupfs')).toEqual({ uid: '0f4a1c2e-7b3d-4f5a-9c8b-1234567890ab', qos: 'Guaranteed' });
    expect(qosOfDir('burstable', 'cgroupfs')).toBe('Burstable');
    expect(containerOfDir('ab'.repeat(32), 'cgroupfs')).toEqual({ id: 'ab'.repeat(32), runtime: 'unknown' });
    expect(containerOfDir('cpu.stat', 'cgroupfs')).toBeUndefined();
    expect(runtimeIdOf('containerd://abc123')).toBe('abc123');
  });
});

describe('quantityToNumber', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['128Mi', 128 * 2 ** 20],
    ['1e3', 1000],
    ['100k', 100_000],
  ])('%s -> %d', (q, v) => {
    expect(quantityToNumber(q)).toEqual({ ok: true, value: v });
  });
  it('refuses what Kubernetes refuses', () => {
    expect(quantityToNumber('12 cores').ok).toBe(false);
    expect(quantityToNumber('Mi').ok).toBe(false);
  });
});
