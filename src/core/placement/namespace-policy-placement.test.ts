/**
 * A namespace's placement policy where pods are placed: the platforms it allows narrow
 * the pod's cycle (a node of another platform is refused, unresolvable, naming the policy),
 * its preferences replace the ArchitecturePreference score at the profile's weight; and the
 * merge, label selector and admission rules at their edges. Expected values from the rules
 * in docs/placement-policy.md, metav1.LabelSelector and the platform rules (an arm/v6
 * image runs on an arm/v7 node).
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import { parsePlatform } from '../platform/platform.ts';
import { createFramework, evaluateNodes, type Framework, type PlacementPolicy } from './framework.ts';
import {
  admissionPlatforms, applyPlacementPolicy, frameworkForPolicy, mergePlacementPolicies, parsePlacementPolicySpec, policyAllows, policyForPod, selectsPod,
  type EffectivePlacementPolicy,
} from './namespace-policy.ts';
import { preparePod } from './pod-info.ts';
import { createRng } from '../rng.ts';
import { schedulePod } from './schedule.ts';

const fw = (policy: PlacementPolicy = {}): Framework => {
  const r = createFramework(policy);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const spec = (s: unknown) => {
  const r = parsePlacementPolicySpec(s, 'test');
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const merged = (nsSpec: unknown, clusterSpec?: unknown): EffectivePlacementPolicy => {
  const r = mergePlacementPolicies(clusterSpec ? { name: 'cluster', spec: spec(clusterSpec) } : undefined, { namespace: 'team-a', name: 'p', spec: spec(nsSpec) }, 'Block');
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const plat = (t: string) => {
  const p = parsePlatform(t);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};
const images = makeImages({ 'shop/web:1': ['linux/amd64', 'linux/arm64', 'linux/riscv64'], 'shop/lib:1': ['linux/arm/v6', 'linux/amd64'] });
const nodes = [
  makeNode('amd-1').build(), makeNode('amd-2').build(), makeNode('arm-1').arch('arm64').build(), makeNode('riscv-1').arch('riscv64').build(), makeNode('armv7-1').arch('arm').variant('v7').build(),
];

describe('a policy\'s platforms in the cycle', () => {
  it('a node of a platform the policy does not allow is refused, unresolvable, naming the policy and what it allows; the pod goes where it may', () => {
    const policy = merged({ platforms: ['linux/arm64', 'linux/riscv64'] });
    const { decision } = schedulePod(fw(), snapshotOf(nodes), makePod('w').image('shop/web:1').build(), images, createRng(1), { policy });
    expect(decision.outcome).toBe('scheduled');
    expect(['arm-1', 'riscv-1']).toContain(decision.node);
    expect(decision.failures).toEqual({
      'node platform linux/amd64 is not allowed by PlacementPolicy team-a/p (allowed: linux/arm64, linux/riscv64)': 2,
      'node platform linux/arm/v7 is not allowed by PlacementPolicy team-a/p (allowed: linux/arm64, linux/riscv64)': 1,
    });
    expect(decision.supportedPlatforms).toEqual(['linux/arm64', 'linux/riscv64']);

    const info = preparePod(makePod('w').image('shop/web:1').build(), images);
    if (!info.ok) throw new Error(info.error);
    const ev = evaluateNodes(fw(), snapshotOf(nodes), applyPlacementPolicy(info.value, policy), nodes.map((n) => n.metadata.name ?? ''));
    expect(ev.feasible.map((n) => n.node).sort()).toEqual(['arm-1', 'riscv-1']);
    expect(ev.unresolvable).toEqual(['amd-1', 'amd-2', 'armv7-1']);
    expect(applyPlacementPolicy(info.value, policy).platformStatus('linux/amd64', plat('linux/amd64'))).toEqual({
      code: 'UnschedulableAndUnresolvable', plugin: 'NodePlatform', reasons: ['node platform linux/amd64 is not allowed by PlacementPolicy team-a/p (allowed: linux/arm64, linux/riscv64)'],
    });
  });

  it('the platforms a decision lists are those the images and the policy allow, an image variant counting for the nodes it runs on (arm/v6 on arm/v7)', () => {
    const pod = makePod('l').image('shop/lib:1').build();
    const exact = schedulePod(fw(), snapshotOf(nodes), pod, images, createRng(1), { policy: merged({ platforms: ['linux/arm/v7'] }) }).decision;
    expect([exact.node, exact.supportedPlatforms]).toEqual(['armv7-1', ['linux/arm/v6']]);
    const none = schedulePod(fw(), snapshotOf(nodes), pod, images, createRng(1), { policy: merged({ platforms: ['linux/riscv64'] }) }).decision;
    expect([none.outcome, none.supportedPlatforms]).toEqual(['unschedulable', []]);
    // Several rules: a platform is listed when a node some rule admits runs it.
    const two = schedulePod(fw(), snapshotOf(nodes), pod, images, createRng(1), { policy: merged({ platforms: ['linux/arm/v7', 'linux/amd64/v3'] }) }).decision;
    expect(two.supportedPlatforms).toEqual(['linux/amd64', 'linux/arm/v6']);
  });

  it('without platforms, or without a policy, the pod\'s cycle is its own', () => {
    const info = preparePod(makePod('w').image('shop/web:1').build(), images);
    if (!info.ok) throw new Error(info.error);
    expect(applyPlacementPolicy(info.value, merged({ preferences: [{ platform: 'linux/arm64', weight: 5 }] }))).toBe(info.value);
    expect(applyPlacementPolicy(info.value, undefined)).toBe(info.value);
    expect(policyAllows(undefined, plat('linux/s390x'))).toBe(true);
  });
});

describe('a policy\'s preferences in the score', () => {
  const pod = makePod('w').image('shop/web:1').build();
  const pair = [makeNode('amd').build(), makeNode('arm').arch('arm64').build()];
  const prefer = merged({ preferences: [{ platform: 'linux/arm64', weight: 100 }] });

  it('replace the ArchitecturePreference score, at the profile\'s weight for it (polyarch 2, extender 1, or the configured weight)', () => {
    for (const [policy, weight] of [[{}, 2], [{ profile: 'extender' as const }, 1], [{ architecturePreference: { 'linux/amd64': 100 }, weights: { ArchitecturePreference: 5 } }, 5]] as const) {
      const { decision } = schedulePod(fw(policy), snapshotOf(pair), pod, images, createRng(1), { policy: prefer });
      expect(decision.node, JSON.stringify(policy)).toBe('arm');
      const [best, other] = decision.candidates;
      expect([best?.scores['ArchitecturePreference'], other?.scores['ArchitecturePreference']]).toEqual([100, 0]);
      expect((best?.total ?? 0) - (other?.total ?? 0), JSON.stringify(policy)).toBe(100 * weight);
      expect(decision.reason.match(/ArchitecturePreference/g)).toHaveLength(1);
      expect(decision.reason).toContain(`ArchitecturePreference 100x${weight}`);
      // The profile's other scores stay.
      const others = fw(policy).scores.map((w) => w.plugin.name).filter((n) => n !== 'ArchitecturePreference');
      expect(Object.keys(best?.scores ?? {})).toEqual([...others, 'ArchitecturePreference']);
      expect(others.length).toBeGreaterThan(0);
    }
  });

  it('one framework per (framework, policy), reused; the same framework without preferences or for a platform-blind profile', () => {
    const base = fw();
    const once = frameworkForPolicy(base, prefer);
    expect(frameworkForPolicy(base, prefer)).toBe(once);
    expect(once).not.toBe(base);
    expect(frameworkForPolicy(base, merged({ platforms: ['linux/amd64'] }))).toBe(base);
    expect(frameworkForPolicy(base, undefined)).toBe(base);
    const blind = fw({ profile: 'kube-scheduler' });
    expect(frameworkForPolicy(blind, prefer)).toBe(blind);
    // Its own start index and buffers: the base framework's are not shared.
    expect([once.nextStartIndex, once.scratch]).toEqual([0, []]);
  });
});

describe('merge edges', () => {
  it('the intersection keeps every overlapping pair, the narrower of each; the OS counts; variants must agree when both name one', () => {
    const both = merged({ platforms: ['linux/arm64', 'linux/amd64/v3'] }, { platforms: ['linux/amd64', 'linux/arm64'] });
    expect(both.platforms?.map((r) => r.text).sort()).toEqual(['linux/amd64/v3', 'linux/arm64']);
    for (const [ns, cluster] of [[['windows/amd64'], ['linux/amd64']], [['linux/amd64/v2'], ['linux/amd64/v3']]]) {
      const r = mergePlacementPolicies({ name: 'cluster', spec: spec({ platforms: cluster }) }, { namespace: 'team-a', name: 'p', spec: spec({ platforms: ns }) }, 'Block');
      expect(r.ok, `${ns} in ${cluster}`).toBe(false);
    }
    expect(policyAllows(merged({ platforms: ['linux/amd64'] }), plat('windows/amd64'))).toBe(false);
  });

  it('the error lists both lists in full', () => {
    const r = mergePlacementPolicies({ name: 'cluster', spec: spec({ platforms: ['linux/amd64', 'linux/s390x'] }) }, { namespace: 'team-a', name: 'p', spec: spec({ platforms: ['linux/arm64', 'linux/riscv64'] }) }, 'Block');
    expect(!r.ok && r.error).toBe('ClusterPlacementPolicy cluster + PlacementPolicy team-a/p: spec.platforms: [linux/arm64, linux/riscv64] allows none of the cluster\'s platforms [linux/amd64, linux/s390x]');
  });

  it('no object: "no policy"; one excludePods selector: only it', () => {
    const none = mergePlacementPolicies(undefined, undefined, 'Unconstrained');
    expect(none.ok && none.value.source).toBe('no policy');
    const p = merged({ excludePods: { matchLabels: { tier: 'infra' } } });
    expect(p.exclude).toEqual([{ matchLabels: { tier: 'infra' } }]);
    expect(policyForPod(p, { tier: 'web' })).toBe(p);
    expect(policyForPod(p, { tier: 'infra' })).toBeUndefined();
  });
});

describe('selectsPod: metav1.LabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    [{}, true],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'web', tier: 'back' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In' }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
  ])('%j: %s', (selector, want) => {
    expect(selectsPod(selector as never, labels)).toBe(want);
  });
});

describe('admissionPlatforms edges', () => {
  it('pairs of another OS are not kept, and only the rules of the pair\'s OS narrow its variants (sorted)', () => {
    const out = admissionPlatforms([{ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'arm64' }], merged({ platforms: ['linux/amd64/v4', 'linux/amd64/v2', 'linux/arm64'] }), []);
    expect(out.allowed).toEqual([{ os: 'linux', architecture: 'amd64' }]);
    expect(out.variants).toEqual({ amd64: ['v2', 'v4'] });
    const mixed = admissionPlatforms([{ os: 'linux', architecture: 'amd64' }], merged({ platforms: ['linux/amd64/v3', 'windows/amd64'] }), []);
    expect(mixed.variants).toEqual({ amd64: ['v3'] });
  });

  it('a policy without platforms keeps the images\' pairs and narrows no variant; without preferences the flag\'s are written', () => {
    const allowed = [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }];
    const flag = [{ architecture: 'arm64', weight: 30 }];
    expect(admissionPlatforms(allowed, merged({ unreadableImages: 'Block' }), flag)).toEqual({ allowed, variants: {}, preferences: flag });
    expect(admissionPlatforms(allowed, merged({ platforms: ['linux/arm64'] }), flag)).toEqual({ allowed: [allowed[1]], variants: {}, preferences: flag });
  });
});
