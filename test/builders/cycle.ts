/** Helpers to run one plugin against built nodes and pods. */

import type { Node, Pod } from '../../src/core/k8s/types.ts';
import type { NodeInfo, NodeTable } from '../../src/core/placement/node-info.ts';
import { preparePod, type ImageLookup, type PodInfo } from '../../src/core/placement/pod-info.ts';
import { ClusterSnapshot } from '../../src/core/placement/snapshot.ts';
import { anyImage } from './image.ts';

export function prepared(pod: Pod, lookup: ImageLookup = anyImage()): PodInfo {
  const r = preparePod(pod, lookup);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** A snapshot of the nodes with the given bound pods assumed. */
export function snapshotOf(nodes: readonly Node[], bound: readonly Pod[] = []): ClusterSnapshot {
  const s = ClusterSnapshot.fromNodes(nodes);
  for (const p of bound) {
    const r = s.assumePod(p);
    if (!r.ok) throw new Error(r.error);
  }
  return s;
}

/** A NodeTable as its contract reads (node-info.ts): each column the NodeInfo field of the same name, by position; for the batch forms filterMany/scoreMany. */
export function nodeTableOf(infos: readonly NodeInfo[]): NodeTable {
  const col = (f: (n: NodeInfo) => number) => Float64Array.from(infos, f);
  return {
    infos,
    allocatableMilliCPU: col((n) => n.allocatable.milliCPU), allocatableMemory: col((n) => n.allocatable.memory), allocatableEphemeralStorage: col((n) => n.allocatable.ephemeralStorage),
    allowedPods: col((n) => n.allowedPods), requestedMilliCPU: col((n) => n.requested.milliCPU), requestedMemory: col((n) => n.requested.memory),
    requestedEphemeralStorage: col((n) => n.requested.ephemeralStorage), nonZeroMilliCPU: col((n) => n.nonZeroMilliCPU), nonZeroMemory: col((n) => n.nonZeroMemory), podCount: col((n) => n.podCount),
  };
}
