/**
 * The extender keeps the nodes' state between requests about the same node objects:
 * a node that changes (a new object from the node cache) is read again, never answered
 * from the previous request's state; /filter answers without scoring, /prioritize scores.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../adapters/system-clock.ts';
import type { Node } from '../core/k8s/types.ts';
import { SimCluster } from '../sim/cluster.ts';
import { makeNode } from '../../test/builders/node.ts';
import { makePod } from '../../test/builders/pod.ts';
import { MemoryResolver } from '../../test/support/memory-resolver.ts';
import { Extender } from './extender.ts';

describe('extender node state between requests', () => {
  it('sees a node that changed between two /filter calls, and scores only in /prioritize', async () => {
    const resolver = new MemoryResolver().add('example.com/shop/web:1.4', ['linux/amd64']);
    const cluster = new SimCluster(systemClock, Date.now());
    cluster.addNode(makeNode('a').arch('amd64').build() as Node);
    cluster.addNode(makeNode('b').arch('arm64').build() as Node);
    const ext = new Extender({ resolver, cluster, clock: systemClock, deadlineMs: 2000, preferences: [] });
    const pod = makePod('web').image('example.com/shop/web:1.4', 'web').build();
    const first = await ext.filter({ pod, nodeNames: ['a', 'b'] });
    expect(first.nodeNames).toEqual(['a']);
    expect(Object.keys(first.unresolvable)).toEqual(['b']);
    // The same request again: the same answer (from the kept state).
    expect((await ext.filter({ pod, nodeNames: ['a', 'b'] })).nodeNames).toEqual(['a']);
    // Node b is replaced by an amd64 node of the same name: a new object, read again.
    cluster.addNode(makeNode('b').arch('amd64').build() as Node);
    const after = await ext.filter({ pod, nodeNames: ['a', 'b'] });
    expect(after.nodeNames).toEqual(['a', 'b']);
    expect(after.unresolvable).toEqual({});
    const scores = await ext.prioritize({ pod, nodeNames: ['a', 'b'] });
    expect(scores.ok && scores.value.map((s) => s.host)).toEqual(['a', 'b']);
  });
});
