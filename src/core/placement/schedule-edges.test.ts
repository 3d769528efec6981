/**
 * S2-S4 at their edges: the bound pod keeps what it had (annotations, init containers)
 * while its images are pinned, priority comes from the option, then spec.priority, then 0,
 * a refusal before any cycle says why and lists nothing, and placing assumes the pod so
 * the next one sees it.
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import { createFramework, type Framework, type PlacementPolicy } from './framework.ts';
import { createRng } from '../rng.ts';
import { chooseImages, placePod, placePods, schedulePod } from './schedule.ts';
import { DECISION_ANNOTATION } from '../k8s/annotations.ts';
import { NodeInfo } from './node-info.ts';
import { prepared } from '../../../test/builders/index.ts';

const fw = (policy: PlacementPolicy = {}): Framework => {
  const r = createFramework(policy);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const images = makeImages({ 'shop/web:1': ['linux/amd64', 'linux/arm64'], 'shop/init:1': ['linux/amd64', 'linux/arm64'], 'shop/armonly:1': ['linux/arm64'] });
const digestFor = (ref: string, arch: string): string => {
  const r = images(ref);
  return r?.ok ? (r.value.platforms.find((p) => p.platform.architecture === arch)?.image ?? '') : '';
};

describe('schedulePod edges', () => {
  it('the bound pod keeps its annotations and pins init containers too', () => {
    const pod = makePod('w').init('shop/init:1', 'setup').image('shop/web:1', 'web').annotation('team', 'shop').build();
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('arm').arch('arm64').build()]), pod, images, createRng(1));
    const bound = decision.boundPod!;
    expect(bound.metadata.annotations?.['team']).toBe('shop');
    expect(bound.spec.initContainers?.map((c) => c.image)).toEqual([digestFor('docker.io/shop/init:1', 'arm64')]);
    expect(bound.spec.containers.map((c) => c.image)).toEqual([digestFor('docker.io/shop/web:1', 'arm64')]);
    expect(decision.choices.map((c) => [c.container, c.init, c.exact])).toEqual([['setup', true, true], ['web', false, true]]);
  });

  it('priority: the option, else spec.priority, else 0', () => {
    const snap = snapshotOf([makeNode('a').build()]);
    const pod = makePod('p').image('shop/web:1').priority(7).build();
    expect(schedulePod(fw(), snap, pod, images, createRng(1)).decision.priority).toBe(7);
    expect(schedulePod(fw(), snap, pod, images, createRng(1), { priority: 3 }).decision.priority).toBe(3);
    expect(schedulePod(fw(), snap, makePod('q').image('shop/web:1').build(), images, createRng(1)).decision.priority).toBe(0);
  });

  it('a pod no node platform can run is refused before any cycle, with nothing examined', () => {
    const pod = makePod('x').image('shop/armonly:1', 'a').image('docker.io/library/amd64only:1', 'b').build();
    const only = makeImages({ 'shop/armonly:1': ['linux/arm64'], 'library/amd64only:1': ['linux/amd64'] });
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), pod, only, createRng(1));
    expect(decision).toMatchObject({ outcome: 'unschedulable', node: null, nodes: { total: 1, evaluated: 0, feasible: 0 }, failures: {}, supportedPlatforms: [], choices: [], candidates: [], boundPod: null });
    expect(decision.reason).toMatch(/^0\/1 nodes are available: the pod's images share no platform/);
    const none = schedulePod(fw(), snapshotOf([]), pod, only, createRng(1)).decision;
    expect(none.reason).toBe('no nodes available to schedule pods');
  });

  it('an invalid pod is refused as invalid, saying so', () => {
    const bad = makePod('bad').requests({ cpu: 'lots' }).build();
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), bad, images, createRng(1));
    expect(decision.outcome).toBe('invalid');
    expect(decision.reason).toMatch(/^invalid pod: /);
  });

  it('placing assumes the pod: the next one sees the node full', () => {
    const snap = snapshotOf([makeNode('a').allocatable({ cpu: '1', memory: '1Gi' }).build()]);
    const q = (name: string) => ({ pod: makePod(name).image('shop/web:1').requests({ cpu: '600m' }).build(), priority: 0 });
    const [first, second] = placePods(fw(), snap, [q('one'), q('two')], images, createRng(1));
    expect(first?.outcome).toBe('scheduled');
    expect(second?.outcome).toBe('unschedulable');
    expect(snap.nodeOf('default/one')?.name).toBe('a');
    // The same pod again: already assumed, refused as invalid rather than counted twice.
    const again = placePod(fw(), snap, makePod('one').image('shop/web:1').requests({ cpu: '100m' }).build(), images, createRng(1));
    expect(again.outcome).toBe('invalid');
    expect(again.reason).toBe('pod default/one is already assumed on a');
  });
});

describe('S3/S4 records', () => {
  it('the decision annotation says node (platform): why', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('arm').arch('arm64').build()]), makePod('w').image('shop/web:1').build(), images, createRng(1));
    expect(decision.boundPod?.metadata.annotations?.[DECISION_ANNOTATION]).toBe(`arm (linux/arm64): ${decision.reason}`);
    expect(decision.reason).toMatch(/^best of 1 feasible node\(s\) of 1, score /);
  });

  it('placePods gives each decision the queue\'s priority (from the PriorityClass), not spec.priority', () => {
    const [d] = placePods(fw(), snapshotOf([makeNode('a').build()]), [{ pod: makePod('p').image('shop/web:1').priority(1).build(), priority: 1000 }], images, createRng(1));
    expect(d?.priority).toBe(1000);
  });

  it('chooseImages: no choice on a node of no known platform, or without a variant of every image', () => {
    const pod = prepared(makePod('a').image('shop/armonly:1').build(), images);
    expect(chooseImages(pod, new NodeInfo(makeNode('odd').arch('sparc').build()))).toBeUndefined();
    expect(chooseImages(pod, new NodeInfo(makeNode('x86').build()))).toBeUndefined();
    expect(chooseImages(pod, new NodeInfo(makeNode('arm').arch('arm64').build()))?.map((c) => [c.container, c.platform, c.exact])).toEqual([['c0', 'linux/arm64', true]]);
    // Pinning is the framework's choice (pinImages), off unless asked: a catalog image is written anyway, an index's only entry is not.
    const index = makeImages({ 'shop/idx:1': ['linux/arm64'] });
    const fromIndex = (ref: string) => { const r = index(ref); return r?.ok ? { ...r, value: { ...r.value, source: 'index' as const } } : r; };
    const idx = prepared(makePod('i').image('shop/idx:1').build(), fromIndex);
    const armNode = new NodeInfo(makeNode('arm').arch('arm64').build());
    expect([chooseImages(idx, armNode)?.[0]?.write, chooseImages(idx, armNode, true)?.[0]?.write]).toEqual([false, true]);
  });
});

describe('S2 texts and order', () => {
  const many = makeImages({ 'shop/legacy:2': ['linux/s390x', 'linux/amd64', 'linux/ppc64le'], 'shop/plain:1': ['linux/amd64'] });

  it('a node that cannot run an image is refused naming the image and every platform it has', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('arm').arch('arm64').build()]), makePod('l').image('shop/legacy:2').build(), many, createRng(1));
    expect(decision.failures).toEqual({ "node(s) can't run any platform of image shop/legacy:2 (has linux/s390x, linux/amd64, linux/ppc64le)": 1 });
  });

  it('the platforms a pod can run on are listed sorted (os, architecture, variant)', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), makePod('l').image('shop/legacy:2').build(), many, createRng(1));
    expect(decision.supportedPlatforms).toEqual(['linux/amd64', 'linux/ppc64le', 'linux/s390x']);
  });

  it('an image built for plain amd64 runs on an x86-64-v3 node: chosen as the compatible lower level', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('v3').variant('v3').build()]), makePod('p').image('shop/plain:1').build(), many, createRng(1));
    expect([decision.node, decision.choices.map((c) => [c.platform, c.exact])]).toEqual(['v3', [['linux/amd64', false]]]);
  });
});
