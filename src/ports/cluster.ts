/**
 * The cluster as the app sees it: Kubernetes objects read and written through the API's
 * own verbs. Implemented in memory by src/sim/ and on the API server by
 * adapters/kube/ (@kubernetes/client-node), so the app's loops run unchanged on both.
 *
 * Expected refusals (a PodDisruptionBudget blocking an eviction, a pod already gone, a
 * conflict) are values, not exceptions.
 */
import type { Node, Pod, PodDisruptionBudget, PriorityClass, Deployment, StatefulSet, ResourceList, Taint } from '../core/k8s/types.ts';

/** `namespace/name`; a missing namespace is `default`. */
export interface ObjectRef {
  readonly namespace?: string;
  readonly name: string;
}

export type WriteError =
  | { readonly kind: 'not-found'; readonly message: string }
  | { readonly kind: 'conflict'; readonly message: string }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly message: string };

export type WriteResult<T = void> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WriteError };

/**
 * An eviction (policy/v1 Eviction): refused with HTTP 429 when a PodDisruptionBudget
 * allows no disruption now; the caller retries later.
 */
export type EvictResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly refused: 'disruption-budget'; readonly budget: string; readonly message: string }
  | { readonly ok: false; readonly refused: 'not-found' | 'unavailable'; readonly message: string };

export interface PodFilter {
  readonly namespace?: string;
  /** `spec.nodeName=`; the empty string selects unbound (pending) pods. */
  readonly nodeName?: string;
  /** `spec.schedulerName=` */
  readonly schedulerName?: string;
  readonly labelSelector?: Readonly<Record<string, string>>;
}

/** A change seen since a version, in the order it happened (the watch of a live cluster). */
export interface ChangeEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly kind: 'Node' | 'Pod' | 'Deployment' | 'StatefulSet' | 'PodDisruptionBudget' | 'PriorityClass';
  readonly namespace?: string;
  readonly name: string;
  /** The cluster version after this change. */
  readonly version: number;
}

export interface ChangeFeed {
  readonly version: number;
  readonly events: readonly ChangeEvent[];
  /** True when the history since `since` was compacted away: list again (HTTP 410 Gone). */
  readonly expired: boolean;
}

export interface ClusterReader {
  listNodes(): Promise<readonly Node[]>;
  getNode(name: string): Promise<Node | undefined>;
  listPods(filter?: PodFilter): Promise<readonly Pod[]>;
  getPod(ref: ObjectRef): Promise<Pod | undefined>;
  listDeployments(namespace?: string): Promise<readonly Deployment[]>;
  listStatefulSets(namespace?: string): Promise<readonly StatefulSet[]>;
  listPodDisruptionBudgets(namespace?: string): Promise<readonly PodDisruptionBudget[]>;
  listPriorityClasses(): Promise<readonly PriorityClass[]>;
  /** A counter that grows with every change (resourceVersion of the live cluster). */
  version(): Promise<number>;
  /** What changed after `since` (a watch, polled). */
  changes(since: number): Promise<ChangeFeed>;
}

/** The images and annotations of a pod, as a strategic-merge patch would set them. */
export interface PodPatch {
  /** container name -> image */
  readonly images?: Readonly<Record<string, string>>;
  /** Set (string) or remove (null) annotations. */
  readonly annotations?: Readonly<Record<string, string | null>>;
}

/** In-place resize (pods/resize): per container, the new requests and limits. */
export type PodResize = Readonly<Record<string, { readonly requests?: ResourceList; readonly limits?: ResourceList }>>;

export interface BindOptions {
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface EventRecord {
  readonly involved: { readonly kind: 'Pod' | 'Node'; readonly namespace?: string; readonly name: string };
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, as Kubernetes events: Scheduled, FailedScheduling, Migrated, Resized, ... */
  readonly reason: string;
  readonly message: string;
}

export interface ClusterWriter {
  /**
   * pods/binding: assigns a pending pod to a node. The binding's annotations are set on
   * the pod with it (as the API server's binding does): records that need no request of
   * their own.
   */
  bindPod(pod: ObjectRef, nodeName: string, options?: BindOptions): Promise<WriteResult>;
  /** Sets container images and annotations of a pod that is not yet bound. */
  patchPod(pod: ObjectRef, patch: PodPatch): Promise<WriteResult>;
  /** pods/eviction: respects PodDisruptionBudgets; a refusal is a value. */
  evictPod(pod: ObjectRef): Promise<EvictResult>;
  /** Deletes a pod at once (no budget check): for pods on a node that is gone. */
  deletePod(pod: ObjectRef): Promise<WriteResult>;
  createPod(pod: Pod): Promise<WriteResult<Pod>>;
  /** pods/resize: new requests and limits in place. */
  resizePod(pod: ObjectRef, resize: PodResize): Promise<WriteResult>;
  /** spec.unschedulable (kubectl cordon / uncordon). */
  cordonNode(name: string, unschedulable: boolean): Promise<WriteResult>;
  /** Replaces the node's taints with the given list. */
  setNodeTaints(name: string, taints: readonly Taint[]): Promise<WriteResult>;
  /** Records an event, best effort; on a live cluster it is queued and written in the background, so this resolves once queued. */
  recordEvent(event: EventRecord): Promise<void>;
}

export type Cluster = ClusterReader & ClusterWriter;
