/**
 * Placements per second for pending pods on 100, 1,000 and 5,000 nodes, against a
 * baseline measured in the same run: the same filter and score plugins without the
 * per-cycle precomputation (the pod's requests, tolerations, selectors and image
 * platforms recomputed for every node, as a naive scheduler would). Also the memory the
 * scheduler cache holds per node.
 *
 * Two modes: every node examined for every pod (the default: the decision is the best
 * node there is) and kube-scheduler's adaptive percentageOfNodesToScore (stop once
 * enough feasible nodes are found; 10% of 5,000 nodes).
 *
 *   npm run bench placement               # 1,000 pending pods per size
 *   BENCH_FULL=1 npm run bench placement  # 10,000 pending pods per size
 * The baseline is slow, so it runs on the first pods only (about 2 s per size), and the
 * ratio compares both on exactly those pods. Rates are per second of this process's CPU
 * time (process.cpuUsage), so other work on a shared machine does not skew them; the
 * wall-clock rate of the full run is printed too.
 */

import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import {
  ClusterSnapshot, createFramework, createRng, placePods, preparePod, type Framework, type ImageLookup, type NodeInfo, type Rng,
} from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from '../test/builders/index.ts';

const FULL = process.env['BENCH_FULL'] === '1';
const PODS = FULL ? 10_000 : 1_000;
const BASELINE_SECONDS = FULL ? 5 : 2;

/** CPU seconds (user + system) since `from`. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
const SIZES = [100, 1_000, 5_000];

const IMAGES: Record<string, string[]> = {
  'shop/web:1': ['linux/amd64', 'linux/arm64'],
  'shop/api:2': ['linux/amd64', 'linux/arm64', 'linux/loong64'],
  'shop/legacy:7': ['linux/amd64'],
  'shop/ml:3': ['linux/arm64'],
  'envoyproxy/envoy:v1.31': ['linux/amd64', 'linux/arm64'],
};
const lookup: ImageLookup = makeImages(IMAGES);

function cluster(n: number, rng: Rng): Node[] {
  return Array.from({ length: n }, (_, i) => {
    const r = rng.next();
    let b = makeNode(`node-${i}`).label('topology.kubernetes.io/zone', `z${i % 3}`);
    if (r < 0.3) b = b.arch('arm64').taint('kubernetes.io/arch', 'arm64', 'NoSchedule');
    else if (r < 0.4) b = b.arch('loong64');
    if (rng.next() < 0.05) b = b.taint('spot', 'true', 'PreferNoSchedule');
    const cores = [16, 32, 64][rng.int(3)] ?? 16;
    return b.allocatable({ cpu: String(cores), memory: `${cores * 4}Gi`, pods: '110' }).build();
  });
}

function pendingPods(n: number, rng: Rng): Pod[] {
  const refs = Object.keys(IMAGES);
  return Array.from({ length: n }, (_, i) => {
    let b = makePod(`pod-${i}`).ns(`team-${i % 20}`);
    b = b.image(refs[rng.int(refs.length)] ?? 'shop/web:1', 'app').requests({ cpu: `${100 + rng.int(20) * 100}m`, memory: `${128 + rng.int(16) * 128}Mi` });
    if (rng.next() < 0.3) b = b.init('envoyproxy/envoy:v1.31', 'envoy', true).requests({ cpu: '100m', memory: '64Mi' });
    if (rng.next() < 0.5) b = b.toleration({ key: 'kubernetes.io/arch', operator: 'Exists', effect: 'NoSchedule' });
    if (rng.next() < 0.2) b = b.preferred(50, { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['z1'] }] });
    return b.build();
  });
}

/** The same plugins, but the pod's cycle state rebuilt for every node and every score. */
function baselinePlace(fw: Framework, snapshot: ClusterSnapshot, pod: Pod, rng: Rng): boolean {
  const fresh = () => {
    const r = preparePod(pod, lookup);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const feasible: NodeInfo[] = [];
  for (const node of snapshot.nodes) if (fw.filters.every((f) => f.filter(fresh(), node).code === 'Success')) feasible.push(node);
  if (feasible.length === 0) return false;
  const totals = new Float64Array(feasible.length);
  for (const { plugin, weight } of fw.scores) {
    const s = new Float64Array(feasible.map((node) => plugin.score(fresh(), node, snapshot)));
    plugin.normalize?.(s, s.length);
    s.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + weight * v));
  }
  let best = 0;
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    if ((totals[i] ?? 0) > (totals[best] ?? 0)) [best, ties] = [i, 1];
    else if (totals[i] === totals[best] && rng.int(++ties) === 0) best = i;
  }
  snapshot.assume(fresh(), (feasible[best] as NodeInfo).name);
  return true;
}

