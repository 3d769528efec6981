import type { JsonPatchOp } from '../core/admission/json-patch.ts';
import type { Pod } from '../core/k8s/types.ts';
import type { ObjectRef, WriteResult } from './cluster.ts';

/**
 * What the scheduling-gate controller needs beyond ClusterReader/ClusterWriter: the pods
 * that still carry a gate, and RFC 6902 patches, since it edits the node affinity and
 * the scheduling gates (ClusterWriter.patchPod only sets images and annotations).
 */
export interface PodJsonPatcher {
  /** Pods (all namespaces) that carry this scheduling gate; from an informer cache where there is one. */
  listGatedPods(gate: string): Promise<WriteResult<readonly Pod[]>>;
  /** application/json-patch+json on the pod; applied atomically or not at all (a failed `test` is a conflict). */
  jsonPatchPod(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<WriteResult<Pod>>;
}
