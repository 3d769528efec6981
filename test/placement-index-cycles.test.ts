/**
 * The placement index's cycle on hand-built clusters, for what the random clusters of
 * test/placement-index.test.ts rarely or never make: frameworks the index must decline
 * or whose dynamic plugins have no batch form, sums whose order matters (scores and
 * weights that are not small integers), clusters where no node or no group is feasible,
 * the top-N list at other lengths, a group's representative or slot replaced, buffers
 * outgrown, and resources the random clusters never request (ephemeral storage). Every
 * case compares `placementIndex(snapshot).cycle` with scanCycle on a twin snapshot with
 * the same RNG seed.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/core/k8s/types.ts';
import {
  ClusterSnapshot, createFramework, createRng, placementIndex, preparePod, scanCycle,
  type CycleResult, type FilterPlugin, type Framework, type PodInfo, type PlacementPolicy, type ScorePlugin, type WeightedScore,
} from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from './builders/index.ts';

const lookup = makeImages({ 'p/multi:1': ['linux/amd64', 'linux/arm64', 'linux/loong64'], 'p/amd:1': ['linux/amd64'], 'p/loong:1': ['linux/loong64'] });
const framework = (policy: PlacementPolicy = {}): Framework => {
  const f = createFramework({ profile: 'polyarch', percentageOfNodesToScore: 100, ...policy });
  if (!f.ok) throw new Error(f.error);
  return f.value;
};
const fw = framework();
/** A framework with other plugins (a fresh object: the index keeps its plan per framework). */
const custom = (filters: readonly FilterPlugin[], scores: readonly WeightedScore[], topNodes = fw.topNodes): Framework => ({ ...fw, filters, scores, topNodes, scratch: [] });
const filter = (name: string): FilterPlugin => fw.filters.find((f) => f.name === name) ?? (() => { throw new Error(`no filter ${name}`); })();

const node = (name: string, arch = 'amd64', alloc: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '10' }): Node =>
  makeNode(name).arch(arch).label('kubernetes.io/hostname', name).allocatable(alloc).build();
const pod = (b: ReturnType<typeof makePod>): PodInfo => {
  const info = preparePod(b.build(), lookup);
  if (!info.ok) throw new Error(info.error);
  return info.value;
};
const view = (c: CycleResult) => ({ node: c.node?.name, total: c.total, evaluated: c.evaluated, feasible: c.feasible, failures: Object.fromEntries([...c.failures].sort()), candidates: c.candidates });

/** Two snapshots of the same nodes: one decided on by the index, one scanned. */
function twins(nodes: readonly Node[]): { snap: ClusterSnapshot; twin: ClusterSnapshot; both: (f: Framework, p: PodInfo, seed?: number) => CycleResult; assume: (p: PodInfo, on: string) => void } {
  const snap = ClusterSnapshot.fromNodes(nodes);
  const twin = ClusterSnapshot.fromNodes(nodes);
  return {
    snap,
    twin,
    both: (given, p, seed = 5) => {
      // A copy per cycle: the index plans once per framework object, so each test plans its own.
      const f: Framework = { ...given, scratch: [] };
      const indexed = placementIndex(snap).cycle(f, p, createRng(seed));
      if (!indexed) throw new Error('the index declined a cycle it should answer');
      expect(view(indexed)).toEqual(view(scanCycle(f, twin, p, createRng(seed))));
      return indexed;
    },
    assume: (p, on) => {
      for (const s of [snap, twin]) expect(s.assume(p, on)).toEqual({ ok: true });
    },
  };
}

/** A score plugin giving every node `value`, read per node (dynamic) or once per group. */
const fixedScore = (name: string, value: number, dynamic: boolean, integral = false): ScorePlugin => ({ name, ...(dynamic ? { dynamic: true } : {}), ...(integral ? { integral: true } : {}), score: () => value });

const mixed = Array.from({ length: 12 }, (_, i) => node(`n${i}`, ['amd64', 'arm64', 'loong64'][i % 3], { cpu: `${1 + (i % 4)}`, memory: '8Gi', pods: '10' }));
/** Twelve nodes of two kinds: two groups of six. */
const pairs = Array.from({ length: 12 }, (_, i) => node(`k${i}`, i % 2 ? 'arm64' : 'amd64'));
const web = pod(makePod('web').image('p/multi:1').requests({ cpu: '500m', memory: '1Gi' }));

