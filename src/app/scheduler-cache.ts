/**
 * kube-scheduler's cache (pkg/scheduler/backend/cache): the nodes with every pod bound
 * or assumed on them. A decision is assumed before any write so the next pod sees it;
 * the informer later confirms the binding, or a failed write forgets it.
 */
import type { Node, Pod } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import type { PodInfo } from '../core/placement/pod-info.ts';
import { ClusterSnapshot } from '../core/placement/snapshot.ts';
import type { Logger } from '../ports/logger.ts';

export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The pod's requests as written (containers, init containers, overhead): what a resize in place changes. */
function requestsSignature(pod: Pod): string {
  let sig = '';
  for (const c of pod.spec.initContainers ?? []) sig += `${JSON.stringify(c.resources?.requests ?? {})};`;
  sig += '|';
  for (const c of pod.spec.containers) sig += `${JSON.stringify(c.resources?.requests ?? {})};`;
  return pod.spec.overhead ? `${sig}|${JSON.stringify(pod.spec.overhead)}` : sig;
}

export class SchedulerCache {
  snapshot = new ClusterSnapshot();
  /** Pods we assumed and whose binding the API has not shown us yet: key -> node. */
  private readonly assumed = new Map<string, string>();
  /** Bound pods as counted: key -> uid|node, to tell a re-created pod from the old one. */
  private readonly bound = new Map<string, string>();
  private readonly nodeFingerprints = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** Rebuilds from a full list (start, or a change feed that expired). */
  reset(nodes: readonly Node[], pods: readonly Pod[]): void {
    const assumed = [...this.assumed];
    this.snapshot = new ClusterSnapshot();
    this.bound.clear();
    this.nodeFingerprints.clear();
    this.assumed.clear();
    for (const n of nodes) this.setNode(n);
    const byKey = new Map<string, Pod>();
    for (const p of pods) {
      byKey.set(podKey(p), p);
      this.observePod(p);
    }
    // Keep assumptions whose pod still waits (a bind may be in flight).
    for (const [key, node] of assumed) {
      const p = byKey.get(key);
      if (p && !p.spec.nodeName && !p.metadata.deletionTimestamp && this.snapshot.assumePod(p, node).ok) this.assumed.set(key, node);
    }
  }

  /**
   * Adds or replaces a node. True when something a filter reads changed (readiness,
   * cordon, taints, labels, allocatable), i.e. unschedulable pods are worth retrying;
   * heartbeats alone are not.
   */
  setNode(node: Node): boolean {
    const name = node.metadata.name ?? '';
    const info = this.snapshot.setNode(node);
    if (info.invalid) this.log.warn({ node: name }, `malformed node: ${info.invalid}`);
    if (!info.platform) this.log.warn({ node: name }, `node ${name}: platform unknown (no kubernetes.io/arch label or status.nodeInfo.architecture)`);
    const fp = JSON.stringify([info.ready, info.unschedulable, info.platformKey, node.spec?.taints ?? [], node.metadata.labels ?? {}, node.status?.allocatable ?? {}]);
    const changed = this.nodeFingerprints.get(name) !== fp;
    this.nodeFingerprints.set(name, fp);
    return changed;
  }

  removeNode(name: string): void {
    for (const key of this.snapshot.removeNode(name)) {
      this.bound.delete(key);
      this.assumed.delete(key);
    }
    this.nodeFingerprints.delete(name);
  }

  /**
   * A pod as the API shows it now. Bound pods count on their node; a binding we assumed
   * is confirmed; a pod bound elsewhere than assumed (another scheduler won) moves.
   * Returns true when resources were released (worth retrying unschedulable pods).
   */
  observePod(pod: Pod): boolean {
    const key = podKey(pod);
    const node = pod.spec.nodeName ?? '';
    // Pending under a key counted as bound: the bound pod was deleted and re-created
    // between two looks (a StatefulSet pod moved by the migrator); release the old one.
    if (!node) return this.bound.has(key) ? this.removePod(key) : false;
    if (isTerminal(pod)) return this.removePod(key);
    // The requests are part of what is counted: a resize in place keeps uid and node.
    const id = `${pod.metadata.uid ?? ''}|${node}|${requestsSignature(pod)}`;
    const assumedOn = this.assumed.get(key);
    if (assumedOn !== undefined) {
      this.assumed.delete(key);
      if (assumedOn === node) {
        this.bound.set(key, id);
        return false;
      }
      this.snapshot.forget(key);
    } else if (this.bound.get(key) === id) {
      return false;
    }
    // Counted before on this node with other requests: resized in place (smaller: room for pending pods).
    const resized = this.bound.get(key)?.startsWith(`${pod.metadata.uid ?? ''}|${node}|`) === true;
    if (this.bound.has(key)) this.snapshot.forget(key);
    const r = this.snapshot.assumePod(pod, node);
    if (r.ok) this.bound.set(key, id);
    else if (this.snapshot.node(node)) this.log.warn({ pod: key, node }, `cannot count pod on its node: ${r.error}`);
    return resized;
  }

  /** The pod is gone (or finished): release what it held. */
  removePod(key: string): boolean {
    this.assumed.delete(key);
    const had = this.bound.delete(key);
    return this.snapshot.forget(key) || had;
  }

  assume(info: PodInfo, node: string): { ok: true } | { ok: false; error: string } {
    const r = this.snapshot.assume(info, node);
    if (r.ok) this.assumed.set(info.key, node);
    return r;
  }

  /** Marks a pod assumed by the placement core (placePod already counted it). */
  noteAssumed(key: string, node: string): void {
    this.assumed.set(key, node);
  }

  forget(key: string): void {
    if (this.assumed.delete(key)) this.snapshot.forget(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  get assumedCount(): number {
    return this.assumed.size;
  }
}
