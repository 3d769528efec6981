/**
 * The embedded cluster: Kubernetes objects in memory behind the ClusterReader and
 * ClusterWriter ports, with what the API server enforces (admission: Priority and
 * DefaultTolerationSeconds; binding only pending pods to existing nodes that have room,
 * PodDisruptionBudgets on eviction, resize only within the node), what the node
 * lifecycle controller and the taint manager do (failNode, taintManager), and what the
 * kubelet reports (pod phase and readiness, set by kubelet.ts). Kubernetes' own decisions
 * are the shared model of core/kube-model/, which the fake API server applies too.
 *
 * Objects are immutable values: a write replaces the object, so a snapshot (fork) is a
 * shallow copy of the maps and `revert` puts them back (cluster-autoscaler's
 * ClusterSnapshot, for what-if planning).
 */
import type { Clock } from '../ports/clock.ts';
import type {
  BindOptions, ChangeEvent, ChangeFeed, ClusterReader, ClusterWriter, EventRecord, EvictResult, ObjectRef, PodFilter, PodPatch, PodResize, WriteResult,
} from '../ports/cluster.ts';
import type { ContainerStatus, Deployment, Node, Pod, PodCondition, PodDisruptionBudget, PriorityClass, StatefulSet, Taint } from '../core/k8s/types.ts';
import { allocatableAmounts, podRequestAmounts, type ResourceTotals } from '../core/k8s/resources.ts';
import type { MigrationRecord, MigrationStore, PodConditionWriter, PodLogReader } from '../ports/cluster-extras.ts';
import { execFormatErrorLog, podLogTail } from '../core/kube-model/kubelet.ts';
import { OUT_OF_SERVICE_TAINT } from '../core/migration/decide.ts';
import { resolvePriority } from '../core/k8s/priority.ts';
import type { RuntimeOutcome } from '../core/kube-model/runtime.ts';
import { resizeVerdict } from '../core/kube-model/resize.ts';
import { DEFAULT_TOLERATION_SECONDS, defaultTolerations, markUnreachable, reachableTaints, taintEvictionAt } from '../core/kube-model/node-lifecycle.ts';
import { labelsMatch, selectorMatches } from '../core/k8s/labels.ts';
import { disruptionNumbers, evictionAllowed, ignoresBudgets, type DisruptionNumbers } from '../core/kube-model/disruption.ts';
import type { PodCalc } from './kubelet.ts';

/** What the simulated kubelet knows about a pod's containers. */
export type PodState =
  | 'Pending' // not bound
  | 'ContainerCreating' // bound, image pulling and starting
  | 'Running'
  | 'CrashLoopBackOff' // exec format error: the image is for another architecture
  | 'ErrImagePull' // the image index has no manifest for the node's platform
  | 'OOMKilled' // restarting after an OOM kill
  | 'NodeLost'; // its node failed; waiting to be moved

export interface PodRuntime {
  /** The pod's `namespace/name`. */
  readonly key: string;
  /** The pod object the API holds now (kept with every write, so the kubelet reads no map per pod). */
  pod: Pod;
  /** The kubelet's own record of the pod (kubelet.ts), kept with the runtime. */
  kubelet?: PodCalc;
  state: PodState;
  /** Minute the state was entered. */
  since: number;
  /** Minute the pod was created. */
  created: number;
  restarts: number;
  /** Why the pod cannot run on its node, set once it failed that way. */
  failure?: 'exec format error' | 'no matching manifest for platform';
  /** What the runtime does with each container's image (core/kube-model/runtime.ts), once started. */
  outcomes?: readonly RuntimeOutcome[];
  /** Milliseconds when the kubelet first started the containers. */
  startedMs?: number;
  /** The failing container's log, as `kubectl logs` shows it (e.g. `exec /app: exec format error`). */
  log?: string;
}

const nsOf = (ref: { namespace?: string | undefined }): string => ref.namespace ?? 'default';
export const keyOf = (ref: ObjectRef): string => `${nsOf(ref)}/${ref.name}`;

const ok: WriteResult = { ok: true, value: undefined };
const notFound = (what: string): WriteResult<never> => ({ ok: false, error: { kind: 'not-found', message: `${what} not found` } });

interface State {
  nodes: Map<string, Node>;
  pods: Map<string, Pod>;
  deployments: Map<string, Deployment>;
  statefulSets: Map<string, StatefulSet>;
  pdbs: Map<string, PodDisruptionBudget>;
  priorityClasses: Map<string, PriorityClass>;
  podsByNode: Map<string, Set<string>>;
  pending: Set<string>;
  requested: Map<string, ResourceTotals>;
  podRequest: Map<string, Readonly<ResourceTotals>>;
  runtime: Map<string, PodRuntime>;
  nodeReady: Map<string, boolean>;
  version: number;
  log: ChangeEvent[];
  logStart: number;
  uid: number;
  /** polyarch's Migration records (MigrationStore), by name. */
  migrations: Map<string, MigrationRecord>;
}

