/**
 * Placement policy per namespace (issue 17 item 2): the PlacementPolicy custom resource
 * (polyarch.io/v1alpha1, namespaced) and its cluster-scoped default, the
 * ClusterPlacementPolicy named `cluster`, after the multiarch tuning operator's
 * PodPlacementConfig / ClusterPodPlacementConfig, with variants. Pure: validation, the
 * merge of the cluster default and a namespace's policy, and how the merged policy
 * narrows a pod's cycle state and scores. The webhook, the extender and the scheduler
 * all read the merged policy through the PlacementPolicyReader port (fed by core/placement/policy-book.ts) and apply it here.
 *
 * Merge rules (docs/placement-policy.md):
 * - platforms: the namespace narrows the cluster's list (intersection); a namespace
 *   cannot widen what the cluster allows; an empty intersection is an error.
 * - preferences: the namespace's list replaces the cluster's when it has one.
 * - unreadableImages: the namespace's choice, else the cluster's, else the built-in
 *   default (serve's --gate-release-after-ms: 0 is Block, otherwise Unconstrained).
 * - excludePods: a pod matched by either selector is left out of the policy.
 */
import { z } from 'zod';
import type { Labels, LabelSelector, LabelSelectorRequirement } from '../k8s/types.ts';
import { canRun, formatPlatform, parsePlatform, type Platform } from '../platform/platform.ts';
import { DEFAULT_WEIGHTS, EXTENDER_WEIGHTS, type Framework } from './framework.ts';
import type { PodInfo } from './pod-info.ts';
import { architecturePreference, compileArchitectureWeights } from './scores/architecture-preference.ts';
import type { PlatformPreference } from '../admission/affinity.ts';
import { unresolvable, type Status } from './status.ts';

export const PLACEMENT_POLICY_GROUP = 'polyarch.io';
export const PLACEMENT_POLICY_VERSION = 'v1alpha1';
export const PLACEMENT_POLICY_PLURAL = 'placementpolicies';
export const PLACEMENT_POLICY_KIND = 'PlacementPolicy';
export const CLUSTER_PLACEMENT_POLICY_PLURAL = 'clusterplacementpolicies';
export const CLUSTER_PLACEMENT_POLICY_KIND = 'ClusterPlacementPolicy';
/** The one ClusterPlacementPolicy read (as MTO reads only the ClusterPodPlacementConfig named `cluster`). */
export const CLUSTER_PLACEMENT_POLICY_NAME = 'cluster';

/** What to do with a pod whose images' platforms cannot be read. */
export const UNREADABLE_ACTIONS = ['Block', 'Unconstrained'] as const;
export type UnreadableAction = (typeof UNREADABLE_ACTIONS)[number];

const platformText = z.string().refine((s) => parsePlatform(s).ok, 'not a platform (want os/arch[/variant], e.g. linux/arm64 or linux/amd64/v3)');

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.strictObject({ key: z.string().min(1), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }))
    .optional(),
});

export const placementPolicySpecSchema = z.strictObject({
  /** Platforms the pods may run on; absent: any. */
  platforms: z.array(platformText).min(1).optional(),
  /** Weighted preferences among the allowed platforms (1-100, as node affinity's preferred terms). */
  preferences: z.array(z.strictObject({ platform: platformText, weight: z.number().int().min(1).max(100) })).optional(),
  /** When an image's platforms cannot be read: hold the pod (Block) or let it run unconstrained after the gate timeout. */
  unreadableImages: z.enum(UNREADABLE_ACTIONS).optional(),
  /** Pods this selects are left alone (no constraint written, no platform narrowing). */
  excludePods: labelSelector.optional(),
});

export type PlacementPolicySpec = z.infer<typeof placementPolicySpecSchema>;

export interface PlatformRule {
  readonly platform: Platform;
  /** Whether the variant was written (os/arch/variant): then it must match; otherwise any variant does. */
  readonly exactVariant: boolean;
  readonly text: string;
}

