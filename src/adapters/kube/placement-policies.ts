/**
 * PlacementPolicy (namespaced) and ClusterPlacementPolicy (cluster-scoped) objects on the
 * API server, watched by two informers that feed the one book of policies
 * (core/placement/policy-book.ts) behind the PlacementPolicyReader port. A bad object is
 * logged and recorded as a Warning event on it (reason InvalidPlacementPolicy); the last
 * good policy keeps serving (events of the cluster-scoped object go to namespace default,
 * as kube-apiserver's recorder puts them). Until the first lists arrive, the built-in default applies.
 *
 * With `writeStatus` (the scheduler's process) each object's verdict (in force, or refused:
 * a second policy in a namespace, an invalid spec) is written as its `Accepted` status
 * condition, when it differs from what the object shows (`kubectl get ppol -o yaml`).
 */
import { CustomObjectsApi, PatchStrategy, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { PlacementPolicies, type PlacementPolicyObject, type PolicyError, type PolicyStatus } from '../../core/placement/policy-book.ts';
import {
  CLUSTER_PLACEMENT_POLICY_KIND, CLUSTER_PLACEMENT_POLICY_PLURAL, PLACEMENT_POLICY_GROUP, PLACEMENT_POLICY_KIND, PLACEMENT_POLICY_PLURAL, PLACEMENT_POLICY_VERSION,
  type EffectivePlacementPolicy, type UnreadableAction,
} from '../../core/placement/namespace-policy.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PlacementPolicyReader } from '../../ports/placement-policy.ts';
import { EventRecorder } from './events.ts';
import { ResilientInformer } from './informer.ts';
import { requestOptions } from './request-options.ts';

type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number };
type PolicyObject = KubernetesObject & { spec?: unknown; status?: { conditions?: Condition[] } };

/** The condition a verdict is written as. */
export const ACCEPTED_CONDITION = 'Accepted';

export class KubePlacementPolicies implements PlacementPolicyReader {
  readonly book: PlacementPolicies;
  private readonly informers: ResilientInformer<PolicyObject>[];
  private started: Promise<void> | undefined;

  constructor(kc: KubeConfig, opts: { clock: Clock; log: Logger; base: UnreadableAction; dryRun?: boolean; instance?: string; writeStatus?: boolean }) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const events = new EventRecorder(kc, { component: 'polyarch', instance: opts.instance ?? 'polyarch', clock: opts.clock, log: opts.log, dryRun: opts.dryRun ?? false });
    const uids = new Map<string, string>();
    /** What each object shows now (its Accepted condition and generation), from the informers. */
    const shown = new Map<string, { condition: Condition | undefined; generation: number | undefined }>();
    const idOf = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;
    const onStatus = (st: PolicyStatus): void => {
      if (!opts.writeStatus || opts.dryRun) return;
      const now = shown.get(idOf(st.kind, st.namespace, st.name));
      const status = st.accepted ? 'True' : 'False';
      if (now?.condition?.status === status && now.condition.reason === st.reason && now.condition.message === st.message) return;
      const condition: Condition = {
        type: ACCEPTED_CONDITION, status, reason: st.reason, message: st.message,
        lastTransitionTime: now?.condition?.status === status && now.condition.lastTransitionTime ? now.condition.lastTransitionTime : new Date(opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(now?.generation !== undefined ? { observedGeneration: now.generation } : {}),
      };
      const body = { status: { conditions: [condition] } };
      const req = { group: PLACEMENT_POLICY_GROUP, version: PLACEMENT_POLICY_VERSION, name: st.name, body };
      const write = st.kind === CLUSTER_PLACEMENT_POLICY_KIND
        ? custom.patchClusterCustomObjectStatus({ ...req, plural: CLUSTER_PLACEMENT_POLICY_PLURAL }, requestOptions(undefined, PatchStrategy.MergePatch) as never)
        : custom.patchNamespacedCustomObjectStatus({ ...req, plural: PLACEMENT_POLICY_PLURAL, namespace: st.namespace ?? 'default' }, requestOptions(undefined, PatchStrategy.MergePatch) as never);
      write.catch((err: unknown) => opts.log.warn({ kind: st.kind, namespace: st.namespace, name: st.name, error: err instanceof Error ? err.message : String(err) }, 'cannot write the placement policy\'s Accepted condition'));
    };
    const onError = (e: PolicyError): void => {
      opts.log.warn({ kind: e.kind, namespace: e.namespace, name: e.name, error: e.message }, 'invalid placement policy');
      const uid = uids.get(`${e.kind}/${e.namespace ?? ''}/${e.name}`);
      void events.record({
        target: { kind: e.kind, apiVersion: `${PLACEMENT_POLICY_GROUP}/${PLACEMENT_POLICY_VERSION}`, namespace: e.namespace ?? 'default', name: e.name, ...(uid ? { uid } : {}) },
        type: 'Warning', reason: 'InvalidPlacementPolicy', message: e.message,
      });
    };
    this.book = new PlacementPolicies(opts.base, onError, onStatus);
    const informer = (kind: PlacementPolicyObject['kind'], plural: string, path: string): ResilientInformer<PolicyObject> => {
      const as = (o: PolicyObject): PlacementPolicyObject => {
        const id = idOf(kind, o.metadata?.namespace, o.metadata?.name ?? '');
        if (o.metadata?.uid) uids.set(id, o.metadata.uid);
        shown.set(id, { condition: o.status?.conditions?.find((c) => c.type === ACCEPTED_CONDITION), generation: o.metadata?.generation });
        const created = o.metadata?.creationTimestamp;
        return {
          kind,
          metadata: { ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata?.name ?? '', ...(created ? { creationTimestamp: new Date(created).toISOString() } : {}) },
          spec: o.spec,
        };
      };
      return new ResilientInformer<PolicyObject>({
        kc,
        path,
        list: async () => (await custom.listClusterCustomObject({ group: PLACEMENT_POLICY_GROUP, version: PLACEMENT_POLICY_VERSION, plural })) as KubernetesListObject<PolicyObject>,
        handlers: { add: (o) => this.book.upsert(as(o)), update: (o) => this.book.upsert(as(o)), delete: (o) => this.book.remove(as(o)) },
        clock: opts.clock,
        log: opts.log.child({ informer: plural }),
      });
    };
    const base = `/apis/${PLACEMENT_POLICY_GROUP}/${PLACEMENT_POLICY_VERSION}`;
    this.informers = [
      informer(CLUSTER_PLACEMENT_POLICY_KIND, CLUSTER_PLACEMENT_POLICY_PLURAL, `${base}/${CLUSTER_PLACEMENT_POLICY_PLURAL}`),
      informer(PLACEMENT_POLICY_KIND, PLACEMENT_POLICY_PLURAL, `${base}/${PLACEMENT_POLICY_PLURAL}`),
    ];
  }

  /** Starts the informers once (a missing CRD is retried with backoff, logged); resolves when both have listed. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await Promise.all(this.informers.map((i) => i.start()));
      await Promise.all(this.informers.map((i) => i.synced()));
    })();
    return this.started;
  }

  get synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  policyFor(namespace: string): EffectivePlacementPolicy {
    return this.book.policyFor(namespace);
  }
}