const LOG_KEEP = 20_000;

/** The sequence number in a uid this cluster gave (`uid-N`, from the one counter createPod draws from). */
const uidSeq = (p: Pod): number => Number(p.metadata.uid?.slice(4) ?? 0);

function copyState(s: State): State {
  const podsByNode = new Map<string, Set<string>>();
  for (const [k, v] of s.podsByNode) podsByNode.set(k, new Set(v));
  const requested = new Map<string, ResourceTotals>();
  for (const [k, v] of s.requested) requested.set(k, { ...v });
  const runtime = new Map<string, PodRuntime>();
  for (const [k, v] of s.runtime) runtime.set(k, { ...v });
  return {
    nodes: new Map(s.nodes), pods: new Map(s.pods), deployments: new Map(s.deployments), statefulSets: new Map(s.statefulSets),
    pdbs: new Map(s.pdbs), priorityClasses: new Map(s.priorityClasses), podsByNode, pending: new Set(s.pending), requested,
    podRequest: new Map(s.podRequest), runtime, nodeReady: new Map(s.nodeReady), version: s.version, log: [...s.log], logStart: s.logStart, uid: s.uid,
    migrations: new Map(s.migrations),
  };
}

export class SimCluster implements ClusterReader, ClusterWriter, MigrationStore, PodConditionWriter, PodLogReader {
  private s: State = {
    nodes: new Map(), pods: new Map(), deployments: new Map(), statefulSets: new Map(), pdbs: new Map(), priorityClasses: new Map(),
    podsByNode: new Map(), pending: new Set(), requested: new Map(), podRequest: new Map(), runtime: new Map(), nodeReady: new Map(),
    version: 0, log: [], logStart: 0, uid: 0, migrations: new Map(),
  };
  private snapshots: State[] = [];
  readonly events: (EventRecord & { minute: number })[] = [];
  /**
   * Grows when pods are deleted or workloads change: controllers need not look at
   * 100,000 pods in a minute when nothing they own went away.
   */
  get controllerEpoch(): number {
    return this.epoch;
  }
  private epoch = 0;
  /** Events kept for the report; the rest are counted. */
  eventLimit = 5_000;
  eventsDropped = 0;

  /**
   * `defaultTolerationSeconds`: what the API server's DefaultTolerationSeconds admission
   * gives pods for not-ready and unreachable nodes (kube-apiserver's
   * --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds, 300).
   */
  constructor(private readonly clock: Clock, private readonly startMs: number, private readonly opts: { readonly defaultTolerationSeconds?: number } = {}) {}

  /** The clock's time in milliseconds (for the controllers' decisions). */
  now(): number {
    return this.clock.now();
  }

