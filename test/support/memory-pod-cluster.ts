/**
 * The gate controller's ports over objects in memory, applying JSON Patch with a
 * library (atomically, as the API server does: all operations or none).
 */
import fjp from 'fast-json-patch';
import type { JsonPatchOp } from '../../src/core/admission/json-patch.ts';
import type { Node, Pod } from '../../src/core/k8s/types.ts';
import type { EventRecord, ObjectRef, WriteResult } from '../../src/ports/cluster.ts';
import type { GateCluster } from '../../src/app/gate-controller.ts';

const key = (r: ObjectRef): string => `${r.namespace ?? 'default'}/${r.name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class MemoryPodCluster implements GateCluster {
  readonly pods = new Map<string, Pod>();
  readonly nodes = new Map<string, Node>();
  readonly events: EventRecord[] = [];
  readonly patches: { ref: ObjectRef; ops: readonly JsonPatchOp[] }[] = [];

  addPod(pod: Pod): this {
    this.pods.set(key({ namespace: pod.metadata.namespace, name: pod.metadata.name ?? '' }), clone(pod));
    return this;
  }

  addNode(node: Node): this {
    this.nodes.set(node.metadata.name ?? '', clone(node));
    return this;
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  async listNodes(): Promise<readonly Node[]> {
    return [...this.nodes.values()].map(clone);
  }

  async listGatedPods(gate: string): Promise<WriteResult<readonly Pod[]>> {
    const gated = [...this.pods.values()].filter((p) => ((p.spec as { schedulingGates?: { name: string }[] }).schedulingGates ?? []).some((g) => g.name === gate));
    return { ok: true, value: gated.map(clone) };
  }

  async jsonPatchPod(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<WriteResult<Pod>> {
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

  async recordEvent(event: EventRecord): Promise<void> {
    this.events.push(event);
  }
}
