import { describe, expect, it } from 'vitest';
import { nodePlatform, parsePlatform } from '../platform/platform.ts';
import { preferredPlatformTerms, requiredTerms } from '../admission/affinity.ts';
import { affinityTarget } from '../admission/platforms.ts';
import { matchNodeSelector, matchTerm } from '../k8s/node-selector.ts';
import { compileArchitectureWeights } from './scores/architecture-preference.ts';
import {
  admissionPlatforms, mergePlacementPolicies, parsePlacementPolicySpec, policyAllows, policyForPod, type PlacementPolicySpec,
} from './namespace-policy.ts';

const spec = (s: unknown): PlacementPolicySpec => {
  const r = parsePlacementPolicySpec(s, 'test');
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const cluster = (s: unknown) => ({ name: 'cluster', spec: spec(s) });
const ns = (s: unknown) => ({ namespace: 'team-a', name: 'p', spec: spec(s) });
const plat = (t: string) => {
  const p = parsePlatform(t);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

describe('mergePlacementPolicies', () => {
  const cases: { name: string; cluster?: unknown; ns?: unknown; base?: 'Block' | 'Unconstrained'; allows: string[]; refuses: string[]; unreadable: string; preferences: string[] }[] = [
    { name: 'no objects: every platform, the built-in fallback', allows: ['linux/amd64', 'linux/riscv64'], refuses: [], unreadable: 'Unconstrained', preferences: [] },
    { name: 'no objects, flag 0: Block', base: 'Block', allows: ['linux/arm64'], refuses: [], unreadable: 'Block', preferences: [] },
    { name: 'cluster only', cluster: { platforms: ['linux/amd64', 'linux/arm64'], unreadableImages: 'Block' }, allows: ['linux/amd64/v3', 'linux/arm64'], refuses: ['linux/riscv64'], unreadable: 'Block', preferences: [] },
    { name: 'namespace only', ns: { platforms: ['linux/arm64'] }, allows: ['linux/arm64/v8'], refuses: ['linux/amd64'], unreadable: 'Unconstrained', preferences: [] },
    { name: 'namespace narrows the cluster (intersection)', cluster: { platforms: ['linux/amd64', 'linux/arm64'] }, ns: { platforms: ['linux/arm64', 'linux/riscv64'] }, allows: ['linux/arm64'], refuses: ['linux/amd64', 'linux/riscv64'], unreadable: 'Unconstrained', preferences: [] },
    { name: 'a variant narrows an architecture', cluster: { platforms: ['linux/amd64'] }, ns: { platforms: ['linux/amd64/v3'] }, allows: ['linux/amd64/v3'], refuses: ['linux/amd64/v2', 'linux/amd64'], unreadable: 'Unconstrained', preferences: [] },
    { name: 'namespace preferences replace the cluster\'s; its fallback wins', cluster: { preferences: [{ platform: 'linux/amd64', weight: 50 }], unreadableImages: 'Block' }, ns: { preferences: [{ platform: 'linux/arm64', weight: 80 }], unreadableImages: 'Unconstrained' }, allows: ['linux/amd64'], refuses: [], unreadable: 'Unconstrained', preferences: ['linux/arm64=80'] },
    { name: 'cluster preferences when the namespace has none; disallowed ones dropped', cluster: { preferences: [{ platform: 'linux/amd64', weight: 50 }, { platform: 'linux/arm64', weight: 20 }] }, ns: { platforms: ['linux/arm64'] }, allows: ['linux/arm64'], refuses: ['linux/amd64'], unreadable: 'Unconstrained', preferences: ['linux/arm64=20'] },
  ];
  it.each(cases)('$name', (c) => {
    const r = mergePlacementPolicies(c.cluster ? cluster(c.cluster) : undefined, c.ns ? ns(c.ns) : undefined, c.base ?? 'Unconstrained');
    if (!r.ok) throw new Error(r.error);
    for (const p of c.allows) expect(policyAllows(r.value, plat(p)), p).toBe(true);
    for (const p of c.refuses) expect(policyAllows(r.value, plat(p)), p).toBe(false);
    expect(r.value.unreadableImages).toBe(c.unreadable);
    expect(r.value.preferences.map((p) => `${p.platform}=${p.weight}`)).toEqual(c.preferences);
  });

  it('an empty intersection is an error naming both lists', () => {
    const r = mergePlacementPolicies(cluster({ platforms: ['linux/amd64'] }), ns({ platforms: ['linux/arm64'] }), 'Block');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('ClusterPlacementPolicy cluster + PlacementPolicy team-a/p: spec.platforms: [linux/arm64] allows none of the cluster\'s platforms [linux/amd64]');
  });

  it('excludePods of either object leaves a matched pod out', () => {
    const r = mergePlacementPolicies(cluster({ excludePods: { matchLabels: { tier: 'infra' } } }), ns({ platforms: ['linux/arm64'], excludePods: { matchExpressions: [{ key: 'legacy', operator: 'Exists' }] } }), 'Block');
    if (!r.ok) throw new Error(r.error);
    expect(policyForPod(r.value, { tier: 'infra' })).toBeUndefined();
    expect(policyForPod(r.value, { legacy: 'yes' })).toBeUndefined();
    expect(policyForPod(r.value, { tier: 'web' })).toBe(r.value);
    expect(policyForPod(r.value, null)).toBe(r.value);
  });
});

describe('parsePlacementPolicySpec', () => {
  it.each([
    [{ platforms: ['linux/sparc'] }, 'x: spec.platforms[0]: not a platform'],
    [{ platforms: [] }, 'x: spec.platforms:'],
    [{ preferences: [{ platform: 'linux/arm64', weight: 101 }] }, 'x: spec.preferences[0].weight:'],
    [{ unreadableImages: 'Maybe' }, 'x: spec.unreadableImages:'],
    [{ platform: ['linux/arm64'] }, 'x: spec:'],
  ])('%j is refused with the field named', (s, want) => {
    const r = parsePlacementPolicySpec(s, 'x');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.startsWith(want), r.error).toBe(true);
  });
});

describe('admissionPlatforms', () => {
  it('keeps the (os, arch) pairs a rule names, the variants a rule narrows an architecture to, and the preferences with their variants', () => {
    const r = mergePlacementPolicies(undefined, ns({ platforms: ['linux/amd64/v3', 'linux/arm64'], preferences: [{ platform: 'linux/amd64/v3', weight: 30 }, { platform: 'linux/amd64', weight: 60 }] }), 'Block');
    if (!r.ok) throw new Error(r.error);
    const out = admissionPlatforms([{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'riscv64' }], r.value, [{ architecture: 'riscv64', weight: 100 }]);
    expect(out.allowed?.map((p) => p.architecture)).toEqual(['amd64', 'arm64']);
    expect(out.variants).toEqual({ amd64: ['v3'] });
    expect(out.preferences).toEqual([{ architecture: 'amd64', variant: 'v3', weight: 30 }, { architecture: 'amd64', weight: 60 }]);
  });
  it('without a policy: as given (the flag\'s preferences)', () => {
    const out = admissionPlatforms([{ os: 'linux', architecture: 'amd64' }], undefined, [{ architecture: 'amd64', weight: 5 }]);
    expect(out).toEqual({ allowed: [{ os: 'linux', architecture: 'amd64' }], variants: {}, preferences: [{ architecture: 'amd64', weight: 5 }] });
  });
  it('no image read (unreadableImages Unconstrained): the policy\'s platforms, or no constraint at all', () => {
    const r = mergePlacementPolicies(undefined, ns({ platforms: ['linux/arm64/v8', 'linux/riscv64'] }), 'Unconstrained');
    if (!r.ok) throw new Error(r.error);
    expect(admissionPlatforms(undefined, r.value, [])).toEqual({ allowed: [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'riscv64' }], variants: { arm64: ['v8'] }, preferences: [] });
    expect(admissionPlatforms(undefined, undefined, []).allowed).toBeUndefined();
  });
});

