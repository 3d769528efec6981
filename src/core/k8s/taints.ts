/** Taints and tolerations, as k8s.io/api/core/v1 toleration.go and the TaintToleration plugin match them. */

import type { Taint, Toleration } from './types.ts';

/**
 * Does the toleration tolerate the taint? (Toleration.ToleratesTaint)
 * - an empty effect matches every effect;
 * - an empty key with operator Exists matches every key;
 * - operator Exists ignores the value; Equal (or empty) compares it.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case 'Exists':
      return true;
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

export function toleratesAny(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  for (const taint of taints) {
    if (!effects.includes(taint.effect)) continue;
    if (!toleratesAny(tolerations, taint)) return taint;
  }
  return undefined;
}

/** `{key: value}` as kube-scheduler prints a taint in its reasons. */
export function formatTaint(taint: Taint): string {
  return `{${taint.key}: ${taint.value ?? ''}}`;
}
