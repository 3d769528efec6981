/**
 * The workload controllers of kube-controller-manager, as pure decisions for both models
 * of a cluster (src/sim/controllers.ts, fake-apiserver/controllers.ts): given the owner
 * object and the pods (or ReplicaSets) it owns, what to create and delete and the status
 * to write. The shells only read, act and write. Time is passed in.
 *
 * - ReplicaSet (pkg/controller/replicaset): active pods are those not terminating and
 *   not finished; missing ones are created from the template (generateName `<rs>-`),
 *   surplus ones deleted in the controller's ranking (ActivePodsWithRanks: unassigned,
 *   then Pending < Unknown < Running, not ready, lower `controller.kubernetes.io/pod-deletion-cost`,
 *   doubled up on a node, ready more recently, more restarts, created more recently, with
 *   LogarithmicScaleDown's power-of-two buckets and the uid as the tie-break).
 * - Deployment (pkg/controller/deployment): one ReplicaSet per template,
 *   `<deployment>-<pod-template-hash>`, scaled to spec.replicas; the older ones scaled to 0
 *   at once. Rolling updates (maxSurge/maxUnavailable) are not modelled: neither model of a
 *   cluster changes a template while it runs.
 * - StatefulSet (pkg/controller/statefulset): pods `<set>-<ordinal>` for ordinals
 *   [start, start + replicas); failed or succeeded ones deleted to be re-created; others
 *   condemned, highest ordinal first. With podManagementPolicy OrderedReady (the default)
 *   one step at a time: an ordinal is created only when every lower one is Running and
 *   Ready, a terminating or unready pod stops the pass, and condemned pods go one by one
 *   once the rest are healthy. Parallel does every step at once.
 */
import type { Deployment, Pod, ReplicaSet, StatefulSet } from '../k8s/types.ts';
import { controllerRef, deploymentReplicaSet, statefulSetStart } from '../k8s/workloads.ts';

/** Annotation whose integer value makes a pod cheaper (lower) or dearer to delete on scale-down. */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

const parseTime = (iso: string | null | undefined): number | undefined => {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

export const isTerminating = (pod: Pod): boolean => !!pod.metadata.deletionTimestamp;
const isFinished = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** controller.IsPodActive: not finished and not being deleted. */
export const isPodActive = (pod: Pod): boolean => !isTerminating(pod) && !isFinished(pod);

/** podutil.IsPodReady: the Ready condition is True. */
export const isPodReady = (pod: Pod): boolean => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);

const readyTime = (pod: Pod): number | undefined => {
  if (!isPodReady(pod)) return undefined;
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'Ready' && x.status === 'True') as { lastTransitionTime?: string } | undefined;
  return parseTime(c?.lastTransitionTime);
};

const maxRestarts = (pod: Pod): number => Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));

const deletionCost = (pod: Pod): number => {
  const v = pod.metadata.annotations?.[POD_DELETION_COST];
  if (v === undefined || !/^-?[0-9]+$/.test(v)) return 0;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647 ? n : 0;
};

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/** floor(log2(now - t in nanoseconds)), -1 when t is not before now (LogarithmicScaleDown). */
const logRank = (t: number, nowMs: number): number => {
  const ns = (nowMs - t) * 1e6;
  return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
};

/**
 * Newer first (afterOrZero: a missing time counts as newest); with LogarithmicScaleDown,
 * times in the same power-of-two bucket before now tie and the uid decides.
 */
