/**
 * The placement index decides as the exhaustive scan does: on random clusters and pod
 * sequences (with pods forgotten, nodes updated, added and removed between cycles, and a
 * fork reverted), the index's cycle and scanCycle node by node, each on its own
 * snapshot with its own RNG of the same seed, give the same node, the same score, the
 * same runners-up, feasible count and failure counts, and the chosen score is the
 * maximum evaluateNodes finds over every node. Clusters of a few kinds of node (groups
 * of many nodes) and clusters where every node differs and already runs pods of its own.
 * (runCycle takes the index from INDEX_MIN_NODES nodes; these clusters are smaller, so
 * the index is called directly.)
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import {
  ClusterSnapshot, createFramework, evaluateNodes, createRng, INDEX_MIN_NODES, placementIndex, preparePod, runCycle, scanCycle,
  type ClusterSnapshot as Snapshot, type CycleResult, type Framework, type ImageLookup, type PodInfo, type ProfileName, type Rng,
} from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from './builders/index.ts';

const CATALOG: Record<string, string[]> = {
  'p/multi:1': ['linux/amd64', 'linux/arm64', 'linux/loong64'],
  'p/amd:1': ['linux/amd64'],
  'p/arm:1': ['linux/arm64'],
  'p/all:1': ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/loong64'],
};
const lookup: ImageLookup = makeImages(CATALOG);
const MB = 1024 * 1024;

const nodeArb = fc.record({
  arch: fc.constantFrom('amd64', 'arm64', 'arm', 'loong64'),
  cpu: fc.constantFrom(1000, 2000, 4000),
  memGi: fc.constantFrom(2, 4, 8),
  pods: fc.integer({ min: 2, max: 6 }),
  hard: fc.boolean(),
  soft: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  zone: fc.constantFrom('a', 'b', 'c'),
  disk: fc.constantFrom(undefined, 'ssd', 'hdd'),
  image: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  cordoned: fc.integer({ min: 0, max: 12 }).map((n) => n === 0),
  notReady: fc.integer({ min: 0, max: 12 }).map((n) => n === 0),
});
type NodeSpec = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;

const podArb = fc.record({
  image: fc.constantFrom(...Object.keys(CATALOG)),
  // Left out sometimes: the scores count kube-scheduler's non-zero defaults then, the filter nothing.
  cpu: fc.option(fc.integer({ min: 0, max: 6 }).map((n) => n * 250), { nil: undefined, freq: 4 }),
  memMi: fc.option(fc.integer({ min: 0, max: 6 }).map((n) => n * 512), { nil: undefined, freq: 4 }),
  gpu: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
  tolerate: fc.boolean(),
  selector: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  required: fc.option(fc.constantFrom('ssd', 'hdd'), { nil: undefined }),
  preferred: fc.option(fc.record({ weight: fc.integer({ min: 1, max: 100 }), zone: fc.constantFrom('a', 'c') }), { nil: undefined }),
  preferDisk: fc.boolean(),
  port: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
  name: fc.option(fc.constantFrom('n0', 'n3'), { nil: undefined }),
  tolerateSoft: fc.boolean(),
});
type PodSpec = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

function buildNode(name: string, s: NodeSpec): Node {
  let b = makeNode(name).arch(s.arch).label('zone', s.zone).label('kubernetes.io/hostname', name)
    .allocatable({ cpu: `${s.cpu}m`, memory: `${s.memGi}Gi`, pods: String(s.pods), ...(s.zone === 'c' ? { 'example.com/gpu': '1' } : {}) });
  if (s.disk) b = b.label('disk', s.disk);
  if (s.hard) b = b.taint('dedicated', 'db', 'NoSchedule');
  if (s.soft) b = b.taint('spot', 'true', 'PreferNoSchedule');
  if (s.image) b = b.image(['docker.io/p/multi:1'], 300 * MB);
  if (s.cordoned) b = b.unschedulable();
  if (s.notReady) b = b.notReady();
  return b.build();
}

function buildPod(name: string, s: PodSpec): Pod {
  const requests = { ...(s.cpu === undefined ? {} : { cpu: `${s.cpu}m` }), ...(s.memMi === undefined ? {} : { memory: `${s.memMi}Mi` }), ...(s.gpu ? { 'example.com/gpu': '1' } : {}) };
  let b = makePod(name).image(s.image).requests(requests);
  if (s.tolerate) b = b.toleration({ key: 'dedicated', operator: 'Exists' });
  if (s.tolerateSoft) b = b.toleration({ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' });
  if (s.selector) b = b.nodeSelector({ zone: s.selector });
  if (s.required) b = b.requiredTerms({ matchExpressions: [{ key: 'disk', operator: 'In', values: [s.required] }] });
  if (s.preferred) b = b.preferred(s.preferred.weight, { matchExpressions: [{ key: 'zone', operator: 'In', values: [s.preferred.zone] }] });
  if (s.preferDisk) b = b.preferred(30, { matchExpressions: [{ key: 'disk', operator: 'Exists' }] });
  if (s.port) b = b.hostPort(s.port);
  if (s.name) b = b.nodeName(s.name);
  return b.build();
}

/** What of a cycle result a decision shows. */
function view(c: CycleResult) {
  return {
    node: c.node?.name,
    total: c.total,
    evaluated: c.evaluated,
    feasible: c.feasible,
    failures: Object.fromEntries([...c.failures].sort()),
    candidates: c.candidates,
  };
}

