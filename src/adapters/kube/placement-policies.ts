/**
 * PlacementPolicy (namespaced) and ClusterPlacementPolicy (cluster-scoped) objects on the
 * API server, watched by two informers that feed the one book of policies
 * (core/placement/policy-book.ts) behind the PlacementPolicyReader port. A bad object is
 * logged and recorded as a Warning event on it (reason InvalidPlacementPolicy); the last
 * good policy keeps serving (events of the cluster-scoped object go to namespace default,
 * as kube-apiserver's recorder puts them). Until the first lists arrive, the built-in default applies.
 */
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { PlacementPolicies, type PlacementPolicyObject, type PolicyError } from '../../core/placement/policy-book.ts';
import {
  CLUSTER_PLACEMENT_POLICY_KIND, CLUSTER_PLACEMENT_POLICY_PLURAL, PLACEMENT_POLICY_GROUP, PLACEMENT_POLICY_KIND, PLACEMENT_POLICY_PLURAL, PLACEMENT_POLICY_VERSION,
  type EffectivePlacementPolicy, type UnreadableAction,
} from '../../core/placement/namespace-policy.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PlacementPolicyReader } from '../../ports/placement-policy.ts';
import { EventRecorder } from './events.ts';
import { ResilientInformer } from './informer.ts';

type PolicyObject = KubernetesObject & { spec?: unknown };

export class KubePlacementPolicies implements PlacementPolicyReader {
  readonly book: PlacementPolicies;
  private readonly informers: ResilientInformer<PolicyObject>[];
  private started: Promise<void> | undefined;

  constructor(kc: KubeConfig, opts: { clock: Clock; log: Logger; base: UnreadableAction; dryRun?: boolean; instance?: string }) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const events = new EventRecorder(kc, { component: 'polyarch', instance: opts.instance ?? 'polyarch', clock: opts.clock, log: opts.log, dryRun: opts.dryRun ?? false });
    const uids = new Map<string, string>();
    const onError = (e: PolicyError): void => {
      opts.log.warn({ kind: e.kind, namespace: e.namespace, name: e.name, error: e.message }, 'invalid placement policy');
      const uid = uids.get(`${e.kind}/${e.namespace ?? ''}/${e.name}`);
      void events.record({
        target: { kind: e.kind, apiVersion: `${PLACEMENT_POLICY_GROUP}/${PLACEMENT_POLICY_VERSION}`, namespace: e.namespace ?? 'default', name: e.name, ...(uid ? { uid } : {}) },
        type: 'Warning', reason: 'InvalidPlacementPolicy', message: e.message,
      });
    };
    this.book = new PlacementPolicies(opts.base, onError);
    const informer = (kind: PlacementPolicyObject['kind'], plural: string, path: string): ResilientInformer<PolicyObject> => {
      const as = (o: PolicyObject): PlacementPolicyObject => {
        if (o.metadata?.uid) uids.set(`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, o.metadata.uid);
        return { kind, metadata: { ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata?.name ?? '' }, spec: o.spec };
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
