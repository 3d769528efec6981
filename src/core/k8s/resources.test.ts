import { describe, expect, it } from 'vitest';
import { makePod } from '../../../test/builders/index.ts';
import { allocatableAmounts, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, nodeAllocatable, podRequestAmounts, podResources } from './resources.ts';
import type { Pod } from './types.ts';

const res = (pod: Pod) => {
  const r = podResources(pod);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('podResources (effective requests)', () => {
  it('sums app containers', () => {
    // 500m + 250m = 750m; 128Mi + 64Mi = 192Mi
    const pod = makePod().image('a:1').requests({ cpu: '500m', memory: '128Mi' }).image('b:1').requests({ cpu: '250m', memory: '64Mi' }).build();
    expect(res(pod).requests.milliCPU).toBe(750);
    expect(res(pod).requests.memory).toBe(192 * 1024 ** 2);
  });

  it('takes the largest init container when it exceeds the sum', () => {
    // app 500m; init 2 cpu -> max(500m, 2000m) = 2000m; memory max(1Gi, 256Mi) = 1Gi
    const pod = makePod().init('migrate:1').requests({ cpu: '2', memory: '256Mi' }).image('app:1').requests({ cpu: '500m', memory: '1Gi' }).build();
    expect(res(pod).requests.milliCPU).toBe(2000);
    expect(res(pod).requests.memory).toBe(1024 ** 3);
  });

  it('adds sidecars (restartPolicy Always) to the app and to later init containers', () => {
    // sidecar 100m runs throughout: app 500m + 100m = 600m; init after sidecar 1000m + 100m = 1100m -> 1100m
    const pod = makePod()
      .init('proxy:1', 'proxy', true).requests({ cpu: '100m' })
      .init('migrate:1', 'migrate').requests({ cpu: '1' })
      .image('app:1').requests({ cpu: '500m' })
      .build();
    expect(res(pod).requests.milliCPU).toBe(1100);
  });

  it('an init container before the sidecar does not add it', () => {
    // init 1000m alone (sidecar not started yet); app 500m + sidecar 100m = 600m -> 1000m
    const pod = makePod()
      .init('migrate:1', 'migrate').requests({ cpu: '1' })
      .init('proxy:1', 'proxy', true).requests({ cpu: '100m' })
      .image('app:1').requests({ cpu: '500m' })
      .build();
    expect(res(pod).requests.milliCPU).toBe(1000);
  });

  it('adds overhead and extended resources', () => {
    // 250m + overhead 50m = 300m; gpu 1 + 1 = 2
    const pod = makePod().image('a:1').requests({ cpu: '250m', 'nvidia.com/gpu': '1' }).image('b:1').requests({ 'nvidia.com/gpu': 1 }).overhead({ cpu: '50m' }).build();
    const r = res(pod).requests;
    expect(r.milliCPU).toBe(300);
    expect(r.scalar['nvidia.com/gpu']).toBe(2);
  });

  it('uses limits when requests are missing, as API defaulting does', () => {
    const pod = makePod().image('a:1').limits({ cpu: '1', memory: '1Gi' }).build();
    expect(res(pod).requests.milliCPU).toBe(1000);
    expect(res(pod).requests.memory).toBe(1024 ** 3);
  });

  it('non-zero requests use 100m / 200Mi per container that sets none', () => {
    // container a: none -> 100m, 200Mi; b: 300m, memory none -> 200Mi => 400m, 400Mi
    const pod = makePod().image('a:1').image('b:1').requests({ cpu: '300m' }).build();
    const r = res(pod);
    expect(r.requests.milliCPU).toBe(300);
    expect(r.nonZeroMilliCPU).toBe(DEFAULT_MILLI_CPU_REQUEST + 300);
    expect(r.nonZeroMemory).toBe(2 * DEFAULT_MEMORY_REQUEST);
  });

  it('names the field of a bad quantity', () => {
    const pod = makePod().image('a:1').image('b:1').requests({ memory: '12 Gi' }).build();
    const r = podResources(pod);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('spec.containers[1].resources.requests.memory');
  });

  it('pod-level resources replace cpu and memory', () => {
    const base = makePod().image('a:1').requests({ cpu: '100m', memory: '1Gi' }).build();
    const pod: Pod = { ...base, spec: { ...base.spec, resources: { requests: { cpu: '2' } } } };
    expect(res(pod).requests.milliCPU).toBe(2000);
    expect(res(pod).requests.memory).toBe(1024 ** 3);
  });
});

describe('nodeAllocatable', () => {
  it('reads allocatable, falls back to capacity, defaults pods to 110', () => {
    const a = nodeAllocatable({ status: { capacity: { cpu: '8', memory: '16Gi' } } });
    expect(a.ok && a.value.resources.milliCPU).toBe(8000);
    expect(a.ok && a.value.pods).toBe(110);
    const b = nodeAllocatable({ status: { allocatable: { cpu: '7900m', pods: '58' } } });
    expect(b.ok && b.value.pods).toBe(58);
  });
});

describe('plain amounts (simulator, autoscaler)', () => {
  it('count a pod as the NodeResourcesFit filter does, init containers included', () => {
    // app 100m/64Mi; init 1/1Gi: the init container is the peak.
    const pod = makePod().init('i:1').requests({ cpu: '1', memory: '1Gi' }).image('a:1').requests({ cpu: '100m', memory: '64Mi' }).build();
    expect(podRequestAmounts(pod)).toEqual({ cpu: 1000, mem: 1024 ** 3, pods: 1 });
  });

  it('read allocatable, then capacity, with 110 pods by default', () => {
    expect(allocatableAmounts({ status: { capacity: { cpu: '4', memory: '8Gi' } } })).toEqual({ cpu: 4000, mem: 8 * 1024 ** 3, pods: 110 });
    expect(allocatableAmounts({ status: { allocatable: { cpu: '3500m', memory: '1000', pods: '20' }, capacity: { cpu: '4' } } })).toEqual({ cpu: 3500, mem: 1000, pods: 20 });
  });
});
