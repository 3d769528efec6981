import type { JsonPatchOp } from '../core/admission/json-patch.ts';
import type { NodeLike } from '../core/admission/choose.ts';
import type { PodLike } from '../core/admission/pod.ts';

/** Why a cluster call failed; `kind` lets the caller decide (answer an Error, retry next round). */
export interface ClusterError {
  readonly kind: 'not-found' | 'conflict' | 'invalid' | 'forbidden' | 'unavailable' | 'other';
  readonly message: string;
}

export type ClusterResult<T> = { ok: true; value: T } | { ok: false; error: ClusterError };

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * What the extender's bind and the scheduling-gate controller read and write. Reads may
 * come from an informer cache (nodeCacheCapable extenders receive only node names).
 */
export interface PodCluster {
  getPod(ref: PodRef): Promise<ClusterResult<PodLike>>;
  getNode(name: string): Promise<ClusterResult<NodeLike>>;
  listNodes(): Promise<ClusterResult<NodeLike[]>>;
  /** Pods (any namespace) that still carry this scheduling gate. */
  listGatedPods(gate: string): Promise<ClusterResult<PodLike[]>>;
  /** RFC 6902 patch (application/json-patch+json); applied atomically or not at all. */
  patchPod(ref: PodRef, ops: readonly JsonPatchOp[]): Promise<ClusterResult<PodLike>>;
  /** The pods/binding subresource; refused (conflict) when the pod is already bound. */
  bindPod(ref: PodRef, uid: string, node: string): Promise<ClusterResult<void>>;
  /** Best effort: an Event on the pod; failures are not the caller's concern. */
  recordEvent(ref: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
