// The simulated kubelet on a contended node: CPU shared by requests (starved minutes),
// memory pressure evicting the pod over its request (Failed/Evicted, counted apart from OOM kills).
import { describe, expect, it } from 'vitest';
import type { Pod } from '../core/k8s/types.ts';
import { SimCluster } from './cluster.ts';
import { SimClock } from './sim-clock.ts';
import { SimKubelet } from './kubelet.ts';
import { SimRegistry } from './registry.ts';
import type { Usage, UsageModel } from './usage.ts';

const Mi = 2 ** 20;

async function node(use: Record<string, { cpu: number; mem: number }>): Promise<{ cluster: SimCluster; kubelet: SimKubelet; events: string[] }> {
  const cluster = new SimCluster(new SimClock(0), 0);
  cluster.addNode({ metadata: { name: 'n1', labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' } }, status: { capacity: { cpu: '2', memory: '1Gi' }, allocatable: { cpu: '2', memory: '1Gi' }, conditions: [{ type: 'Ready', status: 'True' }] } });
  const pod = (name: string, cpu: string, mem: string, limMem: string): Pod => ({
    metadata: { name, namespace: 'ns', uid: name },
    spec: { containers: [{ name: 'app', image: 'x', resources: { requests: { cpu, memory: mem }, limits: { memory: limMem } } }] },
  });
  for (const p of [pod('a', '500m', '256Mi', '1Gi'), pod('b', '1500m', '512Mi', '1Gi')]) {
    await cluster.createPod(p);
    await cluster.bindPod({ namespace: 'ns', name: p.metadata.name! }, 'n1');
    cluster.runtimeOf(`ns/${p.metadata.name!}`)!.state = 'Running';
  }
  const usage = {
    shiftFor: () => 0,
    // The workload's name stands for its profile.
    profileOf: (app: string) => app,
    fill: (app: string, _s: number, _m: number, out: Usage) => Object.assign(out, { net: 0, disk: 0 }, use[app]),
  } as unknown as UsageModel;
  const kubelet = new SimKubelet(cluster, new SimRegistry([]), usage, 0, 1);
  const events: string[] = [];
  const record = cluster.recordEvent.bind(cluster);
  cluster.recordEvent = async (e) => { events.push(`${e.reason}: ${e.message}`); return record(e); };
  return { cluster, kubelet, events };
}

describe('SimKubelet on a contended node', () => {
  it('shares 2 cores by requests when both pods want 2: the small one is starved, no one evicted', async () => {
    const { kubelet } = await node({ 'ns/a': { cpu: 2000, mem: 100 * Mi }, 'ns/b': { cpu: 2000, mem: 100 * Mi } });
    kubelet.step(0);
    expect(kubelet.counters.starvedMinutes).toBe(2);
    // a gets 500 of 2000 (1/4 of the cores), b 1500: 1500 + 500 millicores not had.
    expect(kubelet.counters.starvedCpu).toBeCloseTo(2000);
    expect(kubelet.counters.nodePressureEvictions).toBe(0);
  });
  it('evicts the pod furthest over its request when working sets leave under 100Mi, with the kubelet status', async () => {
    const { cluster, kubelet, events } = await node({ 'ns/a': { cpu: 100, mem: 600 * Mi }, 'ns/b': { cpu: 100, mem: 400 * Mi } });
    kubelet.step(0);
    expect(kubelet.counters.nodePressureEvictions).toBe(1);
    expect(kubelet.counters.oomKills).toBe(0);
    expect(cluster.podObject('ns/a')).toBeUndefined();
    expect(cluster.podObject('ns/b')).toBeDefined();
    expect(events).toContain('Evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 24Mi. Container app was using 600Mi, request is 256Mi, has larger consumption of memory. ');
  });
});