describe('frameworks the index answers, and the ones it declines', () => {
  it('declines a framework with a dynamic filter before a non-dynamic one; answers once they are in order', () => {
    const reordered = custom([filter('NodeResourcesFit'), ...fw.filters.filter((f) => f.name !== 'NodeResourcesFit')], fw.scores);
    const snap = ClusterSnapshot.fromNodes(mixed);
    expect(placementIndex(snap).cycle(reordered, web, createRng(1))).toBeUndefined();
    expect(placementIndex(snap).cycle(fw, web, createRng(1))).toBeDefined();
  });

  it('answers with only non-dynamic filters (extender) and with only dynamic ones', () => {
    const extender = framework({ profile: 'extender' });
    const t = twins(mixed);
    expect(t.both(extender, web).feasible).toBe(12);
    const onlyDynamic = custom([filter('NodePorts'), filter('NodeResourcesFit')], fw.scores);
    const big = pod(makePod('big').image('p/multi:1').requests({ cpu: '3' }));
    // 3 cpu fits the nodes of 3 and 4 cpu only: n2, n3, n6, n7, n10, n11.
    expect(t.both(onlyDynamic, big).feasible).toBe(6);
  });

  it('declines a pod naming its node, and one whose terms read the node\'s name; answers terms on labels only', () => {
    const snap = ClusterSnapshot.fromNodes(mixed);
    const idx = placementIndex(snap);
    expect(idx.cycle(fw, pod(makePod('named').image('p/multi:1').nodeName('n3')), createRng(1))).toBeUndefined();
    expect(idx.cycle(fw, pod(makePod('req').image('p/multi:1').requiredTerms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] })), createRng(1))).toBeUndefined();
    expect(idx.cycle(fw, pod(makePod('pref').image('p/multi:1').preferred(10, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] })), createRng(1))).toBeUndefined();
    const labelsOnly = pod(makePod('labels').image('p/multi:1')
      .requiredTerms({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n3', 'n4'] }] })
      .preferred(10, { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n4'] }] }));
    expect(idx.cycle(fw, labelsOnly, createRng(1))?.node?.name).toBe('n4');
  });

  it('dynamic plugins without their batch forms decide as the scan', () => {
    const strip = <T extends object>(p: T, key: string): T => Object.fromEntries(Object.entries(p).filter(([k]) => k !== key)) as T;
    const plain = custom(
      fw.filters.map((f) => strip(f, 'filterMany')),
      fw.scores.map((s) => ({ plugin: strip(s.plugin, 'scoreMany'), weight: s.weight })),
    );
    expect(plain.filters.some((f) => f.filterMany)).toBe(false);
    const t = twins(mixed);
    const hog = pod(makePod('hog').image('p/multi:1').requests({ cpu: '2' }).hostPort(80));
    t.assume(hog, 'n3');
    t.assume(pod(makePod('hog2').image('p/multi:1').requests({ cpu: '3' })), 'n7');
    // n3 refused for its port, n7 (1 cpu left) and the 1-cpu nodes for cpu; the other 7 scored by plain score().
    const c = t.both(plain, pod(makePod('next').image('p/multi:1').requests({ cpu: '1500m' }).hostPort(80)));
    expect(c.feasible).toBe(7);
    expect(c.failures.size).toBeGreaterThanOrEqual(2);
  });
});

describe('totals summed as the scan sums them', () => {
  // Weights 1: the scan adds ((0 + a) + b) + c in the plugins' order; adding a group's
  // non-dynamic terms first would give another double wherever the terms are not small integers.
  const order = (scores: readonly ScorePlugin[], weights: readonly number[] = scores.map(() => 1)): Framework => custom(fw.filters, scores.map((plugin, i) => ({ plugin, weight: weights[i] as number })));

  it('a dynamic score that is not integral (1, 1/3, 1: 2.333333333333333, not 2.3333333333333335)', () => {
    const c = twins(mixed).both(order([fixedScore('A', 1, false), fixedScore('D', 1 / 3, true), fixedScore('B', 1, false)]), web);
    expect(c.candidates[0]?.total).toBe(((0 + 1) + 1 / 3) + 1);
  });

  it('a non-dynamic score that is not an integer (1, 1, 1/3)', () => {
    const c = twins(mixed).both(order([fixedScore('A', 1, false), fixedScore('D', 1, true, true), fixedScore('B', 1 / 3, false)]), web);
    expect(c.candidates[0]?.total).toBe(((0 + 1) + 1) + 1 / 3);
  });

  it('a weight that is not an integer', () => {
    const c = twins(mixed).both(order([fixedScore('A', 1, false), fixedScore('D', 1, true, true), fixedScore('B', 1, false)], [1, 1 / 3, 1]), web);
    expect(c.candidates[0]?.total).toBe(((0 + 1) + 1 / 3) + 1);
  });

  it('non-dynamic scores beyond the small integers (2^53 and 1)', () => {
    // ((0 + 1) + 2^53) + 1 rounds twice; (2^53 + 1) + 1 too, but 2^53 + 2 exactly once the group's terms are summed first.
    const big = 2 ** 53;
    const c = twins(mixed).both(order([fixedScore('D', 1, true, true), fixedScore('A', big, false), fixedScore('B', 1, false)]), web);
    expect(c.candidates[0]?.total).toBe(((0 + 1) + big) + 1);
    const neg = twins(mixed).both(order([fixedScore('D', 1, true, true), fixedScore('A', -big, false), fixedScore('B', -1, false)]), web);
    expect(neg.candidates[0]?.total).toBe(((0 + 1) - big) - 1);
  });

  it('weights and scores that are integers above 2^20 (their products and sums round)', () => {
    const w = 2 ** 21;
    const c = twins(mixed).both(order([fixedScore('A', 2 ** 21 + 1, false), fixedScore('D', 3, true, true), fixedScore('B', 2 ** 53 + 2, false)], [w, w, w]), web);
    expect(c.candidates[0]?.total).toBe(((0 + w * (2 ** 21 + 1)) + w * 3) + w * (2 ** 53 + 2));
  });

  it('the built-in scores with a weight of 0.5 and an architecture preference, on groups of several nodes', () => {
    const f = framework({ weights: { LeastAllocated: 0.5, BalancedAllocation: 1.5 }, architecturePreference: { arm64: 70, loong64: 35 }, topNodes: 12 });
    for (const nodes of [mixed, pairs]) {
      const t = twins(nodes);
      t.assume(pod(makePod('x').image('p/multi:1').requests({ cpu: '300m', memory: '700Mi' })), nodes[5]?.metadata.name ?? '');
      t.assume(pod(makePod('y').image('p/multi:1').requests({ cpu: '500m', memory: '100Mi' })), nodes[8]?.metadata.name ?? '');
      expect(t.both(f, web).candidates.length).toBe(12);
    }
  });

  it('a dynamic score that knows every node\'s score (constant) gives it to every feasible node', () => {
    const known: ScorePlugin = { name: 'K', dynamic: true, integral: true, score: () => 7, constant: () => 7 };
    const c = twins(pairs).both(custom(fw.filters, [{ plugin: known, weight: 1 }, { plugin: fixedScore('A', 1, false), weight: 1 }], 12), web);
    expect(c.candidates.map((x) => x.scores['K'])).toEqual(Array.from({ length: 12 }, () => 7));
  });
});

describe('tied units whose totals are equal but whose scores differ', () => {
  // Two per-group scores that trade places between amd64 and arm64: every node totals 10, so
  // every unit ties; the chosen node's line must carry its own group's breakdown (A=10 on
  // amd64, B=10 on arm64), as the scan gives it.
  const byArch = (name: string, arch: string): ScorePlugin => ({ name, integral: true, score: (_p, n) => (n.platform?.architecture === arch ? 10 : 0) });
  const f = custom(fw.filters, [{ plugin: byArch('A', 'amd64'), weight: 1 }, { plugin: byArch('B', 'arm64'), weight: 1 }], 3);
  const own = (c: CycleResult): void => {
    const first = c.candidates[0];
    const arch = c.node?.platform?.architecture;
    expect(first?.node).toBe(c.node?.name);
    expect(first?.scores).toEqual(arch === 'amd64' ? { A: 10, B: 0 } : { A: 0, B: 10 });
  };

  it('empty nodes of two groups (two units of six), and with a busy node of each group among them', () => {
    const archs = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const c = twins(pairs).both(f, web, seed);
      own(c);
      archs.add(c.node?.platform?.architecture ?? '');
    }
    // The draws reached both groups, so a line taken from the wrong unit would have shown.
    expect([...archs].sort()).toEqual(['amd64', 'arm64']);
    const t = twins(pairs);
    t.assume(pod(makePod('x').image('p/multi:1').requests({ cpu: '100m', memory: '100Mi' })), 'k0');
    t.assume(pod(makePod('y').image('p/multi:1').requests({ cpu: '100m', memory: '100Mi' })), 'k3');
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) own(t.both(f, web, seed));
  });
});

