/**
 * What a cluster runs besides the API server, reduced to what end-to-end tests need, each
 * switchable. They act through the same Api (new resourceVersions, watch events;
 * pods are created through the create path, so admission plugins see them).
 *
 * The workload controllers' decisions are the shared model in
 * src/core/kube-model/workload-controllers.ts (also run by the simulator's SimControllers);
 * here they are applied through the API:
 * - replicaSet: keeps spec.replicas active pods from the template (generateName "<rs>-",
 *   controller ownerReference), re-creates deleted, terminating or finished pods, removes
 *   extra ones in the controller's deletion ranking, writes status
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/).
 * - deployment: one ReplicaSet per template ("<deploy>-<pod-template-hash>"), older ones
 *   scaled to 0 at once (no rolling update), status
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/).
 * - statefulSet: pods "<set>-<ordinal>", OrderedReady (one at a time, after the lower ones
 *   are Running and Ready) or Parallel, failed members re-created, highest ordinal removed
 *   first, status (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/).
 * - garbageCollector: deletes objects whose controller owner no longer exists (background
 *   propagation, https://kubernetes.io/docs/concepts/architecture/garbage-collection/).
 * - nodeLifecycle: a node whose Lease in kube-node-lease is not renewed for the grace period
 *   gets its conditions set to Unknown ("Kubelet stopped posting node status.") and the
 *   node.kubernetes.io/unreachable NoExecute and NoSchedule taints; its pods get Ready=False.
 *   The taints go when Ready is True again. Pods that do not tolerate a NoExecute taint are
 *   deleted (after their tolerationSeconds). Pods bound to nodes that do not exist are
 *   deleted (pod GC) (https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller).
 * - kubelet: for every node whose kubelet is "running" (see stopKubelet): renews its Lease,
 *   keeps Ready=True, starts bound pods with the container statuses of the shared kubelet
 *   model (src/core/kube-model: Running, or CrashLoopBackOff after an exec format error,
 *   ErrImagePull / ImagePullBackOff; restartCount and back-off; events; logs), finishes
 *   graceful deletions after the grace period, and actuates in-place resizes with the 1.33
 *   conditions (PodResizePending reason Infeasible / Deferred, PodResizeInProgress).
 *   Without it, graceful deletions finish after their grace period on any node.
 * - disruption: writes PodDisruptionBudget status (disruptionsAllowed, currentHealthy, ...).
 * Always on: the namespace controller (a deleted namespace is emptied, then removed) and
 * the service-account controller (every namespace has a "default" ServiceAccount).
 */
import { isDeepStrictEqual } from 'node:util';
import { createHash } from 'node:crypto';
import type { Api } from './api.ts';
import { qosClass } from './api.ts';
import type { Clock } from './clock.ts';
import { microTime, rfc3339 } from './clock.ts';
import { resourceId } from './resources.ts';
import { ApiError } from './status.ts';
import type { Change } from './store.ts';
import type { KubeObject } from './types.ts';
import { reportContainer, type KubeletReport, type PodIdentity } from '../src/core/kube-model/kubelet.ts';
import { runImage, runtimeImage, type DeclaredImage, type RuntimeImage, type RuntimeOutcome } from '../src/core/kube-model/runtime.ts';
import { nodePlatform, type NodePlatformSource } from '../src/core/platform/platform.ts';
import { resizeVerdict } from '../src/core/kube-model/resize.ts';
import { allocatableAmounts, podRequestAmounts } from '../src/core/k8s/resources.ts';
import { TAINT_NODE_UNREACHABLE, type Deployment, type Node, type Pod, type PodTemplateSpec, type ReplicaSet, type StatefulSet, type Taint } from '../src/core/k8s/types.ts';
import { deploymentPlan, replicaSetPlan, statefulSetPlan } from '../src/core/kube-model/workload-controllers.ts';
import { podFromTemplate, statefulSetPod } from '../src/core/k8s/workloads.ts';
import { markUnreachable, markedUnreachable, nodeUnheard, reachableTaints, taintEvictionAt } from '../src/core/kube-model/node-lifecycle.ts';

export interface ControllerSwitches {
  replicaSet: boolean;
  deployment: boolean;
  statefulSet: boolean;
  garbageCollector: boolean;
  nodeLifecycle: boolean;
  kubelet: boolean;
  disruption: boolean;
}

