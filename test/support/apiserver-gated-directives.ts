/**
 * KEP-3838 (Pod Mutable Scheduling Directives, stable in Kubernetes 1.30) for the fake API
 * server, which does not model it yet: while a pod still has scheduling gates, its
 * node affinity and nodeSelector may be narrowed (ValidatePodUpdate with
 * `podSchedulingGatesEnabled`):
 * - nodeSelector: entries may be added, none changed or removed;
 * - required node affinity: set freely when there was none; otherwise the same terms,
 *   each keeping its expressions (and fields) with new expressions appended;
 * - preferred node affinity: any change.
 * Installed by wrapping the server's pod-update check at run time, without editing the
 * server's files; the rest of the check is the server's own.
 */
import { ApiError, type FakeApiServer, type KubeObject } from '../../fake-apiserver/index.ts';

type Term = { matchExpressions?: unknown[] | null; matchFields?: unknown[] | null };
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const refuse = (name: string, field: string, message: string): ApiError => new ApiError(422, 'Invalid', `Pod "${name}" is invalid: ${field}: Forbidden: ${message}`);

function checkNarrowing(existing: KubeObject, next: KubeObject): void {
  const name = existing.metadata.name ?? '';
  const oldSel = (existing.spec?.nodeSelector ?? {}) as Record<string, string>;
  const newSel = (next.spec?.nodeSelector ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(oldSel)) if (newSel[k] !== v) throw refuse(name, 'spec.nodeSelector', 'only additions are allowed while the pod is scheduling-gated');
  const oldReq = existing.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution as { nodeSelectorTerms?: Term[] } | undefined | null;
  const newReq = next.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution as { nodeSelectorTerms?: Term[] } | undefined | null;
  if (!oldReq) return;
  const o = oldReq.nodeSelectorTerms ?? [];
  const n = newReq?.nodeSelectorTerms ?? [];
  if (o.length !== n.length) throw refuse(name, 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms may not be added or removed');
  o.forEach((t, i) => {
    const u = n[i] ?? {};
    const oldExpr = t.matchExpressions ?? [];
    const newExpr = u.matchExpressions ?? [];
    if (!same(t.matchFields, u.matchFields) || !oldExpr.every((e, j) => same(e, newExpr[j]))) {
      throw refuse(name, `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`, 'only additions of expressions are allowed while the pod is scheduling-gated');
    }
  });
}

/** Returns a function that puts the server's own check back. */
export function allowGatedSchedulingDirectives(server: FakeApiServer): () => void {
  const api = server.api as unknown as { checkPodUpdate: (existing: KubeObject, next: KubeObject) => void };
  const original = api.checkPodUpdate;
  api.checkPodUpdate = function (this: unknown, existing: KubeObject, next: KubeObject): void {
    if (((existing.spec?.schedulingGates as unknown[] | undefined) ?? []).length === 0) return original.call(this, existing, next);
    checkNarrowing(existing, next);
    // The scheduling directives are judged above; the server checks everything else.
    const spec = { ...(next.spec ?? {}) } as Record<string, unknown>;
    for (const field of ['nodeSelector', 'affinity'] as const) {
      if (existing.spec?.[field] === undefined) delete spec[field];
      else spec[field] = existing.spec[field];
    }
    if (next.spec?.affinity && existing.spec?.affinity) {
      spec.affinity = { ...next.spec.affinity, nodeAffinity: existing.spec.affinity.nodeAffinity };
      if (existing.spec.affinity.nodeAffinity === undefined) delete (spec.affinity as Record<string, unknown>).nodeAffinity;
    }
    return original.call(this, existing, { ...next, spec } as KubeObject);
  };
  return () => {
    api.checkPodUpdate = original;
  };
}