describe('the exact integer sum is taken only when every term is a small integer', () => {
  it('a per-group score is checked, not taken at its word: 0.3 + 0.6 + 0.1 summed in the framework\'s order', () => {
    // Summed per-group terms first (0.3 + 0.1) and then the per-unit one, the total would be 1;
    // in the framework's order, as the scan sums, it is 0.9999999999999999.
    const f = custom(fw.filters, [
      { plugin: fixedScore('A', 0.3, false, true), weight: 1 },
      { plugin: fixedScore('B', 0.6, true, true), weight: 1 },
      { plugin: fixedScore('C', 0.1, false, true), weight: 1 },
    ], 3);
    const c = twins(pairs).both(f, web);
    expect(c.candidates[0]?.total).toBe(((0 + 0.3) + 0.6) + 0.1);
    expect(c.candidates[0]?.total).not.toBe(1);
  });
});

describe('busy nodes in the group bookkeeping', () => {
  it('a group with more busy nodes than its first buffer holds (the list grows), then emptied again', () => {
    const nodes = Array.from({ length: 9 }, (_, i) => node(`b${i}`));
    const t = twins(nodes);
    const small = (i: number): PodInfo => pod(makePod(`s${i}`).image('p/multi:1').requests({ cpu: `${100 * (i + 1)}m`, memory: '100Mi' }));
    for (let i = 0; i < 8; i++) {
      t.assume(small(i), `b${i}`);
      t.both(fw, web, i);
    }
    for (let i = 0; i < 8; i += 2) {
      for (const s of [t.snap, t.twin]) expect(s.forget(`default/s${i}`)).toBe(true);
      t.both(fw, web, i);
    }
  });

  it('the last group moving into a removed group\'s slot takes its busy nodes along', () => {
    // Groups in order: x (amd64, alone), arm64, loong64 (last, with busy nodes). x becomes arm64:
    // its group goes and loong64 takes its slot; its busy nodes must be found there when they empty.
    const t = twins([node('x'), node('r0', 'arm64'), node('r1', 'arm64'), node('l0', 'loong64'), node('l1', 'loong64'), node('l2', 'loong64')]);
    const loong = (name: string): PodInfo => pod(makePod(name).image('p/loong:1').requests({ cpu: '200m', memory: '100Mi' }));
    t.assume(loong('u0'), 'l0');
    t.assume(loong('u1'), 'l2');
    expect(t.both(fw, loong('probe')).feasible).toBe(3);
    for (const s of [t.snap, t.twin]) s.setNode(node('x', 'arm64'));
    expect(placementIndex(t.snap).shape).toEqual({ groups: 2 });
    expect(t.both(fw, loong('probe')).feasible).toBe(3);
    for (const s of [t.snap, t.twin]) expect(s.forget('default/u0')).toBe(true);
    t.assume(loong('u2'), 'l1');
    for (const seed of [1, 2, 3]) t.both(fw, loong('probe'), seed);
    for (const s of [t.snap, t.twin]) expect(s.forget('default/u1')).toBe(true);
    for (const seed of [1, 2, 3]) t.both(fw, loong('probe'), seed);
  });
});

