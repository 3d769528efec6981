/**
 * Workloads expanded into the pods their controllers would create, from templates and
 * replicas, with the names, labels and owner references Kubernetes gives them:
 * Deployment -> ReplicaSet `name-<template hash>` -> pods `rs-xxxxx`; ReplicaSet ->
 * `name-xxxxx`; StatefulSet -> `name-0..n-1`; Job -> min(parallelism, completions) pods;
 * DaemonSet -> one pod per node it should run on (the DaemonSet controller's
 * predicates: node name, required node affinity, NoSchedule/NoExecute taints, with the
 * tolerations it adds), pinned to that node by a matchFields term as the controller does.
 * Random suffixes are replaced by deterministic ones so results are reproducible.
 */

import { matchLabels, matchNodeSelector } from './node-selector.ts';
import { firstUntoleratedTaint } from './taints.ts';
import {
  TAINT_NODE_DISK_PRESSURE, TAINT_NODE_MEMORY_PRESSURE, TAINT_NODE_NETWORK_UNAVAILABLE, TAINT_NODE_NOT_READY, TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE,
  type DaemonSet, type Deployment, type Job, type Node, type ObjectMeta, type OwnerReference, type Pod, type PodTemplateSpec,
  type ReplicaSet, type StatefulSet, type Toleration,
} from './types.ts';

/** The alphabet of k8s.io/apimachinery/pkg/util/rand.SafeEncodeString (no vowels, no look-alikes). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** 32-bit FNV-1a, as Kubernetes hashes pod templates. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHABET[text.charCodeAt(i) % ALPHABET.length];
  return out;
}

/** The pod-template-hash label value of a Deployment's template. */
export function podTemplateHash(template: PodTemplateSpec): string {
  return safeEncode(String(fnv32a(stableJson(template))));
}

/** A deterministic stand-in for the 5-character random suffix of generated names. */
export function nameSuffix(seed: string): string {
  const h = fnv32a(seed);
  let out = '';
  let x = h;
  for (let i = 0; i < 5; i++) {
    out += ALPHABET[x % ALPHABET.length];
    x = Math.floor(x / ALPHABET.length) ^ fnv32a(`${seed}/${i}`);
    x >>>= 0;
  }
  return out;
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
}

/** A workload object tagged with its kind, for keeping the order objects were given in. */
export type KindedObject =
  | (Pod & { readonly kind: 'Pod' })
  | (Deployment & { readonly kind: 'Deployment' })
  | (ReplicaSet & { readonly kind: 'ReplicaSet' })
  | (StatefulSet & { readonly kind: 'StatefulSet' })
  | (DaemonSet & { readonly kind: 'DaemonSet' })
  | (Job & { readonly kind: 'Job' });

export interface Workloads {
  readonly nodes: readonly Node[];
  /**
   * The same objects as the per-kind lists, in the order given (e.g. document order of
   * manifests); when present, pods are expanded in this order, which is the tie-break
   * of the queue for pods without creationTimestamp.
   */
  readonly inOrder?: readonly KindedObject[];
  readonly pods?: readonly Pod[];
  readonly deployments?: readonly Deployment[];
  readonly replicaSets?: readonly ReplicaSet[];
  readonly statefulSets?: readonly StatefulSet[];
  readonly daemonSets?: readonly DaemonSet[];
  readonly jobs?: readonly Job[];
}

/** The object a pod is made for: its kind, API version and metadata (name, namespace, uid). */
export type Owner = { readonly kind: string; readonly apiVersion: string; readonly metadata: ObjectMeta };

/** The controller owner reference a controller writes on what it creates (controller and blockOwnerDeletion true). */
export function controllerRef(owner: Owner): OwnerReference & { readonly blockOwnerDeletion: true } {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', ...(owner.metadata.uid ? { uid: owner.metadata.uid } : {}), controller: true, blockOwnerDeletion: true };
}

/**
 * A pod from a template as a controller creates it (controller.GetPodFromTemplate): the
 * template's labels (plus `extraLabels`), annotations and spec, the owner's namespace,
 * the controller reference, and either a fixed name or a generateName.
 */
export function podFromTemplate(owner: Owner, template: PodTemplateSpec, naming: { readonly name: string } | { readonly generateName: string }, extraLabels: Record<string, string> = {}): Pod {
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      ...naming,
      namespace: owner.metadata.namespace ?? 'default',
      labels: { ...(meta.labels ?? {}), ...extraLabels },
      ownerReferences: [controllerRef(owner)],
    },
    spec: template.spec,
  };
}

