import { describe, expect, it } from 'vitest';
import { anyImage, makeNode, makePod } from '../../../test/builders/index.ts';
import { imageReferences, podImageReferences, scheduleCluster, splitPods } from './batch.ts';
import { createFramework } from './framework.ts';
import { createRng } from '../rng.ts';

describe('scheduleCluster', () => {
  const fw = (() => {
    const r = createFramework();
    if (!r.ok) throw new Error(r.error);
    return r.value;
  })();

  it('counts bound pods, skips finished ones, places pending pods by priority', () => {
    const nodes = [makeNode('a').allocatable({ cpu: '2' }).build()];
    const running = makePod('running').requests({ cpu: '1' }).nodeName('a').build();
    const done = { ...makePod('done').requests({ cpu: '2' }).nodeName('a').build(), status: { phase: 'Succeeded' } };
    const low = makePod('low').requests({ cpu: '1' }).build();
    const high = makePod('high').requests({ cpu: '1' }).priorityClass('high').build();
    const plan = scheduleCluster(fw, { nodes, pods: [running, done, low, high], priorityClasses: [{ metadata: { name: 'high' }, value: 10 }] }, anyImage(), createRng(1));
    // 2 cpu - 1 running = 1 free: the high-priority pod gets it, low does not (the finished pod holds nothing)
    expect(plan.decisions.map((d) => [d.pod, d.node])).toEqual([['default/high', 'a'], ['default/low', null]]);
    expect(plan.decisions[1]?.reason).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    expect(plan.warnings).toEqual([]);
  });

  it('a finished pod, Succeeded or Failed, is neither bound nor pending', () => {
    const finished = (phase: string) => ({ ...makePod(phase).nodeName('a').build(), status: { phase } });
    const pendingFailed = { ...makePod('never-bound').build(), status: { phase: 'Failed' } };
    const split = splitPods({ nodes: [], pods: [finished('Succeeded'), finished('Failed'), pendingFailed, makePod('running').nodeName('a').build()] });
    expect([split.bound.map((p) => p.metadata.name), split.pending.length]).toEqual([['running'], 0]);
  });

  it('a pod naming a missing PriorityClass gets an invalid decision, not silence', () => {
    const plan = scheduleCluster(fw, { nodes: [makeNode('a').build()], pods: [makePod('p').priorityClass('gold').build()] }, anyImage(), createRng(1));
    expect(plan.decisions).toHaveLength(1);
    expect(plan.decisions[0]?.outcome).toBe('invalid');
    expect(plan.decisions[0]?.reason).toBe('invalid pod: spec.priorityClassName: no PriorityClass named "gold"');
  });

  it('warns about a bound pod on an unknown node', () => {
    const plan = scheduleCluster(fw, { nodes: [makeNode('a').build()], pods: [makePod('lost').nodeName('gone').build()] }, anyImage(), createRng(1));
    expect(plan.warnings).toEqual(['pod default/lost bound to gone: node gone is not in the snapshot; not counted']);
  });

  it('lists the normalised references to resolve, originals first', () => {
    const placed = makePod('m').image('registry.example.com/a@sha256:' + 'a'.repeat(64), 'app').annotation('polyarch.io/source-images', '{"app":"registry.example.com/a:1"}').build();
    expect(imageReferences([placed, makePod('n').image('nginx').build()])).toEqual(['docker.io/library/nginx:latest', 'registry.example.com/a:1']);
  });

  it('each container\'s reference, init containers first; a container without an image or with one that does not parse is left out', () => {
    const pod = makePod('p').init('busybox:1', 'setup').image('nginx:1.27', 'web').image('Not A Reference!', 'bad').build();
    const noImage = { ...pod, spec: { ...pod.spec, containers: [...pod.spec.containers, { name: 'none' }] } };
    expect(podImageReferences(noImage as never)).toEqual([
      { container: 'setup', reference: 'docker.io/library/busybox:1' }, { container: 'web', reference: 'docker.io/library/nginx:1.27' },
    ]);
  });
});
