/**
 * S1 (the pod's cycle state) at its edges: refusals name the container field; every image
 * that did not resolve is listed; the platforms of images that share none are spelled
 * out; the variant for a node is the exact one, else the highest lower level that runs.
 */
import { describe, expect, it } from 'vitest';
import { makeImage, makeImages, makePod } from '../../../test/builders/index.ts';
import { parsePlatform, type Platform } from '../platform/platform.ts';
import { bestVariant, lookupFromMap, preparePod, type ImageInfo } from './pod-info.ts';

const platform = (s: string): Platform => {
  const p = parsePlatform(s);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

describe('preparePod refusals', () => {
  const images = makeImages({ 'shop/web:1': ['linux/amd64'], 'shop/arm:1': ['linux/arm64'] });

  it('a container without an image, or with one that does not parse, is invalid, naming the field', () => {
    const built = makePod('p').image('shop/web:1', 'web').build();
    const noImage = { ...built, spec: { ...built.spec, containers: [{ ...built.spec.containers[0]!, image: '' }] } };
    expect(preparePod(noImage, images)).toEqual({ ok: false, kind: 'invalid', error: 'spec.containers[0].image: missing' });
    const badInit = makePod('p').init('Shop//Bad:', 'setup').image('shop/web:1', 'web').build();
    const r = preparePod(badInit, images);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe('invalid');
    expect(!r.ok && r.error).toMatch(/^spec\.initContainers\[0\]\.image: /);
  });

  it('every image that did not resolve is listed', () => {
    const missing = lookupFromMap(new Map<string, ImageInfo>([['docker.io/shop/gone:1', { ok: false, error: 'image shop/gone:1: manifest unknown' }]]));
    const pod = makePod('p').image('shop/gone:1', 'a').image('shop/never:1', 'b').build();
    expect(preparePod(pod, missing)).toEqual({ ok: false, kind: 'images', error: 'image shop/gone:1: manifest unknown; image shop/never:1 was not resolved' });
  });

  it('images that share no platform are refused, each with its platforms', () => {
    const pod = makePod('p').image('shop/web:1', 'a').image('shop/arm:1', 'b').build();
    expect(preparePod(pod, images)).toEqual({ ok: false, kind: 'images', error: "the pod's images share no platform: shop/web:1 (linux/amd64), shop/arm:1 (linux/arm64)" });
    const empty = lookupFromMap(new Map<string, ImageInfo>([['docker.io/shop/none:1', { ok: true, value: makeImage('shop/none:1', []) }]]));
    const r = preparePod(makePod('p').image('shop/none:1').build(), empty);
    expect(!r.ok && r.error).toBe("the pod's images share no platform: shop/none:1 (no platforms)");
  });

  it('without a lookup (platform-blind) images are taken as written; priority defaults to spec.priority', () => {
    const r = preparePod(makePod('p').image('shop/unknown:1').priority(9).build(), undefined);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.images.map((i) => [i.original, i.reference, i.platforms.length])).toEqual([['shop/unknown:1', 'docker.io/shop/unknown:1', 0]]);
    expect(r.value.supportedPlatforms).toEqual([]);
    expect(r.value.priority).toBe(9);
  });

  it("the NodePlatform refusal names the first image the node can't run and what it has", () => {
    const r = preparePod(makePod('p').image('shop/web:1').build(), images);
    if (!r.ok) throw new Error(r.error);
    const st = r.value.platformStatus('linux/arm64', platform('linux/arm64'));
    expect(st).toEqual({ code: 'UnschedulableAndUnresolvable', plugin: 'NodePlatform', reasons: ["node(s) can't run any platform of image shop/web:1 (has linux/amd64)"] });
    expect(r.value.platformStatus('linux/amd64', platform('linux/amd64')).code).toBe('Success');
  });
});

describe('bestVariant', () => {
  const variants = (...ps: string[]) => makeImage('shop/lib:1', ps).platforms;
  const pick = (ps: string[], node: string): string | undefined => {
    const v = bestVariant(variants(...ps), platform(node));
    return v ? `${v.platform.architecture}/${v.platform.variant}` : undefined;
  };

  it('the exact variant first, else the highest lower level that runs, in any order', () => {
    expect(pick(['linux/arm/v6', 'linux/arm/v7'], 'linux/arm/v7')).toBe('arm/v7');
    expect(pick(['linux/arm/v7', 'linux/arm/v6'], 'linux/arm/v7')).toBe('arm/v7');
    expect(pick(['linux/arm/v5', 'linux/arm/v6'], 'linux/arm/v7')).toBe('arm/v6');
    expect(pick(['linux/arm/v6', 'linux/arm/v5'], 'linux/arm/v7')).toBe('arm/v6');
    expect(pick(['linux/arm/v7'], 'linux/arm/v6')).toBeUndefined();
    expect(pick(['linux/amd64/v2', 'linux/amd64'], 'linux/amd64/v3')).toBe('amd64/v2');
    expect(pick(['linux/amd64'], 'linux/amd64/v3')).toBe('amd64/'); // the baseline, written without a variant
  });
});