describe('clusters where nothing fits', () => {
  it('every group refused by a non-dynamic filter: each node counted once, no candidate', () => {
    const c = twins(mixed).both(fw, pod(makePod('amd').image('p/amd:1').nodeSelector({ 'kubernetes.io/hostname': 'nowhere' })));
    expect([c.node, c.feasible, c.candidates]).toEqual([undefined, 0, []]);
    expect([...c.failures.values()].reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('groups refused by different non-dynamic filters are each counted with their size', () => {
    // 4 amd64 nodes pass the platform filter; the 8 others are refused for it; a taint on 2 amd64 nodes refuses those.
    const nodes = mixed.map((n, i) => (i === 0 || i === 3 ? makeNode(`n${i}`).arch('amd64').label('kubernetes.io/hostname', `n${i}`).allocatable({ cpu: '1', memory: '8Gi', pods: '10' }).taint('k', 'v', 'NoSchedule').build() : n));
    const c = twins(nodes).both(fw, pod(makePod('amd').image('p/amd:1')));
    expect(c.feasible).toBe(2);
  });

  it('a group whose every node a dynamic filter refuses takes no part in normalising the scores', () => {
    // z0 (zone a, preferred most) is full; the zone b nodes (preferred half as much) are the best there is: NodeAffinity 100.
    const zone = (name: string, z: string, cpu: string): Node => makeNode(name).arch('amd64').label('zone', z).allocatable({ cpu, memory: '8Gi', pods: '10' }).build();
    const t = twins([zone('b0', 'b', '4'), zone('b1', 'b', '4'), zone('z0', 'a', '1')]);
    const p = pod(makePod('p').image('p/multi:1').requests({ cpu: '2' })
      .preferred(100, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] })
      .preferred(50, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }));
    const c = t.both(fw, p);
    expect(c.feasible).toBe(2);
    expect(c.candidates[0]?.scores['NodeAffinity']).toBe(100);
  });

  it('every node refused by a dynamic filter: counted with its reasons', () => {
    const c = twins(mixed).both(fw, pod(makePod('huge').image('p/multi:1').requests({ cpu: '64' })));
    expect([c.node, c.feasible, c.candidates]).toEqual([undefined, 0, []]);
    expect([...c.failures.values()]).toEqual([12]);
  });

  it('an empty cluster', () => {
    const c = twins([]).both(fw, web);
    expect([c.node, c.total, c.feasible]).toEqual([undefined, 0, 0]);
  });
});

