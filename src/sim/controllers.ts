/**
 * The controllers of kube-controller-manager the simulator needs: ReplicaSet (through
 * Deployments) and StatefulSet keep the wanted number of pods, creating them from the
 * template. (The taint manager's part, deleting pods from a node unreachable past their
 * toleration, is played by app/migrator.ts: for the Kubernetes baselines configured as
 * Kubernetes behaves, bare pods not re-created.)
 */
import type { Deployment, Pod, PodTemplateSpec, StatefulSet } from '../core/k8s/types.ts';
import type { SimCluster } from './cluster.ts';
import { keyOf } from './cluster.ts';
import type { Rng } from '../core/rng.ts';

export interface SimControllerOptions {
  /** spec.schedulerName stamped on pods (as an opt-in label or webhook would). */
  readonly schedulerName: string;
  /** Mutates each new pod before it is created (the per-architecture baseline pins a nodeSelector). */
  readonly mutate?: (pod: Pod, workload: string) => Pod;
}

const podHash = (rng: Rng): string => {
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += chars[rng.int(chars.length)];
  return s;
};

function podFromTemplate(template: PodTemplateSpec, meta: { namespace: string; name?: string; generateName?: string; owner: { kind: string; name: string } }, schedulerName: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(meta.name ? { name: meta.name } : { generateName: meta.generateName }),
      namespace: meta.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations: { ...(template.metadata?.annotations ?? {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: meta.owner.kind, name: meta.owner.name, controller: true }],
    },
    spec: { ...template.spec, schedulerName },
  };
}

export class SimControllers {
  /** Workloads whose replicas are managed (deferred ones join on their deploy event). */
  private readonly active = new Set<string>();

  constructor(private readonly cluster: SimCluster, private readonly rng: Rng, private readonly opts: SimControllerOptions) {}

  activate(key: string): void {
    this.active.add(key);
    this.seenEpoch = -1;
  }

  /** The cluster's controller epoch at the last full pass: nothing to do while it stays. */
  private seenEpoch = -1;

  /** Pods owned by a workload, by the controller owner reference. */
  private owned(ns: string, kind: string, name: string): Pod[] {
    const out: Pod[] = [];
    for (const [, p] of this.cluster.podEntries()) {
      if ((p.metadata.namespace ?? 'default') !== ns) continue;
      const o = p.metadata.ownerReferences?.find((r) => r.controller);
      if (o?.kind === kind && o.name === name) out.push(p);
    }
    return out;
  }

  /** One reconcile pass of every active workload. Returns pods created. */
  async reconcile(): Promise<number> {
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

  private async reconcileDeployment(key: string, d: Deployment, pods: Pod[]): Promise<number> {
    const ns = d.metadata.namespace ?? 'default';
    const name = d.metadata.name ?? '';
    const want = d.spec.replicas ?? 1;
    let created = 0;
    for (let i = pods.length; i < want; i++) {
      let pod = podFromTemplate(d.spec.template, { namespace: ns, generateName: `${name}-${podHash(this.rng)}-`, owner: { kind: 'Deployment', name } }, this.opts.schedulerName);
      if (this.opts.mutate) pod = this.opts.mutate(pod, key);
      const r = await this.cluster.createPod(pod);
      if (r.ok) created++;
    }
    if (pods.length > want) {
      // Scale down removes unbound pods first, then the newest (ReplicaSet's ranking, simplified).
      const ranked = [...pods].sort((a, b) => Number(!!a.spec.nodeName) - Number(!!b.spec.nodeName) || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? ''));
      for (const p of ranked.slice(0, pods.length - want)) await this.cluster.deletePod({ namespace: ns, name: p.metadata.name ?? '' });
    }
    return created;
  }

  private async reconcileStatefulSet(key: string, s: StatefulSet, pods: Pod[]): Promise<number> {
    const ns = s.metadata.namespace ?? 'default';
    const name = s.metadata.name ?? '';
    const want = s.spec.replicas ?? 1;
    const have = new Set(pods.map((p) => p.metadata.name ?? ''));
    let created = 0;
    // Parallel pod management: every missing ordinal at once, with its stable name.
    for (let i = 0; i < want; i++) {
      const podName = `${name}-${i}`;
      if (have.has(podName)) continue;
      let pod = podFromTemplate(s.spec.template, { namespace: ns, name: podName, owner: { kind: 'StatefulSet', name } }, this.opts.schedulerName);
      if (this.opts.mutate) pod = this.opts.mutate(pod, key);
      const r = await this.cluster.createPod(pod);
      if (r.ok) created++;
    }
    for (const p of pods) {
      const ord = Number((p.metadata.name ?? '').slice(name.length + 1));
      if (ord >= want) await this.cluster.deletePod({ namespace: ns, name: p.metadata.name ?? '' });
    }
    return created;
  }

  ownedBy(ref: { namespace?: string; name: string }, kind: string): Pod[] {
    return this.owned(ref.namespace ?? 'default', kind, ref.name);
  }

  static keyOf = keyOf;
}
