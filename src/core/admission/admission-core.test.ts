import { describe, expect, it } from 'vitest';
import type { ImagePlatforms } from '../image/types.ts';
import { parsePlatform } from '../platform/platform.ts';
import { affinityPatch, annotationPatch, gatePatch, hasRequiredArchAffinity, imagePatch, preferredPlatformTerms, removeGatePatch, requiredExpressions, termsPatch } from './affinity.ts';
import { parseSourceImages } from '../k8s/annotations.ts';
import { escapePointer, pointer } from './json-patch.ts';
import { affinityTarget, podPlatforms, type ResolvedImage } from './platforms.ts';
import type { PodLike } from './pod.ts';

function images(...specs: [string, string[], ImagePlatforms['source']?][]): ResolvedImage[] {
  return specs.map(([ref, plats, source], index) => ({
    image: { kind: 'containers', index, container: `c${index}`, image: ref },
    platforms: {
      reference: ref, source: source ?? 'index', warnings: [],
      platforms: plats.map((t) => {
        const r = parsePlatform(t);
        if (!r.ok) throw new Error(r.error);
        return { platform: r.value, digest: `sha256:${'0'.repeat(64)}`, image: `${ref}@sha256:${'0'.repeat(64)}` };
      }),
    },
  }));
}


describe('JSON Pointer', () => {
  it('escapes ~ before / (RFC 6901)', () => {
    expect(escapePointer('polyarch.io/source-images')).toBe('polyarch.io~1source-images');
    expect(escapePointer('a~/b')).toBe('a~0~1b');
    expect(pointer('metadata', 'annotations', 'x/y', 0)).toBe('/metadata/annotations/x~1y/0');
  });
});

