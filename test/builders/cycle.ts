/** Helpers to run one plugin against built nodes and pods. */

import type { Node, Pod } from '../../src/core/k8s/types.ts';
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
