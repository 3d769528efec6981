/**
 * The scheduler's cache: every node with the pods assumed on it. Placing a pod assumes
 * it (its requests and host ports count on the node at once, as kube-scheduler's cache
 * does before the bind completes), so the next pod sees the allocation. fork/revert/
 * commit give the simulator and what-if planning cheap undo (cluster-autoscaler's
 * snapshot), using an undo log rather than copies, so 5,000 nodes fork in O(1).
 */

import { addResources, subtractResources, podResources } from '../k8s/resources.ts';
import type { Node, Pod } from '../k8s/types.ts';
import { podKey } from '../k8s/types.ts';
import { NodeInfo, type HostPort, type PodAccount } from './node-info.ts';

type Undo =
  | { readonly kind: 'assume'; readonly key: string }
  | { readonly kind: 'forget'; readonly node: string; readonly account: PodAccount }
  | { readonly kind: 'node'; readonly name: string; readonly before: NodeInfo | undefined; readonly index: number };

/** Told of every change to the nodes, so an index over them (placement-index.ts) stays current. */
export interface SnapshotObserver {
  /** A node's running totals changed: a pod was assumed on it or forgotten. */
  nodeState(info: NodeInfo): void;
  /** `next` took `prev`'s place in the node list (a node updated). */
  nodeReplaced(prev: NodeInfo, next: NodeInfo): void;
  /** A node was added or removed: positions in the node list moved. */
  nodesMoved(): void;
}

export type AssumeResult = { ok: true } | { ok: false; error: string };

export class ClusterSnapshot {
  private readonly list: NodeInfo[] = [];
  private readonly byName = new Map<string, NodeInfo>();
  private readonly podNode = new Map<string, NodeInfo>();
  /** Normalised image name -> number of nodes that have it (ImageLocality's spread). */
  private readonly imageNodes = new Map<string, number>();
  private readonly undo: (Undo | 'mark')[] = [];
  /** Nodes with a PreferNoSchedule taint, and nodes that list images: let scores skip work. */
  private softTainted = 0;
  private withImages = 0;
  private forks = 0;
  private readonly observers: SnapshotObserver[] = [];

  static fromNodes(nodes: readonly Node[]): ClusterSnapshot {
    const s = new ClusterSnapshot();
    for (const n of nodes) s.setNode(n);
    return s;
  }

  /** Registers an observer of node changes (see SnapshotObserver). */
  observe(observer: SnapshotObserver): void {
    this.observers.push(observer);
  }