function newerFirst(a: Pod, b: Pod, ta: number | undefined, tb: number | undefined, nowMs: number): number {
  if (ta === tb) return 0;
  if (ta === undefined || tb === undefined) return ta === undefined ? -1 : 1;
  const diff = logRank(ta, nowMs) - logRank(tb, nowMs);
  if (diff !== 0) return diff;
  const ua = a.metadata.uid ?? '';
  const ub = b.metadata.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * The pods in the order the ReplicaSet controller deletes them on scale-down
 * (ActivePodsWithRanks.Less). `related` are the active pods of every ReplicaSet of the
 * same Deployment (the pods themselves when absent): a pod sharing its node with more of
 * them goes first.
 */
export function rankForDeletion(pods: readonly Pod[], nowMs: number, related: readonly Pod[] = pods): Pod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const n = p.spec.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const rank = (p: Pod): number => onNode.get(p.spec.nodeName ?? '') ?? 0;
  const created = (p: Pod): number | undefined => parseTime(p.metadata.creationTimestamp);
  return [...pods].sort((a, b) => {
    const na = a.spec.nodeName ?? '';
    const nb = b.spec.nodeName ?? '';
    if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
    const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
    const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
    if (pa !== pb) return pa - pb;
    if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (isPodReady(a) && isPodReady(b)) {
      const r = newerFirst(a, b, readyTime(a), readyTime(b), nowMs);
      if (r !== 0) return r;
    }
    if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
    return newerFirst(a, b, created(a), created(b), nowMs);
  });
}

export interface ReplicaSetStatus {
  readonly replicas: number;
  readonly fullyLabeledReplicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
}

export interface ReplicaSetPlan {
  /** How many pods to create from the template. */
  readonly create: number;
  /** The pods to delete, in the order to delete them. */
  readonly delete: readonly Pod[];
  /** The status once the pods counted now (not the actions) are written. */
  readonly status: ReplicaSetStatus;
}

const replicasOf = (n: number | null | undefined): number => (n === null || n === undefined ? 1 : Math.max(0, Math.floor(n)));

/** spec.replicas pods, counting active pods only (a terminating or finished pod is replaced). */
export function replicaSetPlan(rs: Pick<ReplicaSet, 'spec'>, pods: readonly Pod[], nowMs: number, related?: readonly Pod[]): ReplicaSetPlan {
  const want = replicasOf(rs.spec.replicas);
  const active = pods.filter(isPodActive);
  const labels = rs.spec.template.metadata?.labels ?? {};
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter(isPodReady).length,
  };
  if (active.length < want) return { create: want - active.length, delete: [], status };
  if (active.length > want) return { create: 0, delete: rankForDeletion(active, nowMs, related).slice(0, active.length - want), status };
  return { create: 0, delete: [], status };
}

export interface DeploymentStatus {
  readonly replicas: number;
  readonly updatedReplicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
  readonly unavailableReplicas: number;
}

export interface DeploymentPlan {
  /** The ReplicaSet of the current template. */
  readonly name: string;
  readonly hash: string;
  /** The ReplicaSet to create when it does not exist (the shell adds the owner reference's uid). */
  readonly createReplicaSet?: ReplicaSet;
  /** spec.replicas to write, by ReplicaSet name (only those that change). */
  readonly scale: readonly { readonly name: string; readonly replicas: number }[];
  readonly status: DeploymentStatus;
}

/**
 * The current template's ReplicaSet at spec.replicas, every other one at 0; the status
 * summed over the ReplicaSets' own (updated: the current one's).
 */
export function deploymentPlan(d: Deployment, replicaSets: readonly ReplicaSet[]): DeploymentPlan {
  const want = replicasOf(d.spec.replicas);
  const rsOf = deploymentReplicaSet(d);
  const current = replicaSets.find((r) => r.metadata.name === rsOf.name);
  const scale: { name: string; replicas: number }[] = [];
  for (const r of replicaSets) {
    const target = r.metadata.name === rsOf.name ? want : 0;
    if (r.spec.replicas !== target) scale.push({ name: r.metadata.name ?? '', replicas: target });
  }
  type Counted = { replicas?: number; readyReplicas?: number; availableReplicas?: number };
  const st = (r: ReplicaSet | undefined): Counted => ((r as { status?: Counted } | undefined)?.status ?? {});
  const sum = (k: keyof Counted): number => replicaSets.reduce((n, r) => n + (st(r)[k] ?? 0), 0);
  const available = sum('availableReplicas');
  const status: DeploymentStatus = {
    replicas: sum('replicas'),
    updatedReplicas: st(current).replicas ?? 0,
    readyReplicas: sum('readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, want - available),
  };
  if (current) return { name: rsOf.name, hash: rsOf.hash, scale, status };
  const ns = d.metadata.namespace;
  const createReplicaSet: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: rsOf.name, ...(ns ? { namespace: ns } : {}), labels: rsOf.template.metadata?.labels ?? {}, ownerReferences: [controllerRef({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: d.metadata })] },
    spec: {
      replicas: want,
      selector: { ...(d.spec.selector ?? {}), matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': rsOf.hash } },
      template: rsOf.template,
    },
  };
  return { name: rsOf.name, hash: rsOf.hash, createReplicaSet, scale, status };
}