/** A pod named by `polyarch schedule` (a deterministic name, the owner's creation time for the queue order). */
function podFrom(owner: Owner, template: PodTemplateSpec, name: string, extraLabels: Record<string, string> = {}): Pod {
  const pod = podFromTemplate(owner, template, { name }, extraLabels);
  return owner.metadata.creationTimestamp ? { ...pod, metadata: { ...pod.metadata, creationTimestamp: owner.metadata.creationTimestamp } } : pod;
}

function replicasOf(n: number | null | undefined): number {
  return n === null || n === undefined ? 1 : Math.max(0, Math.floor(n));
}

/** The ReplicaSet a Deployment runs its template in: `<deployment>-<pod-template-hash>`, with the hash label. */
export function deploymentReplicaSet(d: Deployment): { readonly name: string; readonly hash: string; readonly template: PodTemplateSpec } {
  const hash = podTemplateHash(d.spec.template);
  const t = d.spec.template;
  return { name: `${d.metadata.name ?? ''}-${hash}`, hash, template: { ...t, metadata: { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), 'pod-template-hash': hash } } } };
}

export function expandDeployment(d: Deployment): Pod[] {
  const rsOf = deploymentReplicaSet(d);
  const rs: Owner = { kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: { ...d.metadata, name: rsOf.name } };
  return Array.from({ length: replicasOf(d.spec.replicas) }, (_, i) => podFrom(rs, rsOf.template, `${rsOf.name}-${nameSuffix(`${rsOf.name}/${i}`)}`));
}

export function expandReplicaSet(rs: ReplicaSet): Pod[] {
  const name = rs.metadata.name ?? '';
  const owner: Owner = { kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: rs.metadata };
  return Array.from({ length: replicasOf(rs.spec.replicas) }, (_, i) => podFrom(owner, rs.spec.template, `${name}-${nameSuffix(`${name}/${i}`)}`));
}

/** The first ordinal of a StatefulSet (spec.ordinals.start, 0 by default). */
export const statefulSetStart = (s: StatefulSet): number => Math.max(0, Math.floor(s.spec.ordinals?.start ?? 0));

/**
 * The pod of one ordinal as the StatefulSet controller makes it (newVersionedStatefulSetPod):
 * name `<set>-<ordinal>`, the pod-name and pod-index labels, hostname its name and
 * subdomain the governing service.
 */
export function statefulSetPod(s: StatefulSet, ordinal: number, owner: Owner = { kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: s.metadata }): Pod {
  const name = `${s.metadata.name ?? ''}-${ordinal}`;
  const pod = podFromTemplate(owner, s.spec.template, { name }, { 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal) });
  return { ...pod, spec: { ...pod.spec, hostname: name, ...(s.spec.serviceName ? { subdomain: s.spec.serviceName } : {}) } };
}

export function expandStatefulSet(s: StatefulSet): Pod[] {
  const start = statefulSetStart(s);
  const owner: Owner = { kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: s.metadata };
  return Array.from({ length: replicasOf(s.spec.replicas) }, (_, i) => {
    const pod = statefulSetPod(s, start + i, owner);
    return s.metadata.creationTimestamp ? { ...pod, metadata: { ...pod.metadata, creationTimestamp: s.metadata.creationTimestamp } } : pod;
  });
}

function jobPods(j: Job): number {
  if (j.spec.suspend) return 0;
  const parallelism = j.spec.parallelism ?? 1;
  return Math.max(0, Math.min(parallelism, j.spec.completions ?? parallelism));
}

export function expandJob(j: Job): Pod[] {
  if (j.spec.suspend) return [];
  const name = j.metadata.name ?? '';
  const count = jobPods(j);
  const owner: Owner = { kind: 'Job', apiVersion: 'batch/v1', metadata: j.metadata };
  const indexed = j.spec.completionMode === 'Indexed';
  return Array.from({ length: count }, (_, i) =>
    podFrom(owner, j.spec.template, `${name}-${indexed ? `${i}-` : ''}${nameSuffix(`${name}/${i}`)}`, {
      'job-name': name,
      'batch.kubernetes.io/job-name': name,
      ...(indexed ? { 'batch.kubernetes.io/job-completion-index': String(i) } : {}),
    }));
}