const stepArb = fc.oneof(
  { weight: 8, arbitrary: podArb.map((pod) => ({ kind: 'pod' as const, pod })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'forget' as const, i })) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), nodeArb).map(([i, node]) => ({ kind: 'update' as const, i, node })) },
  { weight: 1, arbitrary: nodeArb.map((node) => ({ kind: 'add' as const, node })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'remove' as const, i })) },
  { weight: 1, arbitrary: fc.array(podArb, { minLength: 1, maxLength: 3 }).map((pods) => ({ kind: 'whatIf' as const, pods })) },
);

function framework(profile: ProfileName, pct: number, arch: boolean, topNodes = 3): Framework {
  const fw = createFramework({ profile, percentageOfNodesToScore: pct, topNodes, ...(arch ? { architecturePreference: { arm64: 80, 'linux/amd64': 30 } } : {}) });
  if (!fw.ok) throw new Error(fw.error);
  return fw.value;
}

/** The index's cycle, or the scan where the index declines (a pod naming a node). */
function indexCycle(fw: Framework, snap: Snapshot, pod: PodInfo, rng: Rng): CycleResult {
  return placementIndex(snap).cycle(fw, pod, rng) ?? scanCycle(fw, snap, pod, rng);
}

type Steps = readonly (typeof stepArb extends fc.Arbitrary<infer T> ? T : never)[];

/** Runs the steps on two copies of the cluster, one on the index, one scanned, comparing every cycle; `prefill` pods are placed first. */
function compare(nodes: readonly Node[], prefill: readonly PodSpec[], steps: Steps, profile: ProfileName, arch: boolean, seed: number, topNodes = 3): void {
  let nextNode = nodes.length;
  const indexed = { snap: ClusterSnapshot.fromNodes(nodes), rng: createRng(seed), fw: framework(profile, 100, arch && profile !== 'kube-scheduler', topNodes) };
  const scanned = { snap: ClusterSnapshot.fromNodes(nodes), rng: createRng(seed), fw: framework(profile, 100, arch && profile !== 'kube-scheduler', topNodes) };
  const placed: string[] = [];
  let podNo = 0;
  const place = (spec: PodSpec): void => {
    const pod = buildPod(`p${podNo++}`, spec);
    const info = preparePod(pod, indexed.fw.platformAware ? lookup : undefined);
    if (!info.ok) return;
    const a = indexCycle(indexed.fw, indexed.snap, info.value, indexed.rng);
    const b = scanCycle(scanned.fw, scanned.snap, info.value, scanned.rng);
    expect(view(a)).toEqual(view(b));
    if (!a.node) return;
    const all = evaluateNodes(indexed.fw, indexed.snap, info.value, indexed.snap.nodes.map((n) => n.name));
    expect(a.candidates[0]?.total).toBe(all.feasible[0]?.total);
    for (const s of [indexed, scanned]) expect(s.snap.assume(info.value, a.node.name)).toEqual({ ok: true });
    placed.push(info.value.key);
  };
  for (const spec of prefill) place(spec);
  for (const step of steps) {
    const both = [indexed, scanned];
    if (step.kind === 'pod') place(step.pod);
    else if (step.kind === 'forget' && placed.length > 0) {
      const [key] = placed.splice(step.i % placed.length, 1);
      for (const s of both) s.snap.forget(key as string);
    } else if (step.kind === 'update' && indexed.snap.size > 0) {
      const name = indexed.snap.nodes[step.i % indexed.snap.size]?.name ?? '';
      for (const s of both) s.snap.setNode(buildNode(name, step.node));
    } else if (step.kind === 'add') {
      const node = buildNode(`n${nextNode++}`, step.node);
      for (const s of both) s.snap.setNode(node);
    } else if (step.kind === 'remove' && indexed.snap.size > 1) {
      const name = indexed.snap.nodes[step.i % indexed.snap.size]?.name ?? '';
      for (const s of both) for (const k of s.snap.removeNode(name)) if (s === indexed) placed.splice(placed.indexOf(k), 1);
    } else if (step.kind === 'whatIf') {
      for (const s of both) s.snap.fork();
      const before = placed.length;
      for (const p of step.pods) place(p);
      for (const s of both) s.snap.revert();
      placed.length = before;
    }
  }
}

