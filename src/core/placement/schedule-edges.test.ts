/**
 * S2-S4 at their edges: the bound pod keeps what it had (annotations, init containers)
 * while its images are pinned, priority comes from the option, then spec.priority, then 0,
 * a refusal before any cycle says why and lists nothing, and placing assumes the pod so
 * the next one sees it.
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import { createFramework, type Framework, type PlacementPolicy } from './framework.ts';
import { mulberry32 } from './rng.ts';
import { placePod, placePods, schedulePod } from './schedule.ts';

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
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('arm').arch('arm64').build()]), pod, images, mulberry32(1));
    const bound = decision.boundPod!;
    expect(bound.metadata.annotations?.['team']).toBe('shop');
    expect(bound.spec.initContainers?.map((c) => c.image)).toEqual([digestFor('docker.io/shop/init:1', 'arm64')]);
    expect(bound.spec.containers.map((c) => c.image)).toEqual([digestFor('docker.io/shop/web:1', 'arm64')]);
    expect(decision.choices.map((c) => [c.container, c.init, c.exact])).toEqual([['setup', true, true], ['web', false, true]]);
  });

  it('priority: the option, else spec.priority, else 0', () => {
    const snap = snapshotOf([makeNode('a').build()]);
    const pod = makePod('p').image('shop/web:1').priority(7).build();
    expect(schedulePod(fw(), snap, pod, images, mulberry32(1)).decision.priority).toBe(7);
    expect(schedulePod(fw(), snap, pod, images, mulberry32(1), { priority: 3 }).decision.priority).toBe(3);
    expect(schedulePod(fw(), snap, makePod('q').image('shop/web:1').build(), images, mulberry32(1)).decision.priority).toBe(0);
  });

  it('a pod no node platform can run is refused before any cycle, with nothing examined', () => {
    const pod = makePod('x').image('shop/armonly:1', 'a').image('docker.io/library/amd64only:1', 'b').build();
    const only = makeImages({ 'shop/armonly:1': ['linux/arm64'], 'library/amd64only:1': ['linux/amd64'] });
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), pod, only, mulberry32(1));
    expect(decision).toMatchObject({ outcome: 'unschedulable', node: null, nodes: { total: 1, evaluated: 0, feasible: 0 }, failures: {}, supportedPlatforms: [], choices: [], candidates: [], boundPod: null });
    expect(decision.reason).toMatch(/^0\/1 nodes are available: the pod's images share no platform/);
    const none = schedulePod(fw(), snapshotOf([]), pod, only, mulberry32(1)).decision;
    expect(none.reason).toBe('no nodes available to schedule pods');
  });

  it('an invalid pod is refused as invalid, saying so', () => {
    const bad = makePod('bad').requests({ cpu: 'lots' }).build();
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), bad, images, mulberry32(1));
    expect(decision.outcome).toBe('invalid');
    expect(decision.reason).toMatch(/^invalid pod: /);
  });

  it('placing assumes the pod: the next one sees the node full', () => {
    const snap = snapshotOf([makeNode('a').allocatable({ cpu: '1', memory: '1Gi' }).build()]);
    const q = (name: string) => ({ pod: makePod(name).image('shop/web:1').requests({ cpu: '600m' }).build(), priority: 0 });
    const [first, second] = placePods(fw(), snap, [q('one'), q('two')], images, mulberry32(1));
    expect(first?.outcome).toBe('scheduled');
    expect(second?.outcome).toBe('unschedulable');
    expect(snap.nodeOf('default/one')?.name).toBe('a');
    // The same pod again: already assumed, refused as invalid rather than counted twice.
    const again = placePod(fw(), snap, makePod('one').image('shop/web:1').requests({ cpu: '100m' }).build(), images, mulberry32(1));
    expect(again.outcome).toBe('invalid');
    expect(again.reason).toBe('pod default/one is already assumed on a');
  });
});
