/**
 * Score plugins at the edges of their rules: kube-scheduler's noderesources scores for a
 * node missing a resource, PreferNoSchedule
 * tolerations without an effect, ImageVariant's exact/lower-level rule, and the
 * architecture policy's most-specific key.
 */
import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, nodeTableOf, prepared, snapshotOf } from '../../../../test/builders/index.ts';
import type { Node, Pod } from '../../k8s/types.ts';
import type { ImageLookup } from '../pod-info.ts';
import type { ScorePlugin } from '../plugin.ts';
import { architecturePreference, compileArchitectureWeights } from './architecture-preference.ts';
import { imageLocality } from './image-locality.ts';
import { imageVariant } from './image-variant.ts';
import { preferredNodeAffinity } from './node-affinity.ts';
import { balancedAllocation, leastAllocated } from './resource-allocation.ts';
import { preferNoScheduleTaints } from './taint-toleration.ts';

function scores(plugin: ScorePlugin, pod: Pod, nodes: Node[], lookup?: ImageLookup): number[] {
  const snap = snapshotOf(nodes);
  const info = prepared(pod, lookup);
  const arr = new Float64Array(snap.nodes.map((n) => plugin.score(info, n, snap)));
  plugin.normalize?.(arr, arr.length);
  return [...arr];
}

describe('resource scores on a node missing a resource', () => {
  const pod = makePod().requests({ cpu: '500m', memory: '250Mi' }).build();

  it('LeastAllocated averages over the resources the node has; none gives 0', () => {
    const memOnly = makeNode('m').allocatable({ cpu: '0', memory: '1000Mi' }).build();
    const cpuOnly = makeNode('c').allocatable({ cpu: '1', memory: '0' }).build();
    const none = makeNode('n').allocatable({ cpu: '0', memory: '0' }).build();
    // memory (1000-250)*100/1000 = 75; cpu (1000-500)*100/1000 = 50
    expect(scores(leastAllocated, pod, [memOnly, cpuOnly, none])).toEqual([75, 50, 0]);
  });

  it('LeastAllocated: an over-committed resource scores 0, not below', () => {
    const a = makeNode('a').allocatable({ cpu: '100m', memory: '1000Mi' }).build();
    expect(scores(leastAllocated, pod, [a])).toEqual([37]); // cpu 0, memory 75 -> 37
  });

  it('BalancedAllocation: nothing to balance without both resources', () => {
    const memOnly = makeNode('m').allocatable({ cpu: '0', memory: '1000Mi' }).build();
    const cpuOnly = makeNode('c').allocatable({ cpu: '1', memory: '0' }).build();
    expect(scores(balancedAllocation, pod, [memOnly, cpuOnly])).toEqual([100, 100]);
  });
});

describe('TaintToleration score', () => {
  it('a toleration without an effect tolerates PreferNoSchedule taints too', () => {
    const nodes = [makeNode('a').build(), makeNode('b').taint('spot', 'true', 'PreferNoSchedule').build()];
    const any = makePod().toleration({ key: 'spot', operator: 'Exists' }).build();
    expect(scores(preferNoScheduleTaints, any, nodes)).toEqual([100, 100]);
    const other = makePod().toleration({ key: 'gpu', operator: 'Exists' }).build();
    expect(scores(preferNoScheduleTaints, other, nodes)).toEqual([100, 0]);
  });
});

describe('ImageVariant score', () => {
  const images = makeImages({ 'shop/lib:1': ['linux/arm/v6', 'linux/arm/v7'], 'shop/old:1': ['linux/arm/v6'] });

  it('100 for a variant built for the node exactly, 50 for a compatible lower level; the mean over images', () => {
    const nodes = [makeNode('v7').arch('arm').variant('v7').build(), makeNode('v6').arch('arm').variant('v6').build()];
    expect(scores(imageVariant, makePod().image('shop/lib:1').build(), nodes, images)).toEqual([100, 100]);
    expect(scores(imageVariant, makePod().image('shop/old:1').build(), nodes, images)).toEqual([50, 100]);
    const both = makePod().image('shop/lib:1', 'a').image('shop/old:1', 'b').build();
    expect(scores(imageVariant, both, nodes, images)).toEqual([75, 100]);
  });

});

