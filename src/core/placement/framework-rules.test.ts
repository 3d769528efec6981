/**
 * The scheduling framework against kube-scheduler's rules: numFeasibleNodesToFind and the
 * rotation of partial scans (schedule_one.go), the profiles' plugin sets, the policy's
 * validation, the ranked candidates a decision lists, and the extender's view of refused
 * nodes (UnschedulableAndUnresolvable: preemption cannot help there).
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, prepared, snapshotOf } from '../../../test/builders/index.ts';
import { createFramework, evaluateNodes, feasibleNodesToFind, runCycle, type Framework, type PlacementPolicy } from './framework.ts';
import { createRng } from '../rng.ts';
import { placementIndex } from './placement-index.ts';

const fw = (policy: PlacementPolicy = {}): Framework => {
  const r = createFramework(policy);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const refusal = (policy: PlacementPolicy): string => {
  const r = createFramework(policy);
  return r.ok ? 'accepted' : r.error;
};

describe('numFeasibleNodesToFind (kube-scheduler)', () => {
  it('below 100 nodes, or at 100 %, every node', () => {
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 0 }), 99)).toBe(99);
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 10 }), 99)).toBe(99);
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 100 }), 5000)).toBe(5000);
    expect(feasibleNodesToFind(fw(), 5000)).toBe(5000); // polyarch's default: the best node there is
  });

  it('a given share, at least 100 nodes', () => {
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 30 }), 1000)).toBe(300);
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 50 }), 100)).toBe(100);
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 10 }), 500)).toBe(100);
    expect(feasibleNodesToFind(fw({ percentageOfNodesToScore: 99 }), 1000)).toBe(990);
  });

  it('adaptive (0): 50 % - nodes/125, at least 5 %', () => {
    const adaptive = fw({ profile: 'kube-scheduler' });
    expect(adaptive.percentageOfNodesToScore).toBe(0);
    expect(feasibleNodesToFind(adaptive, 1000)).toBe(420); // 50 - 8 = 42 %
    expect(feasibleNodesToFind(adaptive, 5000)).toBe(500); // 50 - 40 = 10 %
    expect(feasibleNodesToFind(adaptive, 6000)).toBe(300); // 50 - 48 = 2 % -> 5 %
    expect(feasibleNodesToFind(adaptive, 100)).toBe(100);
  });
});

describe('partial scans', () => {
  it('each cycle starts where the last one stopped, so every node gets its turn', () => {
    // 200 nodes, n60 and n160 much larger: with 50 % the first cycle sees nodes 0..99, the next 100..199.
    const nodes = Array.from({ length: 200 }, (_, i) => makeNode(`n${i}`).allocatable({ cpu: i % 100 === 60 ? '64' : '2', memory: '64Gi' }).build());
    const snap = snapshotOf(nodes);
    const f = fw({ percentageOfNodesToScore: 50, weights: { BalancedAllocation: 0 } });
    const pod = prepared(makePod().requests({ cpu: '1' }).build());
    const picks: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = runCycle(f, snap, pod, createRng(1));
      expect(r.evaluated).toBe(100);
      picks.push(r.node?.name ?? '');
    }
    expect(picks).toEqual(['n60', 'n160', 'n60']);
  });

  it('ties of a scan that wrapped around are drawn in position order, not evaluation order', () => {
    // 120 alike nodes at 50 %: 100 examined a cycle. The second starts at n100 and wraps: it
    // examines n100..n119 then n0..n79, all tied. The tie rule counts them in position order
    // (n0..n79, n100..n119), so the k-th drawn is n<k> below 80 and n<k + 20> above.
    const nodes = Array.from({ length: 120 }, (_, i) => makeNode(`n${i}`).build());
    const snap = snapshotOf(nodes);
    const f = fw({ percentageOfNodesToScore: 50 });
    const pod = prepared(makePod().build());
    expect(runCycle(f, snap, pod, createRng(1)).evaluated).toBe(100);
    expect(f.nextStartIndex).toBe(100);
    for (const seed of [1, 2, 3, 4, 5]) {
      const k = createRng(seed).int(100);
      const g: Framework = { ...f, nextStartIndex: 100 };
      const r = runCycle(g, snap, pod, createRng(seed));
      expect(r.evaluated).toBe(100);
      expect(r.node?.name).toBe(`n${k < 80 ? k : k + 20}`);
    }
  });

  it('a cycle the placement index declines (200 nodes, a dynamic filter first) is scanned node by node', () => {
    const nodes = Array.from({ length: 200 }, (_, i) => makeNode(`n${i}`).allocatable({ cpu: i === 150 ? '64' : '2', memory: '64Gi' }).build());
    const base = fw({ weights: { BalancedAllocation: 0 } });
    const fit = base.filters.find((f) => f.name === 'NodeResourcesFit');
    if (!fit) throw new Error('no NodeResourcesFit filter');
    const declined: Framework = { ...base, filters: [fit, ...base.filters.filter((f) => f !== fit)], scratch: [] };
    const pod = prepared(makePod().requests({ cpu: '1' }).build());
    expect(placementIndex(snapshotOf(nodes)).cycle(declined, pod, createRng(1))).toBeUndefined();
    const r = runCycle(declined, snapshotOf(nodes), pod, createRng(1));
    expect([r.node?.name, r.evaluated, r.feasible]).toEqual(['n150', 200, 200]);
  });

  it('an empty cluster has nothing to examine', () => {
    const f = fw();
    const r = runCycle(f, snapshotOf([]), prepared(makePod().build()), createRng(1));
    expect(r).toMatchObject({ node: undefined, total: 0, evaluated: 0, feasible: 0, candidates: [] });
    expect(r.failures.size).toBe(0);
    expect(f.nextStartIndex).toBe(0);
  });
});

describe('candidates', () => {
  // Nodes with 1..6 cores: LeastAllocated ranks them by size.
  const sizes = [3, 6, 1, 5, 2, 4];
  const snap = () => snapshotOf(sizes.map((c) => makeNode(`c${c}`).allocatable({ cpu: String(c), memory: '64Gi' }).build()));
  const pod = prepared(makePod().requests({ cpu: '500m' }).build());
  const policy = { weights: { BalancedAllocation: 0 } } as const;

  it('the chosen node first, then the next best in order, at most topNodes', () => {
    for (const topNodes of [1, 2, 3, 6, 10]) {
      const r = runCycle(fw({ ...policy, topNodes }), snap(), pod, createRng(1));
      const names = r.candidates.map((c) => c.node);
      expect(names).toEqual(['c6', 'c5', 'c4', 'c3', 'c2', 'c1'].slice(0, Math.min(topNodes, 6)));
      const totals = r.candidates.map((c) => c.total);
      expect([...totals].sort((a, b) => b - a)).toEqual(totals);
    }
  });

  it('the same scores computed on a second cycle (buffers reused) give the same ranking', () => {
    const f = fw({ ...policy, topNodes: 3 });
    const first = runCycle(f, snap(), pod, createRng(1));
    const bigger = snapshotOf(Array.from({ length: 12 }, (_, i) => makeNode(`m${i}`).allocatable({ cpu: String(i + 1), memory: '64Gi' }).build()));
    runCycle(f, bigger, pod, createRng(1));
    const again = runCycle(f, snap(), pod, createRng(1));
    expect(again.candidates).toEqual(first.candidates);
  });

  it('runners-up with equal totals are listed in node order', () => {
    const alike = snapshotOf(['a', 'b', 'c', 'd', 'e'].map((n) => makeNode(n).build()));
    for (const seed of [1, 2, 3]) {
      const r = runCycle(fw({ topNodes: 5 }), alike, pod, createRng(seed));
      const best = r.candidates[0]?.node ?? '';
      expect(r.candidates.slice(1).map((c) => c.node), `seed ${seed}`).toEqual(['a', 'b', 'c', 'd', 'e'].filter((n) => n !== best));
    }
  });

  it('a platform-blind profile may choose a node of no known platform: its platform is listed as ""', () => {
    const r = runCycle(fw({ profile: 'kube-scheduler' }), snapshotOf([makeNode('odd').arch('sparc').build()]), prepared(makePod().build(), undefined), createRng(1));
    expect(r.candidates.map((c) => [c.node, c.platform])).toEqual([['odd', '']]);
  });

  it('a score that is the same on every node (no soft taints) still counts with its weight', () => {
    const r = runCycle(fw({ weights: { LeastAllocated: 0, BalancedAllocation: 0, NodeAffinity: 0, ImageLocality: 0, TaintToleration: 3 } }), snap(), pod, createRng(1));
    expect(r.candidates[0]?.scores).toEqual({ TaintToleration: 100 });
    expect(r.candidates[0]?.total).toBe(300);
  });
});

describe('policy validation', () => {
  it('names the field and what was wrong', () => {
    expect(refusal({ profile: 'fast' as never })).toBe('profile: unknown profile "fast" (known: polyarch, kube-scheduler, extender)');
    expect(refusal({ weights: { Speed: 1 } as never })).toBe(
      'weights.Speed: unknown score plugin (known: LeastAllocated, BalancedAllocation, NodeAffinity, TaintToleration, ImageLocality, ArchitecturePreference, ImageVariant)',
    );
    expect(refusal({ weights: { LeastAllocated: -1 } })).toBe('weights.LeastAllocated: must be a number >= 0, got -1');
    expect(refusal({ weights: { LeastAllocated: Number.NaN } })).toBe('weights.LeastAllocated: must be a number >= 0, got NaN');
    expect(refusal({ topNodes: 0 })).toBe('topNodes: must be an integer >= 1, got 0');
    expect(refusal({ topNodes: 1.5 })).toBe('topNodes: must be an integer >= 1, got 1.5');
    expect(refusal({ percentageOfNodesToScore: -1 })).toMatch(/^percentageOfNodesToScore: must be between 0 and 100, got -1/);
    expect(refusal({ percentageOfNodesToScore: 101 })).toMatch(/^percentageOfNodesToScore/);
    expect(refusal({ percentageOfNodesToScore: Number.NaN })).toMatch(/^percentageOfNodesToScore/);
    expect(refusal({ architecturePreference: { sparc: 10 } })).toMatch(/^architecturePreference\["sparc"\]/);
    const blind = 'architecturePreference: the kube-scheduler profile is platform-blind and has no ArchitecturePreference score';
    expect(refusal({ profile: 'kube-scheduler', weights: { ArchitecturePreference: 1 } })).toBe(blind);
    expect(refusal({ profile: 'kube-scheduler', architecturePreference: { arm64: 100 } })).toBe(blind);
    expect(refusal({ profile: 'kube-scheduler', weights: { ArchitecturePreference: 0 } })).toBe('accepted');
    expect(refusal({ topNodes: 1, weights: { LeastAllocated: 0 }, percentageOfNodesToScore: 0 })).toBe('accepted');
  });
});

describe('profiles', () => {
  const scoreNames = (f: Framework) => f.scores.map((s) => `${s.plugin.name}x${s.weight}`);

  it('polyarch: every filter; kube-scheduler: no NodeReady or NodePlatform; extender: NodePlatform only', () => {
    expect(fw().filters.map((f) => f.name)).toEqual(['NodeUnschedulable', 'NodeReady', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePlatform', 'NodePorts', 'NodeResourcesFit']);
    expect(fw({ profile: 'kube-scheduler' }).filters.map((f) => f.name)).toEqual(['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit']);
    expect(fw({ profile: 'extender' }).filters.map((f) => f.name)).toEqual(['NodePlatform']);
  });

  it('weights: kube-scheduler defaults; the extender only its own scores; a policy overrides one weight', () => {
    expect(scoreNames(fw())).toEqual(['LeastAllocatedx1', 'BalancedAllocationx1', 'NodeAffinityx2', 'TaintTolerationx3', 'ImageLocalityx1']);
    expect(scoreNames(fw({ profile: 'extender', architecturePreference: { arm64: 100 } }))).toEqual(['ArchitecturePreferencex1', 'ImageVariantx1']);
    expect(scoreNames(fw({ profile: 'extender' }))).toEqual(['ImageVariantx1']);
    expect(scoreNames(fw({ architecturePreference: { arm64: 100 } }))).toContain('ArchitecturePreferencex2');
    expect(scoreNames(fw({ weights: { NodeAffinity: 5 } }))).toContain('NodeAffinityx5');
    expect(fw({ profile: 'kube-scheduler' }).platformAware).toBe(false);
  });
});

describe('evaluateNodes (extender)', () => {
  const images = makeImages({ 'shop/legacy:2': ['linux/amd64'] });

  it('lists the nodes refused as unresolvable, with every reason of the failing filter', () => {
    const snap = snapshotOf([
      makeNode('x86').allocatable({ cpu: '1', memory: '1Gi' }).build(),
      makeNode('arm').arch('arm64').build(),
      makeNode('busy').allocatable({ cpu: '1', memory: '1Gi' }).build(),
    ], [makePod('other').requests({ cpu: '800m', memory: '800Mi' }).nodeName('busy').build()]);
    const pod = prepared(makePod().image('shop/legacy:2').requests({ cpu: '500m', memory: '512Mi' }).build(), images);
    const r = evaluateNodes(fw(), snap, pod, ['x86', 'arm', 'busy']);
    expect(r.unresolvable).toEqual(['arm']); // a platform does not change by evicting pods; room does
    expect(r.failed['busy']).toBe('Insufficient cpu, Insufficient memory');
    expect(r.feasible.map((n) => [n.node, n.platform])).toEqual([['x86', 'linux/amd64']]);
  });

  it('keeps the given order between equal totals', () => {
    const snap = snapshotOf(['p', 'q', 'r'].map((n) => makeNode(n).build()));
    const r = evaluateNodes(fw(), snap, prepared(makePod().build()), ['r', 'p', 'q']);
    expect(r.feasible.map((n) => n.node)).toEqual(['r', 'p', 'q']);
  });
});
