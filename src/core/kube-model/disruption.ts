/**
 * The disruption controller's numbers for a PodDisruptionBudget and the eviction API's
 * verdict on them (pkg/controller/disruption, the pods/eviction handler), pure, for both
 * models of a cluster (src/sim/cluster.ts, fake-apiserver/api.ts).
 *
 * - healthy: pods Ready and not terminating;
 * - maxUnavailable (int or percent, rounded up) or a percentage minAvailable count
 *   against the expected scale: the spec.replicas of each pod's controller, once per
 *   controller (a ReplicaSet of a Deployment counts as the Deployment); a pod without a
 *   controller makes the budget fail safe (no disruption allowed), as the controller does;
 * - an integer minAvailable counts against the matching pods themselves;
 * - neither: nothing is required.
 * An eviction is allowed while disruptionsAllowed > 0; a pod that is not Ready may also go
 * while the budget is met (unhealthyPodEvictionPolicy IfHealthyBudget, the default) or
 * always (AlwaysAllow).
 */
import type { OwnerReference, Pod, PodDisruptionBudget } from '../k8s/types.ts';
import { isPodReady, isTerminating } from './workload-controllers.ts';

export interface DisruptionNumbers {
  readonly expectedPods: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly disruptionsAllowed: number;
  /** Why the controller failed safe (a pod without a controller under a scale-based budget). */
  readonly error?: string;
}

/** spec.replicas of the workload that owns a pod through this reference (a ReplicaSet resolved to its Deployment), if known. */
export type ScaleOf = (owner: OwnerReference, namespace: string) => number | undefined;

const scaled = (v: number | string, of: number): number => (typeof v === 'number' ? v : Math.ceil((Number(v.replace(/%$/, '')) / 100) * of));

/** `pods`: the budget's namespace, matching its selector. */
export function disruptionNumbers(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleOf): DisruptionNumbers {
  const currentHealthy = pods.filter((p) => !isTerminating(p) && isPodReady(p)).length;
  const { minAvailable, maxUnavailable } = pdb.spec;
  const byScale = (maxUnavailable !== undefined && maxUnavailable !== null) || typeof minAvailable === 'string';
  let expectedPods = pods.length;
  let error: string | undefined;
  if (byScale) {
    expectedPods = 0;
    const seen = new Set<string>();
    for (const p of pods) {
      const ref = p.metadata.ownerReferences?.find((r) => r.controller);
      const scale = ref ? scaleOf(ref, p.metadata.namespace ?? 'default') : undefined;
      if (!ref || scale === undefined) {
        error ??= `found no controller ref for pod ${p.metadata.name ?? ''}`;
        continue;
      }
      const id = `${ref.kind ?? ''}/${ref.uid ?? ref.name ?? ''}`;
      if (seen.has(id)) continue;
      seen.add(id);
      expectedPods += scale;
    }
  }
  let desiredHealthy = 0;
  if (maxUnavailable !== undefined && maxUnavailable !== null) desiredHealthy = Math.max(0, expectedPods - scaled(maxUnavailable, expectedPods));
  else if (minAvailable !== undefined && minAvailable !== null) desiredHealthy = scaled(minAvailable, expectedPods);
  const disruptionsAllowed = error === undefined ? Math.max(0, currentHealthy - desiredHealthy) : 0;
  return { expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, ...(error !== undefined ? { error } : {}) };
}

/** The eviction API's check of one budget for one pod. */
export function evictionAllowed(pdb: PodDisruptionBudget, numbers: DisruptionNumbers, pod: Pod): boolean {
  if (numbers.disruptionsAllowed > 0) return true;
  if (isPodReady(pod)) return false;
  const policy = (pdb.spec as { unhealthyPodEvictionPolicy?: string }).unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
  return policy === 'AlwaysAllow' || (numbers.error === undefined && numbers.currentHealthy >= numbers.desiredHealthy);
}

/** The eviction API lets a pod go without looking at budgets when it is Pending, finished or already terminating (canIgnorePDB). */
export const ignoresBudgets = (pod: Pod): boolean => {
  const phase = pod.status?.phase;
  return phase === 'Pending' || phase === 'Succeeded' || phase === 'Failed' || isTerminating(pod);
};
