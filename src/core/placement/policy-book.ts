/**
 * The one book of placement policies (pure: no I/O; the adapters feed it) behind the PlacementPolicyReader port: objects come
 * in (from informers or a scenario), are validated, and each namespace's merged policy is
 * kept. A bad object, or a namespace policy whose merge fails, is reported (onError: a log
 * line and an event) and the last good version keeps serving.
 */
import {
  CLUSTER_PLACEMENT_POLICY_KIND, CLUSTER_PLACEMENT_POLICY_NAME, mergePlacementPolicies, parsePlacementPolicySpec, PLACEMENT_POLICY_KIND,
  type EffectivePlacementPolicy, type NamedSpec, type UnreadableAction,
} from './namespace-policy.ts';

export interface PlacementPolicyObject {
  readonly kind: typeof PLACEMENT_POLICY_KIND | typeof CLUSTER_PLACEMENT_POLICY_KIND;
  readonly metadata?: { readonly namespace?: string; readonly name?: string } | null;
  readonly spec?: unknown;
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
  /** namespace -> name -> last good spec. */
  private readonly namespaced = new Map<string, Map<string, NamedSpec>>();
  private readonly effective = new Map<string, EffectivePlacementPolicy>();
  private readonly problems = new Map<string, PolicyError>();

  constructor(
    /** The built-in fallback for unreadable images (serve: --gate-release-after-ms 0 is Block). */
    private readonly base: UnreadableAction,
    private readonly onError: (e: PolicyError) => void = () => undefined,
  ) {}

  /** Current problems, one per object (cleared when the object is fixed or deleted). */
  errors(): PolicyError[] {
    return [...this.problems.values()];
  }

  upsert(obj: PlacementPolicyObject): void {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace ?? '';
    const id = `${obj.kind}/${namespace}/${name}`;
    if (obj.kind === CLUSTER_PLACEMENT_POLICY_KIND && name !== CLUSTER_PLACEMENT_POLICY_NAME) {
      return this.report(id, { kind: obj.kind, name, message: `${obj.kind} ${name}: ignored: only the one named "${CLUSTER_PLACEMENT_POLICY_NAME}" is read` });
    }
    const what = obj.kind === CLUSTER_PLACEMENT_POLICY_KIND ? `${obj.kind} ${name}` : `${obj.kind} ${namespace}/${name}`;
    const parsed = parsePlacementPolicySpec(obj.spec, what);
    if (!parsed.ok) return this.report(id, { kind: obj.kind, ...(namespace ? { namespace } : {}), name, message: `${parsed.error}; the last good policy stays in force` });
    this.problems.delete(id);
    if (obj.kind === CLUSTER_PLACEMENT_POLICY_KIND) {
      this.cluster = { name, spec: parsed.value };
      this.recomputeAll();
    } else {
      let m = this.namespaced.get(namespace);
      if (!m) this.namespaced.set(namespace, (m = new Map()));
      m.set(name, { name, spec: parsed.value });
      this.recompute(namespace);
    }
  }

  remove(obj: PlacementPolicyObject): void {
    const name = obj.metadata?.name ?? '';
    const namespace = obj.metadata?.namespace ?? '';
    this.problems.delete(`${obj.kind}/${namespace}/${name}`);
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

  private report(id: string, e: PolicyError): void {
    this.problems.set(id, e);
    this.onError(e);
  }

  private recomputeAll(): void {
    this.recompute('');
    for (const ns of [...this.effective.keys()]) if (ns !== '') this.recompute(ns);
    for (const ns of this.namespaced.keys()) this.recompute(ns);
  }

  /** '' is the cluster default alone (namespaces with no PlacementPolicy). */
  private recompute(namespace: string): void {
    const mine = namespace ? [...(this.namespaced.get(namespace)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)) : [];
    const chosen = mine[0];
    for (const extra of mine.slice(1)) {
      this.report(`${PLACEMENT_POLICY_KIND}/${namespace}/${extra.name}`, {
        kind: PLACEMENT_POLICY_KIND, namespace, name: extra.name,
        message: `${PLACEMENT_POLICY_KIND} ${namespace}/${extra.name}: ignored: namespace ${namespace} already has ${chosen?.name ?? ''} (one policy per namespace, the first by name)`,
      });
    }
    if (namespace && !chosen) {
      this.effective.delete(namespace);
      return;
    }
    const merged = mergePlacementPolicies(this.cluster, chosen ? { ...chosen, namespace } : undefined, this.base);
    if (merged.ok) {
      if (chosen) this.problems.delete(`merge/${namespace}`);
      this.effective.set(namespace, merged.value);
      return;
    }
    this.report(`merge/${namespace}`, { kind: PLACEMENT_POLICY_KIND, namespace, name: chosen?.name ?? '', message: `${merged.error}; the last good policy stays in force` });
    if (!this.effective.has(namespace) && !namespace) this.effective.set('', { platforms: undefined, preferences: [], unreadableImages: this.base, exclude: [], source: 'no policy' });
  }
}
