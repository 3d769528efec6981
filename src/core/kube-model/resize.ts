/**
 * The kubelet's admission of an in-place resize (Kubernetes 1.33, pkg/kubelet
 * allocation manager): a pod whose new requests exceed the node's allocatable can never
 * fit (PodResizePending, reason Infeasible); one that exceeds what the other pods leave is
 * Deferred until room appears. One decision for the simulator's cluster and the fake API
 * server's kubelet. Messages as the kubelet prints them: CPU in millicores, memory in bytes.
 */

export interface ResizeAmounts {
  /** Millicores. */
  readonly cpu: number;
  /** Bytes. */
  readonly mem: number;
}

export type ResizeVerdict =
  | { readonly kind: 'fits' }
  | { readonly kind: 'Infeasible' | 'Deferred'; readonly resource: 'cpu' | 'memory'; readonly message: string };

/** Can the node take the pod at `requested`, with `others` requested by its other pods? */
export function resizeVerdict(requested: ResizeAmounts, others: ResizeAmounts, allocatable: ResizeAmounts): ResizeVerdict {
  let deferred: ResizeVerdict | undefined;
  for (const r of ['cpu', 'memory'] as const) {
    const [req, used, cap] = r === 'cpu' ? [requested.cpu, others.cpu, allocatable.cpu] : [requested.mem, others.mem, allocatable.mem];
    if (req > cap) return { kind: 'Infeasible', resource: r, message: `Node didn't have enough capacity: ${r}, requested: ${req}, capacity: ${cap}` };
    if (req + used > cap && !deferred) {
      deferred = { kind: 'Deferred', resource: r, message: `Node didn't have enough resource: ${r}, requested: ${req}, used: ${used}, capacity: ${cap}` };
    }
  }
  return deferred ?? { kind: 'fits' };
}
