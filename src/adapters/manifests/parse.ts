/**
 * Kubernetes manifests: multi-document YAML, JSON, or the `kind: List` that
 * `kubectl get -o yaml` prints. Each object is validated by its kind's schema; an error
 * names the file, the document, the object and the field. Kinds placement does not use
 * (Service, ConfigMap, ...) are counted and skipped.
 */

import { yamlValues } from '../yaml-documents.ts';
import type { ClusterObjects } from '../../core/placement/batch.ts';
import { nameSuffix, type KindedObject } from '../../core/k8s/workloads.ts';
import type { DaemonSet, Deployment, Job, Node, Pod, PodDisruptionBudget, PriorityClass, ReplicaSet, StatefulSet } from '../../core/k8s/types.ts';
import { schemas, type KnownKind } from './schema.ts';
import { describeIssue } from '../../core/field-path.ts';

export interface Manifests extends ClusterObjects {
  readonly nodes: Node[];
  readonly pods: Pod[];
  readonly deployments: Deployment[];
  readonly replicaSets: ReplicaSet[];
  readonly statefulSets: StatefulSet[];
  readonly daemonSets: DaemonSet[];
  readonly jobs: Job[];
  readonly priorityClasses: PriorityClass[];
  readonly podDisruptionBudgets: PodDisruptionBudget[];
  /** Pods and workloads in document order. */
  readonly inOrder: KindedObject[];
  /** "Kind/name (file)" of each object skipped. */
  readonly skipped: string[];
}

export type ManifestsResult = { ok: true; value: Manifests } | { ok: false; error: string };

export const emptyManifests = (): Manifests => ({
  nodes: [], inOrder: [], pods: [], deployments: [], replicaSets: [], statefulSets: [], daemonSets: [], jobs: [], priorityClasses: [], podDisruptionBudgets: [], skipped: [],
});

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Adds the objects of one file's text to `into`. */
export function parseManifests(text: string, file: string, into: Manifests = emptyManifests()): ManifestsResult {
  const docs = yamlValues(text);
  if (!docs.ok) return { ok: false, error: `${file}: ${docs.error}` };
  for (const [i, value] of docs.value.entries()) {
    const where = `${file}: document ${i + 1}`;
    if (value === null || value === undefined) continue;
    const r = addObject(value, where, into);
    if (!r.ok) return r;
  }
  return { ok: true, value: into };
}

function addObject(value: unknown, where: string, into: Manifests): { ok: true } | { ok: false; error: string } {
  if (!isRecord(value)) return { ok: false, error: `${where}: expected a Kubernetes object (a mapping with kind), got ${Array.isArray(value) ? 'a list' : typeof value}` };
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') return { ok: false, error: `${where}: kind: required` };
  if (kind === 'List' || kind.endsWith('List')) {
    const items = value['items'];
    if (!Array.isArray(items)) return { ok: false, error: `${where} (${kind}): items: expected a list` };
    for (const [j, item] of items.entries()) {
      const r = addObject(item, `${where} items[${j}]`, into);
      if (!r.ok) return r;
    }
    return { ok: true };
  }
  const meta = isRecord(value['metadata']) ? value['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  if (!(kind in schemas)) {
    into.skipped.push(`${kind}/${name}`);
    return { ok: true };
  }
  const k = kind as KnownKind;
  const parsed = schemas[k].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${where} (${kind}${name ? ` ${name}` : ''}): ${issue ? describeIssue(issue) : 'object: invalid'}` };
  }
  // The schema checked every field placement reads; the rest passes through unchanged.
  let obj: unknown = parsed.data;
  const m = (parsed.data as { metadata: { name?: string; generateName?: string } }).metadata;
  if (m.name === undefined && m.generateName) {
    // What the API server would do, with a suffix derived from where the object was read.
    obj = { ...(parsed.data as object), metadata: { ...m, name: `${m.generateName}${nameSuffix(where)}` } };
  }
  switch (k) {
    case 'Node': into.nodes.push(obj as Node); break;
    case 'Pod': into.pods.push(obj as Pod); break;
    case 'Deployment': into.deployments.push(obj as Deployment); break;
    case 'ReplicaSet': into.replicaSets.push(obj as ReplicaSet); break;
    case 'StatefulSet': into.statefulSets.push(obj as StatefulSet); break;
    case 'DaemonSet': into.daemonSets.push(obj as DaemonSet); break;
    case 'Job': into.jobs.push(obj as Job); break;
    case 'PriorityClass': into.priorityClasses.push(obj as PriorityClass); break;
    case 'PodDisruptionBudget': into.podDisruptionBudgets.push(obj as PodDisruptionBudget); break;
  }
  if (k === 'Pod' || k === 'Deployment' || k === 'ReplicaSet' || k === 'StatefulSet' || k === 'DaemonSet' || k === 'Job') {
    into.inOrder.push({ ...(obj as object), kind: k } as KindedObject);
  }
  return { ok: true };
}
