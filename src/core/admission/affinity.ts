/**
 * What the mutating webhook and the gate controller write into a pod, as JSON Patch
 * operations computed from the pod as it is (so a user's terms are kept and nothing is
 * added twice).
 */
import { PLATFORM_GATE } from '../k8s/annotations.ts';
import { ARCH_LABEL, makePlatform, OS_LABEL, VARIANT_LABEL } from '../platform/platform.ts';
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

/** A platform preference as the webhook writes it: an architecture, and a variant when the preference names one (canonical, as parsePlatform gives it). */
export interface PlatformPreference {
  readonly architecture: string;
  readonly variant?: string;
  readonly weight: number;
}

/**
 * The node label values that mean a node's variant is `variant` (canonical) for
 * `architecture`, and whether a node without the label has it: a node's platform is its
 * `polyarch.io/arch-variant` label, else the architecture's default (arm64 v8, arm v7,
 * amd64 none), and amd64's `v1` label is the same as none (core/platform nodePlatform).
 */
export function variantLabels(architecture: string, variant: string): { values: string[]; unlabelled: boolean } {
  const unlabelled = makePlatform('linux', architecture, '');
  const v1 = makePlatform('linux', architecture, 'v1');
  const values = variant ? [variant] : v1.ok && v1.value.variant === '' ? ['v1'] : [];
  return { values, unlabelled: unlabelled.ok && unlabelled.value.variant === variant };
}

/** Expressions (ORed as separate terms) that admit exactly the nodes of `architecture` whose variant is one of `variants`. */
function variantTerms(architecture: string, variants: readonly string[]): RequirementLike[][] {
  const values = new Set<string>();
  let unlabelled = false;
  for (const v of variants) {
    const l = variantLabels(architecture, v);
    for (const x of l.values) values.add(x);
    unlabelled ||= l.unlabelled;
  }
  const terms: RequirementLike[][] = [];
  if (values.size > 0) terms.push([{ key: VARIANT_LABEL, operator: 'In', values: [...values].sort() }]);
  if (unlabelled) terms.push([{ key: VARIANT_LABEL, operator: 'DoesNotExist' }]);
  return terms;
}

/**
 * The required node affinity, as terms (ORed): the architectures any variant will do for
 * in one term, and per architecture narrowed to variants (`variants`, keyed by
 * architecture) one term per variant condition, so a node is admitted exactly when the
 * scheduler's NodePlatform filter would admit its platform.
 */
export function requiredTerms(target: { os: string; architectures: readonly string[] }, variants: Readonly<Record<string, readonly string[]>> = {}): RequirementLike[][] {
  const os: RequirementLike = { key: OS_LABEL, operator: 'In', values: [target.os] };
  const any = target.architectures.filter((a) => !variants[a]);
  const terms: RequirementLike[][] = any.length > 0 ? [requiredExpressions({ os: target.os, architectures: any })] : [];
  for (const a of target.architectures) {
    const vs = variants[a];
    if (!vs) continue;
    for (const t of variantTerms(a, vs)) terms.push([{ key: ARCH_LABEL, operator: 'In', values: [a] }, os, ...t]);
  }
  return terms;
}

/**
 * Preferred terms for preferences that may name variants, weighed as the scheduler's
 * ArchitecturePreference score does (the most specific preference naming a node's
 * platform wins): a preference for an architecture's variant gets its own terms, and the
 * architecture's plain preference excludes the variants preferred separately (so no node
 * matches two terms of one architecture and node affinity's sum equals the score's pick).
 */