  /** The simulated minute (0 at the scenario's start). */
  minute(): number {
    return Math.floor((this.clock.now() - this.startMs) / 60_000);
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private change(type: ChangeEvent['type'], kind: ChangeEvent['kind'], namespace: string | undefined, name: string): void {
    const s = this.s;
    s.version++;
    s.log.push(namespace === undefined ? { type, kind, name, version: s.version } : { type, kind, namespace, name, version: s.version });
    // Kept: at least one change per pod, so a minute in which every pod changes (an
    // autoscaler round resizing them all) does not expire a follower (a full relist).
    const keep = Math.max(LOG_KEEP, s.pods.size);
    if (s.log.length > keep * 2) {
      s.logStart += s.log.length - keep;
      s.log = s.log.slice(-keep);
    }
  }

  // ---- snapshot ---------------------------------------------------------------

  /** Starts a what-if: later writes can be undone with revert() or kept with commit(). */
  fork(): void {
    this.snapshots.push(copyState(this.s));
  }

  revert(): void {
    const prev = this.snapshots.pop();
    if (!prev) throw new Error('revert without fork');
    this.s = prev;
    this.epoch++;
  }

  commit(): void {
    if (!this.snapshots.pop()) throw new Error('commit without fork');
  }

  get forkDepth(): number {
    return this.snapshots.length;
  }

  // ---- loading (the API server's create, for the simulator's own objects) --------

  addNode(node: Node): void {
    const name = node.metadata.name ?? '';
    this.s.nodes.set(name, node);
    this.s.nodeReady.set(name, true);
    if (!this.s.podsByNode.has(name)) this.s.podsByNode.set(name, new Set());
    if (!this.s.requested.has(name)) this.s.requested.set(name, { cpu: 0, mem: 0, pods: 0 });
    this.change('ADDED', 'Node', undefined, name);
  }

  addDeployment(d: Deployment): void {
    this.s.deployments.set(keyOf({ namespace: d.metadata.namespace, name: d.metadata.name ?? '' }), d);
    this.epoch++;
    this.change('ADDED', 'Deployment', nsOf(d.metadata), d.metadata.name ?? '');
  }

  addStatefulSet(d: StatefulSet): void {
    this.s.statefulSets.set(keyOf({ namespace: d.metadata.namespace, name: d.metadata.name ?? '' }), d);
    this.epoch++;
    this.change('ADDED', 'StatefulSet', nsOf(d.metadata), d.metadata.name ?? '');
  }

  /** Sets spec.replicas of a Deployment or StatefulSet (kubectl scale). */
  scaleWorkload(key: string, replicas: number): boolean {
    this.epoch++;
    const d = this.s.deployments.get(key);
    if (d) {
      this.s.deployments.set(key, { ...d, spec: { ...d.spec, replicas } });
      this.change('MODIFIED', 'Deployment', nsOf(d.metadata), d.metadata.name ?? '');
      return true;
    }
    const st = this.s.statefulSets.get(key);
    if (st) {
      this.s.statefulSets.set(key, { ...st, spec: { ...st.spec, replicas } });
      this.change('MODIFIED', 'StatefulSet', nsOf(st.metadata), st.metadata.name ?? '');
      return true;
    }
    return false;
  }

  addPdb(p: PodDisruptionBudget): void {
    this.s.pdbs.set(keyOf({ namespace: p.metadata.namespace, name: p.metadata.name ?? '' }), p);
    this.change('ADDED', 'PodDisruptionBudget', nsOf(p.metadata), p.metadata.name ?? '');
  }

  addPriorityClass(p: PriorityClass): void {
    this.s.priorityClasses.set(p.metadata.name ?? '', p);
    this.change('ADDED', 'PriorityClass', undefined, p.metadata.name ?? '');
  }

  // ---- the node lifecycle (node controller) --------------------------------------

  /** A node stops answering: conditions Unknown and the unreachable taints, as the node controller sets them (core/kube-model/node-lifecycle.ts). */
  failNode(name: string): boolean {
    const n = this.s.nodes.get(name);
    if (!n) return false;
    this.s.nodeReady.set(name, false);
    const marked = markUnreachable(n.status?.conditions ?? [], n.spec?.taints ?? [], this.clock.now());
    this.s.nodes.set(name, { ...n, spec: { ...n.spec, taints: marked.taints }, status: { ...n.status, conditions: marked.conditions } });
    const m = this.minute();
    for (const key of this.s.podsByNode.get(name) ?? []) {
      const rt = this.s.runtime.get(key);
      if (rt) Object.assign(rt, { state: 'NodeLost', since: m });
      this.setPodPhase(key, 'Unknown', false, 'NodeLost');
    }
    this.change('MODIFIED', 'Node', undefined, name);
    return true;
  }

  /**
   * The operator confirms a failed node is off: the `node.kubernetes.io/out-of-service`
   * taint of Kubernetes' non-graceful node shutdown. Its StatefulSet pods may then be
   * replaced (nothing else can still be running them).
   */
  fenceNode(name: string): boolean {
    const n = this.s.nodes.get(name);
    if (!n) return false;
    const taints = (n.spec?.taints ?? []).filter((t) => t.key !== OUT_OF_SERVICE_TAINT);
    taints.push({ key: OUT_OF_SERVICE_TAINT, value: 'nodeshutdown', effect: 'NoExecute', timeAdded: this.iso() });
    this.s.nodes.set(name, { ...n, spec: { ...n.spec, taints } });
    this.change('MODIFIED', 'Node', undefined, name);
    return true;
  }

  /** The node is back: Ready=True, unreachable taints removed (and the out-of-service taint, as the operator does). A cordon stays until uncordoned. */
  recoverNode(name: string): boolean {
    const n = this.s.nodes.get(name);
    if (!n) return false;
    this.s.nodeReady.set(name, true);
    this.s.nodes.set(name, {
      ...n,
      spec: { ...n.spec, taints: reachableTaints(n.spec?.taints ?? []).filter((t) => t.key !== OUT_OF_SERVICE_TAINT) },
      status: { ...n.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
    });
    // The kubelet is back and starts again the pods still bound to it (a StatefulSet pod
    // waits there for its node, as in Kubernetes).
    const m = this.minute();
    for (const key of [...(this.s.podsByNode.get(name) ?? [])]) {
      // The kubelet finishes the deletions it could not confirm while the node was away.
      if (this.s.pods.get(key)?.metadata.deletionTimestamp) {
        this.removePod(key);
        continue;
      }
      const rt = this.s.runtime.get(key);
      if (rt?.state !== 'NodeLost') continue;
      Object.assign(rt, { state: 'ContainerCreating', since: m });
      this.setPodPhase(key, 'Pending', false);
    }
    this.change('MODIFIED', 'Node', undefined, name);
    return true;
  }

  isNodeReady(name: string): boolean {
    return this.s.nodeReady.get(name) ?? false;
  }

  /**
   * kube-controller-manager's NoExecute taint manager and pod garbage collector, on the
   * shared model (core/kube-model/node-lifecycle.ts): a pod on a node with a NoExecute
   * taint is deleted (gracefully) once its tolerations run out (at once without one; the
   * 300 s of DefaultTolerationSeconds for unreachable nodes); a pod terminating on a node
   * that is not ready and tainted out-of-service (non-graceful shutdown) is removed.
   * Returns the pods evicted.
   */
  taintManager(): number {
    const now = this.clock.now();
    let evicted = 0;
    for (const [name, node] of this.s.nodes) {
      const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
      if (taints.length === 0) continue;
      const outOfService = !this.isNodeReady(name) && taints.some((t) => t.key === OUT_OF_SERVICE_TAINT);
      for (const key of [...(this.s.podsByNode.get(name) ?? [])]) {
        const pod = this.s.pods.get(key);
        if (!pod) continue;
        if (!pod.metadata.deletionTimestamp && now >= taintEvictionAt(taints, pod.spec.tolerations ?? [], now)) {
          this.deleteGracefully(key);
          evicted++;
        }
        if (outOfService && this.s.pods.get(key)?.metadata.deletionTimestamp) this.removePod(key);
      }
    }
    return evicted;
  }

  /**
   * A delete as the controllers send it (graceful): the kubelet of a ready node confirms at
   * once (the simulator's minute is longer than a grace period); on a node that is not
   * ready the pod stays, terminating (deletionTimestamp), until the node is back, fenced,
   * or the pod is force-deleted.
   */
  deleteGracefully(key: string): void {
    const p = this.s.pods.get(key);
    if (!p || p.metadata.deletionTimestamp) return;
    const nodeName = p.spec.nodeName;
    if (!nodeName || this.isNodeReady(nodeName)) {
      this.removePod(key);
      return;
    }
    this.epoch++;
    this.putPod(key, { ...p, metadata: { ...p.metadata, deletionTimestamp: this.iso() } });
    this.change('MODIFIED', 'Pod', nsOf(p.metadata), p.metadata.name ?? '');
  }

  // ---- kubelet side ------------------------------------------------------------

  /** pods/log of the simulated kubelet: what the runtime wrote (runc's exec error), tail only. */
  async readPodLog(ref: ObjectRef, options: { container: string; previous: boolean; tailLines: number; limitBytes: number }): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
    const key = `${nsOf(ref)}/${ref.name}`;
    const pod = this.s.pods.get(key);
    if (!pod) return { ok: false, error: `pods "${ref.name}" not found` };
    const i = pod.spec.containers.findIndex((c) => c.name === options.container);
    if (i < 0) return { ok: false, error: `container ${options.container} is not valid for pod ${ref.name}` };
    const outcome = this.s.runtime.get(key)?.outcomes?.[i];
    if (!outcome) return { ok: false, error: `container "${options.container}" in pod "${ref.name}" is waiting to start: ContainerCreating` };
    const log = outcome.kind === 'exec-format-error' ? execFormatErrorLog(outcome.entrypoint) : '';
    const r = podLogTail(log, { tailLines: options.tailLines, limitBytes: options.limitBytes });
    return r.ok ? r : { ok: false, error: `${r.field}: ${r.error}` };
  }

  runtimeOf(key: string): PodRuntime | undefined {
    return this.s.runtime.get(key);
  }

  /** Every pod's runtime, with its pod object, in the order of podEntries (the kubelet's minute: no lookup per pod). */
  runtimes(): IterableIterator<PodRuntime> {
    return this.s.runtime.values();
  }

  /** Replaces a pod object (a write), keeping its runtime's copy current. */
  private putPod(key: string, pod: Pod): void {
    this.s.pods.set(key, pod);
    const rt = this.s.runtime.get(key);
    if (rt) rt.pod = pod;
  }

  /** Every pod with its runtime, for the kubelet's step (no copies). */
  podEntries(): IterableIterator<[string, Pod]> {
    return this.s.pods.entries();
  }

  podCount(): number {
    return this.s.pods.size;
  }

  nodeNames(): IterableIterator<string> {
    return this.s.nodes.keys();
  }

  nodeObject(name: string): Node | undefined {
    return this.s.nodes.get(name);
  }

  podObject(key: string): Pod | undefined {
    return this.s.pods.get(key);
  }

  podsOn(nodeName: string): ReadonlySet<string> {
    return this.s.podsByNode.get(nodeName) ?? new Set();
  }

  pendingKeys(): ReadonlySet<string> {
    return this.s.pending;
  }

  /** Sum of the requests of the pods bound to a node. */
  requestedOn(nodeName: string): ResourceTotals {
    return this.s.requested.get(nodeName) ?? { cpu: 0, mem: 0, pods: 0 };
  }

  requestOf(key: string): Readonly<ResourceTotals> | undefined {
    return this.s.podRequest.get(key);
  }

  workloadKeys(): { kind: 'Deployment' | 'StatefulSet'; key: string }[] {
    return [
      ...[...this.s.deployments.keys()].map((key) => ({ kind: 'Deployment' as const, key })),
      ...[...this.s.statefulSets.keys()].map((key) => ({ kind: 'StatefulSet' as const, key })),
    ];
  }

  deploymentObject(key: string): Deployment | undefined {
    return this.s.deployments.get(key);
  }

  statefulSetObject(key: string): StatefulSet | undefined {
    return this.s.statefulSets.get(key);
  }

  /**
   * The kubelet's status report: phase, the Ready condition (reason as kubectl shows it) and,
   * when given, the containers' statuses (core/kube-model/kubelet.ts).
   */
  setPodPhase(key: string, phase: 'Pending' | 'Running' | 'Unknown' | 'Failed', ready: boolean, reason?: string, containerStatuses?: readonly ContainerStatus[]): void {
    const p = this.s.pods.get(key);
    if (!p) return;
    const cur = p.status;
    const curReady = cur?.conditions?.find((c) => c.type === 'Ready');
    if (cur?.phase === phase && (curReady?.status === 'True') === ready && curReady?.reason === reason && (containerStatuses === undefined || containerStatuses === cur.containerStatuses)) return;
    // A StatefulSet (OrderedReady) waits on its pods' readiness: its controller looks again.
    if ((curReady?.status === 'True') !== ready && p.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'StatefulSet')) this.epoch++;
    const cond = reason === undefined ? { type: 'Ready', status: ready ? 'True' : 'False' } : { type: 'Ready', status: ready ? 'True' : 'False', reason };
    this.putPod(key, { ...p, status: { ...cur, phase, conditions: [cond], ...(containerStatuses ? { containerStatuses } : {}) } });
    this.change('MODIFIED', 'Pod', p.metadata.namespace ?? 'default', p.metadata.name ?? '');
  }

