/**
 * `polyarch schedule` as a pure function: a set of cluster objects in, one decision per
 * pending pod out. Bound pods (spec.nodeName, not finished) are assumed first; pending
 * pods (bare and from workloads) are placed in queue order, each placement assumed
 * before the next, as kube-scheduler does.
 */

import { formatReference, parseReference } from '../image/reference.ts';
import type { Node, Pod, PriorityClass } from '../k8s/types.ts';
import { podKey } from '../k8s/types.ts';
import { expandWorkloads, queueOrder, type Workloads } from '../k8s/workloads.ts';
import { podPriority } from '../k8s/priority.ts';
import type { Decision } from './decision.ts';
import type { Framework } from './framework.ts';
import { sourceImages } from '../k8s/annotations.ts';
import type { ImageLookup } from './pod-info.ts';
import type { Rng } from '../rng.ts';
import { placePods, refused, type PodWithPriority } from './schedule.ts';
import { ClusterSnapshot } from './snapshot.ts';

export interface ClusterObjects extends Workloads {
  readonly priorityClasses?: readonly PriorityClass[];
}

export interface ClusterPlan {
  readonly decisions: readonly Decision[];
  readonly snapshot: ClusterSnapshot;
  /** Objects that could not be taken into account, each naming the object. */
  readonly warnings: readonly string[];
}

const isFinished = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** The pods that wait for a node, with their priorities; bound pods go to `bound`; pods whose priority cannot be known to `invalid`. */
export function splitPods(objects: ClusterObjects): { pending: PodWithPriority[]; bound: Pod[]; invalid: { pod: Pod; error: string }[] } {
  const pending: PodWithPriority[] = [];
  const bound: Pod[] = [];
  const invalid: { pod: Pod; error: string }[] = [];
  for (const pod of expandWorkloads(objects)) {
    if (isFinished(pod)) continue;
    if (pod.spec.nodeName) {
      bound.push(pod);
      continue;
    }
    const p = podPriority(pod, objects.priorityClasses ?? []);
    if (!p.ok) {
      invalid.push({ pod, error: p.error });
      continue;
    }
    pending.push({ pod, priority: p.value });
  }
  return { pending: queueOrder(pending), bound, invalid };
}

/** The normalised image references a set of pods needs resolved (recorded originals first). */
export function imageReferences(pods: readonly Pod[]): string[] {
  return [...new Set(pods.flatMap((pod) => podImageReferences(pod).map((i) => i.reference)))].sort();
}

/** Each container's architecture-neutral image (the recorded original, else as written), normalised; images that do not parse are left out. */
export function podImageReferences(pod: Pod): { container: string; reference: string }[] {
  const recorded = sourceImages(pod);
  const out: { container: string; reference: string }[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const original = recorded[c.name] ?? c.image;
    if (!original) continue;
    const r = parseReference(original);
    if (r.ok) out.push({ container: c.name, reference: formatReference(r.value) });
  }
  return out;
}

export function snapshotWithBoundPods(nodes: readonly Node[], bound: readonly Pod[]): { snapshot: ClusterSnapshot; warnings: string[] } {
  const snapshot = ClusterSnapshot.fromNodes(nodes);
  const warnings: string[] = [];
  for (const pod of bound) {
    const r = snapshot.assumePod(pod);
    if (!r.ok) warnings.push(`pod ${podKey(pod)} bound to ${pod.spec.nodeName}: ${r.error}; not counted`);
  }
  return { snapshot, warnings };
}

export function scheduleCluster(fw: Framework, objects: ClusterObjects, lookup: ImageLookup, rng: Rng): ClusterPlan {
  const { pending, bound, invalid } = splitPods(objects);
  const built = snapshotWithBoundPods(objects.nodes, bound);
  const decisions = placePods(fw, built.snapshot, pending, lookup, rng);
  // Pods the API server would have refused still get a decision saying why.
  const refusals = invalid.map(({ pod, error }) => refused(pod, 0, 'invalid', `invalid pod: ${error}`, built.snapshot.size));
  return { decisions: [...decisions, ...refusals], snapshot: built.snapshot, warnings: built.warnings };
}