export function preferredPlatformTerms(architectures: readonly string[], preferences: readonly PlatformPreference[]): PreferredTermLike[] {
  const out: PreferredTermLike[] = [];
  const seen = new Set<string>();
  for (const p of preferences) {
    const k = `${p.architecture}/${p.variant ?? '*'}`;
    if (!architectures.includes(p.architecture) || p.weight < 1 || p.weight > 100 || seen.has(k)) continue;
    seen.add(k);
    const arch: RequirementLike = { key: ARCH_LABEL, operator: 'In', values: [p.architecture] };
    const weight = Math.round(p.weight);
    if (p.variant !== undefined) {
      for (const t of variantTerms(p.architecture, [p.variant])) out.push({ weight, preference: { matchExpressions: [arch, ...t] } });
      continue;
    }
    const specific = preferences.filter((q) => q.architecture === p.architecture && q.variant !== undefined).map((q) => variantLabels(p.architecture, q.variant ?? ''));
    const excluded = [...new Set(specific.flatMap((l) => l.values))].sort();
    const exclusions: RequirementLike[] = [
      ...(excluded.length > 0 ? [{ key: VARIANT_LABEL, operator: 'NotIn', values: excluded }] : []),
      ...(specific.some((l) => l.unlabelled) ? [{ key: VARIANT_LABEL, operator: 'Exists' }] : []),
    ];
    out.push({ weight, preference: { matchExpressions: [arch, ...exclusions] } });
  }
  return out;
}

/**
 * The required terms written into a pod. One term: ANDed into every existing term
 * (affinityPatch). Several: set as they are when the pod has no required terms; crossed
 * with the user's terms at creation (`mayReplace`); on a pod already gated, where the API
 * server lets only expressions be added to existing terms (KEP-3838), the architectures
 * alone are ANDed in (`exact: false`: the variants are then left to the scheduler and the
 * extender, which see the node's variant).
 */
export function termsPatch(pod: PodLike, terms: readonly (readonly RequirementLike[])[], preferred: readonly PreferredTermLike[], mayReplace: boolean): { ops: JsonPatchOp[]; exact: boolean } {
  const first = terms[0];
  if (terms.length === 1 && first) return { ops: affinityPatch(pod, first, preferred), exact: true };
  const affinity = pod.spec?.affinity;
  const nodeAffinity = affinity?.nodeAffinity;
  const existing = nodeAffinity?.[REQUIRED]?.nodeSelectorTerms ?? [];
  if (existing.length === 0 || mayReplace) {
    const nodeSelectorTerms = existing.length === 0
      ? terms.map((t) => ({ matchExpressions: [...t] }))
      : existing.flatMap((u) => terms.map((t) => ({ ...u, matchExpressions: [...(u.matchExpressions ?? []), ...t] })));
    const required = { nodeSelectorTerms };
    if (!affinity) return { ops: [{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { [REQUIRED]: required, ...(preferred.length ? { [PREFERRED]: [...preferred] } : {}) } } }], exact: true };
    if (!nodeAffinity) return { ops: [{ op: 'add', path: '/spec/affinity/nodeAffinity', value: { [REQUIRED]: required, ...(preferred.length ? { [PREFERRED]: [...preferred] } : {}) } }], exact: true };
    return { ops: [{ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', REQUIRED), value: required }, ...preferredOps(pod, preferred)], exact: true };
  }
  const archs = [...new Set(terms.flatMap((t) => t.filter((e) => e.key === ARCH_LABEL).flatMap((e) => e.values ?? [])))];
  const os = first?.find((e) => e.key === OS_LABEL);
  return { ops: affinityPatch(pod, [{ key: ARCH_LABEL, operator: 'In', values: archs }, ...(os ? [os] : [])], preferred), exact: false };
}

/** Appends preferred terms to a pod that has a nodeAffinity already. */
function preferredOps(pod: PodLike, preferred: readonly PreferredTermLike[]): JsonPatchOp[] {
  if (preferred.length === 0) return [];
  const existing = pod.spec?.affinity?.nodeAffinity?.[PREFERRED];
  if (Array.isArray(existing)) return preferred.map((p) => ({ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', PREFERRED, '-'), value: p }));
  return [{ op: 'add', path: pointer('spec', 'affinity', 'nodeAffinity', PREFERRED), value: [...preferred] }];
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
  ops.push(...preferredOps(pod, preferred));
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