/** The merged policy a pod of a namespace is placed under. */
export interface EffectivePlacementPolicy {
  /** undefined: every platform. */
  readonly platforms: readonly PlatformRule[] | undefined;
  readonly preferences: readonly { readonly platform: string; readonly weight: number }[];
  readonly unreadableImages: UnreadableAction;
  readonly exclude: readonly LabelSelector[];
  /** Which objects made it, for reasons ("ClusterPlacementPolicy cluster + PlacementPolicy team-a/arm-only"). */
  readonly source: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates an object's spec; the error names the object and the field. */
export function parsePlacementPolicySpec(spec: unknown, what: string): Parsed<PlacementPolicySpec> {
  const r = placementPolicySpecSchema.safeParse(spec ?? {});
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const path = ['spec', ...(issue?.path ?? [])].map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').slice(1);
  return { ok: false, error: `${what}: ${path}: ${issue?.message ?? 'invalid'}` };
}

function rule(text: string): PlatformRule {
  const p = parsePlatform(text);
  if (!p.ok) throw new Error(`platform ${text} passed validation but does not parse: ${p.error}`);
  const exactVariant = text.trim().split('/').length === 3;
  return { platform: p.value, exactVariant, text: exactVariant ? formatPlatform(p.value) : `${p.value.os}/${p.value.architecture}` };
}

/** Whether a rule admits a (node) platform. */
export function ruleAdmits(r: PlatformRule, p: Platform): boolean {
  return r.platform.os === p.os && r.platform.architecture === p.architecture && (!r.exactVariant || r.platform.variant === p.variant);
}

/** Whether some platform is admitted by both rules. */
function overlaps(x: PlatformRule, y: PlatformRule): boolean {
  if (x.platform.os !== y.platform.os || x.platform.architecture !== y.platform.architecture) return false;
  return !x.exactVariant || !y.exactVariant || x.platform.variant === y.platform.variant;
}

/** Rules admitted by both lists: the narrower of each pair that overlaps. */
function intersect(a: readonly PlatformRule[], b: readonly PlatformRule[]): PlatformRule[] {
  const out = new Map<string, PlatformRule>();
  for (const x of a) {
    for (const y of b) {
      if (!overlaps(x, y)) continue;
      const narrower = x.exactVariant ? x : y;
      out.set(`${narrower.text}|${narrower.exactVariant}`, narrower);
    }
  }
  return [...out.values()];
}

export interface NamedSpec {
  readonly name: string;
  readonly spec: PlacementPolicySpec;
}

/**
 * The cluster default and a namespace's policy, merged (rules in the header). `base`
 * is the built-in fallback (from serve's flags) when neither object says.
 */
export function mergePlacementPolicies(cluster: NamedSpec | undefined, namespaced: (NamedSpec & { namespace: string }) | undefined, base: UnreadableAction): Parsed<EffectivePlacementPolicy> {
  const c = cluster?.spec;
  const n = namespaced?.spec;
  const cRules = c?.platforms?.map(rule);
  const nRules = n?.platforms?.map(rule);
  const platforms = cRules && nRules ? intersect(cRules, nRules) : (nRules ?? cRules);
  const source = [
    cluster ? `${CLUSTER_PLACEMENT_POLICY_KIND} ${cluster.name}` : undefined,
    namespaced ? `${PLACEMENT_POLICY_KIND} ${namespaced.namespace}/${namespaced.name}` : undefined,
  ].filter(Boolean).join(' + ') || 'no policy';
  if (platforms && platforms.length === 0) {
    return { ok: false, error: `${source}: spec.platforms: [${nRules?.map((r) => r.text).join(', ')}] allows none of the cluster's platforms [${cRules?.map((r) => r.text).join(', ')}]` };
  }
  const preferences = (n?.preferences ?? c?.preferences ?? []).filter((p) => !platforms || platforms.some((r) => overlaps(r, rule(p.platform))));
  return {
    ok: true,
    value: {
      platforms,
      preferences,
      unreadableImages: n?.unreadableImages ?? c?.unreadableImages ?? base,
      exclude: [c?.excludePods, n?.excludePods].filter((s): s is NonNullable<typeof s> => s !== undefined),
      source,
    },
  };
}

function matchExpression(e: LabelSelectorRequirement, labels: Labels): boolean {
  const v = labels[e.key];
  switch (e.operator) {
    case 'In': return v !== undefined && (e.values ?? []).includes(v);
    case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
    case 'Exists': return v !== undefined;
    case 'DoesNotExist': return v === undefined;
    default: return false;
  }
}

/** metav1.LabelSelector semantics: matchLabels and matchExpressions ANDed; an empty selector matches every pod. */
export function selectsPod(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => matchExpression(e, labels));
}

/** The policy for a pod: undefined when an excludePods selector matches it (the pod is placed as with no policy). */
export function policyForPod(policy: EffectivePlacementPolicy, labels: Labels | null | undefined): EffectivePlacementPolicy | undefined {
  return policy.exclude.some((s) => selectsPod(s, labels ?? {})) ? undefined : policy;
}

/** Whether the policy lets a pod run on a node of this platform. */
export function policyAllows(policy: EffectivePlacementPolicy | undefined, p: Platform): boolean {
  return !policy?.platforms || policy.platforms.some((r) => ruleAdmits(r, p));
}

/**
 * The pod's cycle state under a policy: a node platform the policy does not allow fails
 * the NodePlatform filter (unresolvable: no preemption helps), and the supported
 * platforms listed in decisions are those both the images and the policy allow.
 */