export interface ControllerOptions {
  intervalMs: number;
  nodeMonitorGracePeriodMs: number;
  /** The kubelet finishes a graceful deletion after min(grace, this); default: the full grace. */
  podTerminationCapMs?: number;
  /**
   * Whether the kubelet model heartbeats by writing Leases (default, as kubelets do). false
   * keeps heartbeats in memory: no API writes, for benchmarks with many nodes and a short
   * grace period. Node lifecycle reads both.
   */
  kubeletLeases?: boolean;
  /**
   * Images the kubelet model's runtime knows, by reference: their platforms and entries
   * that lie (`{ platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } }`:
   * on an arm64 node the container exits with `exec format error` and crash-loops).
   * Images not listed run anywhere.
   */
  images?: Readonly<Record<string, DeclaredImage>>;
}

interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastHeartbeatTime?: string; lastProbeTime?: string | null }

// Key order differs between clients' serialisations; equality must not depend on it.
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

export class Controllers {
  readonly enabled: ControllerSwitches;
  /** Nodes whose kubelet is stopped: no heartbeats, no pod lifecycle (a dead or partitioned node). */
  readonly stoppedKubelets = new Set<string>();
  /**
   * What the node's container runtime does with a container's image (core/kube-model/runtime.ts):
   * runs, exits at once with `exec format error`, or fails to pull. Default: the images
   * declared with `images` (ControllerOptions) decide, and any other image runs.
   */
  containerRuntime: ((pod: KubeObject, container: { name: string; image: string }, node: KubeObject | undefined) => RuntimeOutcome) | undefined;
  /** Errors controllers met (e.g. a pod create denied by admission), newest last. */
  readonly errors: string[] = [];

  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private scheduled = false;
  private readonly firstSeen = new Map<string, number>();
  private readonly memoryHeartbeats = new Map<string, number>();
  private writes = 0;

  /** The runtime's view of the declared images (ControllerOptions.images). */
  private readonly images = new Map<string, RuntimeImage>();
  /** Per pod uid: when its containers first started and what the runtime does with each; their logs. */
  private readonly started = new Map<string, { ms: number; outcomes: RuntimeOutcome[]; logs: Map<string, string> }>();

  constructor(private readonly api: Api, private readonly clock: Clock, switches: Partial<ControllerSwitches> | 'all', private readonly opts: ControllerOptions) {
    for (const [ref, d] of Object.entries(opts.images ?? {})) {
      const r = runtimeImage(d);
      if (!r.ok) throw new Error(`images.${ref}.${r.error}`);
      this.images.set(ref, r.value);
    }
    const all = switches === 'all';
    const s = all ? {} : switches;
    this.api.store.subscribe((c) => {
      this.track(c);
      if (this.autoRun) this.schedule();
    });
    this.enabled = {
      replicaSet: all || !!s.replicaSet,
      deployment: all || !!s.deployment,
      statefulSet: all || !!s.statefulSet,
      garbageCollector: all || !!s.garbageCollector,
      nodeLifecycle: all || !!s.nodeLifecycle,
      kubelet: all || !!s.kubelet,
      disruption: all || !!s.disruption,
    };
  }

  /** Pods with a deletionTimestamp, kept from the change stream so that finishing them does not scan every pod. */
  private readonly terminating = new Set<string>();

  private track(c: Change): void {
    if (c.resource !== '/pods') return;
    const key = `${c.object.metadata.namespace ?? ''}/${c.object.metadata.name ?? ''}`;
    if (c.type !== 'DELETED' && c.object.metadata.deletionTimestamp) this.terminating.add(key);
    else this.terminating.delete(key);
    if (c.type === 'DELETED') this.started.delete(c.object.metadata.uid ?? '');
  }

  private autoRun = false;

  start(): void {
    this.autoRun = true;
    this.timer = setInterval(() => this.schedule(), this.opts.intervalMs);
    this.timer.unref();
    this.schedule();
  }

