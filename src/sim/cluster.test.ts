import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../core/k8s/types.ts';
import { SimCluster } from './cluster.ts';
import { SimClock } from './sim-clock.ts';
import { Migrator, requestDrain } from '../app/migrator.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../core/k8s/annotations.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

const node = (name: string, arch: string, cpu = '4', memory = '8Gi'): Node => ({
  metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux' } },
  status: { allocatable: { cpu, memory, pods: '10' } },
});

const pod = (name: string, opts: { cpu?: string; labels?: Record<string, string>; owner?: string; image?: string; annotations?: Record<string, string> } = {}): Pod => ({
  metadata: {
    name, namespace: 'default', labels: opts.labels ?? {}, annotations: opts.annotations ?? {},
    ...(opts.owner ? { ownerReferences: [{ kind: 'Deployment', name: opts.owner, controller: true }] } : {}),
  },
  spec: { containers: [{ name: 'c', image: opts.image ?? 'r.test/app:1', resources: { requests: { cpu: opts.cpu ?? '1', memory: '1Gi' } } }] },
});

function setup(): { clock: SimClock; c: SimCluster } {
  const clock = new SimClock(T0);
  const c = new SimCluster(clock, T0);
  c.addNode(node('a', 'amd64'));
  c.addNode(node('b', 'arm64'));
  return { clock, c };
}

/** Plays the kubelet: every bound pod runs. */
function runAll(c: SimCluster): void {
  for (const [key] of c.podEntries()) {
    const rt = c.runtimeOf(key);
    if (rt && rt.state === 'ContainerCreating') {
      rt.state = 'Running';
      c.setPodPhase(key, 'Running', true);
    }
  }
}

