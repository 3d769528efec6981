/**
 * What the mutating webhook and the gate controller write into a pod, as JSON Patch
 * operations computed from the pod as it is (so a user's terms are kept and nothing is
 * added twice).
 */
import { PLATFORM_GATE } from '../k8s/annotations.ts';
import { ARCH_LABEL, OS_LABEL } from '../platform/platform.ts';
import { pointer, type JsonPatchOp } from './json-patch.ts';
import type { RequirementLike, SpecImage, PodLike, PreferredTermLike } from './pod.ts';


/** A preferred architecture and its weight (1-100, as PreferredTermLike.weight). */
export interface ArchPreference {
  readonly architecture: string;
  readonly weight: number;
}

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution';

/**
 * The pod already says where it may run: a nodeSelector on the arch label, or a
 * required node affinity whose every term constrains the arch label.
 */
export function hasRequiredArchAffinity(pod: PodLike): boolean {
  if (pod.spec?.nodeSelector?.[ARCH_LABEL] !== undefined) return true;
  const terms = pod.spec?.affinity?.nodeAffinity?.[REQUIRED]?.nodeSelectorTerms ?? [];
  return terms.length > 0 && terms.every((t) => (t.matchExpressions ?? []).some((e) => e.key === ARCH_LABEL));
}

export function hasGate(pod: PodLike, gate = PLATFORM_GATE): boolean {
  return (pod.spec?.schedulingGates ?? []).some((g) => g.name === gate);
}

export function requiredExpressions(target: { os: string; architectures: readonly string[] }): RequirementLike[] {
  return [
    { key: ARCH_LABEL, operator: 'In', values: [...target.architectures] },
    { key: OS_LABEL, operator: 'In', values: [target.os] },
  ];
}

export function preferredTerms(architectures: readonly string[], preferences: readonly ArchPreference[]): PreferredTermLike[] {
  return preferences
    .filter((p) => architectures.includes(p.architecture) && p.weight >= 1 && p.weight <= 100)
    .map((p) => ({ weight: Math.round(p.weight), preference: { matchExpressions: [{ key: ARCH_LABEL, operator: 'In', values: [p.architecture] }] } }));
}

/**
 * Adds the required expressions to every existing nodeSelectorTerm (terms are ORed,
 * expressions within a term ANDed, so the user's choices stay and each gains the
 * platform constraint), creating the affinity where there is none; appends the
 * preferred terms. Only appending to existing terms is also what the API server
 * allows on a pod that is still scheduling-gated (KEP-3838).
 */
export function affinityPatch(pod: PodLike, required: readonly RequirementLike[], preferred: readonly PreferredTermLike[]): JsonPatchOp[] {
  const affinity = pod.spec?.affinity;
  const nodeAffinity = affinity?.nodeAffinity;
  const fresh = { nodeSelectorTerms: [{ matchExpressions: [...required] }] };
  const freshAffinity = { [REQUIRED]: fresh, ...(preferred.length ? { [PREFERRED]: [...preferred] } : {}) };
  if (!affinity) return [{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: freshAffinity } }];
  if (!nodeAffinity) return [{ op: 'add', path: '/spec/affinity/nodeAffinity', value: freshAffinity }];

  const ops: JsonPatchOp[] = [];
  const terms = nodeAffinity[REQUIRED]?.nodeSelectorTerms ?? [];
  if (terms.length === 0) {
    ops.push({ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', REQUIRED), value: fresh });
  } else {
    terms.forEach((t, i) => {
      const base = ['spec', 'affinity', 'nodeAffinity', REQUIRED, 'nodeSelectorTerms', i, 'matchExpressions'] as const;
      if (Array.isArray(t.matchExpressions)) {
        for (const e of required) ops.push({ op: 'add', path: pointer(...base, '-'), value: e });
      } else {
        ops.push({ op: 'add', path: pointer(...base), value: [...required] });
      }
    });
  }
  if (preferred.length) {
    const existing = nodeAffinity[PREFERRED];
    if (Array.isArray(existing)) {
      for (const p of preferred) ops.push({ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', PREFERRED, '-'), value: p });
    } else {
      ops.push({ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', PREFERRED), value: [...preferred] });
    }
  }
  return ops;
}

/** Sets annotations, creating the map when the pod has none. */
export function annotationPatch(pod: PodLike, entries: Readonly<Record<string, string>>): JsonPatchOp[] {
  const keys = Object.keys(entries);
  if (keys.length === 0) return [];
  if (!pod.metadata) return [{ op: 'add', path: '/metadata', value: { annotations: { ...entries } } }];
  if (!pod.metadata.annotations) return [{ op: 'add', path: '/metadata/annotations', value: { ...entries } }];
  return keys.map((k) => ({ op: 'add', path: pointer('metadata', 'annotations', k), value: entries[k] }));
}

/** Adds the scheduling gate (only possible at creation). */
export function gatePatch(pod: PodLike, gate = PLATFORM_GATE): JsonPatchOp[] {
  if (hasGate(pod, gate)) return [];
  if (Array.isArray(pod.spec?.schedulingGates)) return [{ op: 'add', path: '/spec/schedulingGates/-', value: { name: gate } }];
  return [{ op: 'add', path: '/spec/schedulingGates', value: [{ name: gate }] }];
}

/** Lifts the gate; the `test` makes the patch fail rather than remove another gate if the list changed. */
export function removeGatePatch(pod: PodLike, gate = PLATFORM_GATE): JsonPatchOp[] {
  const i = (pod.spec?.schedulingGates ?? []).findIndex((g) => g.name === gate);
  if (i < 0) return [];
  return [
    { op: 'test', path: pointer('spec', 'schedulingGates', i, 'name'), value: gate },
    { op: 'remove', path: pointer('spec', 'schedulingGates', i) },
  ];
}

/** Rewrites container images (image is one of the few mutable pod spec fields). */
export function imagePatch(changes: readonly { image: SpecImage; to: string }[]): JsonPatchOp[] {
  return changes
    .filter((c) => c.image.image !== c.to)
    .map((c) => ({ op: 'replace', path: pointer('spec', c.image.kind, c.image.index, 'image'), value: c.to }));
}
