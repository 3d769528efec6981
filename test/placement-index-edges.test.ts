/**
 * The placement index's bookkeeping and the cycles it declines, through the public API:
 * `placementIndex(snapshot).shape` (how many groups a cycle works on) as pods are assumed
 * and forgotten and nodes replaced and removed, two alike nodes told apart by the running
 * totals only, and the index's cycle equal to
 * the node-by-node scanCycle where the index must not answer (a pod whose affinity reads
 * the node's name) or meets a node it cannot read (allocatable unreadable).
 */
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/core/k8s/types.ts';
import {
  ClusterSnapshot, createFramework, createRng, placementIndex, preparePod, scanCycle,
  type CycleResult, type Framework, type PodInfo, type Rng,
} from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from './builders/index.ts';

const lookup = makeImages({ 'p/multi:1': ['linux/amd64', 'linux/arm64'] });
const fw = ((): Framework => {
  const f = createFramework({ profile: 'polyarch', percentageOfNodesToScore: 100 });
  if (!f.ok) throw new Error(f.error);
  return f.value;
})();
const node = (name: string, arch: 'amd64' | 'arm64'): Node => makeNode(name).arch(arch).label('kubernetes.io/hostname', name).allocatable({ cpu: '4', memory: '8Gi', pods: '10' }).build();
const pod = (b: ReturnType<typeof makePod>): PodInfo => {
  const info = preparePod(b.build(), lookup);
  if (!info.ok) throw new Error(info.error);
  return info.value;
};
const view = (c: CycleResult) => ({ node: c.node?.name, feasible: c.feasible, failures: Object.fromEntries([...c.failures].sort()), candidates: c.candidates });
/** The index's cycle on a snapshot (called directly: runCycle takes the index only from INDEX_MIN_NODES nodes). */
const indexCycle = (snap: ClusterSnapshot, p: PodInfo, rng: Rng): CycleResult => {
  const c = placementIndex(snap).cycle(fw, p, rng);
  if (!c) throw new Error('the index declined a cycle it should answer');
  return c;
};
/**
 * The index's cycle (the scan where it declines) on one snapshot, scanCycle on a twin, the same
 * RNG seed. The index is called directly: runCycle takes it only from INDEX_MIN_NODES nodes.
 */
const both = (nodes: Node[], p: PodInfo): { indexed: CycleResult; scanned: CycleResult } => ({
  indexed: ((s) => placementIndex(s).cycle(fw, p, createRng(3)) ?? scanCycle(fw, s, p, createRng(3)))(ClusterSnapshot.fromNodes(nodes)),
  scanned: scanCycle(fw, ClusterSnapshot.fromNodes(nodes), p, createRng(3)),
});

describe('placement index bookkeeping', () => {
  it('groups follow replaced and removed nodes; assumed pods change no group', () => {
    const snap = ClusterSnapshot.fromNodes([node('a0', 'amd64'), node('a1', 'amd64'), node('a2', 'amd64'), node('r0', 'arm64'), node('r1', 'arm64')]);
    const idx = placementIndex(snap);
    const p = pod(makePod('w').image('p/multi:1').requests({ cpu: '1' }));
    expect(indexCycle(snap, p, createRng(1)).feasible).toBe(5);
    expect(idx.shape).toEqual({ groups: 2 });
    // A pod on a0 changes its running totals, not its group; the cycles still equal the scan's.
    expect(snap.assume(p, 'a0')).toEqual({ ok: true });
    expect(idx.shape).toEqual({ groups: 2 });
    expect(view(indexCycle(snap, p, createRng(1)))).toEqual(view(scanCycle(fw, snap, p, createRng(1))));
    snap.forget(p.key);
    // a1 replaced by a tainted node: a group of its own; untainted again: the group is gone.
    snap.setNode(makeNode('a1').arch('amd64').label('kubernetes.io/hostname', 'a1').allocatable({ cpu: '4', memory: '8Gi', pods: '10' }).taint('k', 'v', 'NoSchedule').build());
    expect(idx.shape).toEqual({ groups: 3 });
    snap.setNode(node('a1', 'amd64'));
    expect(idx.shape).toEqual({ groups: 2 });
    // The arm64 nodes removed: their group is gone, and cycles go on deciding over what is left.
    snap.removeNode('r0');
    snap.removeNode('r1');
    expect(idx.shape).toEqual({ groups: 1 });
    const c = indexCycle(snap, p, createRng(1));
    expect(c.feasible).toBe(3);
    expect(view(c)).toEqual(view(scanCycle(fw, snap, p, createRng(1))));
  });

  it('the same index for the same snapshot', () => {
    const snap = ClusterSnapshot.fromNodes([node('a0', 'amd64')]);
    expect(placementIndex(snap)).toBe(placementIndex(snap));
  });
});