  /** Nodes in insertion order (a stable order makes decisions reproducible). */
  get nodes(): readonly NodeInfo[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  node(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  /** The node a pod is assumed on. */
  nodeOf(key: string): NodeInfo | undefined {
    return this.podNode.get(key);
  }

  get softTaintedNodes(): number {
    return this.softTainted;
  }

  get nodesWithImages(): number {
    return this.withImages;
  }

  imageSpread(name: string): number {
    return this.imageNodes.get(name) ?? 0;
  }

  /** Adds or replaces a node; pods assumed on the old object stay accounted on the new one. */
  setNode(node: Node): NodeInfo {
    const info = new NodeInfo(node);
    const before = this.byName.get(info.name);
    const index = before ? this.list.indexOf(before) : this.list.length;
    this.log({ kind: 'node', name: info.name, before, index });
    this.replace(info.name, info, before, index);
    if (before) for (const acc of before.pods.values()) this.add(info, acc);
    return info;
  }

  /** Removes a node; its pods are forgotten with it (they need rescheduling). Returns their keys. */
  removeNode(name: string): string[] {
    const before = this.byName.get(name);
    if (!before) return [];
    const keys = [...before.pods.keys()];
    for (const k of keys) this.forget(k);
    this.log({ kind: 'node', name, before, index: this.list.indexOf(before) });
    this.replace(name, undefined, before, this.list.indexOf(before));
    return keys;
  }

  /** Counts a pod on a node (a running pod, or a placement just decided). */
  assume(account: PodAccount, nodeName: string): AssumeResult {
    const info = this.byName.get(nodeName);
    if (!info) return { ok: false, error: `node ${nodeName} is not in the snapshot` };
    if (this.podNode.has(account.key)) return { ok: false, error: `pod ${account.key} is already assumed on ${this.podNode.get(account.key)?.name}` };
    this.add(info, account);
    this.log({ kind: 'assume', key: account.key });
    return { ok: true };
  }

  /** Counts a bound pod object (e.g. read from the API or a manifest with spec.nodeName). */
  assumePod(pod: Pod, nodeName = pod.spec.nodeName ?? ''): AssumeResult {
    const acc = accountOf(pod);
    return acc.ok ? this.assume(acc.value, nodeName) : acc;
  }

  /** Releases what a pod held. */
  forget(key: string): boolean {
    const info = this.podNode.get(key);
    const acc = info?.pods.get(key);
    if (!info || !acc) return false;
    this.remove(info, acc);
    this.log({ kind: 'forget', node: info.name, account: acc });
    return true;
  }

  /** Starts a what-if: changes after this can be reverted. Forks nest. */
  fork(): void {
    this.undo.push('mark');
    this.forks++;
  }

  /** Undoes every change since the matching fork(). */
  revert(): void {
    if (this.forks === 0) throw new Error('revert() without fork()');
    for (let u = this.undo.pop(); u !== undefined && u !== 'mark'; u = this.undo.pop()) this.apply(u);
    this.forks--;
  }

  /** Keeps the changes since the matching fork(). */
  commit(): void {
    if (this.forks === 0) throw new Error('commit() without fork()');
    const at = this.undo.lastIndexOf('mark');
    this.undo.splice(at, 1);
    this.forks--;
    if (this.forks === 0) this.undo.length = 0;
  }

  private log(u: Undo): void {
    if (this.forks > 0) this.undo.push(u);
  }

  private apply(u: Undo): void {
    if (u.kind === 'assume') {
      const info = this.podNode.get(u.key);
      const acc = info?.pods.get(u.key);
      if (info && acc) this.remove(info, acc);
    } else if (u.kind === 'forget') {
      const info = this.byName.get(u.node);
      if (info) this.add(info, u.account);
    } else {
      const current = this.byName.get(u.name);
      this.replace(u.name, u.before, current, u.index);
      if (u.before) for (const acc of u.before.pods.values()) this.podNode.set(acc.key, u.before);
    }
  }

  private replace(name: string, next: NodeInfo | undefined, prev: NodeInfo | undefined, index: number): void {
    if (prev) {
      if (prev.softTaints.length > 0) this.softTainted--;
      if (prev.images.size > 0) this.withImages--;
      for (const img of prev.images.keys()) this.imageNodes.set(img, (this.imageNodes.get(img) ?? 1) - 1);
      const at = this.list.indexOf(prev);
      if (at >= 0) this.list.splice(at, 1);
      this.byName.delete(name);
    }
    if (next) {
      if (next.softTaints.length > 0) this.softTainted++;
      if (next.images.size > 0) this.withImages++;
      for (const img of next.images.keys()) this.imageNodes.set(img, (this.imageNodes.get(img) ?? 0) + 1);
      this.list.splice(Math.min(index, this.list.length), 0, next);
      this.byName.set(name, next);
    }
    for (const o of this.observers) {
      if (prev && next && this.list[index] === next) o.nodeReplaced(prev, next);
      else o.nodesMoved();
    }
  }

  private add(info: NodeInfo, acc: PodAccount): void {
    addResources(info.requested, acc.requests);
    info.nonZeroMilliCPU += acc.nonZeroMilliCPU;
    info.nonZeroMemory += acc.nonZeroMemory;
    info.podCount++;
    for (const p of acc.hostPorts) {
      let set = info.usedPorts.get(p.ip);
      if (!set) info.usedPorts.set(p.ip, (set = new Set()));
      set.add(`${p.protocol}/${p.port}`);
    }
    info.pods.set(acc.key, acc);
    this.podNode.set(acc.key, info);
    for (const o of this.observers) o.nodeState(info);
  }

  private remove(info: NodeInfo, acc: PodAccount): void {
    subtractResources(info.requested, acc.requests);
    info.nonZeroMilliCPU -= acc.nonZeroMilliCPU;
    info.nonZeroMemory -= acc.nonZeroMemory;
    info.podCount--;
    info.pods.delete(acc.key);
    this.podNode.delete(acc.key);
    // Ports are rebuilt from the remaining pods: two pods may not share one, but a
    // rebuild keeps the set right even for hand-made snapshots.
    info.usedPorts.clear();
    for (const other of info.pods.values()) {
      for (const p of other.hostPorts) {
        let set = info.usedPorts.get(p.ip);
        if (!set) info.usedPorts.set(p.ip, (set = new Set()));
        set.add(`${p.protocol}/${p.port}`);
      }
    }
    for (const o of this.observers) o.nodeState(info);
  }
}

/** Host ports a pod's containers (and sidecars) bind: hostPort > 0, protocol TCP by default, IP 0.0.0.0 by default. */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const port = p.hostPort ?? 0;
      if (port <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port });
    }
  }
  return out;
}

export function accountOf(pod: Pod): { ok: true; value: PodAccount } | { ok: false; error: string } {
  const r = podResources(pod);
  if (!r.ok) return { ok: false, error: `pod ${podKey(pod)}: ${r.error}` };
  return {
    ok: true,
    value: { key: podKey(pod), requests: r.value.requests, nonZeroMilliCPU: r.value.nonZeroMilliCPU, nonZeroMemory: r.value.nonZeroMemory, hostPorts: podHostPorts(pod) },
  };
}
