/**
 * Placements per CPU-second for pending pods on 100, 1,000 and 5,000 nodes, every node
 * examined, on the placement index (runCycle) against the exhaustive node-by-node scan
 * (scanCycle) on the same pods in the same run; the two must choose the same nodes (the
 * bench checks it). Also kube-scheduler's adaptive percentageOfNodesToScore (stop once
 * enough feasible nodes are found; 10% of 5,000 nodes), and the memory the scheduler
 * cache holds per node.
 *
 *   npm run bench placement               # 1,000 pending pods per size
 *   BENCH_FULL=1 npm run bench placement  # 10,000 pending pods per size
 * Rates are per second of this process's CPU time (process.cpuUsage), so other work on
 * a shared machine does not skew them; the wall-clock rate is printed in brackets. Both
 * paths are warmed up (JIT) on a throwaway cluster before anything is timed.
 */

import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import {
  ClusterSnapshot, createFramework, createRng, placementIndex, placePods, preparePod, scanCycle, type Framework, type ImageLookup, type Rng,
} from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from '../test/builders/index.ts';

const FULL = process.env['BENCH_FULL'] === '1';
const PODS = FULL ? 10_000 : 1_000;

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

/** The exhaustive scan, placing pods as placePods does. */
function scanPlace(fw: Framework, snapshot: ClusterSnapshot, queue: readonly { pod: Pod }[], rng: Rng): (string | undefined)[] {
  return queue.map(({ pod }) => {
    const info = preparePod(pod, lookup);
    if (!info.ok) return undefined;
    const node = scanCycle(fw, snapshot, info.value, rng).node;
    if (node) snapshot.assume(info.value, node.name);
    return node?.name;
  });
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
  console.log('placements per CPU-second (wall-clock in brackets); index = every node examined (runCycle: on the placement index from INDEX_MIN_NODES = 200 nodes, a scan below)');
  console.log('nodes  mode      placements/s          scheduled  | groups | exhaustive/s  index/exhaustive | cache bytes/node');
  // Warm-up, not measured: both paths compiled by the JIT before either is timed (the
  // index runs from 200 nodes on, so the first measured size would otherwise time its
  // compilation and not the scan's).
  {
    const nodes = cluster(1_000, createRng(1));
    const queue = pendingPods(300, createRng(2)).map((pod) => ({ pod, priority: 0 }));
    scanPlace(framework(100), ClusterSnapshot.fromNodes(nodes), queue, createRng(1));
    placePods(framework(100), ClusterSnapshot.fromNodes(nodes), queue, lookup, createRng(1));
  }
  for (const size of SIZES) {
    const nodes = cluster(size, createRng(size));
    const queue = pendingPods(PODS, createRng(7)).map((pod) => ({ pod, priority: 0 }));

    const scanSnap = ClusterSnapshot.fromNodes(nodes);
    let c = process.cpuUsage();
    const scanned = scanPlace(framework(100), scanSnap, queue, createRng(1));
    const scanRate = PODS / cpuSince(c);
    const mem = heapPerNode(nodes);

    for (const [mode, pct] of [['index', 100], ['adaptive', 0]] as const) {
      const snapshot = ClusterSnapshot.fromNodes(nodes);
      c = process.cpuUsage();
      const t = performance.now();
      const decisions = placePods(framework(pct), snapshot, queue, lookup, createRng(1));
      const rate = PODS / cpuSince(c);
      const wall = PODS / ((performance.now() - t) / 1000);
      const scheduled = decisions.filter((d) => d.outcome === 'scheduled').length;
      let cmp = '';
      if (mode === 'index') {
        const differ = decisions.findIndex((d, i) => (d.node ?? undefined) !== scanned[i]);
        if (differ >= 0) throw new Error(`the index chose ${decisions[differ]?.node} for pod ${differ}, the exhaustive scan ${scanned[differ]}`);
        const shape = placementIndex(snapshot).shape;
        cmp = `${String(shape.groups).padStart(6)} | ${scanRate.toFixed(0).padStart(12)}  ${(rate / scanRate).toFixed(1).padStart(15)}x | ${mem.toFixed(0).padStart(16)}`;
      } else cmp = `${''.padStart(6)} |`;
      console.log(`${String(size).padEnd(6)} ${mode.padEnd(8)}  ${rate.toFixed(0).padStart(12)} ${`[${wall.toFixed(0)}]`.padStart(8)}  ${String(scheduled).padStart(9)}  | ${cmp}`);
      await Promise.resolve();
    }
  }
}