describe('the running totals the dynamic filters read, per node', () => {
  // n0 and n1 alike, each running one pod that requests nothing but what the test is about:
  // the same pod count and cpu and memory totals, so only that tells their states apart.
  const gpuNode = (name: string): Node => makeNode(name).arch('amd64').allocatable({ cpu: '4', memory: '8Gi', pods: '10', 'example.com/gpu': '1' }).build();
  const check = (a: PodInfo, b: PodInfo, next: PodInfo): void => {
    const snap = ClusterSnapshot.fromNodes([gpuNode('n0'), gpuNode('n1')]);
    const twin = ClusterSnapshot.fromNodes([gpuNode('n0'), gpuNode('n1')]);
    for (const s of [snap, twin]) {
      expect(s.assume(a, 'n0')).toEqual({ ok: true });
      expect(s.assume(b, 'n1')).toEqual({ ok: true });
    }
    const c = indexCycle(snap, next, createRng(1));
    expect([c.node?.name, c.feasible]).toEqual(['n1', 1]);
    expect(view(c)).toEqual(view(scanCycle(fw, twin, next, createRng(1))));
  };

  it('extended resources in use (a GPU)', () => {
    check(pod(makePod('a').image('p/multi:1').requests({ 'example.com/gpu': '1' })), pod(makePod('b').image('p/multi:1')), pod(makePod('c').image('p/multi:1').requests({ 'example.com/gpu': '1' })));
  });

  it('host ports in use', () => {
    check(pod(makePod('a').image('p/multi:1').hostPort(80)), pod(makePod('b').image('p/multi:1').hostPort(443)), pod(makePod('c').image('p/multi:1').hostPort(80)));
  });
});

describe('cycles the index leaves to the scan, or must read as the scan does', () => {
  const nodes = Array.from({ length: 8 }, (_, i) => node(`n${i}`, i % 2 ? 'arm64' : 'amd64'));

  it('a required term with matchFields (the node\'s name) picks that node', () => {
    const p = pod(makePod('pinned').image('p/multi:1').requiredTerms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n5'] }] }));
    const { indexed, scanned } = both(nodes, p);
    expect(indexed.node?.name).toBe('n5');
    expect(view(indexed)).toEqual(view(scanned));
  });

  it('a preferred term with matchFields makes that node the best', () => {
    const p = pod(makePod('leaning').image('p/multi:1').preferred(100, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n6'] }] }));
    const { indexed, scanned } = both(nodes, p);
    expect(indexed.node?.name).toBe('n6');
    expect(view(indexed)).toEqual(view(scanned));
  });

  it('nodes whose allocatable cannot be read are refused, each counted, as the scan does', () => {
    const bad = (name: string, cpu: string): Node => makeNode(name).arch('amd64').label('kubernetes.io/hostname', name).allocatable({ cpu, memory: '8Gi', pods: '10' }).build();
    const p = pod(makePod('w').image('p/multi:1').requests({ cpu: '1' }));
    // z0 reads as nothing allocatable, as the unreadable ones do, but it is valid: refused for another reason.
    const zero = makeNode('z0').arch('amd64').label('kubernetes.io/hostname', 'z0').allocatable({ cpu: '0', memory: '0', 'ephemeral-storage': '0', pods: '0' }).build();
    const { indexed, scanned } = both([...nodes, zero, bad('x0', 'lots'), bad('x1', 'lots'), bad('x2', '-1')], p);
    expect(indexed.feasible).toBe(8);
    expect(view(indexed)).toEqual(view(scanned));
    expect(Object.values(view(indexed).failures).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
  });
});
