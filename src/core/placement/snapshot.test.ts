import { describe, expect, it } from 'vitest';
import { makeNode, makePod, prepared, snapshotOf } from '../../../test/builders/index.ts';

describe('ClusterSnapshot', () => {
  it('assume and forget keep totals exact', () => {
    const s = snapshotOf([makeNode('a').build()]);
    const p = prepared(makePod('p').requests({ cpu: '250m', memory: '1Gi' }).hostPort(80).build());
    expect(s.assume(p, 'a')).toEqual({ ok: true });
    const a = s.node('a');
    expect(a?.requested.milliCPU).toBe(250);
    expect(a?.podCount).toBe(1);
    expect(a?.usedPorts.get('0.0.0.0')?.has('TCP/80')).toBe(true);
    expect(s.assume(p, 'a').ok).toBe(false); // a pod is assumed once
    expect(s.forget('default/p')).toBe(true);
    expect(a?.requested.milliCPU).toBe(0);
    expect(a?.usedPorts.size).toBe(0);
    expect(s.assume(p, 'nowhere')).toEqual({ ok: false, error: 'node nowhere is not in the snapshot' });
  });

  it('fork/revert undoes assumptions and node changes; commit keeps them', () => {
    const s = snapshotOf([makeNode('a').build(), makeNode('b').build()], [makePod('old').requests({ cpu: '1' }).nodeName('a').build()]);
    s.fork();
    s.assume(prepared(makePod('p').requests({ cpu: '2' }).build()), 'b');
    s.forget('default/old');
    s.removeNode('b');
    s.setNode(makeNode('c').build());
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'c']);
    s.revert();
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    expect(s.node('a')?.requested.milliCPU).toBe(1000);
    expect(s.node('b')?.requested.milliCPU).toBe(0);
    expect(s.nodeOf('default/old')?.name).toBe('a');
    s.fork();
    s.assume(prepared(makePod('q').requests({ cpu: '3' }).build()), 'b');
    s.commit();
    expect(s.node('b')?.requested.milliCPU).toBe(3000);
    expect(() => s.revert()).toThrow();
  });

  it('replacing a node keeps its pods accounted', () => {
    const s = snapshotOf([makeNode('a').build()], [makePod('x').requests({ cpu: '1' }).nodeName('a').build()]);
    s.setNode(makeNode('a').arch('arm64').build());
    expect(s.node('a')?.platformKey).toBe('linux/arm64');
    expect(s.node('a')?.requested.milliCPU).toBe(1000);
  });

  it('counts image spread over nodes', () => {
    const s = snapshotOf([makeNode('a').image(['nginx:1.25'], 10).build(), makeNode('b').image(['docker.io/library/nginx:1.25'], 10).build()]);
    expect(s.imageSpread('docker.io/library/nginx:1.25')).toBe(2);
    s.removeNode('a');
    expect(s.imageSpread('docker.io/library/nginx:1.25')).toBe(1);
  });
});