/** The tolerations the DaemonSet controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_NODE_DISK_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_NODE_MEMORY_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_NODE_PID_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_NODE_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: TAINT_NODE_NETWORK_UNAVAILABLE, operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The DaemonSet controller's predicates: should this node run a daemon pod? */
export function daemonShouldRun(pod: Pod, node: Node): boolean {
  const name = node.metadata.name ?? '';
  if (pod.spec.nodeName && pod.spec.nodeName !== name) return false;
  const facts = { name, labels: node.metadata.labels ?? {} };
  if (pod.spec.nodeSelector && !matchLabels(pod.spec.nodeSelector, facts.labels)) return false;
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !matchNodeSelector(required, facts)) return false;
  return firstUntoleratedTaint(node.spec?.taints ?? [], pod.spec.tolerations ?? [], ['NoSchedule', 'NoExecute']) === undefined;
}

export function expandDaemonSet(ds: DaemonSet, nodes: readonly Node[]): Pod[] {
  const name = ds.metadata.name ?? '';
  const owner: Owner = { kind: 'DaemonSet', apiVersion: 'apps/v1', metadata: ds.metadata };
  const spec = ds.spec.template.spec;
  const existing = spec.tolerations ?? [];
  const added = daemonTolerations(spec.hostNetwork === true).filter((t) => !existing.some((e) => e.key === t.key && e.effect === t.effect));
  const template: PodTemplateSpec = { ...ds.spec.template, spec: { ...spec, tolerations: [...existing, ...added] } };
  const out: Pod[] = [];
  for (const node of nodes) {
    const nodeName = node.metadata.name ?? '';
    const probe = podFrom(owner, template, name);
    if (!daemonShouldRun(probe, node)) continue;
    const affinity = template.spec.affinity ?? {};
    const pinned: PodTemplateSpec = {
      ...template,
      spec: {
        ...template.spec,
        affinity: {
          ...affinity,
          nodeAffinity: {
            ...(affinity.nodeAffinity ?? {}),
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
          },
        },
      },
    };
    out.push(podFrom(owner, pinned, `${name}-${nameSuffix(`${name}/${nodeName}`)}`));
  }
  return out;
}

/** Every pod the objects stand for: in `inOrder` order when given, else bare pods first, then each kind's. */
export function expandWorkloads(w: Workloads): Pod[] {
  if (w.inOrder) {
    return w.inOrder.flatMap((o): Pod[] => {
      switch (o.kind) {
        case 'Pod': return [o];
        case 'Deployment': return expandDeployment(o);
        case 'ReplicaSet': return expandReplicaSet(o);
        case 'StatefulSet': return expandStatefulSet(o);
        case 'DaemonSet': return expandDaemonSet(o, w.nodes);
        case 'Job': return expandJob(o);
      }
    });
  }
  return [
    ...(w.pods ?? []),
    ...(w.deployments ?? []).flatMap(expandDeployment),
    ...(w.replicaSets ?? []).flatMap(expandReplicaSet),
    ...(w.statefulSets ?? []).flatMap(expandStatefulSet),
    ...(w.daemonSets ?? []).flatMap((ds) => expandDaemonSet(ds, w.nodes)),
    ...(w.jobs ?? []).flatMap(expandJob),
  ];
}

/**
 * How many pods expandWorkloads would make, without making them (a DaemonSet counts one
 * per node, an upper bound): checked against core/k8s/limits.ts before expanding.
 */
export function workloadPodCount(w: Workloads): number {
  const replicas = (list: readonly { spec: { replicas?: number | null } }[] | undefined): number => (list ?? []).reduce((n, o) => n + replicasOf(o.spec.replicas), 0);
  return (w.pods ?? []).length + replicas(w.deployments) + replicas(w.replicaSets) + replicas(w.statefulSets)
    + (w.daemonSets ?? []).length * w.nodes.length + (w.jobs ?? []).reduce((n, j) => n + jobPods(j), 0);
}

/**
 * kube-scheduler's queue order (PrioritySort): higher priority first, then earlier
 * creation (creationTimestamp, then the order given). Stable.
 */
export function queueOrder<T extends { readonly pod: Pod; readonly priority: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.priority - a.item.priority
      || cmp(a.item.pod.metadata.creationTimestamp ?? '', b.item.pod.metadata.creationTimestamp ?? '')
      || a.index - b.index)
    .map((x) => x.item);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
