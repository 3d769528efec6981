/**
 * The controllers of kube-controller-manager the simulator needs, as a thin shell over
 * the shared model (core/kube-model/): the workload controllers' decisions
 * (workload-controllers.ts: which pods to create and delete, their names, the StatefulSet
 * ordinal rules) and the NoExecute taint manager with pod garbage collection
 * (node-lifecycle.ts). The fake API server (fake-apiserver/controllers.ts) applies the
 * same decisions through its API.
 *
 * A Deployment's pods are made as its ReplicaSet `<name>-<pod-template-hash>` makes them
 * (generateName, the pod-template-hash label), but the simulator keeps no ReplicaSet
 * object: its templates never change, so a Deployment has exactly one, and its pods name
 * the Deployment as their controller.
 */
import type { Deployment, Pod, StatefulSet } from '../core/k8s/types.ts';
import type { SimCluster } from './cluster.ts';
import { keyOf } from './cluster.ts';
import { deploymentReplicaSet, podFromTemplate, statefulSetPod } from '../core/k8s/workloads.ts';
import { replicaSetPlan, statefulSetPlan } from '../core/kube-model/workload-controllers.ts';

export interface SimControllerOptions {
  /** spec.schedulerName stamped on pods (as an opt-in label or webhook would). */
  readonly schedulerName: string;
  /** Mutates each new pod before it is created (the per-architecture baseline pins a nodeSelector). */
  readonly mutate?: (pod: Pod, workload: string) => Pod;
}

export class SimControllers {
  /** Workloads whose replicas are managed (deferred ones join on their deploy event). */
  private readonly active = new Set<string>();

  constructor(private readonly cluster: SimCluster, private readonly opts: SimControllerOptions) {}

  activate(key: string): void {
    this.active.add(key);
    this.seenEpoch = -1;
  }

  /** The cluster's controller epoch at the last full pass: nothing to do while it stays. */
  private seenEpoch = -1;

  /** One pass of the controllers: the taint manager and pod GC, then every active workload. Returns pods created. */
  async reconcile(): Promise<number> {
    this.cluster.taintManager();
    if (this.cluster.controllerEpoch === this.seenEpoch) return 0;
    let created = 0;
    // Index pods by owner once per pass (a cluster has 100,000 pods).
    const byOwner = new Map<string, Pod[]>();
    for (const [, p] of this.cluster.podEntries()) {
      const o = p.metadata.ownerReferences?.find((r) => r.controller);
      if (!o) continue;
      const k = `${o.kind}:${p.metadata.namespace ?? 'default'}/${o.name ?? ''}`;
      let l = byOwner.get(k);
      if (!l) byOwner.set(k, (l = []));
      l.push(p);
    }
    for (const key of [...this.active].sort()) {
      const d = this.cluster.deploymentObject(key);
      if (d) created += await this.reconcileDeployment(key, d, byOwner.get(`Deployment:${key}`) ?? []);
      const s = this.cluster.statefulSetObject(key);
      if (s) created += await this.reconcileStatefulSet(key, s, byOwner.get(`StatefulSet:${key}`) ?? []);
    }
    // Deleting surplus pods bumps the epoch; what is left is settled.
    this.seenEpoch = this.cluster.controllerEpoch;
    return created;
  }

  private async create(key: string, pod: Pod): Promise<boolean> {
    const stamped: Pod = { ...pod, spec: { ...pod.spec, schedulerName: this.opts.schedulerName } };
    const r = await this.cluster.createPod(this.opts.mutate ? this.opts.mutate(stamped, key) : stamped);
    return r.ok;
  }

  /** The Deployment's one ReplicaSet: core/kube-model/workload-controllers.ts `replicaSetPlan`. */
  private async reconcileDeployment(key: string, d: Deployment, pods: Pod[]): Promise<number> {
    const ns = d.metadata.namespace ?? 'default';
    const rs = deploymentReplicaSet(d);
    const plan = replicaSetPlan({ spec: { replicas: d.spec.replicas ?? 1, template: rs.template } }, pods, this.cluster.now());
    let created = 0;
    const owner = { kind: 'Deployment', apiVersion: 'apps/v1', metadata: d.metadata };
    for (let i = 0; i < plan.create; i++) if (await this.create(key, podFromTemplate(owner, rs.template, { generateName: `${rs.name}-` }))) created++;
    for (const p of plan.delete) this.cluster.deleteGracefully(`${ns}/${p.metadata.name ?? ''}`);
    return created;
  }

  /** core/kube-model/workload-controllers.ts `statefulSetPlan` (OrderedReady unless the set says Parallel). */
  private async reconcileStatefulSet(key: string, s: StatefulSet, pods: Pod[]): Promise<number> {
    const ns = s.metadata.namespace ?? 'default';
    const plan = statefulSetPlan(s, pods);
    let created = 0;
    for (const ord of plan.create) if (await this.create(key, statefulSetPod(s, ord))) created++;
    for (const name of plan.delete) this.cluster.deleteGracefully(`${ns}/${name}`);
    return created;
  }

  /** Pods owned by a workload, by the controller owner reference. */
  ownedBy(ref: { namespace?: string; name: string }, kind: string): Pod[] {
    const ns = ref.namespace ?? 'default';
    const out: Pod[] = [];
    for (const [, p] of this.cluster.podEntries()) {
      if ((p.metadata.namespace ?? 'default') !== ns) continue;
      const o = p.metadata.ownerReferences?.find((r) => r.controller);
      if (o?.kind === kind && o.name === ref.name) out.push(p);
    }
    return out;
  }

  static keyOf = keyOf;
}