export interface StatefulSetStatus {
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly availableReplicas: number;
  readonly currentReplicas: number;
  readonly updatedReplicas: number;
}

export interface StatefulSetPlan {
  /** Ordinals to create (the shell builds each with statefulSetPod). */
  readonly create: readonly number[];
  /** Names of pods to delete, in order. */
  readonly delete: readonly string[];
  /** Why the pass stopped early (OrderedReady), for a status message or a test. */
  readonly waiting?: string;
  readonly status: StatefulSetStatus;
}

/** The ordinal in a pod name `<set>-<n>`, or -1 (getOrdinal). */
export function statefulSetOrdinal(setName: string, podName: string): number {
  if (!podName.startsWith(`${setName}-`)) return -1;
  const tail = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(tail) ? Number(tail) : -1;
}

export function statefulSetPlan(s: StatefulSet, pods: readonly Pod[]): StatefulSetPlan {
  const name = s.metadata.name ?? '';
  const start = statefulSetStart(s);
  const want = replicasOf(s.spec.replicas);
  const monotonic = (s.spec.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
  const replicas = new Map<number, Pod>();
  const condemned: { ord: number; pod: Pod }[] = [];
  for (const p of pods) {
    const ord = statefulSetOrdinal(name, p.metadata.name ?? '');
    if (ord >= start && ord < start + want) replicas.set(ord, p);
    else condemned.push({ ord, pod: p });
  }
  condemned.sort((a, b) => a.ord - b.ord);
  const healthy = pods.filter((p) => !isTerminating(p) && isRunningAndReady(p)).length;
  const status: StatefulSetStatus = { replicas: pods.length, readyReplicas: pods.filter(isRunningAndReady).length, availableReplicas: healthy, currentReplicas: pods.length, updatedReplicas: pods.length };
  const create: number[] = [];
  const del: string[] = [];
  const done = (waiting?: string): StatefulSetPlan => ({ create, delete: del, status, ...(waiting ? { waiting } : {}) });
  for (let ord = start; ord < start + want; ord++) {
    const pod = replicas.get(ord);
    const podName = `${name}-${ord}`;
    if (pod && isFinished(pod) && !isTerminating(pod)) {
      // Failed or succeeded: deleted now, created again on a later pass.
      del.push(podName);
      if (monotonic) return done(`${podName} is ${pod.status?.phase}: deleted to be re-created`);
      continue;
    }
    if (!pod) {
      create.push(ord);
      if (monotonic) return done(`${podName} created; the next ordinals wait until it is Running and Ready`);
      continue;
    }
    if (isTerminating(pod)) {
      if (monotonic) return done(`${podName} is terminating`);
      continue;
    }
    if (!isRunningAndReady(pod) && monotonic) return done(`${podName} is not Running and Ready`);
  }
  // Condemned pods, highest ordinal first; in OrderedReady only the first unhealthy one may go while unhealthy.
  const firstUnhealthy = condemned.find((c) => !isRunningAndReady(c.pod) || isTerminating(c.pod));
  for (let i = condemned.length - 1; i >= 0; i--) {
    const c = condemned[i]!;
    const podName = c.pod.metadata.name ?? '';
    if (isTerminating(c.pod)) {
      if (monotonic) return done(`${podName} is terminating`);
      continue;
    }
    if (monotonic && !isRunningAndReady(c.pod) && c !== firstUnhealthy) return done(`${firstUnhealthy?.pod.metadata.name ?? podName} is not Running and Ready`);
    del.push(podName);
    if (monotonic) return done(condemned.length > 1 ? `${podName} deleted; the next lower one goes after` : undefined);
  }
  return done();
}