/** Heap the cache holds per node: enough snapshot copies held at once to total 20,000 nodes, so GC noise averages out. */
function heapPerNode(nodes: Node[]): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const copies = Math.ceil(20_000 / nodes.length);
  gc();
  const before = process.memoryUsage().heapUsed;
  const held = Array.from({ length: copies }, () => ClusterSnapshot.fromNodes(nodes));
  gc();
  const after = process.memoryUsage().heapUsed;
  if (held.some((s) => s.size !== nodes.length)) throw new Error('snapshot lost nodes');
  return (after - before) / (copies * nodes.length);
}

function framework(percentageOfNodesToScore: number): Framework {
  const fw = createFramework({ percentageOfNodesToScore });
  if (!fw.ok) throw new Error(fw.error);
  return fw.value;
}

export default async function bench(): Promise<void> {
  console.log(`${PODS} pending pods per cluster size${FULL ? '' : ' (BENCH_FULL=1 for 10,000)'}`);
  console.log('placements per CPU-second (wall-clock in brackets)');
  console.log('nodes  mode      placements/s          scheduled  | first N  baseline/s  same pods/s  ratio | cache bytes/node');
  for (const size of SIZES) {
    const nodes = cluster(size, createRng(size));
    const queue = pendingPods(PODS, createRng(7)).map((pod) => ({ pod, priority: 0 }));

    // Baseline for ~BASELINE_SECONDS, then the framework on exactly the same pods.
    const all = framework(100);
    const baseSnap = ClusterSnapshot.fromNodes(nodes);
    const rng = createRng(1);
    let n = 0;
    let c = process.cpuUsage();
    while (n < queue.length && (n < 3 || cpuSince(c) < BASELINE_SECONDS)) baselinePlace(all, baseSnap, (queue[n++] as { pod: Pod }).pod, rng);
    const baseRate = n / cpuSince(c);
    const headSnap = ClusterSnapshot.fromNodes(nodes);
    c = process.cpuUsage();
    placePods(all, headSnap, queue.slice(0, n), lookup, createRng(1));
    const sameRate = n / cpuSince(c);
    const mem = heapPerNode(nodes);

    for (const [mode, pct] of [['all', 100], ['adaptive', 0]] as const) {
      const snapshot = ClusterSnapshot.fromNodes(nodes);
      const c0 = process.cpuUsage();
      const t = performance.now();
      const decisions = placePods(framework(pct), snapshot, queue, lookup, createRng(1));
      const rate = PODS / cpuSince(c0);
      const wall = PODS / ((performance.now() - t) / 1000);
      const scheduled = decisions.filter((d) => d.outcome === 'scheduled').length;
      const cmp = mode === 'all'
        ? `${String(n).padStart(7)}  ${baseRate.toFixed(1).padStart(10)}  ${sameRate.toFixed(0).padStart(11)}  ${(sameRate / baseRate).toFixed(1).padStart(4)}x | ${mem.toFixed(0).padStart(16)}`
        : `${''.padStart(7)}  ${''.padStart(10)}  ${''.padStart(11)}  ${''.padStart(5)} |`;
      console.log(`${String(size).padEnd(6)} ${mode.padEnd(8)}  ${rate.toFixed(0).padStart(12)} ${`[${wall.toFixed(0)}]`.padStart(8)}  ${String(scheduled).padStart(9)}  | ${cmp}`);
      await Promise.resolve();
    }
  }
}