  stop(): void {
    this.autoRun = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.reconcile().catch((e: unknown) => this.errors.push(String(e)));
    }, 0).unref();
  }

  /** Runs passes until one writes nothing (bounded). Concurrent callers wait for the same run plus one more. */
  async reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      await this.running;
      if (this.running) return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          for (let pass = 0; pass < 20; pass++) {
            this.writes = 0;
            await this.pass();
            if (this.writes === 0) break;
          }
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async pass(): Promise<void> {
    await this.namespaces();
    this.ensureServiceAccounts();
    if (this.enabled.deployment) await this.deployments();
    if (this.enabled.replicaSet) await this.replicaSets();
    if (this.enabled.statefulSet) await this.statefulSets();
    if (this.enabled.garbageCollector) await this.garbageCollect();
    if (this.enabled.kubelet) this.kubelets();
    if (this.enabled.nodeLifecycle) await this.nodeLifecycle();
    this.terminations();
    if (this.enabled.disruption) this.disruption();
  }

  private now(): number {
    return this.clock.now();
  }

  private put(plural: string, group: string, obj: KubeObject): KubeObject {
    this.writes++;
    return this.api.putDirect(this.api.resource(group, plural), obj);
  }

  private remove(plural: string, group: string, ns: string, name: string): void {
    this.writes++;
    this.api.removeDirect(this.api.resource(group, plural), ns, name);
  }

  private note(e: unknown): void {
    this.errors.push(e instanceof ApiError ? `${e.code} ${e.reason}: ${e.message}` : String(e));
    if (this.errors.length > 100) this.errors.shift();
  }

  // ---------- always on ----------

  ensureServiceAccounts(): void {
    for (const ns of this.api.store.scan('/namespaces')) {
      const name = ns.metadata.name ?? '';
      if (ns.metadata.deletionTimestamp) continue;
      if (!this.api.store.get('/serviceaccounts', name, 'default')) {
        this.put('serviceaccounts', '', { metadata: { name: 'default', namespace: name } });
      }
    }
  }

  private async namespaces(): Promise<void> {
    for (const ns of this.api.store.scan('/namespaces')) {
      if (!ns.metadata.deletionTimestamp) continue;
      const name = ns.metadata.name ?? '';
      for (const def of this.api.table.all) {
        if (!def.namespaced) continue;
        for (const o of this.api.store.scan(resourceId(def), name)) this.remove(def.plural, def.group, name, o.metadata.name ?? '');
      }
      this.remove('namespaces', '', '', name);
    }
  }

  /** Graceful deletions whose time has come (by the kubelet of a live node, or anywhere without the kubelet model). */
  private terminations(): void {
    const cap = this.opts.podTerminationCapMs;
    for (const key of [...this.terminating]) {
      const [ns = '', name = ''] = key.split('/');
      const pod = this.api.store.get('/pods', ns, name);
      if (!pod) {
        this.terminating.delete(key);
        continue;
      }
      const ts = pod.metadata.deletionTimestamp;
      if (!ts || (pod.metadata.finalizers ?? []).length) continue;
      if (this.enabled.kubelet && pod.spec?.nodeName && !this.kubeletRuns(pod.spec.nodeName)) continue;
      const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
      const due = Date.parse(ts) - graceMs + Math.min(graceMs, cap ?? graceMs);
      if (this.now() >= due) this.remove('pods', '', pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    }
  }

  // ---------- workloads ----------

  private ownedBy(uid: string | undefined, ns: string, plural: string, group: string): KubeObject[] {
    return this.api.store.scan(`${group}/${plural}`, ns).filter((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid));
  }

  /** Writes spec.replicas of an object the controller owns (a new generation). */
  private scaleTo(plural: string, obj: KubeObject, replicas: number): KubeObject {
    return this.put(plural, 'apps', { ...obj, spec: { ...obj.spec, replicas }, metadata: { ...obj.metadata, generation: (obj.metadata.generation ?? 1) + 1 } });
  }

  /** Deletes pods through the API (graceful, as the controllers do), in order. */
  private async deletePods(ns: string, names: readonly string[]): Promise<void> {
    const podDef = this.api.resource('', 'pods');
    for (const name of names) {
      try {
        await this.api.delete(podDef, ns, name, {});
        this.writes++;
      } catch (e) {
        this.note(e);
      }
    }
  }

  /** Creates pods through the API (admission sees them); stops at the first refusal, as the controllers' slow start does. */
  private async createPods(ns: string, pods: readonly Pod[]): Promise<void> {
    const podDef = this.api.resource('', 'pods');
    for (const pod of pods) {
      try {
        await this.api.create(podDef, ns, structuredClone(pod) as unknown as KubeObject);
        this.writes++;
      } catch (e) {
        this.note(e);
        break;
      }
    }
  }

  private writeStatus(plural: string, ns: string, name: string, status: object): void {
    const fresh = this.api.store.get(`apps/${plural}`, ns, name);
    if (fresh && !same(fresh.status, status)) this.put(plural, 'apps', { ...fresh, status });
  }

  /** The ReplicaSet controller: the decision is core/kube-model/workload-controllers.ts `replicaSetPlan`. */
  private async replicaSets(): Promise<void> {
    for (const rs of this.api.store.scan('apps/replicasets')) {
      if (rs.metadata.deletionTimestamp) continue;
      const ns = rs.metadata.namespace ?? '';
      const name = rs.metadata.name ?? '';
      const pods = this.ownedBy(rs.metadata.uid, ns, 'pods', '') as unknown as Pod[];
      // The pods of every ReplicaSet of the same Deployment rank co-location on scale-down.
      const deploy = rs.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
      const related = deploy ? this.ownedBy(deploy.uid, ns, 'replicasets', 'apps').flatMap((r) => this.ownedBy(r.metadata.uid, ns, 'pods', '')) as unknown as Pod[] : pods;
      const plan = replicaSetPlan(rs as unknown as ReplicaSet, pods, this.now(), related);
      const owner = { kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: rs.metadata };
      const template = (rs.spec?.template ?? { spec: { containers: [] } }) as PodTemplateSpec;
      await this.createPods(ns, Array.from({ length: plan.create }, () => podFromTemplate(owner, template, { generateName: `${name}-` })));
      await this.deletePods(ns, plan.delete.map((p) => p.metadata.name ?? ''));
      // The status of what is there now, after the writes.
      const after = replicaSetPlan(rs as unknown as ReplicaSet, this.ownedBy(rs.metadata.uid, ns, 'pods', '') as unknown as Pod[], this.now());
      this.writeStatus('replicasets', ns, name, { ...after.status, observedGeneration: rs.metadata.generation ?? 1 });
    }
  }

  /** The Deployment controller: core/kube-model/workload-controllers.ts `deploymentPlan`. */
  private async deployments(): Promise<void> {
    const rsDef = this.api.resource('apps', 'replicasets');
    for (const d of this.api.store.scan('apps/deployments')) {
      if (d.metadata.deletionTimestamp) continue;
      const ns = d.metadata.namespace ?? '';
      const owned = this.ownedBy(d.metadata.uid, ns, 'replicasets', 'apps');
      const plan = deploymentPlan(d as unknown as Deployment, owned as unknown as ReplicaSet[]);
      if (plan.createReplicaSet) {
        try {
          await this.api.create(rsDef, ns, structuredClone(plan.createReplicaSet) as unknown as KubeObject);
          this.writes++;
        } catch (e) {
          this.note(e);
          continue;
        }
      }
      for (const s of plan.scale) {
        const rs = owned.find((r) => r.metadata.name === s.name);
        if (rs) this.scaleTo('replicasets', rs, s.replicas);
      }
      const now = this.ownedBy(d.metadata.uid, ns, 'replicasets', 'apps');
      this.writeStatus('deployments', ns, d.metadata.name ?? '', { observedGeneration: d.metadata.generation ?? 1, ...deploymentPlan(d as unknown as Deployment, now as unknown as ReplicaSet[]).status });
    }
  }

  /** The StatefulSet controller: core/kube-model/workload-controllers.ts `statefulSetPlan`. */
  private async statefulSets(): Promise<void> {
    for (const s of this.api.store.scan('apps/statefulsets')) {
      if (s.metadata.deletionTimestamp) continue;
      const ns = s.metadata.namespace ?? '';
      const set = s as unknown as StatefulSet;
      const plan = statefulSetPlan(set, this.ownedBy(s.metadata.uid, ns, 'pods', '') as unknown as Pod[]);
      await this.createPods(ns, plan.create.map((ord) => statefulSetPod(set, ord)));
      await this.deletePods(ns, plan.delete);
      const after = statefulSetPlan(set, this.ownedBy(s.metadata.uid, ns, 'pods', '') as unknown as Pod[]);
      this.writeStatus('statefulsets', ns, s.metadata.name ?? '', { ...after.status, observedGeneration: s.metadata.generation ?? 1 });
    }
  }

  private async garbageCollect(): Promise<void> {
    const uids = new Set<string>();
    for (const def of this.api.table.all) for (const o of this.api.store.scan(resourceId(def))) if (o.metadata.uid) uids.add(o.metadata.uid);
    for (const def of this.api.table.all) {
      for (const o of this.api.store.scan(resourceId(def))) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.length || o.metadata.deletionTimestamp) continue;
        if (refs.every((r) => !uids.has(r.uid))) {
          try {
            await this.api.delete(def, o.metadata.namespace, o.metadata.name ?? '', {});
            this.writes++;
          } catch (e) {
            this.note(e);
          }
        }
      }
    }
  }

  // ---------- nodes ----------

  /** Renews a node's Lease and marks it Ready, as its kubelet would. */
  heartbeat(nodeName: string): void {
    const lease = this.api.store.get('coordination.k8s.io/leases', 'kube-node-lease', nodeName);
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: microTime(this.now()) };
    if (!lease) {
      const node = this.api.store.get('/nodes', '', nodeName);
      this.put('leases', 'coordination.k8s.io', {
        metadata: { name: nodeName, namespace: 'kube-node-lease', ...(node ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid ?? '' }] } : {}) },
        spec,
      });
    } else this.put('leases', 'coordination.k8s.io', { ...lease, spec: { ...lease.spec, ...spec } });
    const node = this.api.store.get('/nodes', '', nodeName);
    if (node) this.setNodeReady(node, true);
  }

  stopKubelet(nodeName: string): void {
    this.stoppedKubelets.add(nodeName);
  }

  startKubelet(nodeName: string): void {
    this.stoppedKubelets.delete(nodeName);
    this.schedule();
  }

  private kubeletRuns(nodeName: string): boolean {
    return !this.stoppedKubelets.has(nodeName) && !!this.api.store.get('/nodes', '', nodeName);
  }

  private setNodeReady(node: KubeObject, ready: boolean): void {
    const conds: Condition[] = structuredClone(node.status?.conditions ?? []);
    const now = rfc3339(this.now());
    const i = conds.findIndex((c) => c.type === 'Ready');
    const cur = conds[i];
    if (ready && cur?.status === 'True') return;
    const next: Condition = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
    if (i >= 0) conds[i] = next;
    else conds.push(next);
    this.put('nodes', '', { ...node, status: { ...(node.status ?? {}), conditions: conds } });
  }

  private kubelets(): void {
    const renewMs = Math.max(1, Math.floor(this.opts.nodeMonitorGracePeriodMs / 4));
    for (const node of this.api.store.scan('/nodes')) {
      const name = node.metadata.name ?? '';
      if (this.stoppedKubelets.has(name)) continue;
      if (this.opts.kubeletLeases === false) {
        this.memoryHeartbeats.set(name, this.now());
        this.setNodeReady(node, true);
        continue;
      }
      const lease = this.api.store.get('coordination.k8s.io/leases', 'kube-node-lease', name);
      const renewed = lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : -Infinity;
      const readyCond = (node.status?.conditions ?? []).find((c: Condition) => c.type === 'Ready') as Condition | undefined;
      if (this.now() - renewed >= renewMs || readyCond?.status !== 'True') this.heartbeat(name);
    }
    for (const pod of this.api.store.scan('/pods')) {
      const nodeName: string | undefined = pod.spec?.nodeName;
      if (!nodeName || !this.kubeletRuns(nodeName) || pod.metadata.deletionTimestamp) continue;
      if (pod.status?.phase === 'Pending') this.startPod(structuredClone(pod));
      else if (pod.status?.phase === 'Running') {
        this.restartFailed(pod);
        this.resize(pod);
      }
    }
  }

  /** What the runtime does with a container's image on `node`. */
  private outcomeOf(pod: KubeObject, c: { name: string; image: string }, node: KubeObject | undefined): RuntimeOutcome {
    if (this.containerRuntime) return this.containerRuntime(pod, c, node);
    const image = this.images.get(c.image);
    const platform = node ? nodePlatform(node as unknown as NodePlatformSource) : undefined;
    if (!image) return { kind: 'runs' };
    if (!platform?.ok) return { kind: 'not-found' };
    return runImage(image, platform.value);
  }

  private reports(pod: KubeObject, run: { ms: number; outcomes: RuntimeOutcome[] }): KubeletReport[] {
    const id: PodIdentity = { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '' };
    return (pod.spec.containers ?? []).map((c: { name: string; image: string; terminationMessagePolicy?: string }, i: number) =>
      reportContainer(id, c, run.outcomes[i] ?? { kind: 'not-found' }, run.ms, this.now()));
  }

  /** The container statuses from the shared kubelet model, with what the pod's status keeps of the old ones (resources). */
  private containerStatuses(pod: KubeObject, reports: readonly KubeletReport[]): unknown[] {
    const old: { name: string }[] = pod.status?.containerStatuses ?? [];
    return (pod.spec.containers ?? []).map((c: { name: string; resources?: { requests?: Record<string, string> } }, i: number) => {
      const prev = old.find((s) => s.name === c.name) as { allocatedResources?: unknown; resources?: unknown } | undefined;
      return {
        ...reports[i]?.status,
        allocatedResources: prev?.allocatedResources ?? c.resources?.requests ?? {},
        resources: prev?.resources ?? c.resources ?? {},
      };
    });
  }

  private startPod(pod: KubeObject): void {
    const node = this.api.store.get('/nodes', '', pod.spec.nodeName);
    const now = rfc3339(this.now());
    const run = { ms: this.now(), outcomes: (pod.spec.containers ?? []).map((c: { name: string; image: string }) => this.outcomeOf(pod, c, node)), logs: new Map<string, string>() };
    this.started.set(pod.metadata.uid ?? '', run);
    const reports = this.reports(pod, run);
    reports.forEach((r, i) => run.logs.set(pod.spec.containers[i].name, r.log));
    for (const r of reports) if (r.event) this.event(pod, r.event);
    const containerStatuses = this.containerStatuses(pod, reports);
    const ready = reports.every((r) => r.running) ? 'True' : 'False';
    const conds: Condition[] = [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      { type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: now, ...(ready === 'False' ? { reason: 'ContainersNotReady' } : {}) },
      { type: 'ContainersReady', status: ready, lastProbeTime: null, lastTransitionTime: now, ...(ready === 'False' ? { reason: 'ContainersNotReady' } : {}) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
    ];
    const existing: Condition[] = pod.status?.conditions ?? [];
    const merged = [...conds, ...existing.filter((c) => !conds.some((x) => x.type === c.type))];
    const ip = (n: string): string => { const h = createHash('md5').update(n).digest(); return `10.${h[0] ?? 0}.${h[1] ?? 0}.${(h[2] ?? 0) % 254 + 1}`; };
    this.put('pods', '', {
      ...pod,
      status: {
        ...(pod.status ?? {}),
        phase: 'Running', conditions: merged, hostIP: ip(pod.spec.nodeName), podIP: ip(pod.metadata.uid ?? ''),
        startTime: now, containerStatuses, qosClass: pod.status?.qosClass ?? qosClass(pod.spec),
      },
    });
  }

  /** Containers that crash-loop or cannot pull: the kubelet keeps trying (restartCount grows, back-off doubles to 5 min). */
  private restartFailed(pod: KubeObject): void {
    const run = this.started.get(pod.metadata.uid ?? '');
    if (!run || run.outcomes.every((o) => o.kind === 'runs')) return;
    const reports = this.reports(pod, run);
    const old: { restartCount?: number; state?: { waiting?: { reason?: string; message?: string } } }[] = pod.status?.containerStatuses ?? [];
    const changed = reports.some((r, i) => r.status.restartCount !== old[i]?.restartCount || r.status.state.waiting?.message !== old[i]?.state?.waiting?.message);
    if (!changed) return;
    for (const [i, r] of reports.entries()) {
      if (r.event && r.status.restartCount !== old[i]?.restartCount) this.event(pod, r.event);
    }
    this.put('pods', '', { ...pod, status: { ...pod.status, containerStatuses: this.containerStatuses(pod, reports) } });
  }

  /** An event from the kubelet on the pod (source component kubelet, host the node). */
  private event(pod: KubeObject, e: { type: string; reason: string; message: string }): void {
    const ts = rfc3339(this.now());
    this.put('events', '', {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${pod.metadata.name ?? ''}.${this.now().toString(16)}${(this.eventSeq++).toString(16)}`, namespace: pod.metadata.namespace ?? 'default' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      type: e.type, reason: e.reason, message: e.message, source: { component: 'kubelet', host: pod.spec.nodeName },
      firstTimestamp: ts, lastTimestamp: ts, count: 1, reportingComponent: 'kubelet', reportingInstance: pod.spec.nodeName,
    });
  }

  private eventSeq = 0;

  /**
   * The container's log as the kubelet serves pods/log: the current container's, or the last
   * terminated one's while it waits to restart. An Error for what the API answers 400.
   */
  podLog(pod: KubeObject, container: string | undefined): string | Error {
    const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const name = container ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined) return new Error(`a container name must be specified for pod ${pod.metadata.name ?? ''}, choose one of: [${names.join(' ')}]`);
    if (!names.includes(name)) return new Error(`container ${name} is not valid for pod ${pod.metadata.name ?? ''}`);
    const run = this.started.get(pod.metadata.uid ?? '');
    if (!run) return new Error(`container "${name}" in pod "${pod.metadata.name ?? ''}" is waiting to start: ContainerCreating`);
    return run.logs.get(name) ?? '';
  }

  /** In-place resize as the 1.33 kubelet does it: check fit against allocatable, then actuate. */
  private resize(pod: KubeObject): void {
    const statuses: { name: string; resources?: unknown; allocatedResources?: Record<string, string> }[] = pod.status?.containerStatuses ?? [];
    const containers: { name: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] = pod.spec?.containers ?? [];
    const pending = containers.some((c) => !same(statuses.find((s) => s.name === c.name)?.resources ?? {}, c.resources ?? {}));
    const conds: Condition[] = (pod.status?.conditions ?? []).filter((c: Condition) => c.type !== 'PodResizePending' && c.type !== 'PodResizeInProgress');
    const had = (t: string): boolean => (pod.status?.conditions ?? []).some((c: Condition) => c.type === t);
    const now = rfc3339(this.now());
    if (!pending) {
      if (had('PodResizePending') || had('PodResizeInProgress')) this.put('pods', '', { ...pod, status: { ...pod.status, conditions: conds } });
      return;
    }
    const node = this.api.store.get('/nodes', '', pod.spec.nodeName);
    const others = this.api.store.scan('/pods').filter((p) => p.spec?.nodeName === pod.spec.nodeName && p.metadata.uid !== pod.metadata.uid && !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const used = { cpu: 0, mem: 0 };
    for (const p of others) {
      const r = podRequestAmounts(p as unknown as Pod);
      used.cpu += r.cpu;
      used.mem += r.mem;
    }
    const fit = node ? resizeVerdict(podRequestAmounts(pod as unknown as Pod), used, allocatableAmounts(node as unknown as Node)) : { kind: 'fits' as const };
    const verdict: Condition | undefined = fit.kind === 'fits' ? undefined
      : { type: 'PodResizePending', status: 'True', reason: fit.kind, message: fit.message, lastProbeTime: null, lastTransitionTime: now };
    if (verdict) {
      const cur = (pod.status?.conditions ?? []).find((c: Condition) => c.type === 'PodResizePending') as Condition | undefined;
      if (cur && cur.reason === verdict.reason && cur.message === verdict.message) return;
      this.put('pods', '', { ...pod, status: { ...pod.status, conditions: [...conds, verdict] } });
      return;
    }
    const allocated = containers.every((c) => same(statuses.find((s) => s.name === c.name)?.allocatedResources ?? {}, c.resources?.requests ?? {}));
    if (!allocated || !had('PodResizeInProgress')) {
      // Accepted: allocate, and report the resize as in progress until the runtime has applied it.
      const next = statuses.map((s) => ({ ...s, allocatedResources: containers.find((c) => c.name === s.name)?.resources?.requests ?? {} }));
      this.put('pods', '', { ...pod, status: { ...pod.status, containerStatuses: next, conditions: [...conds, { type: 'PodResizeInProgress', status: 'True', lastProbeTime: null, lastTransitionTime: now }] } });
      return;
    }
    const next = statuses.map((s) => ({ ...s, resources: containers.find((c) => c.name === s.name)?.resources ?? {} }));
    this.put('pods', '', { ...pod, status: { ...pod.status, containerStatuses: next, conditions: conds } });
  }

  private async nodeLifecycle(): Promise<void> {
    const grace = this.opts.nodeMonitorGracePeriodMs;
    const now = this.now();
    const nodes = this.api.store.scan('/nodes');
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      if (!this.firstSeen.has(name)) this.firstSeen.set(name, now);
      const lease = this.api.store.get('coordination.k8s.io/leases', 'kube-node-lease', name);
      const conds: Condition[] = structuredClone(node.status?.conditions ?? []);
      const ready = conds.find((c) => c.type === 'Ready');
      const heard = Math.max(
        this.firstSeen.get(name) ?? now,
        lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : -Infinity,
        ready?.lastHeartbeatTime ? Date.parse(ready.lastHeartbeatTime) : -Infinity,
        this.memoryHeartbeats.get(name) ?? -Infinity,
      );
      const taints: Taint[] = node.spec?.taints ?? [];
      if (nodeUnheard(heard, now, grace)) {
        if (!markedUnreachable(conds, taints)) {
          const next = markUnreachable(conds, taints, now);
          this.put('nodes', '', { ...node, spec: { ...(node.spec ?? {}), taints: next.taints }, status: { ...(node.status ?? {}), conditions: next.conditions } });
          this.markPodsNotReady(name);
        }
      } else if (ready?.status === 'True' && taints.some((t) => t.key === TAINT_NODE_UNREACHABLE)) {
        this.put('nodes', '', { ...node, spec: { ...(node.spec ?? {}), taints: reachableTaints(taints) } });
      }
    }
    await this.taintEviction(this.api.store.scan('/nodes'));
    // Pod GC: pods bound to nodes that no longer exist are deleted at once.
    const names = new Set(nodes.map((n) => n.metadata.name));
    for (const pod of this.api.store.scan('/pods')) {
      if (pod.spec?.nodeName && !names.has(pod.spec.nodeName)) this.remove('pods', '', pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    }
  }

  /**
   * The NoExecute taint manager (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions):
   * a pod on a node with a NoExecute taint it does not tolerate is deleted at once; one it
   * tolerates for tolerationSeconds is deleted that long after the taint's timeAdded.
   * (Pods get 300 s tolerations for not-ready/unreachable from DefaultTolerationSeconds.)
   */
  private async taintEviction(nodes: readonly KubeObject[]): Promise<void> {
    const podDef = this.api.resource('', 'pods');
    const now = this.now();
    const tainted = new Map<string, Taint[]>();
    for (const n of nodes) {
      const t = ((n.spec?.taints ?? []) as Taint[]).filter((x) => x.effect === 'NoExecute');
      if (t.length) tainted.set(n.metadata.name ?? '', t);
    }
    if (!tainted.size) return;
    for (const pod of [...this.api.store.values('/pods')]) {
      const taints = tainted.get(pod.spec?.nodeName ?? '');
      if (!taints || pod.metadata.deletionTimestamp) continue;
      if (now >= taintEvictionAt(taints, pod.spec?.tolerations ?? [], now)) {
        try {
          await this.api.delete(podDef, pod.metadata.namespace, pod.metadata.name ?? '', {});
          this.writes++;
        } catch (e) {
          this.note(e);
        }
      }
    }
  }

  private markPodsNotReady(nodeName: string): void {
    const ts = rfc3339(this.now());
    for (const pod of this.api.store.scan('/pods')) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const conds: Condition[] = pod.status?.conditions ?? [];
      if (!conds.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const next = conds.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'NodeNotReady', lastTransitionTime: ts } : c));
      this.put('pods', '', { ...pod, status: { ...pod.status, conditions: next } });
    }
  }

  // ---------- disruption ----------

  private disruption(): void {
    for (const pdb of this.api.store.scan('policy/poddisruptionbudgets')) {
      const { error, ...s } = this.api.disruptionStatus(pdb);
      const status = {
        ...s,
        observedGeneration: pdb.metadata.generation ?? 1,
        conditions: [{
          type: 'DisruptionAllowed', status: s.disruptionsAllowed > 0 ? 'True' : 'False',
          // A budget the controller cannot compute fails safe (SyncFailed, the reason as message).
          reason: error !== undefined ? 'SyncFailed' : s.disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: error ?? '',
          observedGeneration: pdb.metadata.generation ?? 1,
          lastTransitionTime: ((pdb.status?.conditions ?? [])[0] as Condition | undefined)?.status === (s.disruptionsAllowed > 0 ? 'True' : 'False')
            ? ((pdb.status?.conditions ?? [])[0] as Condition).lastTransitionTime : rfc3339(this.now()),
        }],
      };
      if (!same(pdb.status, status)) this.put('poddisruptionbudgets', 'policy', { ...pdb, status });
    }
  }
}