  /**
   * The kubelet evicted a pod for node pressure: status `Failed`, reason `Evicted`, the
   * kubelet's message, an `Evicted` event; then the pod is removed at once (the simulator's
   * pod garbage collection), so its controller makes a replacement.
   */
  evictByKubelet(key: string, message: string): void {
    const p = this.s.pods.get(key);
    if (!p) return;
    this.putPod(key, { ...p, status: { ...p.status, phase: 'Failed', reason: 'Evicted', message, conditions: [{ type: 'Ready', status: 'False' }] } });
    this.change('MODIFIED', 'Pod', p.metadata.namespace ?? 'default', p.metadata.name ?? '');
    void this.recordEvent({ involved: { kind: 'Pod', namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, type: 'Warning', reason: 'Evicted', message });
    this.removePod(key);
  }

  // ---- ClusterReader -------------------------------------------------------------

  async listNodes(): Promise<readonly Node[]> {
    return [...this.s.nodes.values()];
  }

  async getNode(name: string): Promise<Node | undefined> {
    return this.s.nodes.get(name);
  }

  async listPods(filter: PodFilter = {}): Promise<readonly Pod[]> {
    let keys: Iterable<string>;
    if (filter.nodeName === '') keys = this.s.pending;
    else if (filter.nodeName !== undefined) keys = this.s.podsByNode.get(filter.nodeName) ?? [];
    else keys = this.s.pods.keys();
    const out: Pod[] = [];
    for (const k of keys) {
      const p = this.s.pods.get(k);
      if (!p) continue;
      if (filter.namespace !== undefined && (p.metadata.namespace ?? 'default') !== filter.namespace) continue;
      if (filter.schedulerName !== undefined && (p.spec.schedulerName ?? 'default-scheduler') !== filter.schedulerName) continue;
      if (filter.labelSelector && !labelsMatch(filter.labelSelector, p.metadata.labels)) continue;
      out.push(p);
    }
    // One node's pods in the order of the whole list (creation order: the pods map's, and
    // the uids' sequence), as a filter of it would give them.
    if (filter.nodeName) out.sort((a, b) => uidSeq(a) - uidSeq(b));
    return out;
  }

  async getPod(ref: ObjectRef): Promise<Pod | undefined> {
    return this.s.pods.get(keyOf(ref));
  }

  async listDeployments(namespace?: string): Promise<readonly Deployment[]> {
    return [...this.s.deployments.values()].filter((d) => namespace === undefined || nsOf(d.metadata) === namespace);
  }

  async listStatefulSets(namespace?: string): Promise<readonly StatefulSet[]> {
    return [...this.s.statefulSets.values()].filter((d) => namespace === undefined || nsOf(d.metadata) === namespace);
  }

  async listPodDisruptionBudgets(namespace?: string): Promise<readonly PodDisruptionBudget[]> {
    return [...this.s.pdbs.values()].map((p) => this.withPdbStatus(p)).filter((p) => namespace === undefined || nsOf(p.metadata) === namespace);
  }

  async listPriorityClasses(): Promise<readonly PriorityClass[]> {
    return [...this.s.priorityClasses.values()];
  }

  async version(): Promise<number> {
    return this.s.version;
  }

  async changes(since: number): Promise<ChangeFeed> {
    const s = this.s;
    const firstKept = s.log[0]?.version ?? s.version + 1;
    if (since < firstKept - 1 && since < s.version) return { version: s.version, events: [], expired: true };
    // Versions are dense (one per change), so the first event after `since` sits at a known offset.
    return { version: s.version, events: s.log.slice(Math.max(0, since + 1 - firstKept)), expired: false };
  }

  // ---- ClusterWriter ---------------------------------------------------------------

  async createPod(pod: Pod): Promise<WriteResult<Pod>> {
    const ns = pod.metadata.namespace ?? 'default';
    let name = pod.metadata.name;
    if (!name && pod.metadata.generateName) name = `${pod.metadata.generateName}${(++this.s.uid).toString(36).padStart(5, '0')}`;
    if (!name) return { ok: false, error: { kind: 'invalid', message: 'pod: metadata.name or metadata.generateName is required' } };
    const key = `${ns}/${name}`;
    if (this.s.pods.has(key)) return { ok: false, error: { kind: 'conflict', message: `pod ${key} already exists` } };
    const nodeName = pod.spec.nodeName;
    const admitted = this.admitPriority(pod, key);
    if (!admitted.ok) return admitted;
    const created: Pod = {
      ...pod,
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...pod.metadata, name, namespace: ns, uid: `uid-${++this.s.uid}`, creationTimestamp: this.iso() },
      // DefaultTolerationSeconds admission: not-ready and unreachable tolerated for 300 s unless the pod says otherwise.
      spec: { ...pod.spec, ...admitted.value, tolerations: [...(pod.spec.tolerations ?? []), ...defaultTolerations(pod.spec.tolerations ?? [], this.opts.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS)], nodeName: undefined },
      // As the API server: no conditions until a scheduler writes PodScheduled.
      status: { phase: 'Pending' },
    };
    this.s.pods.set(key, created);
    this.s.podRequest.set(key, podRequestAmounts(created));
    this.s.pending.add(key);
    this.s.runtime.set(key, { key, pod: created, state: 'Pending', since: this.minute(), created: this.minute(), restarts: 0 });
    this.change('ADDED', 'Pod', ns, name);
    // A pod written with spec.nodeName skips the scheduler, as on Kubernetes.
    if (nodeName) {
      const b = await this.bindPod({ namespace: ns, name }, nodeName);
      if (!b.ok) return b;
    }
    return { ok: true, value: this.s.pods.get(key) ?? created };
  }

