import { describe, expect, it } from 'vitest';
import { makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import { createFramework, type Framework, type PlacementPolicy } from './framework.ts';
import { createRng } from '../rng.ts';
import { schedulePod } from './schedule.ts';

const fw = (policy: PlacementPolicy): Framework => {
  const r = createFramework(policy);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const images = makeImages({ 'shop/legacy:2': ['linux/amd64'] });

describe('the kube-scheduler profile', () => {
  // Hand-checked against kube-scheduler's default profile (noderesources, tainttoleration,
  // nodeaffinity, imagelocality; integer arithmetic as in its Go code):
  //   node a: amd64, 4 cpu / 8Gi, a pod of 2 cpu / 2Gi on it; node b: arm64, 2 cpu / 8Gi, empty.
  //   pod: 500m / 1Gi.
  //   LeastAllocated     a: cpu (4000-2500)*100/4000 = 37, mem (8-3)*100/8 = 62, (37+62)/2 = 49
  //                      b: cpu (2000-500)*100/2000 = 75, mem (8-1)*100/8 = 87, (75+87)/2 = 81
  //   BalancedAllocation a: |2500/4000 - 3/8| / 2 = 0.125 -> (1-0.125)*100 = 87
  //                      b: |500/2000 - 1/8| / 2 = 0.0625 -> 93
  //   TaintToleration    no PreferNoSchedule taints: 100 on both (x3); NodeAffinity 0; ImageLocality 0.
  //   a = 49 + 87 + 300 = 436, b = 81 + 93 + 300 = 474: kube-scheduler binds to b.
  const nodes = [
    makeNode('a').allocatable({ cpu: '4', memory: '8Gi' }).build(),
    makeNode('b').arch('arm64').allocatable({ cpu: '2', memory: '8Gi' }).build(),
  ];
  const busy = makePod('busy').image('shop/legacy:2').requests({ cpu: '2', memory: '2Gi' }).nodeName('a').build();
  const pod = makePod('legacy').image('shop/legacy:2').requests({ cpu: '500m', memory: '1Gi' }).build();

  it('reproduces kube-scheduler\'s default choice and scores, platform-blind', () => {
    const { decision } = schedulePod(fw({ profile: 'kube-scheduler' }), snapshotOf(nodes, [busy]), pod, images, createRng(1));
    expect(decision.node).toBe('b');
    expect(decision.candidates.map((c) => [c.node, c.total, c.scores])).toEqual([
      ['b', 474, { LeastAllocated: 81, BalancedAllocation: 93, NodeAffinity: 0, TaintToleration: 100, ImageLocality: 0 }],
      ['a', 436, { LeastAllocated: 49, BalancedAllocation: 87, NodeAffinity: 0, TaintToleration: 100, ImageLocality: 0 }],
    ]);
    // As written: no variant chosen, nothing recorded, only the binding.
    expect(decision.choices).toEqual([]);
    expect(decision.boundPod?.spec.containers[0]?.image).toBe('shop/legacy:2');
    expect(decision.boundPod?.metadata.annotations ?? {}).toEqual({});
  });

  it('keeps a not-ready node out by its taint, as kube-scheduler does (no NodeReady filter)', () => {
    const lost = makeNode('b').arch('arm64').allocatable({ cpu: '2', memory: '8Gi' }).taint('node.kubernetes.io/unreachable', undefined, 'NoSchedule').build();
    const { decision } = schedulePod(fw({ profile: 'kube-scheduler' }), snapshotOf([nodes[0]!, lost], [busy]), pod, images, createRng(1));
    expect(decision.node).toBe('a');
    expect(fw({ profile: 'kube-scheduler' }).filters.map((f) => f.name)).toEqual(['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit']);
  });

  it('the polyarch profile, same weights plus the platform filter, sends the amd64-only image to a', () => {
    const { decision } = schedulePod(fw({}), snapshotOf(nodes, [busy]), pod, images, createRng(1));
    expect(decision.node).toBe('a');
    expect(decision.failures).toEqual({ "node(s) can't run any platform of image shop/legacy:2 (has linux/amd64)": 1 });
  });

  it('refuses an architecture preference, which it has no score for', () => {
    expect(createFramework({ profile: 'kube-scheduler', architecturePreference: { arm64: 100 } }).ok).toBe(false);
    expect(createFramework({ profile: 'nope' as never }).ok).toBe(false);
  });
});
