/**
 * S1 for images placed without a constraint (their platforms could not be read and the
 * pod's unreadableImages verdict lets it run: unreadable-images.ts), for a pod placed
 * before (it names a pinned digest, the original recorded), and for entries a registry
 * withholds: what the cycle state narrows and what S3/S4 write.
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import { createFramework } from './framework.ts';
import { unconstrainedImage, type ImageInfo, type ImageLookup } from './pod-info.ts';
import { createRng } from '../rng.ts';
import { schedulePod } from './schedule.ts';

const fw = (() => {
  const r = createFramework();
  if (!r.ok) throw new Error(r.error);
  return r.value;
})();
const known = makeImages({ 'shop/arm:1': ['linux/arm64'], 'shop/idx:1': ['linux/amd64', 'linux/arm64'] });
const unreadable = 'docker.io/shop/secret:1';
const withUnreadable: ImageLookup = (ref) => (ref === unreadable ? unconstrainedImage(ref, 'registry said 401') : known(ref));
const asIndex = (lookup: ImageLookup): ImageLookup => (ref) => {
  const r = lookup(ref);
  return r?.ok ? { ...r, value: { ...r.value, source: 'index' } } : r;
};
const nodes = [makeNode('amd').build(), makeNode('arm').arch('arm64').build()];

describe('an image placed without a constraint', () => {
  it('is what unconstrainedImage says: a single manifest of no known platform, the reason as its warning', () => {
    expect(unconstrainedImage(unreadable, 'registry said 401')).toEqual({
      ok: true, value: { reference: unreadable, source: 'manifest', platforms: [], warnings: ['registry said 401'] }, unconstrained: 'registry said 401',
    } satisfies ImageInfo);
  });

  it('does not narrow the platforms: the images that were read do, and it runs as written on the node chosen', () => {
    const pod = makePod('p').image('shop/secret:1', 'secret').image('shop/arm:1', 'arm').build();
    const { decision } = schedulePod(fw, snapshotOf(nodes), pod, withUnreadable, createRng(1));
    expect([decision.node, decision.supportedPlatforms]).toEqual(['arm', ['linux/arm64']]);
    expect(decision.choices.map((c) => [c.container, c.image === c.original, c.platform, c.write])).toEqual([['secret', true, 'linux/arm64', false], ['arm', false, 'linux/arm64', true]]);
    expect(decision.boundPod?.spec.containers[0]?.image).toBe('shop/secret:1');
  });

  it('alone, it lets the pod run on any node', () => {
    const { decision } = schedulePod(fw, snapshotOf(nodes), makePod('p').image('shop/secret:1').build(), withUnreadable, createRng(1));
    expect([decision.outcome, decision.nodes.feasible, decision.supportedPlatforms]).toEqual(['scheduled', 2, []]);
  });
});

describe('what the pod names now', () => {
  it('a pod placed before on amd64 (it names the amd64 digest) and placed again on arm64 gets the arm64 variant written', () => {
    const idx = asIndex(known);
    const r = idx('docker.io/shop/idx:1');
    const digest = (arch: string) => (r?.ok ? r.value.platforms.find((p) => p.platform.architecture === arch)?.image : undefined) ?? '';
    const pod = makePod('p').image(digest('amd64'), 'web').annotation(SOURCE_IMAGES_ANNOTATION, JSON.stringify({ web: 'shop/idx:1' })).build();
    const { decision } = schedulePod(fw, snapshotOf([nodes[1] as (typeof nodes)[number]]), pod, idx, createRng(1));
    expect(decision.choices.map((c) => [c.original, c.image === digest('arm64'), c.write])).toEqual([['shop/idx:1', true, true]]);
    expect(decision.boundPod?.spec.containers[0]?.image).toBe(digest('arm64'));
  });

  it('an entry the registry withholds for the node\'s architecture still counts: the chosen variant is written', () => {
    const base = asIndex(known);
    const withheld: ImageLookup = (ref) => {
      const r = base(ref);
      if (!r?.ok || ref !== 'docker.io/shop/idx:1') return r;
      const v3 = { ...r.value.platforms[0], platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } } as (typeof r.value.platforms)[number];
      return { ...r, value: { ...r.value, withheld: [v3] } };
    };
    const pod = makePod('p').image('shop/idx:1', 'web').build();
    expect(schedulePod(fw, snapshotOf([nodes[0] as (typeof nodes)[number]]), pod, base, createRng(1)).decision.choices[0]?.write).toBe(false);
    expect(schedulePod(fw, snapshotOf([nodes[0] as (typeof nodes)[number]]), pod, withheld, createRng(1)).decision.choices[0]?.write).toBe(true);
  });
});
