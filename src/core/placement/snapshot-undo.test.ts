/**
 * The scheduler cache's contract (kube-scheduler's cache, cluster-autoscaler's snapshot):
 * a reverted what-if leaves no trace, a committed one stays, and every count the scores
 * read (soft-tainted nodes, nodes with images, image spread, per-node totals and ports)
 * follows node replacements and removals. Checked through the public API only.
 */
import { describe, expect, it } from 'vitest';
import { makeNode, makePod, prepared, snapshotOf } from '../../../test/builders/index.ts';
import { accountOf, podHostPorts, type ClusterSnapshot } from './snapshot.ts';

const IMG = 'docker.io/library/nginx:1.25';

/** Everything a scheduling cycle can read from a snapshot. */
function state(s: ClusterSnapshot, pods: readonly string[]) {
  return {
    nodes: s.nodes.map((n) => ({
      name: n.name,
      platform: n.platformKey,
      requested: { ...n.requested },
      nonZero: [n.nonZeroMilliCPU, n.nonZeroMemory],
      podCount: n.podCount,
      pods: [...n.pods.keys()].sort(),
      ports: [...n.usedPorts].map(([ip, set]) => [ip, [...set].sort()]),
    })),
    size: s.size,
    softTainted: s.softTaintedNodes,
    withImages: s.nodesWithImages,
    spread: s.imageSpread(IMG),
    nodeOf: pods.map((k) => s.nodeOf(k)?.name),
  };
}

const cluster = (): ClusterSnapshot =>
  snapshotOf(
    [
      makeNode('a').image([IMG], 10).build(),
      makeNode('b').taint('spot', 'true', 'PreferNoSchedule').build(),
      makeNode('c').image([IMG], 10).taint('old', 'true', 'PreferNoSchedule').build(),
    ],
    [
      makePod('x').requests({ cpu: '1', memory: '1Gi' }).hostPort(80).nodeName('a').build(),
      makePod('y').requests({ cpu: '500m' }).hostPort(443).nodeName('c').build(),
    ],
  );
const PODS = ['default/x', 'default/y', 'default/p', 'default/q'];

describe('ClusterSnapshot what-ifs', () => {
  it('revert restores every count after replacing, removing and adding nodes and pods', () => {
    const s = cluster();
    const before = state(s, PODS);
    expect(before).toMatchObject({ size: 3, softTainted: 2, withImages: 2, spread: 2 });
    s.fork();
    s.setNode(makeNode('a').arch('arm64').taint('spot', 'true', 'PreferNoSchedule').build()); // gains a soft taint, loses its images
    expect(s).toMatchObject({ softTaintedNodes: 3, nodesWithImages: 1 });
    expect(s.imageSpread(IMG)).toBe(1);
    s.setNode(makeNode('b').image([IMG], 10).build()); // loses its soft taint, gains images
    expect(s).toMatchObject({ softTaintedNodes: 2, nodesWithImages: 2 });
    expect(s.removeNode('c')).toEqual(['default/y']);
    expect(s).toMatchObject({ softTaintedNodes: 1, nodesWithImages: 1 });
    expect(s.nodeOf('default/y')).toBeUndefined();
    s.assume(prepared(makePod('p').requests({ cpu: '2' }).hostPort(8080).build()), 'b');
    expect(s.forget('default/x')).toBe(true);
    s.setNode(makeNode('d').build());
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'b', 'd']);
    s.revert();
    expect(state(s, PODS)).toEqual(before);
    expect(s.node('d')).toBeUndefined();
  });

  it('forks nest: an inner commit belongs to the outer what-if, reverted with it', () => {
    const s = cluster();
    const before = state(s, PODS);
    s.fork();
    s.assume(prepared(makePod('p').requests({ cpu: '1' }).build()), 'b');
    s.fork();
    s.assume(prepared(makePod('q').requests({ cpu: '1' }).build()), 'b');
    s.removeNode('a');
    s.commit();
    expect(s.nodes.map((n) => n.name)).toEqual(['b', 'c']);
    expect(s.node('b')?.podCount).toBe(2);
    s.revert();
    expect(state(s, PODS)).toEqual(before);
  });

  it('an inner revert keeps what the outer what-if did before it', () => {
    const s = cluster();
    s.fork();
    s.assume(prepared(makePod('p').requests({ cpu: '1' }).build()), 'b');
    const mid = state(s, PODS);
    s.fork();
    s.forget('default/p');
    s.setNode(makeNode('b').arch('arm64').build());
    s.revert();
    expect(state(s, PODS)).toEqual(mid);
    s.commit();
    expect(s.nodeOf('default/p')?.name).toBe('b');
    expect(() => s.commit()).toThrow('commit() without fork()');
    expect(() => s.revert()).toThrow('revert() without fork()');
  });

  it('changes made outside any what-if are not undone by a later one', () => {
    const s = cluster();
    s.assume(prepared(makePod('p').requests({ cpu: '1' }).build()), 'b');
    s.fork();
    s.revert();
    expect(s.nodeOf('default/p')?.name).toBe('b');
    s.fork();
    s.commit();
    s.fork();
    s.assume(prepared(makePod('q').requests({ cpu: '1' }).build()), 'a');
    s.revert();
    expect(s.nodeOf('default/p')?.name).toBe('b');
    expect(s.nodeOf('default/q')).toBeUndefined();
  });

  it('a re-added node takes its place again; removing an unknown node or pod changes nothing', () => {
    const s = cluster();
    s.fork();
    s.removeNode('b');
    s.revert();
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(s.removeNode('zz')).toEqual([]);
    expect(s.forget('default/zz')).toBe(false);
    expect(s.size).toBe(3);
  });

  it('forgetting one pod releases what it held and keeps the other pods ports', () => {
    const s = cluster();
    s.assume(prepared(makePod('p').requests({ cpu: '2', memory: '1Gi' }).hostPort(8080, 'UDP', '10.0.0.1').build()), 'a');
    const a = s.node('a')!;
    const nz = [a.nonZeroMilliCPU, a.nonZeroMemory];
    s.forget('default/p');
    expect(a.podCount).toBe(1);
    expect(a.requested.milliCPU).toBe(1000);
    expect([a.nonZeroMilliCPU, a.nonZeroMemory]).toEqual([nz[0]! - 2000, nz[1]! - 2 ** 30]);
    expect([...a.usedPorts]).toEqual([['0.0.0.0', new Set(['TCP/80'])]]);
    const again = accountOf(makePod('x').build());
    if (!again.ok) throw new Error(again.error);
    expect(s.assume(again.value, 'b')).toEqual({ ok: false, error: 'pod default/x is already assumed on a' });
  });

  it('host ports: containers and sidecars (restartable init containers), hostPort > 0, TCP and 0.0.0.0 by default', () => {
    const pod = makePod('p').hostPort(80).hostPort(53, 'UDP', '10.0.0.1').build();
    const withInit = {
      ...pod,
      spec: {
        ...pod.spec,
        containers: [...pod.spec.containers, { name: 'noport', image: 'x', ports: [{ containerPort: 9000 }] }],
        initContainers: [
          { name: 'sidecar', image: 'x', restartPolicy: 'Always', ports: [{ containerPort: 1, hostPort: 9090 }] },
          { name: 'setup', image: 'x', ports: [{ containerPort: 1, hostPort: 9191 }] },
        ],
      },
    } as typeof pod;
    expect(podHostPorts(withInit)).toEqual([
      { ip: '0.0.0.0', protocol: 'TCP', port: 80 },
      { ip: '10.0.0.1', protocol: 'UDP', port: 53 },
      { ip: '0.0.0.0', protocol: 'TCP', port: 9090 },
    ]);
  });

  it('a pod whose requests do not parse is refused, naming it', () => {
    const bad = makePod('bad').requests({ cpu: 'lots' }).nodeName('a').build();
    const r = accountOf(bad);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^pod default\/bad: /);
    const s = cluster();
    expect(s.assumePod(bad).ok).toBe(false);
    expect(s.assumePod(makePod('unbound').build())).toEqual({ ok: false, error: 'node  is not in the snapshot' });
  });
});

