/**
 * The object store: every object of every resource, one global monotonic resourceVersion,
 * and a bounded history of changes for watches.
 *
 * resourceVersion semantics (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions):
 * opaque strings to clients; here a decimal counter shared by all resources, as etcd's
 * revision is. Every write gets the next value. The history keeps the last `historyLimit`
 * changes; a watch or an exact list from a version older than that answers 410 Gone
 * ("too old resource version"), as kube-apiserver does once etcd has compacted it
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
 */
import type { KubeObject } from './types.ts';
import { gone } from './status.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  resource: string; // resourceId: "group/plural"
  type: ChangeType;
  object: KubeObject; // the object after the change (for DELETED: its last state, with the deletion's resourceVersion)
  prev?: KubeObject; // the object before the change (MODIFIED, DELETED)
}

const keyOf = (ns: string, name: string): string => `${ns}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class Store {
  private rvCounter = 0;
  /** Changes with rv <= compactedRv are no longer in the history. */
  private compactedRv = 0;
  private history: Change[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly sortedKeys = new Map<string, string[]>();
  /** Pods by spec.nodeName, as kube-apiserver's watch cache indexes them (lists by node are common). */
  private readonly podsByNode = new Map<string, Set<string>>();

  private indexPod(o: KubeObject | undefined, add: boolean): void {
    const node = o?.spec?.nodeName;
    if (!o || typeof node !== 'string' || node === '') return;
    const k = keyOf(o.metadata.namespace ?? '', o.metadata.name ?? '');
    let set = this.podsByNode.get(node);
    if (add) {
      if (!set) this.podsByNode.set(node, (set = new Set()));
      set.add(k);
    } else set?.delete(k);
  }

  /** The stored pods bound to a node, ordered, without copying: read-only. */
  scanPodsOnNode(node: string, ns?: string): readonly KubeObject[] {
    const b = this.objects.get('/pods');
    const keys = [...(this.podsByNode.get(node) ?? [])].sort();
    const out: KubeObject[] = [];
    for (const k of keys) {
      if (ns !== undefined && !k.startsWith(`${ns}/`)) continue;
      const o = b?.get(k);
      if (o) out.push(o);
    }
    return out;
  }
  private readonly listeners = new Set<(c: Change) => void>();

  constructor(private readonly historyLimit: number) {}

  get currentRv(): number {
    return this.rvCounter;
  }
  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) {
      b = new Map();
      this.objects.set(resource, b);
    }
    return b;
  }

  get(resource: string, ns: string, name: string): KubeObject | undefined {
    const o = this.objects.get(resource)?.get(keyOf(ns, name));
    return o ? clone(o) : undefined;
  }

  /** Current objects of a resource, optionally in one namespace, ordered by namespace/name (as etcd keys are). */
  list(resource: string, ns?: string): KubeObject[] {
    return this.scan(resource, ns).map(clone);
  }

  /**
   * The stored objects themselves, ordered, without copying: read-only. For filtering
   * large collections (10,000 pods) without cloning what the filter drops.
   */
  scan(resource: string, ns?: string): readonly KubeObject[] {
    const b = this.objects.get(resource);
    if (!b) return [];
    // Sorted keys are cached until a key is added or removed (updates keep the order).
    let keys = this.sortedKeys.get(resource);
    if (!keys) {
      keys = [...b.keys()].sort();
      this.sortedKeys.set(resource, keys);
    }
    const out: KubeObject[] = [];
    const prefix = ns === undefined ? '' : `${ns}/`;
    for (const k of keys) {
      if (prefix && !k.startsWith(prefix)) continue;
      const o = b.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** The stored objects in no particular order, without copying: read-only, for controllers. */
  values(resource: string): IterableIterator<KubeObject> {
    return (this.objects.get(resource) ?? new Map<string, KubeObject>()).values();
  }

  /** How many objects a resource has. */
  count(resource: string): number {
    return this.objects.get(resource)?.size ?? 0;
  }

  /**
   * The objects of a resource as they were at resourceVersion `rv`, rebuilt by undoing the
   * changes after it. 410 Gone when rv is older than the history.
   */
  listAt(resource: string, ns: string | undefined, rv: number): KubeObject[] {
    if (rv >= this.rvCounter) return this.list(resource, ns);
    if (rv < this.compactedRv) throw gone(`The resourceVersion for the provided list is too old.`);
    const state = new Map<string, KubeObject>();
    for (const o of this.list(resource, ns)) state.set(keyOf(o.metadata.namespace ?? '', o.metadata.name ?? ''), o);
    for (let i = this.history.length - 1; i >= 0; i--) {
      const c = this.history[i];
      if (!c || c.rv <= rv) break;
      if (c.resource !== resource) continue;
      const k = keyOf(c.object.metadata.namespace ?? '', c.object.metadata.name ?? '');
      if (ns !== undefined && (c.object.metadata.namespace ?? '') !== ns) continue;
      if (c.type === 'ADDED') state.delete(k);
      else if (c.prev) state.set(k, clone(c.prev));
    }
    return [...state.values()].sort(byKey);
  }

  /** Changes after `rv` (exclusive), or 410 Gone when some of them are no longer kept. */
  changesSince(rv: number): Change[] {
    if (rv < this.compactedRv) throw gone(`too old resource version: ${rv} (${this.rvCounter})`);
    return this.history.filter((c) => c.rv > rv).map(clone);
  }

  /** Writes an object (ADDED or MODIFIED) with the next resourceVersion; returns the stored copy. */
  put(resource: string, obj: KubeObject): KubeObject {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const b = this.bucket(resource);
    const prev = b.get(keyOf(ns, name));
    if (!prev) this.sortedKeys.delete(resource);
    const rv = ++this.rvCounter;
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(rv);
    b.set(keyOf(ns, name), stored);
    if (resource === '/pods') {
      this.indexPod(prev, false);
      this.indexPod(stored, true);
    }
    this.record({ rv, resource, type: prev ? 'MODIFIED' : 'ADDED', object: clone(stored), ...(prev ? { prev: clone(prev) } : {}) });
    return clone(stored);
  }

  remove(resource: string, ns: string, name: string): KubeObject | undefined {
    const b = this.bucket(resource);
    const prev = b.get(keyOf(ns, name));
    if (!prev) return undefined;
    b.delete(keyOf(ns, name));
    this.sortedKeys.delete(resource);
    if (resource === '/pods') this.indexPod(prev, false);
    const rv = ++this.rvCounter;
    const last = clone(prev);
    last.metadata.resourceVersion = String(rv);
    this.record({ rv, resource, type: 'DELETED', object: clone(last), prev: clone(prev) });
    return last;
  }

  private record(c: Change): void {
    this.history.push(c);
    // Trim in batches: shifting one entry per write would make every write O(history).
    if (this.history.length > this.historyLimit + Math.ceil(this.historyLimit / 16)) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      const last = dropped[dropped.length - 1];
      if (last) this.compactedRv = last.rv;
    }
    for (const l of this.listeners) l(c);
  }

  subscribe(l: (c: Change) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Forgets every object and the history but keeps counting versions, like a cluster restored empty: old versions are then 410 Gone. */
  wipe(): void {
    this.objects.clear();
    this.sortedKeys.clear();
    this.podsByNode.clear();
    this.history = [];
    // Every version handed out so far now describes a state that is gone: all of them are too old.
    this.rvCounter += 1;
    this.compactedRv = this.rvCounter;
  }

  /** Drops history older than `rv` (an etcd compaction), so older watches get 410. */
  compact(rv = this.rvCounter): void {
    this.history = this.history.filter((c) => c.rv > rv);
    this.compactedRv = Math.max(this.compactedRv, rv);
  }
}

function byKey(a: KubeObject, b: KubeObject): number {
  const ka = keyOf(a.metadata.namespace ?? '', a.metadata.name ?? '');
  const kb = keyOf(b.metadata.namespace ?? '', b.metadata.name ?? '');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