describe('the chosen node and the runners-up', () => {
  it('a node of no known platform is listed without one (the platform-blind profile)', () => {
    const blind = framework({ profile: 'kube-scheduler', percentageOfNodesToScore: 100 });
    const c = twins([makeNode('q0').nodeInfoOnly('').build(), node('q1')]).both(blind, web);
    expect(c.candidates.map((x) => [x.node, x.platform]).sort()).toEqual([['q0', ''], ['q1', 'linux/amd64']]);
  });

  it('equal the scan for every top-N length, with ties and without', () => {
    const t = twins(mixed);
    t.assume(pod(makePod('x').image('p/multi:1').requests({ cpu: '1', memory: '2Gi' })), 'n3');
    t.assume(pod(makePod('y').image('p/multi:1').requests({ cpu: '500m' })), 'n10');
    for (const topNodes of [1, 2, 3, 5, 12, 20]) {
      for (const seed of [1, 2, 3, 4]) {
        const c = t.both(custom(fw.filters, fw.scores, topNodes), web, seed);
        expect(c.candidates.length).toBe(Math.min(topNodes, 12));
      }
    }
    // Twelve alike nodes: every one tied; the draw picks among them, the runners-up follow in position order.
    const alike = twins(Array.from({ length: 12 }, (_, i) => node(`a${i}`)));
    const picked = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) picked.add(alike.both(custom(fw.filters, fw.scores, 4), web, seed).node?.name ?? '');
    expect(picked.size).toBeGreaterThan(1);
  });
});