  /**
   * What the API server's Priority admission plugin does to a new pod: spec.priority
   * from its PriorityClass (the system classes included), or from the globalDefault
   * class (whose name it then records), or 0; an unknown class or a spec.priority that
   * disagrees with the class refuses the pod.
   */
  private admitPriority(pod: Pod, key: string): WriteResult<{ priority: number; priorityClassName?: string }> {
    const classes = [...this.s.priorityClasses.values()];
    const r = resolvePriority({ priorityClassName: pod.spec.priorityClassName }, classes);
    if (!r.ok) return { ok: false, error: { kind: 'forbidden', message: `pod ${key}: ${r.error}` } };
    if (typeof pod.spec.priority === 'number' && pod.spec.priority !== r.value) {
      return { ok: false, error: { kind: 'forbidden', message: `pod ${key}: spec.priority: ${pod.spec.priority} does not match ${r.value}, the value of its PriorityClass` } };
    }
    const def = pod.spec.priorityClassName ? undefined : classes.find((pc) => pc.globalDefault)?.metadata.name;
    return { ok: true, value: { priority: r.value, ...(def ? { priorityClassName: def } : {}) } };
  }

  async bindPod(ref: ObjectRef, nodeName: string, options: BindOptions = {}): Promise<WriteResult> {
    const key = keyOf(ref);
    const p = this.s.pods.get(key);
    if (!p) return notFound(`pod ${key}`);
    if (p.spec.nodeName) return { ok: false, error: { kind: 'conflict', message: `pod ${key} is already bound to ${p.spec.nodeName}` } };
    const node = this.s.nodes.get(nodeName);
    if (!node) return notFound(`node ${nodeName}`);
    const req = this.s.podRequest.get(key) ?? podRequestAmounts(p);
    const used = this.s.requested.get(nodeName) ?? { cpu: 0, mem: 0, pods: 0 };
    const alloc = allocatableAmounts(node);
    // The kubelet's admission check: a pod that does not fit is refused (OutOfcpu / OutOfmemory).
    if (used.cpu + req.cpu > alloc.cpu || used.mem + req.mem > alloc.mem || used.pods + 1 > alloc.pods) {
      return { ok: false, error: { kind: 'conflict', message: `node ${nodeName} has no room for pod ${key}` } };
    }
    used.cpu += req.cpu;
    used.mem += req.mem;
    used.pods += 1;
    this.s.requested.set(nodeName, used);
    this.s.podsByNode.get(nodeName)?.add(key);
    this.s.pending.delete(key);
    this.putPod(key, {
      ...p,
      ...(options.annotations ? { metadata: { ...p.metadata, annotations: { ...(p.metadata.annotations ?? {}), ...options.annotations } } } : {}),
      spec: { ...p.spec, nodeName },
      status: { ...p.status, phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainerCreating' }] },
    });
    const rt = this.s.runtime.get(key);
    if (rt) Object.assign(rt, { state: 'ContainerCreating', since: this.minute() });
    this.change('MODIFIED', 'Pod', nsOf(ref), ref.name);
    return ok;
  }

  async patchPod(ref: ObjectRef, patch: PodPatch): Promise<WriteResult> {
    const key = keyOf(ref);
    const p = this.s.pods.get(key);
    if (!p) return notFound(`pod ${key}`);
    const images = patch.images ?? {};
    for (const name of Object.keys(images)) {
      if (!p.spec.containers.some((c) => c.name === name) && !(p.spec.initContainers ?? []).some((c) => c.name === name)) {
        return { ok: false, error: { kind: 'invalid', message: `pod ${key}: no container named ${name}` } };
      }
    }
    if (p.spec.nodeName && Object.keys(images).length > 0) {
      return { ok: false, error: { kind: 'forbidden', message: `pod ${key}: images of a bound pod are not changed (re-create it)` } };
    }
    const annotations: Record<string, string> = { ...(p.metadata.annotations ?? {}) };
    for (const [k, v] of Object.entries(patch.annotations ?? {})) {
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    }
    const swap = <C extends { name: string; image?: string }>(cs: readonly C[] | null | undefined): C[] | undefined =>
      cs ? cs.map((c) => (images[c.name] === undefined ? c : { ...c, image: images[c.name] })) : undefined;
    this.putPod(key, {
      ...p,
      metadata: { ...p.metadata, annotations },
      spec: { ...p.spec, containers: swap(p.spec.containers) ?? [], ...(p.spec.initContainers ? { initContainers: swap(p.spec.initContainers) } : {}) },
    });
    this.change('MODIFIED', 'Pod', nsOf(ref), ref.name);
    return ok;
  }

  private removePod(key: string): void {
    const p = this.s.pods.get(key);
    if (!p) return;
    this.epoch++;
    const nodeName = p.spec.nodeName;
    if (nodeName) {
      const req = this.s.podRequest.get(key) ?? podRequestAmounts(p);
      const used = this.s.requested.get(nodeName);
      if (used) {
        used.cpu -= req.cpu;
        used.mem -= req.mem;
        used.pods -= 1;
      }
      this.s.podsByNode.get(nodeName)?.delete(key);
    }
    this.s.pending.delete(key);
    this.s.pods.delete(key);
    this.s.podRequest.delete(key);
    this.s.runtime.delete(key);
    this.change('DELETED', 'Pod', p.metadata.namespace ?? 'default', p.metadata.name ?? '');
  }

  async deletePod(ref: ObjectRef): Promise<WriteResult> {
    const key = keyOf(ref);
    if (!this.s.pods.has(key)) return notFound(`pod ${key}`);
    this.removePod(key);
    return ok;
  }

  /** The budget's numbers as the disruption controller computes them (core/kube-model/disruption.ts). */
  private pdbNumbers(pdb: PodDisruptionBudget): DisruptionNumbers {
    const ns = nsOf(pdb.metadata);
    const pods: Pod[] = [];
    for (const p of this.s.pods.values()) if (nsOf(p.metadata) === ns && selectorMatches(pdb.spec.selector, p.metadata.labels)) pods.push(p);
    return disruptionNumbers(pdb, pods, (o, namespace) => {
      const key = `${namespace}/${o.name ?? ''}`;
      const scale = o.kind === 'Deployment' ? this.s.deployments.get(key)?.spec.replicas : o.kind === 'StatefulSet' ? this.s.statefulSets.get(key)?.spec.replicas : undefined;
      return scale === null ? 1 : scale;
    });
  }

  private withPdbStatus(pdb: PodDisruptionBudget): PodDisruptionBudget {
    const n = this.pdbNumbers(pdb);
    return { ...pdb, status: { currentHealthy: n.currentHealthy, desiredHealthy: n.desiredHealthy, expectedPods: n.expectedPods, disruptionsAllowed: n.disruptionsAllowed } };
  }

  async evictPod(ref: ObjectRef): Promise<EvictResult> {
    const key = keyOf(ref);
    const p = this.s.pods.get(key);
    if (!p) return { ok: false, refused: 'not-found', message: `pod ${key} not found` };
    for (const pdb of ignoresBudgets(p) ? [] : this.s.pdbs.values()) {
      if (nsOf(pdb.metadata) !== (p.metadata.namespace ?? 'default') || !selectorMatches(pdb.spec.selector, p.metadata.labels)) continue;
      const n = this.pdbNumbers(pdb);
      if (!evictionAllowed(pdb, n, p)) {
        const budget = `${nsOf(pdb.metadata)}/${pdb.metadata.name ?? ''}`;
        return {
          ok: false,
          refused: 'disruption-budget',
          budget,
          message: `Cannot evict pod as it would violate the pod's disruption budget ${budget} (healthy ${n.currentHealthy}, needs ${n.desiredHealthy}${n.error ? `; ${n.error}` : ''})`,
        };
      }
    }
    this.removePod(key);
    return { ok: true };
  }

  async resizePod(ref: ObjectRef, resize: PodResize): Promise<WriteResult> {
    const key = keyOf(ref);
    const p = this.s.pods.get(key);
    if (!p) return notFound(`pod ${key}`);
    for (const name of Object.keys(resize)) {
      if (!p.spec.containers.some((c) => c.name === name)) return { ok: false, error: { kind: 'invalid', message: `pod ${key}: no container named ${name}` } };
    }
    const next: Pod = {
      ...p,
      spec: {
        ...p.spec,
        containers: p.spec.containers.map((c) => {
          const r = resize[c.name];
          if (!r) return c;
          return { ...c, resources: { requests: { ...(c.resources?.requests ?? {}), ...(r.requests ?? {}) }, limits: { ...(c.resources?.limits ?? {}), ...(r.limits ?? {}) } } };
        }),
      },
    };
    const before = this.s.podRequest.get(key) ?? podRequestAmounts(p);
    const after = podRequestAmounts(next);
    const nodeName = p.spec.nodeName;
    if (nodeName) {
      const node = this.s.nodes.get(nodeName);
      const used = this.s.requested.get(nodeName);
      if (node && used) {
        // The kubelet's verdict (core/kube-model/resize.ts): one that does not fit is not applied.
        const fit = resizeVerdict(after, { cpu: used.cpu - before.cpu, mem: used.mem - before.mem }, allocatableAmounts(node));
        if (fit.kind !== 'fits') return { ok: false, error: { kind: 'conflict', message: `pod ${key}: resize ${fit.kind}: ${fit.message}` } };
        used.cpu += after.cpu - before.cpu;
        used.mem += after.mem - before.mem;
      }
    }
    this.putPod(key, next);
    this.s.podRequest.set(key, after);
    this.change('MODIFIED', 'Pod', nsOf(ref), ref.name);
    return ok;
  }

  async cordonNode(name: string, unschedulable: boolean): Promise<WriteResult> {
    const n = this.s.nodes.get(name);
    if (!n) return notFound(`node ${name}`);
    const taints = (n.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/unschedulable');
    if (unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
    this.s.nodes.set(name, { ...n, spec: { ...n.spec, unschedulable, taints } });
    this.change('MODIFIED', 'Node', undefined, name);
    return ok;
  }

  async setNodeTaints(name: string, taints: readonly Taint[]): Promise<WriteResult> {
    const n = this.s.nodes.get(name);
    if (!n) return notFound(`node ${name}`);
    this.s.nodes.set(name, { ...n, spec: { ...n.spec, taints: [...taints] } });
    this.change('MODIFIED', 'Node', undefined, name);
    return ok;
  }

  async recordEvent(event: EventRecord): Promise<void> {
    if (this.events.length < this.eventLimit) this.events.push({ ...event, minute: this.minute() });
    else this.eventsDropped++;
  }

  /** pods/status: one condition set, merged by type (kube-scheduler's PodScheduled=False on a failure). */
  async setPodCondition(ref: ObjectRef, condition: PodCondition): Promise<WriteResult> {
    const key = keyOf(ref);
    const p = this.s.pods.get(key);
    if (!p) return notFound(`pod ${key}`);
    const conditions = [...(p.status?.conditions ?? []).filter((c) => c.type !== condition.type), condition];
    this.putPod(key, { ...p, status: { ...p.status, conditions } });
    this.change('MODIFIED', 'Pod', nsOf(ref), ref.name);
    return ok;
  }

  // ---- MigrationStore (the Migration custom resources of a cluster, in memory) ----

  async listMigrations(): Promise<readonly MigrationRecord[]> {
    return [...this.s.migrations.values()];
  }

  async createMigration(record: MigrationRecord): Promise<WriteResult> {
    if (this.s.migrations.has(record.name)) return { ok: false, error: { kind: 'conflict', message: `migration ${record.name} already exists` } };
    this.s.migrations.set(record.name, record);
    return ok;
  }

  async updateMigrationStatus(name: string, status: NonNullable<MigrationRecord['status']>): Promise<WriteResult> {
    const r = this.s.migrations.get(name);
    if (!r) return notFound(`migration ${name}`);
    this.s.migrations.set(name, { ...r, status });
    return ok;
  }

  async deleteMigration(name: string): Promise<WriteResult> {
    return this.s.migrations.delete(name) ? ok : notFound(`migration ${name}`);
  }
}
