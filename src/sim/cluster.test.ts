import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../core/k8s/types.ts';
import { SimCluster } from './cluster.ts';
import { SimClock } from './sim-clock.ts';
import { SimControllers } from './controllers.ts';
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

describe('SimCluster Priority admission', () => {
  it('sets spec.priority from the class, the globalDefault class (recording its name) or 0, and refuses what the API server refuses', async () => {
    const { c } = setup();
    const none = await c.createPod(pod('plain'));
    expect(none.ok && none.value.spec.priority).toBe(0);
    c.addPriorityClass({ metadata: { name: 'batch' }, value: 5, globalDefault: true });
    c.addPriorityClass({ metadata: { name: 'high' }, value: 1000 });
    const byDefault = await c.createPod(pod('d'));
    expect(byDefault.ok && [byDefault.value.spec.priority, byDefault.value.spec.priorityClassName]).toEqual([5, 'batch']);
    const named = await c.createPod({ ...pod('h'), spec: { ...pod('h').spec, priorityClassName: 'high' } });
    expect(named.ok && named.value.spec.priority).toBe(1000);
    const system = await c.createPod({ ...pod('s'), spec: { ...pod('s').spec, priorityClassName: 'system-node-critical' } });
    expect(system.ok && system.value.spec.priority).toBe(2000001000);
    const unknown = await c.createPod({ ...pod('u'), spec: { ...pod('u').spec, priorityClassName: 'nope' } });
    expect(!unknown.ok && unknown.error).toEqual({ kind: 'forbidden', message: 'pod default/u: spec.priorityClassName: no PriorityClass named "nope"' });
    const disagrees = await c.createPod({ ...pod('x'), spec: { ...pod('x').spec, priorityClassName: 'high', priority: 7 } });
    expect(!disagrees.ok && disagrees.error.kind).toBe('forbidden');
    expect(c.podObject('default/u')).toBeUndefined();
  });
});

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

describe('Migrator on the embedded cluster (SimCluster as the MigrationStore)', () => {
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
    const m = new Migrator({ cluster: c, clock });
    const first = await m.runOnce();
    expect(first.started).toBe(3);
    expect(Object.fromEntries(first.moves.map((o) => [o.record.spec.pod, o.outcome]))).toEqual({ 'default/w1': 'moved', 'default/w2': 'refused', 'default/tool': 'moved' });
    // The bare pod: evicted and created again in the same round, unbound, from its source images.
    const tool = await c.getPod({ name: 'tool' });
    expect(tool?.spec.nodeName).toBeUndefined();
    expect(tool?.spec.containers[0]?.image).toBe('r.test/app:1');
    expect(tool?.metadata.annotations?.['polyarch.io/migrated-from']).toBe('b');
    const records = new Map((await c.listMigrations()).map((r) => [r.spec.pod, r.status?.phase]));
    expect(Object.fromEntries(records)).toEqual({ 'default/w1': 'Succeeded', 'default/w2': 'Evicting', 'default/tool': 'WaitingForReplacement' });
    // The controller's replacement for w1 starts elsewhere; then w2 may go. The bare pod is placed.
    await c.createPod(pod('w4', { labels: { app: 'web' }, owner: 'web' }));
    await c.bindPod({ name: 'w4' }, 'c');
    await c.bindPod({ name: 'tool' }, 'a');
    runAll(c);
    clock.advanceTo(T0 + 60_000);
    const second = await m.runOnce();
    expect(second.moves.map((o) => `${o.record.spec.pod} ${o.outcome}`)).toEqual(['default/w2 moved']);
    expect((await c.listPods({ nodeName: 'b' })).length).toBe(0);
    expect((await c.listMigrations()).map((r) => r.status?.phase)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  });

  it('waits for the toleration on a lost node, then deletes; without polyarch a bare pod is simply gone', async () => {
    const { clock, c } = setup();
    await c.createPod(pod('bare'));
    await c.bindPod({ name: 'bare' }, 'a');
    c.failNode('a');
    const kube = new Migrator({ cluster: c, clock, recreateBarePods: false, defaultTolerationMs: 300_000 });
    const first = await kube.runOnce();
    expect([first.started, first.moves.length, first.waiting]).toEqual([1, 0, 1]);
    clock.advanceTo(T0 + 300_000);
    expect((await kube.runOnce()).moves.map((o) => o.outcome)).toEqual(['moved']);
    expect(await c.getPod({ name: 'bare' })).toBeUndefined();
  });
});

