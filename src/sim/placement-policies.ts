/**
 * Placement policies in memory, for the simulator: the scenario's PlacementPolicy and
 * ClusterPlacementPolicy objects fed to the same book (core/placement/policy-book.ts)
 * the API server adapter feeds from its informers, behind the same PlacementPolicyReader port.
 */
import { PlacementPolicies, type PlacementPolicyObject, type PolicyError } from '../core/placement/policy-book.ts';
import type { UnreadableAction } from '../core/placement/namespace-policy.ts';
import type { PlacementPolicyReader } from '../ports/placement-policy.ts';

export class MemoryPlacementPolicies implements PlacementPolicyReader {
  readonly book: PlacementPolicies;
  readonly errors: PolicyError[] = [];

  constructor(objects: readonly PlacementPolicyObject[], base: UnreadableAction = 'Block') {
    this.book = new PlacementPolicies(base, (e) => this.errors.push(e));
    for (const o of objects) this.book.upsert(o);
  }

  policyFor(namespace: string): ReturnType<PlacementPolicyReader['policyFor']> {
    return this.book.policyFor(namespace);
  }
}
