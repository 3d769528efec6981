import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, prepared, snapshotOf } from '../../../../test/builders/index.ts';
import type { Node, Pod } from '../../k8s/types.ts';
import { parsePlatform } from '../../platform/platform.ts';
import type { ImageLookup } from '../pod-info.ts';
import { defaultNormalize, type ScorePlugin } from '../plugin.ts';
import { architecturePreference, compileArchitectureWeights } from './architecture-preference.ts';
import { imageLocality } from './image-locality.ts';
import { preferredNodeAffinity } from './node-affinity.ts';
import { balancedAllocation, leastAllocated } from './resource-allocation.ts';
import { preferNoScheduleTaints } from './taint-toleration.ts';

/** Raw score of each node, then normalised as the framework does. */
function scores(plugin: ScorePlugin, pod: Pod, nodes: Node[], bound: Pod[] = [], lookup?: ImageLookup): number[] {
  const snap = snapshotOf(nodes, bound);
  const info = prepared(pod, lookup);
  const arr = new Float64Array(snap.nodes.map((n) => plugin.score(info, n, snap)));
  plugin.normalize?.(arr, arr.length);
  return [...arr];
}

describe('LeastAllocated', () => {
  it('prefers the node with the most left (the method default)', () => {
    const a = makeNode('a').allocatable({ cpu: '4', memory: '8Gi' }).build();
    const b = makeNode('b').allocatable({ cpu: '4', memory: '8Gi' }).build();
    const bound = [makePod('x').requests({ cpu: '2', memory: '2Gi' }).nodeName('a').build()];
    const pod = makePod().requests({ cpu: '1', memory: '2Gi' }).build();
    // a: cpu (4000-3000)*100/4000 = 25; memory (8-4)*100/8 = 50 -> (25+50)/2 = 37 (integer division)
    // b: cpu (4000-1000)*100/4000 = 75; memory (8-2)*100/8 = 75 -> 75
    expect(scores(leastAllocated, pod, [a, b], bound)).toEqual([37, 75]);
  });

  it('counts 100m / 200Mi for a pod that requests nothing', () => {
    const a = makeNode('a').allocatable({ cpu: '1', memory: '1000Mi' }).build();
    // cpu (1000-100)*100/1000 = 90; memory (1000-200)*100/1000 = 80 -> 85
    expect(scores(leastAllocated, makePod().build(), [a])).toEqual([85]);
  });

  it('scores 0 for an over-committed resource', () => {
    const a = makeNode('a').allocatable({ cpu: '1', memory: '1Gi' }).build();
    // cpu 2000 > 1000 -> 0; memory (1024-512)*100/1024 = 50 -> 25
    expect(scores(leastAllocated, makePod().requests({ cpu: '2', memory: '512Mi' }).build(), [a])).toEqual([25]);
  });
});

describe('BalancedAllocation', () => {
  it('prefers cpu and memory filling evenly', () => {
    const a = makeNode('a').allocatable({ cpu: '4', memory: '8Gi' }).build();
    const b = makeNode('b').allocatable({ cpu: '4', memory: '4Gi' }).build();
    const pod = makePod().requests({ cpu: '2', memory: '2Gi' }).build();
    // a: cpu 2/4 = 0.5, memory 2/8 = 0.25 -> std |0.5-0.25|/2 = 0.125 -> (1-0.125)*100 = 87
    // b: 0.5 and 0.5 -> 100
    expect(scores(balancedAllocation, pod, [a, b])).toEqual([87, 100]);
  });
});

describe('NodeAffinity (preferred)', () => {
  it('sums matched weights and normalises to the best node', () => {
    const pod = makePod()
      .preferred(80, { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] })
      .preferred(20, { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] })
      .build();
    const nodes = [makeNode('a').arch('arm64').label('disk', 'ssd').build(), makeNode('b').arch('arm64').build(), makeNode('c').label('disk', 'ssd').build(), makeNode('d').build()];
    // raw 100, 80, 20, 0; max 100 -> 100, 80, 20, 0
    expect(scores(preferredNodeAffinity, pod, nodes)).toEqual([100, 80, 20, 0]);
  });

  it('all zero stays zero', () => {
    expect(scores(preferredNodeAffinity, makePod().build(), [makeNode('a').build()])).toEqual([0]);
  });
});