describe('placement index', () => {
  it('decides exactly as the exhaustive scan, cycle after cycle, as the cluster changes', () => {
    fc.assert(
      fc.property(
        // A few kinds of node, many nodes of each: groups of several nodes.
        fc.array(nodeArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom<ProfileName>('polyarch', 'kube-scheduler', 'extender'),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        (kinds, picks, steps, profile, arch, seed) =>
          compare(picks.map((k, i) => buildNode(`n${i}`, kinds[k % kinds.length] as NodeSpec)), [], steps, profile, arch, seed),
      ),
      { numRuns: 300 },
    );
  });

  it('decides exactly as the exhaustive scan when every node differs and runs pods of its own', () => {
    fc.assert(
      fc.property(
        // Every node drawn on its own (most groups of one node), then filled by many pods: every node in a state of its own.
        fc.array(nodeArb, { minLength: 1, maxLength: 30 }),
        fc.array(podArb, { minLength: 0, maxLength: 60 }),
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.constantFrom<ProfileName>('polyarch', 'kube-scheduler', 'extender'),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        (specs, prefill, steps, profile, arch, seed) => compare(specs.map((spec, i) => buildNode(`n${i}`, spec)), prefill, steps, profile, arch, seed),
      ),
      { numRuns: 150 },
    );
  });

  it('decides exactly as the exhaustive scan on many alike nodes, most of them empty, as pods come and go (any top-N length)', () => {
    // A group's empty nodes are one unit in the index (one verdict, one score): pods
    // forgotten often send nodes back to empty; ties among empty nodes of several groups
    // and busy ones are drawn in position order; the top list counts each empty node.
    const churnArb = fc.oneof(
      { weight: 4, arbitrary: podArb.map((pod) => ({ kind: 'pod' as const, pod })) },
      { weight: 3, arbitrary: fc.nat().map((i) => ({ kind: 'forget' as const, i })) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(), nodeArb).map(([i, node]) => ({ kind: 'update' as const, i, node })) },
      { weight: 1, arbitrary: fc.array(podArb, { minLength: 1, maxLength: 3 }).map((pods) => ({ kind: 'whatIf' as const, pods })) },
    );
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 3 }),
        // Most often kinds of one size without soft taints or images: their nodes score alike, so totals tie across groups.
        fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
        fc.array(fc.nat({ max: 2 }), { minLength: 8, maxLength: 60 }),
        fc.array(podArb, { maxLength: 40 }),
        fc.array(churnArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom<ProfileName>('polyarch', 'kube-scheduler'),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        (kinds, alike, picks, prefill, steps, profile, topNodes, seed) => {
          const kind = (k: number): NodeSpec => {
            const spec = kinds[k % kinds.length] as NodeSpec;
            return alike ? { ...spec, cpu: 4000, memGi: 8, pods: 6, soft: false, image: false } : spec;
          };
          compare(picks.map((k, i) => buildNode(`n${i}`, kind(k))), prefill, steps, profile, false, seed, topNodes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does the work once per group of alike nodes', () => {
    // 40 nodes of 2 kinds: 2 groups.
    const nodes = Array.from({ length: 40 }, (_, i) => makeNode(`n${i}`).arch(i % 2 ? 'arm64' : 'amd64').label('kubernetes.io/hostname', `n${i}`).build());
    const snap = ClusterSnapshot.fromNodes(nodes);
    const fw = framework('polyarch', 100, false);
    const info = preparePod(makePod('a').image('p/multi:1').requests({ cpu: '100m' }).build(), lookup);
    if (!info.ok) throw new Error(info.error);
    const c = indexCycle(fw, snap, info.value, createRng(1));
    expect(c.feasible).toBe(40);
    expect(placementIndex(snap).shape).toEqual({ groups: 2 });
    // Assuming a pod changes a node's running totals, not its group.
    snap.assume(info.value, c.node?.name ?? '');
    expect(placementIndex(snap).shape).toEqual({ groups: 2 });
    // A selector on the hostname label regroups by it: one group per node.
    const pinned = preparePod(makePod('b').image('p/multi:1').nodeSelector({ 'kubernetes.io/hostname': 'n7' }).build(), lookup);
    if (!pinned.ok) throw new Error(pinned.error);
    expect(indexCycle(fw, snap, pinned.value, createRng(1)).node?.name).toBe('n7');
    expect(placementIndex(snap).shape.groups).toBe(40);
  });

  it('is what runCycle uses from INDEX_MIN_NODES nodes on, with the decision of the scan', () => {
    const nodes = Array.from({ length: INDEX_MIN_NODES }, (_, i) =>
      makeNode(`n${i}`).arch(i % 3 ? 'arm64' : 'amd64').label('kubernetes.io/hostname', `n${i}`).allocatable({ cpu: `${1 + (i % 4)}`, memory: '4Gi', pods: '10' }).build());
    const snap = ClusterSnapshot.fromNodes(nodes);
    const fw = framework('polyarch', 100, false);
    // A selector naming the hostname label: the index (and only the index) regroups by it, one group per node.
    const info = preparePod(makePod('a').image('p/multi:1').requests({ cpu: '500m' }).nodeSelector({ 'kubernetes.io/hostname': 'n9' }).build(), lookup);
    if (!info.ok) throw new Error(info.error);
    expect(view(runCycle(fw, snap, info.value, createRng(3)))).toEqual(view(scanCycle(fw, snap, info.value, createRng(3))));
    expect(placementIndex(snap).shape.groups).toBe(INDEX_MIN_NODES);
  });
});
