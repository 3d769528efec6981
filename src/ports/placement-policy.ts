/**
 * The placement policy a namespace's pods are placed under (issue 17 item 2): the cluster
 * default merged with the namespace's PlacementPolicy (core/placement/namespace-policy.ts).
 * The webhook, the extender and the scheduler read it through this one port; on
 * Kubernetes it is fed by informers (adapters/kube/placement-policies.ts), in the
 * simulator by the scenario (sim/placement-policies.ts); both feed core/placement/policy-book.ts.
 */
import type { EffectivePlacementPolicy } from '../core/placement/namespace-policy.ts';

export interface PlacementPolicyReader {
  /** The merged policy of a namespace (the last good one when a newer object is invalid). */
  policyFor(namespace: string): EffectivePlacementPolicy;
}
