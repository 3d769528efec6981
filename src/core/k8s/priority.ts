/**
 * A pod's priority, as the API server's Priority admission plugin sets it. The one
 * resolution used by SimCluster (at pod creation, as admission would), the
 * `polyarch schedule` command (manifests never went through an API server) and the
 * autoscaler (templates).
 */
import type { PriorityClass } from './types.ts';

/** Priority classes Kubernetes always has. */
export const BUILTIN_PRIORITY_CLASSES: readonly PriorityClass[] = [
  { metadata: { name: 'system-cluster-critical' }, value: 2000000000 },
  { metadata: { name: 'system-node-critical' }, value: 2000001000 },
];

export type PriorityResult = { ok: true; value: number } | { ok: false; error: string };

/** The priority fields of a pod spec (or a template's spec). */
export interface PrioritySpec {
  readonly priority?: number | null;
  readonly priorityClassName?: string | null;
}

/**
 * spec.priority when already set (a pod read from the API), else its
 * priorityClassName's value (the built-in system classes included), else the
 * globalDefault class's value, else 0. A class name that does not exist is an error,
 * as admission refuses such a pod.
 */
export function resolvePriority(spec: PrioritySpec, classes: readonly PriorityClass[]): PriorityResult {
  if (typeof spec.priority === 'number') return { ok: true, value: spec.priority };
  const name = spec.priorityClassName;
  if (name) {
    const c = BUILTIN_PRIORITY_CLASSES.find((pc) => pc.metadata.name === name) ?? classes.find((pc) => pc.metadata.name === name);
    return c ? { ok: true, value: c.value } : { ok: false, error: `spec.priorityClassName: no PriorityClass named "${name}"` };
  }
  const def = classes.find((pc) => pc.globalDefault);
  return { ok: true, value: def?.value ?? 0 };
}

/** resolvePriority for a pod. */
export function podPriority(pod: { readonly spec: PrioritySpec }, classes: readonly PriorityClass[]): PriorityResult {
  return resolvePriority(pod.spec, classes);
}