describe('the index kept current between cycles', () => {
  it('the representative of a group replaced by a node of another group: the rest of the group still decides by its own fields', () => {
    const nodes = [node('a0'), node('a1'), node('a2'), node('r0', 'arm64')];
    const t = twins(nodes);
    const amd = pod(makePod('amd').image('p/amd:1'));
    expect(t.both(fw, amd).feasible).toBe(3);
    // a0 (the first node of its group, which stands for it) tainted: a1 and a2 stay feasible.
    const tainted = makeNode('a0').arch('amd64').label('kubernetes.io/hostname', 'a0').allocatable({ cpu: '4', memory: '8Gi', pods: '10' }).taint('k', 'v', 'NoSchedule').build();
    for (const s of [t.snap, t.twin]) s.setNode(tainted);
    expect(placementIndex(t.snap).shape).toEqual({ groups: 3 });
    const c = t.both(fw, amd);
    expect(c.feasible).toBe(2);
    expect(c.failures.size).toBe(2);
    // And replaced again by an amd64 node like the others: back in the group.
    for (const s of [t.snap, t.twin]) s.setNode(node('a0'));
    expect(placementIndex(t.snap).shape).toEqual({ groups: 2 });
    expect(t.both(fw, amd).feasible).toBe(3);
  });

  it('the representative of a group replaced, a node of another group before the rest of it', () => {
    const t = twins([node('r0', 'arm64'), node('a0'), node('a1')]);
    const amd = pod(makePod('amd').image('p/amd:1'));
    expect(t.both(fw, amd).feasible).toBe(2);
    const tainted = makeNode('a0').arch('amd64').label('kubernetes.io/hostname', 'a0').allocatable({ cpu: '4', memory: '8Gi', pods: '10' }).taint('k', 'v', 'NoSchedule').build();
    for (const s of [t.snap, t.twin]) s.setNode(tainted);
    expect(t.both(fw, amd).node?.name).toBe('a1');
  });

  it('a group emptied by a replacement gives its slot to the last group', () => {
    // Groups in order: x (amd64, alone), arm64, loong64. x becomes arm64: its group goes, loong64 moves into its slot.
    const t = twins([node('x'), node('r0', 'arm64'), node('r1', 'arm64'), node('l0', 'loong64'), node('l1', 'loong64')]);
    const loong = pod(makePod('l').image('p/loong:1'));
    expect(t.both(fw, loong).feasible).toBe(2);
    for (const s of [t.snap, t.twin]) s.setNode(node('x', 'arm64'));
    expect(placementIndex(t.snap).shape).toEqual({ groups: 2 });
    const c = t.both(fw, loong);
    expect(c.feasible).toBe(2);
    expect(c.candidates.map((s) => s.node).sort()).toEqual(['l0', 'l1']);
    expect(t.both(fw, pod(makePod('a').image('p/amd:1'))).feasible).toBe(0);
    expect(t.both(fw, web).feasible).toBe(5);
  });

  it('nodes added after the first cycle outgrow its buffers; another framework on the same snapshot', () => {
    const t = twins([node('n0')]);
    expect(t.both(fw, web).feasible).toBe(1);
    for (let i = 1; i <= 40; i++) for (const s of [t.snap, t.twin]) s.setNode(node(`n${i}`, i % 2 ? 'arm64' : 'amd64', { cpu: `${1 + (i % 5)}`, memory: '8Gi', pods: '10' }));
    expect(t.both(fw, web).feasible).toBe(41);
    // A node per group (a selector on the hostname), more groups than the first buffers held.
    const pinned = pod(makePod('pin').image('p/multi:1').nodeSelector({ 'kubernetes.io/hostname': 'n33' }));
    expect(t.both(fw, pinned).node?.name).toBe('n33');
    expect(placementIndex(t.snap).shape.groups).toBe(41);
    t.assume(pod(makePod('fill').image('p/multi:1').requests({ cpu: '2' })), 'n4');
    // Fewer, then more score plugins than the last cycle used.
    t.both(framework({ profile: 'extender' }), web);
    t.both(framework({ architecturePreference: { arm64: 90 } }), web);
    t.both(fw, pod(makePod('last').image('p/multi:1').requests({ cpu: '3' })));
  });

  it('ephemeral storage and pod counts assumed and forgotten are read per node', () => {
    const alloc = { cpu: '4', memory: '8Gi', pods: '2', 'ephemeral-storage': '10Gi' };
    const t = twins([node('e0', 'amd64', alloc), node('e1', 'amd64', alloc), node('e2', 'amd64', alloc)]);
    const disk = (name: string, gi: number): PodInfo => pod(makePod(name).image('p/multi:1').requests({ 'ephemeral-storage': `${gi}Gi` }));
    const scratch = disk('scratch', 8);
    t.assume(scratch, 'e0');
    t.assume(disk('small1', 1), 'e1');
    t.assume(disk('small2', 1), 'e1');
    // e0 has 2Gi left, e1 no pod left (2 of 2): only e2 fits a 4Gi pod.
    const next = disk('next', 4);
    expect(t.both(fw, next).node?.name).toBe('e2');
    // e0's pod forgotten: e0 fits again, alike e2.
    for (const s of [t.snap, t.twin]) s.forget(scratch.key);
    expect(t.both(fw, next).feasible).toBe(2);
    // Nothing requested: the non-zero defaults are what the scores read.
    t.assume(pod(makePod('bare').image('p/multi:1')), 'e2');
    t.both(fw, pod(makePod('bare2').image('p/multi:1')));
  });

  it('a node replaced with another allocatable is read with its new room', () => {
    const t = twins([node('s0', 'amd64', { cpu: '1', memory: '8Gi', pods: '10' }), node('s1', 'amd64', { cpu: '1', memory: '8Gi', pods: '10' })]);
    const two = pod(makePod('two').image('p/multi:1').requests({ cpu: '2' }));
    expect(t.both(fw, two).feasible).toBe(0);
    for (const s of [t.snap, t.twin]) s.setNode(node('s1', 'amd64', { cpu: '3', memory: '8Gi', pods: '10' }));
    expect(t.both(fw, two).node?.name).toBe('s1');
  });
});