describe('pod platforms', () => {
  it('intersects (os, arch) over containers and marks per-arch tags', () => {
    const p = podPlatforms(images(['a', ['linux/amd64', 'linux/arm64/v8', 'linux/riscv64']], ['b', ['linux/arm64', 'linux/amd64', 'windows/amd64']]));
    expect(p.allowed.map((x) => `${x.os}/${x.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(p.perArchTag).toBe(false);
    expect(podPlatforms(images(['t', ['linux/amd64'], 'tag-convention'])).perArchTag).toBe(true);
  });

  it('keeps one os, Linux first, so os x arch admits only pairs an image has', () => {
    expect(affinityTarget([{ os: 'linux', architecture: 'arm64' }, { os: 'windows', architecture: 'amd64' }])).toEqual({ os: 'linux', architectures: ['arm64'] });
    expect(affinityTarget([{ os: 'windows', architecture: 'amd64' }])).toEqual({ os: 'windows', architectures: ['amd64'] });
    expect(affinityTarget([])).toBeUndefined();
  });
});

describe('affinity patches', () => {
  const req = requiredExpressions({ os: 'linux', architectures: ['arm64'] });

  it('treats null like absent at every level', () => {
    expect(affinityPatch({ spec: { affinity: null } }, req, [])).toEqual([{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: req }] } } } }]);
    expect(affinityPatch({ spec: { affinity: { nodeAffinity: null } } }, req, [])[0]?.path).toBe('/spec/affinity/nodeAffinity');
    const ops = affinityPatch({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: null }, { matchExpressions: [] }] } } } } }, req, []);
    expect(ops.map((o) => o.path)).toEqual([
      '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions',
      '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/matchExpressions/-',
      '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/matchExpressions/-',
    ]);
  });

  it('counts a pod as pinned only when every term constrains the arch', () => {
    const term = (key: string) => ({ matchExpressions: [{ key, operator: 'In', values: ['x'] }] });
    const pod = (...terms: object[]): PodLike => ({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } });
    expect(hasRequiredArchAffinity(pod(term('kubernetes.io/arch'), term('kubernetes.io/arch')))).toBe(true);
    expect(hasRequiredArchAffinity(pod(term('kubernetes.io/arch'), term('zone')))).toBe(false);
    expect(hasRequiredArchAffinity({ spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } })).toBe(true);
  });

  it('creates the annotation map when there is none, and guards gate removal with a test', () => {
    expect(annotationPatch({ metadata: { annotations: null } }, { 'a/b': 'c' })).toEqual([{ op: 'add', path: '/metadata/annotations', value: { 'a/b': 'c' } }]);
    expect(annotationPatch({ metadata: { annotations: {} } }, { 'a/b': 'c' })).toEqual([{ op: 'add', path: '/metadata/annotations/a~1b', value: 'c' }]);
    expect(removeGatePatch({ spec: { schedulingGates: [{ name: 'x' }, { name: 'polyarch.io/platform' }] } })).toEqual([
      { op: 'test', path: '/spec/schedulingGates/1/name', value: 'polyarch.io/platform' },
      { op: 'remove', path: '/spec/schedulingGates/1' },
    ]);
  });

  it('adds the scheduling gate once: to the list there is, or as a new list', () => {
    expect(gatePatch({ spec: { schedulingGates: [{ name: 'polyarch.io/platform' }] } })).toEqual([]);
    expect(gatePatch({ spec: { schedulingGates: [{ name: 'other' }] } })).toEqual([{ op: 'add', path: '/spec/schedulingGates/-', value: { name: 'polyarch.io/platform' } }]);
    expect(gatePatch({ spec: {} })).toEqual([{ op: 'add', path: '/spec/schedulingGates', value: [{ name: 'polyarch.io/platform' }] }]);
  });

  it('replaces only the images that change', () => {
    const at = (index: number, image: string) => ({ kind: 'containers' as const, index, container: `c${index}`, image });
    expect(imagePatch([{ image: at(0, 'r/a:1'), to: 'r/a:1' }, { image: at(1, 'r/b:1'), to: 'r/b@sha256:1' }])).toEqual([{ op: 'replace', path: '/spec/containers/1/image', value: 'r/b@sha256:1' }]);
  });

  it('keeps preferences whose weight node affinity accepts (1-100), once each', () => {
    const terms = preferredPlatformTerms(['amd64', 'arm64'], [
      { architecture: 'amd64', weight: 0 }, { architecture: 'amd64', weight: 101 }, { architecture: 'arm64', weight: 100 }, { architecture: 'arm64', weight: 7 }, { architecture: 'riscv64', weight: 50 }, { architecture: 'amd64', weight: 1 },
    ]);
    expect(terms.map((t) => [t.weight, t.preference.matchExpressions?.[0]?.values])).toEqual([[100, ['arm64']], [1, ['amd64']]]);
  });

  it('crosses several required terms with the user\'s at creation, and only ANDs the architectures in once the pod is gated', () => {
    const two = [
      [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }],
      [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }, { key: 'polyarch.io/arch-variant', operator: 'In', values: ['v8.2'] }],
    ];
    const zone = (z: string) => ({ matchExpressions: [{ key: 'zone', operator: 'In', values: [z] }] });
    const user: PodLike = { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zone('a'), zone('b')] } } } } };
    const created = termsPatch(user, two, [], true);
    expect(created.exact).toBe(true);
    expect(created.ops).toEqual([{
      op: 'add', path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution',
      value: { nodeSelectorTerms: [
        { matchExpressions: [...zone('a').matchExpressions, ...two[0]!] }, { matchExpressions: [...zone('a').matchExpressions, ...two[1]!] },
        { matchExpressions: [...zone('b').matchExpressions, ...two[0]!] }, { matchExpressions: [...zone('b').matchExpressions, ...two[1]!] },
      ] },
    }]);
    const gated = termsPatch(user, two, [], false);
    expect(gated.exact).toBe(false);
    expect(gated.ops.map((o) => [o.op, o.path, 'value' in o ? o.value : undefined])).toEqual([0, 1].flatMap((i) => [
      ['add', `/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/${i}/matchExpressions/-`, { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }],
      ['add', `/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/${i}/matchExpressions/-`, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }],
    ]));
    // No terms of the user's: set as they are.
    expect(termsPatch({ spec: {} }, two, [], false).ops).toEqual([{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: two.map((t) => ({ matchExpressions: t })) } } } }]);
  });

  it('reads back only well-formed source-image records', () => {
    expect(parseSourceImages('{"a":"x:1","b":2}')).toEqual({ a: 'x:1' });
    expect(parseSourceImages('[1]')).toBeUndefined();
    expect(parseSourceImages('{')).toBeUndefined();
  });
});
