/**
 * The node lifecycle controller and the NoExecute taint manager of kube-controller-manager,
 * as pure decisions for both models of a cluster (src/sim/cluster.ts, fake-apiserver/
 * controllers.ts). Time is passed in.
 *
 * - A node not heard from for the grace period (node-monitor-grace-period, 40 s) gets every
 *   condition Unknown (`NodeStatusUnknown`, "Kubelet stopped posting node status.") and the
 *   `node.kubernetes.io/unreachable` NoSchedule and NoExecute taints (replacing not-ready);
 *   the taints go when it is Ready again
 *   (https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller).
 * - A pod on a node with NoExecute taints is evicted at once when one is not tolerated,
 *   else at the smallest finite tolerationSeconds after the taint was added, never when
 *   every matching toleration is unbounded (the taint manager's getMinTolerationTime).
 */
import { rfc3339 } from './time.ts';
import { toleratesTaint } from '../k8s/taints.ts';
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, type NodeCondition, type Taint, type Toleration } from '../k8s/types.ts';

/** kube-controller-manager's --node-monitor-grace-period default. */
export const NODE_MONITOR_GRACE_MS = 40_000;
/** What DefaultTolerationSeconds admission gives a pod without a not-ready/unreachable toleration. */
export const DEFAULT_TOLERATION_SECONDS = 300;


type LifecycleCondition = NodeCondition & { readonly lastHeartbeatTime?: string; readonly lastTransitionTime?: string };

/** Has the node's last heartbeat aged past the grace? */
export const nodeUnheard = (lastHeardMs: number, nowMs: number, graceMs = NODE_MONITOR_GRACE_MS): boolean => nowMs - lastHeardMs > graceMs;

/** Is the node already marked unreachable (Ready Unknown and the NoExecute taint)? */
export function markedUnreachable(conditions: readonly NodeCondition[], taints: readonly Taint[]): boolean {
  return conditions.find((c) => c.type === 'Ready')?.status === 'Unknown' && taints.some((t) => t.key === TAINT_NODE_UNREACHABLE && t.effect === 'NoExecute');
}

/** The node controller marks a node unreachable at `nowMs`: conditions and taints as it writes them. */
export function markUnreachable(conditions: readonly LifecycleCondition[], taints: readonly Taint[], nowMs: number): { conditions: LifecycleCondition[]; taints: Taint[] } {
  const ts = rfc3339(nowMs);
  const ready = conditions.find((c) => c.type === 'Ready');
  const types = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', ...conditions.map((c) => c.type)]);
  const next = [...types].map((type): LifecycleCondition => {
    const c = conditions.find((x) => x.type === type);
    return c?.status === 'Unknown' ? c : { type, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: ready?.lastHeartbeatTime ?? ts, lastTransitionTime: ts };
  });
  const kept = taints.filter((t) => t.key !== TAINT_NODE_UNREACHABLE && t.key !== TAINT_NODE_NOT_READY);
  return { conditions: next, taints: [...kept, { key: TAINT_NODE_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute', timeAdded: ts }] };
}

/** The node is Ready again: the unreachable taints go. */
export const reachableTaints = (taints: readonly Taint[]): Taint[] => taints.filter((t) => t.key !== TAINT_NODE_UNREACHABLE);

/**
 * When the taint manager evicts a pod from a node with these taints: `nowMs` when a
 * NoExecute taint is not tolerated, the earliest `timeAdded + tolerationSeconds` of the
 * bounded tolerations, Infinity when none (it stays). Taints without timeAdded count from now.
 */
export function taintEvictionAt(taints: readonly Taint[], tolerations: readonly Toleration[], nowMs: number): number {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.some((taint) => !tolerations.some((t) => toleratesTaint(t, taint)))) return nowMs;
  let at = Infinity;
  for (const taint of noExecute) {
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : nowMs;
    for (const t of tolerations) {
      if (!toleratesTaint(t, taint) || t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      at = Math.min(at, added + Math.max(0, t.tolerationSeconds) * 1000);
    }
  }
  return at;
}

/**
 * The tolerations DefaultTolerationSeconds admission adds to a pod that has none for
 * not-ready / unreachable (`seconds`: kube-apiserver's --default-*-toleration-seconds, 300).
 */
export function defaultTolerations(tolerations: readonly Toleration[], seconds = DEFAULT_TOLERATION_SECONDS): Toleration[] {
  const add: Toleration[] = [];
  for (const key of [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]) {
    // An empty key or effect matches any, as in the admission plugin (`len(toleration.Key) == 0`).
    if (!tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect))) {
      add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
    }
  }
  return add;
}