describe('ArchitecturePreference', () => {
  const weigh = (weights: Record<string, number>, nodes: Node[]): number[] => {
    const w = compileArchitectureWeights(weights);
    if (!w.ok) throw new Error(w.error);
    return scores(architecturePreference(w.value), makePod().build(), nodes);
  };

  it('the most specific key wins whatever the order written', () => {
    const nodes = [makeNode('a').arch('arm64').build(), makeNode('v7').arch('arm').variant('v7').build(), makeNode('v6').arch('arm').variant('v6').build()];
    expect(weigh({ arm64: 10, 'linux/arm64': 90 }, nodes.slice(0, 1))).toEqual([90]);
    expect(weigh({ 'linux/arm64': 90, arm64: 10 }, nodes.slice(0, 1))).toEqual([90]);
    expect(weigh({ 'linux/arm': 20, 'linux/arm/v7': 70 }, nodes)).toEqual([0, 70, 20]);
    expect(weigh({ arm: 20, 'linux/arm': 30 }, nodes)).toEqual([0, 30, 30]);
  });

  it('weights from 0 to 100; anything else is refused naming the key', () => {
    expect(weigh({ arm64: 0, amd64: 100 }, [makeNode('a').arch('arm64').build(), makeNode('b').build()])).toEqual([0, 100]);
    for (const bad of [-1, 100.5, Number.NaN]) {
      const r = compileArchitectureWeights({ arm64: bad });
      expect(!r.ok && r.error).toBe(`architecturePreference["arm64"]: weight must be between 0 and 100, got ${bad}`);
    }
  });
  it('a key names an OS too: linux/amd64 gives nothing to a windows/amd64 node', () => {
    expect(weigh({ 'linux/amd64': 80 }, [makeNode('w').os('windows').build(), makeNode('l').build()])).toEqual([0, 80]);
  });
});

describe('ImageLocality with several containers', () => {
  it('the upper threshold is 1000Mi per container (kube-scheduler\'s maxContainerThreshold x containers)', () => {
    const MB = 1024 * 1024;
    const lookup = makeImages({ 'shop/a:1': ['linux/amd64'], 'shop/b:1': ['linux/amd64'] });
    const node = makeNode('n').image(['docker.io/shop/a:1'], 1000 * MB).build();
    // One node, which has one of the two images: sum 1000Mi of a 2000Mi threshold: (1000 - 23) * 100 / (2000 - 23) = 49.4.
    expect(scores(imageLocality, makePod().image('shop/a:1', 'a').image('shop/b:1', 'b').build(), [node], lookup)).toEqual([49]);
    expect(scores(imageLocality, makePod().image('shop/a:1', 'a').build(), [node], lookup)).toEqual([100]);
  });
});

describe('the batch forms (ScorePlugin.scoreMany): score() of each node asked for, and nothing past count', () => {
  const nodes = [
    makeNode('a').allocatable({ cpu: '4', memory: '8Gi' }).build(),
    makeNode('b').allocatable({ cpu: '2', memory: '16Gi' }).build(),
    makeNode('c').allocatable({ cpu: '0', memory: '1Gi' }).build(),
  ];
  const bound = [makePod('x').requests({ cpu: '1', memory: '2Gi' }).nodeName('a').build()];
  it.each([['LeastAllocated', leastAllocated], ['BalancedAllocation', balancedAllocation]] as const)('%s', (_n, plugin) => {
    const snap = snapshotOf(nodes, bound);
    const pod = prepared(makePod().requests({ cpu: '500m', memory: '1Gi' }).build());
    const infos = snap.nodes;
    const table = nodeTableOf(infos);
    const at = Int32Array.of(2, 0, 1);
    const out = new Float64Array(3).fill(-1);
    plugin.scoreMany?.(pod, table, at, 3, out, snap);
    expect([...out]).toEqual([...at].map((i) => plugin.score(pod, infos[i] as (typeof infos)[number], snap)));
    const two = new Float64Array(3).fill(-1);
    plugin.scoreMany?.(pod, table, at, 2, two, snap);
    expect(two[2]).toBe(-1);
    const exact = new Float64Array(1);
    plugin.scoreMany?.(pod, table, Int32Array.of(1), 1, exact, snap);
    expect(exact[0]).toBe(plugin.score(pod, infos[1] as (typeof infos)[number], snap));
  });
});

describe('NodeAffinity score', () => {
  it('the matched weights, scaled so the best node has 100 even when its weights sum below 100 (DefaultNormalizeScore)', () => {
    const pod = makePod()
      .preferred(30, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] })
      .preferred(10, { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] })
      .build();
    const nodes = [makeNode('both').label('zone', 'a').label('disk', 'ssd').build(), makeNode('zone').label('zone', 'a').build(), makeNode('none').build()];
    // 40, 30, 0 -> 100, floor(100 * 30 / 40) = 75, 0
    expect(scores(preferredNodeAffinity, pod, nodes)).toEqual([100, 75, 0]);
  });
});

describe('image scores called on a node without a platform (NodePlatform refuses it before any score runs)', () => {
  it('ImageLocality gives 0 and ImageVariant the maximum, whatever images the node holds', () => {
    const MB = 1024 * 1024;
    const lookup = makeImages({ 'shop/a:1': ['linux/amd64'] });
    const bare = makeNode('bare').nodeInfoOnly('').image(['docker.io/shop/a:1'], 1000 * MB).build();
    const withPlatform = makeNode('n').image(['docker.io/shop/a:1'], 1000 * MB).build();
    const pod = makePod().image('shop/a:1').build();
    // The same image on a node with a platform scores (the case differs only by the platform):
    // both nodes hold it, so the spread is 2/2 and 1000Mi reaches the threshold: 100.
    expect(scores(imageLocality, pod, [withPlatform, bare], lookup)).toEqual([100, 0]);
    expect(scores(imageVariant, pod, [bare], lookup)).toEqual([100]);
  });
});
