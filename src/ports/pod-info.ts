/**
 * What the node probe needs to know about the pods on its node, from outside the cgroup
 * tree: which cgroup belongs to which pod and container, whether they are Ready (and
 * since when), and their requests and limits. Implemented on the Kubernetes API (pods
 * with spec.nodeName = this node), on a JSON file (`kubectl get pods -o json`), or by a
 * function in tests.
 */

import type { ResourceAmounts } from '../core/autoscale/policy.ts';

/** Cores (500m = 0.5) and bytes: the autoscaler's amounts. */
export type { ResourceAmounts };

export interface ContainerInfo {
  readonly name: string;
  /** The runtime's id, without the `containerd://` scheme; absent until the container started. */
  readonly id?: string;
  readonly ready: boolean;
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

export interface NodePodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name` of the workload that owns the pod (a Deployment for a ReplicaSet's pod). */
  readonly app?: string;
  /** All containers Ready (the pod's Ready condition is True). */
  readonly ready: boolean;
  /** Milliseconds since the epoch when the pod became Ready, if the source knows. */
  readonly readySince?: number;
  /** spec.hostNetwork: the pod's traffic is the node's, not measurable per pod. */
  readonly hostNetwork?: boolean;
  readonly containers: readonly ContainerInfo[];
}

export interface PodInfoError {
  readonly kind: 'unreachable' | 'invalid' | 'not-found' | 'other';
  /** One line naming the source and the cause (and the field, for invalid input). */
  readonly message: string;
}

export type PodInfoResult = { ok: true; pods: readonly NodePodInfo[] } | { ok: false; error: PodInfoError };

export interface PodInfoSource {
  /** The pods on this node now. */
  list(signal?: AbortSignal): Promise<PodInfoResult>;
  /** Shown in the probe's output ("file /etc/pods.json", "kubernetes API", ...). */
  readonly description: string;
}