describe('what sets nodes apart into groups', () => {
  const labelled = (name: string, labels: Record<string, string>): Node => {
    let b = makeNode(name).arch('amd64').allocatable({ cpu: '4', memory: '8Gi', pods: '10' });
    for (const [k, v] of Object.entries(labels)) b = b.label(k, v);
    return b.build();
  };
  const disks = [labelled('d0', { disk: 'hdd' }), labelled('d1', { disk: 'ssd' }), labelled('d2', { disk: 'hdd' }), labelled('d3', { disk: 'ssd' })];

  it('a label named only by a required term, or only by a preferred one', () => {
    const req = twins(disks).both(fw, pod(makePod('r').image('p/multi:1').requiredTerms({ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] })));
    expect(req.feasible).toBe(2);
    const pref = twins(disks).both(fw, pod(makePod('p').image('p/multi:1').preferred(50, { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] })));
    expect(['d1', 'd3']).toContain(pref.node?.name);
  });

  it('a label whose value is the word "undefined" is not a missing label', () => {
    const c = twins([labelled('u0', {}), labelled('u1', { tier: 'undefined' })]).both(fw, pod(makePod('t').image('p/multi:1').nodeSelector({ tier: 'undefined' })));
    expect([c.node?.name, c.feasible]).toEqual(['u1', 1]);
  });

  it('the images a node holds, in any order', () => {
    const GB = 1024 ** 3;
    const nodes = [
      makeNode('i0').arch('amd64').build(),
      makeNode('i1').arch('amd64').image(['docker.io/p/multi:1'], GB).build(),
      makeNode('i2').arch('amd64').image(['docker.io/p/multi:1'], GB).image(['docker.io/p/amd:1'], GB).build(),
      makeNode('i3').arch('amd64').image(['docker.io/p/amd:1'], GB).image(['docker.io/p/multi:1'], GB).build(),
    ];
    const t = twins(nodes);
    // The node holding only the pod's image scores best for it (the other two hold another image too: alike for this pod).
    const c = t.both(fw, pod(makePod('m').image('p/multi:1')));
    expect(c.candidates[0]?.scores['ImageLocality']).toBeGreaterThan(0);
    // i2 and i3 hold the same images, listed in another order: one group.
    expect(placementIndex(t.snap).shape).toEqual({ groups: 3 });
  });
});

