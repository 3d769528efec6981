/** Which application (workload) a pod belongs to, keyed `namespace/name` as the autoscaler keys them. Pure. */

export interface PodOwnerView {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  };
}

/**
 * `namespace/name` of the workload that owns a pod, as the autoscaler keys applications:
 * a ReplicaSet's pod belongs to the Deployment whose name is the ReplicaSet's without its
 * `-<pod-template-hash>`; StatefulSet, DaemonSet and other controllers by their name; a bare
 * pod by its own.
 */
export function appOfPod(pod: PodOwnerView): string {
  const ns = pod.metadata.namespace ?? 'default';
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!owner) return `${ns}/${pod.metadata.name}`;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return `${ns}/${owner.name.slice(0, -hash.length - 1)}`;
  return `${ns}/${owner.name}`;
}

/**
 * Where no pod list is at hand (Prometheus alone): the workload from the pod's name by
 * the controllers' naming (Deployment `web-7d9f8c6b5-x2k4p`, StatefulSet `db-0`, DaemonSet
 * or Job `agent-x2k4p`). A heuristic: pass a pod list when there is one.
 */
// Kubernetes' generated suffixes use this alphabet (no vowels, no 0, 1, 3: rand.SafeEncodeString).
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const POD_NAME = new RegExp(`^(.+?)-(?:${SAFE}{6,10}-${SAFE}{5}|\\d+|${SAFE}{5})$`);

export function appFromPodName(namespace: string, pod: string): string {
  const m = POD_NAME.exec(pod);
  return `${namespace}/${m ? m[1] : pod}`;
}