export function applyPlacementPolicy(info: PodInfo, policy: EffectivePlacementPolicy | undefined): PodInfo {
  if (!policy?.platforms || info.images.length === 0) return info;
  const allowed = policy.platforms.map((r) => r.text).join(', ');
  const refused = new Map<string, Status>();
  return {
    ...info,
    supportedPlatforms: info.supportedPlatforms.filter((p) => policyAllows(policy, p) || policy.platforms?.some((r) => canRun(p, r.platform))),
    platformStatus(key, node) {
      if (policyAllows(policy, node)) return info.platformStatus(key, node);
      let st = refused.get(key);
      if (!st) refused.set(key, (st = Object.freeze(unresolvable('NodePlatform', `node platform ${formatPlatform(node)} is not allowed by ${policy.source} (allowed: ${allowed})`))));
      return st;
    },
  };
}

const policyFrameworks = new WeakMap<Framework, WeakMap<EffectivePlacementPolicy, Framework>>();

/**
 * The framework a pod under this policy is scored with: the policy's preferences as the
 * ArchitecturePreference score (replacing the flag's), at the profile's weight for it.
 * Memoised per (framework, policy); the same framework when the policy has none.
 */
export function frameworkForPolicy(fw: Framework, policy: EffectivePlacementPolicy | undefined): Framework {
  if (!policy || policy.preferences.length === 0 || !fw.platformAware) return fw;
  let byPolicy = policyFrameworks.get(fw);
  if (!byPolicy) policyFrameworks.set(fw, (byPolicy = new WeakMap()));
  const hit = byPolicy.get(policy);
  if (hit) return hit;
  const weights = compileArchitectureWeights(Object.fromEntries(policy.preferences.map((p) => [p.platform, p.weight])));
  if (!weights.ok) throw new Error(`placement policy preferences passed validation but do not compile: ${weights.error}`);
  const existing = fw.scores.find((s) => s.plugin.name === 'ArchitecturePreference');
  const weight = existing?.weight ?? (fw.profile === 'extender' ? EXTENDER_WEIGHTS : DEFAULT_WEIGHTS).ArchitecturePreference;
  const out: Framework = {
    ...fw,
    scores: [...fw.scores.filter((s) => s.plugin.name !== 'ArchitecturePreference'), { plugin: architecturePreference(weights.value), weight }],
    nextStartIndex: 0,
    scratch: [],
  };
  byPolicy.set(policy, out);
  return out;
}

/** What the webhook and the gate controller write under a policy (admissionPlatforms). */
export interface AdmissionPlatforms<T> {
  /** (os, architecture) pairs allowed; undefined: no constraint at all (no image was read and the policy names no platform). */
  readonly allowed: T[] | undefined;
  /** Per architecture the policy narrows to variants (every rule naming it names a variant): the canonical variants. */
  readonly variants: Record<string, string[]>;
  readonly preferences: PlatformPreference[];
}

/**
 * What the webhook and the gate controller write under a policy, as the scheduler and the
 * extender judge it: the (os, architecture) pairs the images have (`allowed`; undefined
 * when none was read: unreadableImages Unconstrained) and some rule names; per
 * architecture, the variants the policy narrows it to, written as the node's
 * `polyarch.io/arch-variant` label (affinity.ts requiredTerms); the policy's preferences
 * with their variants (affinity.ts preferredPlatformTerms), else the flag's.
 */
export function admissionPlatforms<T extends { readonly os: string; readonly architecture: string }>(
  allowed: readonly T[] | undefined, policy: EffectivePlacementPolicy | undefined, preferences: readonly { readonly architecture: string; readonly weight: number }[],
): AdmissionPlatforms<T | { os: string; architecture: string }> {
  const flag = preferences.map((p) => ({ architecture: p.architecture, weight: p.weight }));
  if (!policy) return { allowed: allowed ? [...allowed] : undefined, variants: {}, preferences: flag };
  const rules = policy.platforms;
  const pairs = (rs: readonly PlatformRule[]): { os: string; architecture: string }[] =>
    [...new Map(rs.map((r) => [`${r.platform.os}/${r.platform.architecture}`, { os: r.platform.os, architecture: r.platform.architecture }])).values()];
  const kept = !rules ? (allowed ? [...allowed] : undefined) : allowed ? allowed.filter((p) => rules.some((r) => r.platform.os === p.os && r.platform.architecture === p.architecture)) : pairs(rules);
  const variants: Record<string, string[]> = {};
  for (const p of kept ?? []) {
    const mine = (rules ?? []).filter((r) => r.platform.os === p.os && r.platform.architecture === p.architecture);
    if (mine.length > 0 && mine.every((r) => r.exactVariant)) variants[p.architecture] = [...new Set(mine.map((r) => r.platform.variant))].sort();
  }
  if (policy.preferences.length === 0) return { allowed: kept, variants, preferences: flag };
  return {
    allowed: kept,
    variants,
    preferences: policy.preferences.map((p) => {
      const r = rule(p.platform);
      return { architecture: r.platform.architecture, ...(r.exactVariant ? { variant: r.platform.variant } : {}), weight: p.weight };
    }),
  };
}
