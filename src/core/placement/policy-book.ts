/**
 * The one book of placement policies (pure: no I/O; the adapters feed it) behind the PlacementPolicyReader port: objects come
 * in (from informers or a scenario), are validated, and each namespace's merged policy is
 * kept. A bad object, or a namespace policy whose merge fails, is reported (onError: a log
 * line and an event) and the last good version keeps serving.
 *
 * One PlacementPolicy per namespace is in force: the oldest (creationTimestamp, then name),
 * so creating a second one never changes what the first decided. The others are refused,
 * as the multiarch tuning operator refuses a ClusterPodPlacementConfig not named
 * `cluster`: each object's verdict (onStatus) is written by the adapter as its
 * `Accepted` status condition (True: in force; False with reason Conflict, Invalid,
 * MergeFailed or Ignored).
 */
import {
  CLUSTER_PLACEMENT_POLICY_KIND, CLUSTER_PLACEMENT_POLICY_NAME, mergePlacementPolicies, parsePlacementPolicySpec, PLACEMENT_POLICY_KIND,
  type EffectivePlacementPolicy, type NamedSpec, type UnreadableAction,
} from './namespace-policy.ts';

export interface PlacementPolicyObject {
  readonly kind: typeof PLACEMENT_POLICY_KIND | typeof CLUSTER_PLACEMENT_POLICY_KIND;
  readonly metadata?: { readonly namespace?: string; readonly name?: string; readonly creationTimestamp?: string } | null;
  readonly spec?: unknown;
}

/** An object's verdict, written as its `Accepted` condition. */
export interface PolicyStatus {
  readonly kind: PlacementPolicyObject['kind'];
  readonly namespace?: string;
  readonly name: string;
  readonly accepted: boolean;
  readonly reason: 'InForce' | 'Conflict' | 'Invalid' | 'MergeFailed' | 'Ignored';
  readonly message: string;
}

export interface PolicyError {
  readonly kind: PlacementPolicyObject['kind'];
  readonly namespace?: string;
  readonly name: string;
  readonly message: string;
}

/** Implements the PlacementPolicyReader port (ports/placement-policy.ts) structurally: core imports only core. */
export class PlacementPolicies {
  private cluster: NamedSpec | undefined;
  /** namespace -> name -> last good spec, and when the object was created. */
  private readonly namespaced = new Map<string, Map<string, NamedSpec & { created: string }>>();
  private readonly statuses = new Map<string, PolicyStatus>();
  private readonly effective = new Map<string, EffectivePlacementPolicy>();
  private readonly problems = new Map<string, PolicyError>();

  constructor(
    /** The built-in fallback for unreadable images (serve: --gate-release-after-ms 0 is Block). */
    private readonly base: UnreadableAction,
    private readonly onError: (e: PolicyError) => void = () => undefined,
    /** Called when an object's verdict changes (the adapter writes it as a status condition). */
    private readonly onStatus: (s: PolicyStatus) => void = () => undefined,
  ) {}

  /** Each object's current verdict. */
  verdicts(): PolicyStatus[] {
    return [...this.statuses.values()];
  }

  /** Current problems, one per object (cleared when the object is fixed or deleted). */
  errors(): PolicyError[] {
    return [...this.problems.values()];
  }

  upsert(obj: PlacementPolicyObject): void {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace ?? '';
    const id = `${obj.kind}/${namespace}/${name}`;
    if (obj.kind === CLUSTER_PLACEMENT_POLICY_KIND && name !== CLUSTER_PLACEMENT_POLICY_NAME) {
      const message = `${obj.kind} ${name}: ignored: only the one named "${CLUSTER_PLACEMENT_POLICY_NAME}" is read`;
      this.setStatus(id, { kind: obj.kind, name, accepted: false, reason: 'Ignored', message });
      return this.report(id, { kind: obj.kind, name, message });
    }
    const what = obj.kind === CLUSTER_PLACEMENT_POLICY_KIND ? `${obj.kind} ${name}` : `${obj.kind} ${namespace}/${name}`;
    const parsed = parsePlacementPolicySpec(obj.spec, what);
    if (!parsed.ok) {
      const message = `${parsed.error}; the last good policy stays in force`;
      this.setStatus(id, { kind: obj.kind, ...(namespace ? { namespace } : {}), name, accepted: false, reason: 'Invalid', message });
      return this.report(id, { kind: obj.kind, ...(namespace ? { namespace } : {}), name, message });
    }
    this.problems.delete(id);
    if (obj.kind === CLUSTER_PLACEMENT_POLICY_KIND) {
      this.cluster = { name, spec: parsed.value };
      this.setStatus(id, { kind: obj.kind, name, accepted: true, reason: 'InForce', message: 'the cluster default of every namespace' });
      this.recomputeAll();
    } else {
      let m = this.namespaced.get(namespace);
      if (!m) this.namespaced.set(namespace, (m = new Map()));
      m.set(name, { name, spec: parsed.value, created: obj.metadata?.creationTimestamp ?? '' });
      this.recompute(namespace);
    }
  }