describe('TaintToleration (PreferNoSchedule)', () => {
  it('reverses the count of untolerated soft taints', () => {
    const nodes = [
      makeNode('a').build(),
      makeNode('b').taint('spot', 'true', 'PreferNoSchedule').build(),
      makeNode('c').taint('spot', 'true', 'PreferNoSchedule').taint('old', 'true', 'PreferNoSchedule').build(),
    ];
    // counts 0, 1, 2; max 2 -> 100 - 0, 100 - 50, 100 - 100
    expect(scores(preferNoScheduleTaints, makePod().build(), nodes)).toEqual([100, 50, 0]);
    // tolerating spot: counts 0, 0, 1 -> 100, 100, 0
    const tolerant = makePod().toleration({ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }).build();
    expect(scores(preferNoScheduleTaints, tolerant, nodes)).toEqual([100, 100, 0]);
  });

  it('a NoSchedule-only toleration does not count for soft taints', () => {
    const nodes = [makeNode('a').build(), makeNode('b').taint('spot', 'true', 'PreferNoSchedule').build()];
    const pod = makePod().toleration({ key: 'spot', operator: 'Exists', effect: 'NoSchedule' }).build();
    expect(scores(preferNoScheduleTaints, pod, nodes)).toEqual([100, 0]);
  });
});

describe('ImageLocality', () => {
  const images = makeImages({ 'shop/web:1': ['linux/amd64', 'linux/arm64'] });
  const lookup = images;
  const armVariant = (() => {
    const r = images('docker.io/shop/web:1');
    if (!r?.ok) throw new Error('setup');
    return r.value.platforms.find((p) => p.platform.architecture === 'arm64')?.image ?? '';
  })();
  it('scores nodes holding the variant chosen for their platform, scaled by spread', () => {
    const MB = 1024 * 1024;
    const nodes = [
      makeNode('a').arch('arm64').image([armVariant], 500 * MB).build(),
      makeNode('b').arch('amd64').image([armVariant], 500 * MB).build(), // holds the arm64 variant: useless to amd64
      makeNode('c').arch('arm64').build(),
      makeNode('d').arch('amd64').image(['docker.io/shop/web:1'], 500 * MB).build(),
    ];
    // a: 500Mi * (2 nodes have it / 4) = 250Mi; (250-23)*100/(1000-23) = 23 (integer)
    // d: the original reference on 1 of 4: 125Mi -> (125-23)*100/977 = 10
    expect(scores(imageLocality, makePod().image('shop/web:1').build(), nodes, [], lookup)).toEqual([23, 0, 0, 10]);
  });
});

describe('ArchitecturePreference', () => {
  it('weights platforms from policy, most specific key first', () => {
    const w = compileArchitectureWeights({ arm64: 100, 'linux/amd64': 40, 'linux/amd64/v3': 60 });
    if (!w.ok) throw new Error(w.error);
    const nodes = [makeNode('a').arch('arm64').build(), makeNode('b').build(), makeNode('c').variant('v3').build(), makeNode('d').arch('riscv64').build()];
    expect(scores(architecturePreference(w.value), makePod().build(), nodes)).toEqual([100, 40, 60, 0]);
  });

  it('refuses bad keys and weights, naming them', () => {
    const bad = compileArchitectureWeights({ 'linux/sparc': 10 });
    expect(!bad.ok && bad.error).toContain('architecturePreference["linux/sparc"]');
    const big = compileArchitectureWeights({ arm64: 101 });
    expect(!big.ok && big.error).toContain('between 0 and 100');
    expect(parsePlatform('arm64').ok).toBe(true);
  });
});

describe('defaultNormalize', () => {
  it('scales to the max, or reverses', () => {
    const a = new Float64Array([1, 2, 4]);
    defaultNormalize(a, 3, false);
    // 100*1/4 = 25, 100*2/4 = 50, 100
    expect([...a]).toEqual([25, 50, 100]);
    const b = new Float64Array([1, 2, 4]);
    defaultNormalize(b, 3, true);
    expect([...b]).toEqual([75, 50, 0]);
  });

  it('normalises only the first `count` scores of a buffer (the cycle reuses longer buffers)', () => {
    const a = new Float64Array([1, 2, 100]);
    defaultNormalize(a, 2, false);
    expect([...a]).toEqual([50, 100, 100]);
    const b = new Float64Array([0, 0, 7]);
    defaultNormalize(b, 2, true);
    expect([...b]).toEqual([100, 100, 7]);
    const c = new Float64Array([1, 2, 100]);
    defaultNormalize(c, 2, true);
    expect([...c]).toEqual([50, 0, 100]);
  });
});