describe('host ports in the cache', () => {
  const pod = (name: string, port: number, ip?: string) => prepared(makePod(name).hostPort(port, 'TCP', ip).build());

  it('every host port of a pod counts, two on one IP included, and stays counted when another pod on the node is forgotten', () => {
    const s = snapshotOf([makeNode('n').build()], [makePod('two').hostPort(8080, 'TCP', '10.0.0.1').hostPort(9090, 'TCP', '10.0.0.1').nodeName('n').build()]);
    expect(s.assume(pod('other', 7070), 'n')).toEqual({ ok: true });
    const used = () => [...(s.node('n')?.usedPorts ?? [])].map(([ip, set]) => [ip, [...set].sort()]);
    expect(used()).toEqual([['10.0.0.1', ['TCP/8080', 'TCP/9090']], ['0.0.0.0', ['TCP/7070']]]);
    s.forget('default/other');
    expect(used()).toEqual([['10.0.0.1', ['TCP/8080', 'TCP/9090']]]);
  });
});

describe('reverting a node replacement', () => {
  it('points the node\'s pods back at the restored node: forgetting one afterwards releases it there', () => {
    const s = snapshotOf([makeNode('a').build()], [makePod('x').requests({ cpu: '1' }).nodeName('a').build()]);
    const original = s.node('a');
    s.fork();
    s.setNode(makeNode('a').label('zone', 'b').build());
    s.revert();
    expect(s.node('a')).toBe(original);
    expect(s.nodeOf('default/x')).toBe(original);
    expect(s.forget('default/x')).toBe(true);
    expect([original?.podCount, original?.requested.milliCPU]).toEqual([0, 0]);
  });
});

describe('what an observer of the nodes is told (SnapshotObserver: the placement index keeps its groups by it)', () => {
  it('an updated node takes the old one\'s place (nodeReplaced); an added or removed node moves positions (nodesMoved); a pod assumed or forgotten changes a node\'s totals (nodeState)', () => {
    const s = snapshotOf([makeNode('a').build(), makeNode('b').build()]);
    const told: string[] = [];
    s.observe({
      nodeState: (info) => told.push(`state ${info.name}`),
      nodeReplaced: (prev, next) => told.push(`replaced ${prev.name} ${prev === next ? 'same' : 'new'} ${s.nodes.indexOf(next)}`),
      nodesMoved: () => told.push('moved'),
    });
    s.setNode(makeNode('b').label('zone', 'z').build());
    s.setNode(makeNode('c').build());
    expect(s.assumePod(makePod('p').nodeName('a').build())).toEqual({ ok: true });
    s.forget('default/p');
    s.removeNode('c');
    s.fork();
    s.setNode(makeNode('a').label('zone', 'y').build());
    s.revert();
    expect(told).toEqual(['replaced b new 1', 'moved', 'state a', 'state a', 'moved', 'replaced a new 0', 'replaced a new 0']);
  });
});