describe('the webhook\'s node affinity under a policy with variants, judged as the scheduler judges the policy', () => {
  // Nodes as the project defines their platform: kubernetes.io/arch plus the optional polyarch.io/arch-variant label (core/platform nodePlatform).
  const nodes = [
    ...['', 'v1', 'v2', 'v3', 'v4'].map((v) => ({ arch: 'amd64', variant: v })),
    ...['', 'v8', 'v9'].map((v) => ({ arch: 'arm64', variant: v })),
    ...['', 'v7', 'v6'].map((v) => ({ arch: 'arm', variant: v })),
    { arch: 'riscv64', variant: '' },
  ].map(({ arch, variant }) => {
    const labels: Record<string, string> = { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux', ...(variant ? { 'polyarch.io/arch-variant': variant } : {}) };
    const platform = nodePlatform({ metadata: { name: `${arch}-${variant || 'none'}`, labels } });
    if (!platform.ok) throw new Error(platform.error);
    return { name: `${arch}-${variant || 'none'}`, labels, platform: platform.value };
  });
  const images = ['amd64', 'arm64', 'arm', 'riscv64'].map((architecture) => ({ os: 'linux', architecture }));
  it.each([
    { platforms: ['linux/amd64/v3', 'linux/arm64'] },
    { platforms: ['linux/arm64/v8', 'linux/amd64/v1', 'linux/riscv64'] },
    { platforms: ['linux/amd64/v2', 'linux/amd64/v4', 'linux/arm/v6'] },
    { platforms: ['linux/arm/v7', 'linux/amd64'], preferences: [{ platform: 'linux/arm/v7', weight: 90 }, { platform: 'linux/arm', weight: 20 }, { platform: 'linux/amd64/v3', weight: 50 }] },
    { platforms: ['linux/arm64/v9', 'linux/amd64/v3', 'linux/amd64'], preferences: [{ platform: 'linux/arm64/v8', weight: 70 }, { platform: 'linux/arm64', weight: 10 }, { platform: 'linux/amd64/v1', weight: 40 }] },
  ])('$platforms $preferences', (s) => {
    const r = mergePlacementPolicies(undefined, ns(s), 'Block');
    if (!r.ok) throw new Error(r.error);
    const out = admissionPlatforms(images, r.value, []);
    const target = affinityTarget(out.allowed ?? []);
    if (!target) throw new Error('no target');
    const required = { nodeSelectorTerms: requiredTerms(target, out.variants).map((t) => ({ matchExpressions: t.map((e) => ({ ...e, values: e.values ? [...e.values] : undefined })) })) };
    const preferred = preferredPlatformTerms(target.architectures, out.preferences);
    const weightOf = compileArchitectureWeights(Object.fromEntries(r.value.preferences.map((p) => [p.platform, p.weight])));
    if (!weightOf.ok) throw new Error(weightOf.error);
    for (const n of nodes) {
      expect(matchNodeSelector(required as never, n), `${n.name} admitted`).toBe(policyAllows(r.value, n.platform));
      const sum = preferred.filter((t) => matchTerm(t.preference as never, n)).reduce((a, t) => a + t.weight, 0);
      expect(sum, `${n.name} preferred weight`).toBe(policyAllows(r.value, n.platform) ? weightOf.value(n.platform) : sum);
    }
  });
});