  remove(obj: PlacementPolicyObject): void {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace ?? '';
    this.problems.delete(`${obj.kind}/${namespace}/${name}`);
    this.statuses.delete(`${obj.kind}/${namespace}/${name}`);
    if (obj.kind === CLUSTER_PLACEMENT_POLICY_KIND) {
      if (name !== CLUSTER_PLACEMENT_POLICY_NAME) return;
      this.cluster = undefined;
      this.recomputeAll();
    } else {
      this.namespaced.get(namespace)?.delete(name);
      this.recompute(namespace);
    }
  }

  policyFor(namespace: string): EffectivePlacementPolicy {
    const hit = this.effective.get(namespace) ?? this.effective.get('');
    if (hit) return hit;
    this.recompute('');
    return this.effective.get('') as EffectivePlacementPolicy;
  }

  private setStatus(id: string, st: PolicyStatus): void {
    const was = this.statuses.get(id);
    // An object whose current version is invalid stays so until it is fixed (the last good version may still be in force).
    if (was?.reason === 'Invalid' && st.reason !== 'Invalid' && this.problems.get(id)) return;
    if (was && was.accepted === st.accepted && was.reason === st.reason && was.message === st.message) return;
    this.statuses.set(id, st);
    this.onStatus(st);
  }

  /** Records a problem and reports it (onError: a log line and an event), once per change: not again while it is the object's problem. */
  private report(id: string, e: PolicyError): void {
    if (this.problems.get(id)?.message === e.message) return;
    this.problems.set(id, e);
    this.onError(e);
  }

  private recomputeAll(): void {
    this.recompute('');
    // Every namespace with a merged policy of its own has (or had) one in `namespaced`.
    for (const ns of this.namespaced.keys()) this.recompute(ns);
  }

  /** '' is the cluster default alone (namespaces with no PlacementPolicy). */
  private recompute(namespace: string): void {
    // The oldest is in force (then the first by name): a second policy never displaces the first.
    const mine = namespace ? [...(this.namespaced.get(namespace)?.values() ?? [])].sort((a, b) => (a.created !== b.created ? (a.created < b.created ? -1 : 1) : a.name < b.name ? -1 : 1)) : [];
    const chosen = mine[0];
    for (const extra of mine.slice(1)) {
      const id = `${PLACEMENT_POLICY_KIND}/${namespace}/${extra.name}`;
      const message = `${PLACEMENT_POLICY_KIND} ${namespace}/${extra.name}: ignored: namespace ${namespace} already has ${chosen?.name ?? ''} (one policy per namespace: the oldest is in force)`;
      this.setStatus(id, { kind: PLACEMENT_POLICY_KIND, namespace, name: extra.name, accepted: false, reason: 'Conflict', message });
      this.report(id, { kind: PLACEMENT_POLICY_KIND, namespace, name: extra.name, message });
    }
    if (namespace && !chosen) {
      this.effective.delete(namespace);
      this.problems.delete(`merge/${namespace}`);
      return;
    }
    const merged = mergePlacementPolicies(this.cluster, chosen ? { ...chosen, namespace } : undefined, this.base);
    const chosenId = `${PLACEMENT_POLICY_KIND}/${namespace}/${chosen?.name ?? ''}`;
    if (merged.ok) {
      if (chosen) {
        this.problems.delete(`merge/${namespace}`);
        if (this.problems.get(chosenId)?.message.includes('one policy per namespace')) this.problems.delete(chosenId);
        this.setStatus(chosenId, { kind: PLACEMENT_POLICY_KIND, namespace, name: chosen.name, accepted: true, reason: 'InForce', message: `in force for namespace ${namespace} (${merged.value.source})` });
      }
      this.effective.set(namespace, merged.value);
      return;
    }
    // Only a namespace's own policy fails to merge (the cluster default alone always merges: its platforms are validated non-empty); the namespace's last good merge keeps serving.
    if (!chosen) return;
    const message = `${merged.error}; the last good policy stays in force`;
    this.setStatus(chosenId, { kind: PLACEMENT_POLICY_KIND, namespace, name: chosen.name, accepted: false, reason: 'MergeFailed', message });
    this.report(`merge/${namespace}`, { kind: PLACEMENT_POLICY_KIND, namespace, name: chosen.name, message });
  }
}