describe('SimCluster', () => {
  it('binds only what fits the node, and keeps the requested sums', async () => {
    const { c } = setup();
    for (let i = 0; i < 5; i++) await c.createPod(pod(`p${i}`));
    for (let i = 0; i < 4; i++) expect((await c.bindPod({ name: `p${i}` }, 'a')).ok).toBe(true);
    const refused = await c.bindPod({ name: 'p4' }, 'a');
    expect(refused).toEqual({ ok: false, error: { kind: 'conflict', message: 'node a has no room for pod default/p4' } });
    expect(c.requestedOn('a')).toEqual({ cpu: 4000, mem: 4 * 2 ** 30, pods: 4 });
    expect((await c.listPods({ nodeName: '' })).map((p) => p.metadata.name)).toEqual(['p4']);
    await c.deletePod({ name: 'p0' });
    expect(c.requestedOn('a').cpu).toBe(3000);
    expect((await c.bindPod({ name: 'p4' }, 'a')).ok).toBe(true);
  });

  it('defers a resize that does not fit the node and applies one that does', async () => {
    const { c } = setup();
    await c.createPod(pod('x', { cpu: '2' }));
    await c.bindPod({ name: 'x' }, 'a');
    const big = await c.resizePod({ name: 'x' }, { c: { requests: { cpu: '5' } } });
    expect(big.ok).toBe(false);
    expect(c.requestedOn('a').cpu).toBe(2000);
    expect((await c.resizePod({ name: 'x' }, { c: { requests: { cpu: '3' } } })).ok).toBe(true);
    expect(c.requestedOn('a').cpu).toBe(3000);
    expect((await c.getPod({ name: 'x' }))?.spec.containers[0]?.resources?.requests?.cpu).toBe('3');
  });

  it('refuses an eviction a PodDisruptionBudget does not allow, as a value', async () => {
    const { c } = setup();
    c.addPdb({ metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
    for (const n of ['w1', 'w2', 'w3']) {
      await c.createPod(pod(n, { labels: { app: 'web' } }));
      await c.bindPod({ name: n }, n === 'w3' ? 'b' : 'a');
    }
    runAll(c);
    expect(await c.evictPod({ name: 'w1' })).toEqual({ ok: true });
    const r = await c.evictPod({ name: 'w2' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.refused).toBe('disruption-budget');
      expect(r.message).toMatch(/would violate the pod's disruption budget default\/web \(healthy 2, needs 2\)/);
    }
    expect((await c.listPodDisruptionBudgets())[0]?.status?.disruptionsAllowed).toBe(0);
    expect(await c.getPod({ name: 'w2' })).toBeDefined();
  });

  it('fork/revert undoes writes; fork/commit keeps them', async () => {
    const { c } = setup();
    await c.createPod(pod('keep'));
    const v = await c.version();
    c.fork();
    await c.bindPod({ name: 'keep' }, 'a');
    await c.createPod(pod('gone'));
    c.failNode('b');
    c.revert();
    expect((await c.getPod({ name: 'keep' }))?.spec.nodeName).toBeUndefined();
    expect(await c.getPod({ name: 'gone' })).toBeUndefined();
    expect(c.isNodeReady('b')).toBe(true);
    expect(c.requestedOn('a').cpu).toBe(0);
    expect(await c.version()).toBe(v);
    c.fork();
    await c.bindPod({ name: 'keep' }, 'a');
    c.commit();
    expect((await c.getPod({ name: 'keep' }))?.spec.nodeName).toBe('a');
    expect(c.forkDepth).toBe(0);
  });

  it('serves a change feed, and says when history is gone', async () => {
    const { c } = setup();
    const v = await c.version();
    await c.createPod(pod('p'));
    await c.bindPod({ name: 'p' }, 'b');
    const feed = await c.changes(v);
    expect(feed.expired).toBe(false);
    expect(feed.events.map((e) => `${e.type} ${e.kind} ${e.name}`)).toEqual(['ADDED Pod p', 'MODIFIED Pod p']);
    for (let i = 0; i < 45_000; i++) await c.cordonNode('a', i % 2 === 0);
    expect((await c.changes(v)).expired).toBe(true);
  });
});

describe('Migrator on the embedded cluster', () => {
  it('drains a node through evictions, waiting for the budget, and re-creates a bare pod from its source images', async () => {
    const { clock, c } = setup();
    c.addNode(node('c', 'arm64'));
    c.addPdb({ metadata: { name: 'web', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } });
    c.addDeployment({ metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } } });
    await c.createPod(pod('w1', { labels: { app: 'web' }, owner: 'web' }));
    await c.createPod(pod('w2', { labels: { app: 'web' }, owner: 'web' }));
    await c.createPod(pod('w3', { labels: { app: 'web' }, owner: 'web' }));
    await c.createPod(pod('tool', { image: 'r.test/app@sha256:aaaa', annotations: { [SOURCE_IMAGES_ANNOTATION]: JSON.stringify({ c: 'r.test/app:1' }) } }));
    await c.bindPod({ name: 'w1' }, 'b');
    await c.bindPod({ name: 'w2' }, 'b');
    await c.bindPod({ name: 'w3' }, 'a');
    await c.bindPod({ name: 'tool' }, 'b');
    runAll(c);
    expect((await requestDrain(c, c, 'b')).ok).toBe(true);
    expect((await c.getNode('b'))?.spec?.unschedulable).toBe(true);
    const m = new Migrator(c, c, clock, { evictionTimeoutMs: 300_000, recreateBarePods: true });
    const first = await m.runOnce();
    const byPod = Object.fromEntries(first.outcomes.map((o) => [o.move.pod, o.result]));
    expect(byPod).toEqual({ 'default/w1': 'done', 'default/w2': 'refused', 'default/tool': 'done' });
    const tool = await c.getPod({ name: 'tool' });
    expect(tool?.spec.nodeName).toBeUndefined();
    expect(tool?.spec.containers[0]?.image).toBe('r.test/app:1');
    expect(tool?.metadata.annotations?.['polyarch.io/migrated-from']).toBe('b');
    // The controller's replacement for w1 starts elsewhere; then w2 may go.
    await c.createPod(pod('w4', { labels: { app: 'web' }, owner: 'web' }));
    await c.bindPod({ name: 'w4' }, 'c');
    runAll(c);
    clock.advanceTo(T0 + 60_000);
    const second = await m.runOnce();
    expect(second.outcomes.map((o) => `${o.move.pod} ${o.result}`)).toEqual(['default/w2 done']);
    expect((await c.listPods({ nodeName: 'b' })).length).toBe(0);
  });

  it('waits for the toleration on a lost node, then deletes; without polyarch a bare pod is simply gone', async () => {
    const { clock, c } = setup();
    await c.createPod(pod('bare'));
    await c.bindPod({ name: 'bare' }, 'a');
    c.failNode('a');
    const kube = new Migrator(c, c, clock, { evictionTimeoutMs: 300_000, recreateBarePods: false });
    expect((await kube.runOnce()).outcomes.map((o) => o.result)).toEqual(['waiting']);
    clock.advanceTo(T0 + 300_000);
    expect((await kube.runOnce()).outcomes.map((o) => o.result)).toEqual(['done']);
    expect(await c.getPod({ name: 'bare' })).toBeUndefined();
  });
});
