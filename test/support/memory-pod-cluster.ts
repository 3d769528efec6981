/**
 * The PodCluster port over objects in memory, applying JSON Patch with a library
 * (atomically, as the API server does), refusing a second bind, keeping events.
 */
import fjp from 'fast-json-patch';
import type { JsonPatchOp } from '../../src/core/admission/json-patch.ts';
import type { NodeLike } from '../../src/core/admission/choose.ts';
import type { PodLike } from '../../src/core/admission/pod.ts';
import type { ClusterResult, PodCluster, PodRef } from '../../src/ports/pod-cluster.ts';

const key = (r: PodRef): string => `${r.namespace}/${r.name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class MemoryPodCluster implements PodCluster {
  readonly pods = new Map<string, PodLike>();
  readonly nodes = new Map<string, NodeLike>();
  readonly events: { ref: PodRef; type: string; reason: string; message: string }[] = [];
  readonly patches: { ref: PodRef; ops: readonly JsonPatchOp[] }[] = [];

  addPod(pod: PodLike): this {
    this.pods.set(`${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`, clone(pod));
    return this;
  }

  addNode(node: NodeLike): this {
    this.nodes.set(node.metadata?.name ?? '', clone(node));
    return this;
  }

  pod(namespace: string, name: string): PodLike | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  async getPod(ref: PodRef): Promise<ClusterResult<PodLike>> {
    const p = this.pods.get(key(ref));
    return p ? { ok: true, value: clone(p) } : { ok: false, error: { kind: 'not-found', message: `pods "${ref.name}" not found` } };
  }

  async getNode(name: string): Promise<ClusterResult<NodeLike>> {
    const n = this.nodes.get(name);
    return n ? { ok: true, value: clone(n) } : { ok: false, error: { kind: 'not-found', message: `nodes "${name}" not found` } };
  }

  async listNodes(): Promise<ClusterResult<NodeLike[]>> {
    return { ok: true, value: [...this.nodes.values()].map(clone) };
  }

  async listGatedPods(gate: string): Promise<ClusterResult<PodLike[]>> {
    return { ok: true, value: [...this.pods.values()].filter((p) => (p.spec?.schedulingGates ?? []).some((g) => g.name === gate)).map(clone) };
  }

  async patchPod(ref: PodRef, ops: readonly JsonPatchOp[]): Promise<ClusterResult<PodLike>> {
    const p = this.pods.get(key(ref));
    if (!p) return { ok: false, error: { kind: 'not-found', message: `pods "${ref.name}" not found` } };
    this.patches.push({ ref, ops });
    try {
      const next = fjp.applyPatch(clone(p), clone(ops) as fjp.Operation[], true, false).newDocument;
      this.pods.set(key(ref), next);
      return { ok: true, value: clone(next) };
    } catch (err) {
      const test = err instanceof Error && err.name === 'TEST_OPERATION_FAILED';
      return { ok: false, error: { kind: test ? 'conflict' : 'invalid', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async bindPod(ref: PodRef, uid: string, node: string): Promise<ClusterResult<void>> {
    const p = this.pods.get(key(ref));
    if (!p) return { ok: false, error: { kind: 'not-found', message: `pods "${ref.name}" not found` } };
    if (uid && p.metadata?.uid && p.metadata.uid !== uid) return { ok: false, error: { kind: 'conflict', message: 'uid precondition failed' } };
    if (p.spec?.nodeName) return { ok: false, error: { kind: 'conflict', message: `pod ${ref.name} is already assigned to node "${p.spec.nodeName}"` } };
    if (!p.spec) p.spec = {};
    p.spec.nodeName = node;
    return { ok: true, value: undefined };
  }

  async recordEvent(ref: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.push({ ref, type, reason, message });
  }
}