describe('SimCluster node loss: DefaultTolerationSeconds admission and the taint manager (core/kube-model/node-lifecycle.ts)', () => {
  const deployment = { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: pod('t').spec } } };
  const statefulSet = { metadata: { name: 'db', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: pod('t').spec } } };

  it('admission adds the not-ready and unreachable NoExecute tolerations (the configured seconds) unless the pod has them', async () => {
    const clock = new SimClock(T0);
    const c = new SimCluster(clock, T0, { defaultTolerationSeconds: 120 });
    const plain = await c.createPod(pod('plain'));
    expect(plain.ok && plain.value.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
    ]);
    const own = await c.createPod({ ...pod('own'), spec: { ...pod('own').spec, tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] } });
    expect(own.ok && own.value.spec.tolerations?.map((t) => [t.key, t.tolerationSeconds])).toEqual([['node.kubernetes.io/unreachable', undefined], ['node.kubernetes.io/not-ready', 120]]);
  });

  it('a lost node: pods evicted once their toleration runs out (terminating: the kubelet cannot confirm), Deployment pods replaced at once, a StatefulSet pod only once the node is fenced', async () => {
    const { clock, c } = setup();
    const ctl = new SimControllers(c, { schedulerName: 'polyarch' });
    c.addDeployment(deployment);
    c.addStatefulSet(statefulSet);
    ctl.activate('default/web');
    ctl.activate('default/db');
    await ctl.reconcile();
    for (const [key] of c.podEntries()) await c.bindPod({ name: key.slice('default/'.length) }, 'a');
    runAll(c);
    const web = [...c.podEntries()].find(([, p]) => p.metadata.labels?.app === 'web')?.[1];
    expect(web?.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+-/);
    expect(web?.metadata.labels?.['pod-template-hash']).toBeDefined();
    c.failNode('a');
    clock.advanceTo(T0 + 299_000);
    await ctl.reconcile();
    expect([...c.podEntries()].map(([, p]) => !!p.metadata.deletionTimestamp)).toEqual([false, false]);
    clock.advanceTo(T0 + 300_000);
    await ctl.reconcile();
    // Both terminating on the lost node; the Deployment has a new pod, the StatefulSet waits (db-0 still exists).
    const now = [...c.podEntries()].map(([k, p]) => `${k}${p.metadata.deletionTimestamp ? ' terminating' : ''}`);
    expect(now.filter((x) => x.endsWith('terminating')).sort()).toEqual(['default/db-0 terminating', `default/${web?.metadata.name ?? ''} terminating`]);
    expect(now.filter((x) => x.startsWith('default/web-') && !x.endsWith('terminating'))).toHaveLength(1);
    expect(c.podObject('default/db-0')?.spec.nodeName).toBe('a');
    // Fenced (out-of-service): the taint manager's pod GC removes what terminates there; the StatefulSet makes db-0 again.
    c.fenceNode('a');
    await ctl.reconcile();
    expect(c.podsOn('a').size).toBe(0);
    await ctl.reconcile();
    expect(c.podObject('default/db-0')?.spec.nodeName).toBeUndefined();
    expect(c.podObject('default/db-0')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('a node back before the toleration runs out keeps its pods; one back after finishes the deletions it could not confirm', async () => {
    const { clock, c } = setup();
    await c.createPod(pod('stays'));
    await c.bindPod({ name: 'stays' }, 'a');
    c.failNode('a');
    clock.advanceTo(T0 + 120_000);
    expect(c.taintManager()).toBe(0);
    c.recoverNode('a');
    clock.advanceTo(T0 + 600_000);
    expect(c.taintManager()).toBe(0);
    expect(c.podObject('default/stays')?.spec.nodeName).toBe('a');
    c.failNode('a');
    clock.advanceTo(T0 + 900_000 + 1);
    expect(c.taintManager()).toBe(1);
    expect(c.podObject('default/stays')?.metadata.deletionTimestamp).toBeDefined();
    c.recoverNode('a');
    expect(c.podObject('default/stays')).toBeUndefined();
  });
});

describe('SimCluster change feed', () => {
  it('answers the changes after a version (at its offset, after compaction too), and expired once they were compacted away', async () => {
    const { c } = setup();
    await c.createPod(pod('p'));
    const v0 = await c.version();
    for (let i = 0; i < 45_000; i++) c.setPodPhase('default/p', 'Running', i % 2 === 0);
    const now = await c.version();
    expect(now).toBe(v0 + 45_000);
    // The history was compacted (over 40,000 kept changes): the oldest follower must list again.
    expect((await c.changes(v0)).expired).toBe(true);
    const recent = await c.changes(now - 3);
    expect(recent.expired).toBe(false);
    expect(recent.events.map((e) => e.version)).toEqual([now - 2, now - 1, now]);
    expect((await c.changes(now)).events).toEqual([]);
  });
});