describe('a group\'s empty nodes taken as one', () => {
  /** A dynamic score without a batch form that counts the nodes it scores (LeastAllocated's score, so the decision stays the built-in one). */
  const counting = (): { plugin: ScorePlugin; calls: () => number } => {
    let calls = 0;
    const least = fw.scores.find((s) => s.plugin.name === 'LeastAllocated')?.plugin as ScorePlugin;
    return { plugin: { name: 'LeastAllocated', dynamic: true, integral: true, score: (p, n, s) => (calls++, least.score(p, n, s)) }, calls: () => calls };
  };
  const countingFramework = (plugin: ScorePlugin, topNodes = 3): Framework =>
    custom(fw.filters, fw.scores.map((s) => (s.plugin.name === 'LeastAllocated' ? { plugin, weight: s.weight } : s)), topNodes);

  it('scores them once, a node that runs something on its own, and one that runs nothing again once forgotten', () => {
    const t = twins(Array.from({ length: 40 }, (_, i) => node(`e${i}`)));
    const count = counting();
    const f = countingFramework(count.plugin);
    const before = count.calls();
    expect(t.both(f, web).feasible).toBe(40);
    // The index scored one unit, the scan 40 nodes.
    expect(count.calls() - before).toBe(1 + 40);
    t.assume(pod(makePod('a').image('p/multi:1').requests({ cpu: '1' })), 'e7');
    t.assume(pod(makePod('b').image('p/multi:1').requests({ cpu: '1' })), 'e30');
    const mid = count.calls();
    t.both(f, web);
    expect(count.calls() - mid).toBe(3 + 40);
    for (const s of [t.snap, t.twin]) expect(s.forget('default/a')).toBe(true);
    const after = count.calls();
    t.both(f, web);
    expect(count.calls() - after).toBe(2 + 40);
  });

  it('ties among the empty nodes of interleaved groups and busy nodes: the draw and the runners-up count every node in position order', () => {
    // Even positions amd64, odd arm64, alike otherwise: two groups whose empty nodes all tie for a pod that runs on both.
    const nodes = Array.from({ length: 30 }, (_, i) => node(`t${i}`, i % 2 ? 'arm64' : 'amd64'));
    const t = twins(nodes);
    // A pod without requests counts kube-scheduler's non-zero defaults: t5 scores below the empty nodes.
    t.assume(pod(makePod('z').image('p/multi:1')), 't5');
    // A pod requesting zero explicitly: t8 is not empty (it runs a pod) but scores as the empty nodes do, and ties with them.
    t.assume(pod(makePod('zero').image('p/multi:1').requests({ cpu: '0', memory: '0' })), 't8');
    const chosen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      for (const topNodes of [1, 3, 31]) {
        const c = t.both(custom(fw.filters, fw.scores, topNodes), web, seed);
        expect(c.candidates.slice(0, 29).every((x) => x.total === c.candidates[0]?.total)).toBe(true);
        chosen.add(c.node?.name ?? '');
      }
    }
    // Drawn among the 29 tied nodes of both groups (t8 among them), never t5.
    expect(chosen.size).toBeGreaterThan(10);
    expect(chosen.has('t5')).toBe(false);
    expect([...chosen].some((n) => Number(n.slice(1)) % 2 === 1) && [...chosen].some((n) => Number(n.slice(1)) % 2 === 0)).toBe(true);
    // Both forgotten: t5 and t8 are empty again, all 30 nodes tie, and a top list of 31 names each one.
    for (const s of [t.snap, t.twin]) for (const k of ['default/z', 'default/zero']) expect(s.forget(k)).toBe(true);
    for (let seed = 1; seed <= 10; seed++) expect(new Set(t.both(custom(fw.filters, fw.scores, 31), web, seed).candidates.map((c) => c.node)).size).toBe(30);
  });
});
