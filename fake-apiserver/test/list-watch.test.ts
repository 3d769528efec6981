/** Conformance: list (selectors, pagination, resourceVersion semantics) and watch (events, bookmarks, 410 Gone), over HTTP. */
import { CoreV1Api, PatchStrategy, Watch, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Pod , ListWatch} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';
import { expectStatus, pod, until } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await FakeApiServer.start({ historyLimit: 50, bookmarkIntervalMs: 50 });
  core = server.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'sel' } } });
  const mk = (name: string, labels: Record<string, string>, extra: { nodeName?: string; schedulerName?: string } = {}): Promise<V1Pod> =>
    core.createNamespacedPod({ namespace: 'sel', body: pod(name, { labels, ...extra }) });
  await mk('a', { app: 'web', tier: 'front' }, { nodeName: 'n1' });
  await mk('b', { app: 'web', tier: 'back' }, { schedulerName: 'polyarch' });
  await mk('c', { app: 'db' }, { schedulerName: 'polyarch', nodeName: 'n2' });
  await mk('d', { other: 'x' });
});
afterAll(() => server.close());

const names = (l: { items: { metadata?: { name?: string } }[] }): string[] => l.items.map((i) => i.metadata?.name ?? '').sort();

describe('list selectors', () => {
  it.each([
    ['app=web', ['a', 'b']],
    ['app==web', ['a', 'b']],
    ['app!=web', ['c', 'd']],
    ['app in (web,db)', ['a', 'b', 'c']],
    ['app notin (web)', ['c', 'd']],
    ['tier', ['a', 'b']],
    ['!tier', ['c', 'd']],
    ['app=web,tier=back', ['b']],
  ])('label selector %s', async (labelSelector, expected) => {
    expect(names(await core.listNamespacedPod({ namespace: 'sel', labelSelector }))).toEqual(expected);
  });

  it.each([
    ['spec.nodeName=n1', ['a']],
    ['spec.nodeName=', ['b', 'd']],
    ['spec.nodeName!=', ['a', 'c']],
    ['spec.schedulerName=polyarch', ['b', 'c']],
    ['spec.schedulerName=polyarch,spec.nodeName=', ['b']],
    ['status.phase=Pending', ['a', 'b', 'c', 'd']],
    ['metadata.name=c', ['c']],
    ['metadata.namespace=sel', ['a', 'b', 'c', 'd']],
  ])('field selector %s', async (fieldSelector, expected) => {
    expect(names(await core.listNamespacedPod({ namespace: 'sel', fieldSelector }))).toEqual(expected);
  });

  it('spec.nodeName=X follows binds and deletes (the node index), and combines with other selectors', async () => {
    await core.createNamespacedPod({ namespace: 'sel', body: pod('idx', { labels: { app: 'idx' } }) });
    expect(names(await core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.nodeName=n7' }))).toEqual([]);
    await core.createNamespacedPodBinding({ name: 'idx', namespace: 'sel', body: { metadata: { name: 'idx' }, target: { name: 'n7' } } });
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n7' }))).toEqual(['idx']);
    expect(names(await core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.nodeName=n7', labelSelector: 'app=other' }))).toEqual([]);
    expect(names(await core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.nodeName=n7' }))).toEqual([]);
    await core.deleteNamespacedPod({ name: 'idx', namespace: 'sel', gracePeriodSeconds: 0 });
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n7' }))).toEqual([]);
  });

  it('400 BadRequest for an unsupported field or a malformed selector', async () => {
    const s = await expectStatus(core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.hostname=x' }), 400, 'BadRequest');
    expect(s.message).toBe('field label not supported: spec.hostname');
    await expectStatus(core.listNamespacedPod({ namespace: 'sel', labelSelector: 'app in web' }), 400, 'BadRequest');
  });

  it('lists across namespaces at /api/v1/pods', async () => {
    const all = await core.listPodForAllNamespaces({ labelSelector: 'app=web' });
    expect(names(all)).toEqual(['a', 'b']);
  });
});

describe('list resourceVersion and pagination', () => {
  it('pages with limit and continue at one consistent resourceVersion', async () => {
    const p1 = await core.listNamespacedPod({ namespace: 'sel', limit: 3 });
    expect(names(p1)).toEqual(['a', 'b', 'c']);
    expect(p1.metadata?.remainingItemCount).toBe(1);
    await core.createNamespacedPod({ namespace: 'sel', body: pod('e') }); // after the first page: not in this list
    const p2 = await core.listNamespacedPod({ namespace: 'sel', limit: 3, _continue: p1.metadata?._continue ?? '' });
    expect(names(p2)).toEqual(['d']);
    expect(p2.metadata?.resourceVersion).toBe(p1.metadata?.resourceVersion);
    expect(p2.metadata?._continue).toBeUndefined();
    await core.deleteNamespacedPod({ name: 'e', namespace: 'sel' });
  });

  it('resourceVersionMatch=Exact serves the past state; a too-large version is 504 Timeout', async () => {
    const before = await core.listNamespacedPod({ namespace: 'sel' });
    await core.createNamespacedPod({ namespace: 'sel', body: pod('f') });
    const exact = await core.listNamespacedPod({ namespace: 'sel', resourceVersion: before.metadata?.resourceVersion ?? '', resourceVersionMatch: 'Exact' });
    expect(names(exact)).toEqual(names(before));
    const now = await core.listNamespacedPod({ namespace: 'sel', resourceVersion: before.metadata?.resourceVersion ?? '', resourceVersionMatch: 'NotOlderThan' });
    expect(names(now)).toContain('f');
    await expectStatus(core.listNamespacedPod({ namespace: 'sel', resourceVersion: String(server.store.currentRv + 100) }), 504, 'Timeout');
    await core.deleteNamespacedPod({ name: 'f', namespace: 'sel' });
  });

  it('an Exact list older than the history is 410 Gone (Expired)', async () => {
    const old = String(server.store.currentRv);
    for (let i = 0; i < 60; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `fill-${i}` } } });
    await expectStatus(core.listNamespacedPod({ namespace: 'sel', resourceVersion: old, resourceVersionMatch: 'Exact' }), 410, 'Expired');
  });
});

interface Ev { type: string; name: string; rv: string; obj: Record<string, unknown> }

const watchInto = async (path: string, query: Record<string, string | number | boolean | undefined>): Promise<{ events: Ev[]; done: Promise<unknown>; stop: () => void }> => {
  const events: Ev[] = [];
  let resolveDone: (v: unknown) => void = () => {};
  const done = new Promise((r) => { resolveDone = r; });
  const ctl = await new Watch(server.kubeConfig()).watch(path, query, (type, obj) => {
    events.push({ type, name: obj?.metadata?.name ?? '', rv: obj?.metadata?.resourceVersion ?? '', obj });
  }, (err) => resolveDone(err ?? 'closed'));
  return { events, done, stop: () => ctl.abort() };
};

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED after the given resourceVersion, in order', async () => {
    const list = await core.listNamespacedPod({ namespace: 'sel' });
    const w = await watchInto('/api/v1/namespaces/sel/pods', { resourceVersion: list.metadata?.resourceVersion });
    await core.createNamespacedPod({ namespace: 'sel', body: pod('w1') });
    await core.patchNamespacedPod({ name: 'w1', namespace: 'sel', body: { metadata: { labels: { x: '1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedPod({ name: 'w1', namespace: 'sel' });
    await until(() => w.events.length >= 3, 'three events');
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const rvs = w.events.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(w.events[0]?.obj).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    w.stop();
  });

  it('without resourceVersion starts with synthetic ADDED events for what exists', async () => {
    const w = await watchInto('/api/v1/namespaces/sel/pods', { labelSelector: 'app=web' });
    await until(() => w.events.length >= 2, 'initial events');
    expect(w.events.map((e) => `${e.type} ${e.name}`).sort()).toEqual(['ADDED a', 'ADDED b']);
    w.stop();
  });

  it('with a selector, an object leaving it is DELETED and one entering it is ADDED', async () => {
    const rv = String(server.store.currentRv);
    const w = await watchInto('/api/v1/namespaces/sel/pods', { resourceVersion: rv, fieldSelector: 'spec.nodeName=' });
    await core.createNamespacedPodBinding({ name: 'b', namespace: 'sel', body: { metadata: { name: 'b' }, target: { kind: 'Node', name: 'n9' } } });
    await core.createNamespacedPod({ namespace: 'sel', body: pod('g') });
    await until(() => w.events.length >= 2, 'two events');
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['DELETED b', 'ADDED g']);
    w.stop();
  });

  it('sends BOOKMARK events when allowed, carrying only a resourceVersion', async () => {
    const w = await watchInto('/api/v1/namespaces/sel/pods', { resourceVersion: String(server.store.currentRv), allowWatchBookmarks: true });
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    const b = w.events.find((e) => e.type === 'BOOKMARK');
    expect(b?.obj).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(server.store.currentRv) } });
    expect(Object.keys(b?.obj.metadata as object)).toEqual(['resourceVersion']);
    w.stop();
  });

  it('sendInitialEvents ends the initial ADDED events with an initial-events-end BOOKMARK', async () => {
    const w = await watchInto('/api/v1/namespaces/sel/pods', { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, labelSelector: 'app=db' });
    await until(() => w.events.length >= 2, 'initial events and bookmark');
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'c' });
    expect(w.events[1]?.type).toBe('BOOKMARK');
    expect((w.events[1]?.obj.metadata as { annotations: Record<string, string> }).annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    w.stop();
  });

  it('a watch from a version older than the history gets an ERROR event with a 410 Expired Status, then ends', async () => {
    const w = await watchInto('/api/v1/namespaces/sel/pods', { resourceVersion: '1' });
    await w.done;
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.type).toBe('ERROR');
    expect(w.events[0]?.obj).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(String(w.events[0]?.obj.message)).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('the legacy /watch/ path watches one object by name', async () => {
    const w = await watchInto('/api/v1/watch/namespaces/sel/pods/a', { resourceVersion: String(server.store.currentRv) });
    await core.patchNamespacedPod({ name: 'b', namespace: 'sel', body: { metadata: { labels: { touched: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.patchNamespacedPod({ name: 'a', namespace: 'sel', body: { metadata: { labels: { touched: 'a' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await until(() => w.events.length > 0, 'an event for a');
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['MODIFIED a']);
    w.stop();
  });

  it('timeoutSeconds ends the stream', async () => {
    const w = await watchInto('/api/v1/namespaces/sel/pods', { resourceVersion: String(server.store.currentRv), timeoutSeconds: 1 });
    expect(await w.done).toBe('closed');
  });

  it('an informer (makeInformer) lists, watches and sees changes', async () => {
    const lw = (): Promise<{ response: unknown; body: unknown }> => core.listNamespacedPod({ namespace: 'sel' }) as never;
    const informer = makeInformer(server.kubeConfig(), '/api/v1/namespaces/sel/pods', lw as never);
    const seen: string[] = [];
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name ?? ''}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name ?? ''}`));
    await informer.start();
    await core.createNamespacedPod({ namespace: 'sel', body: pod('inf') });
    await core.deleteNamespacedPod({ name: 'inf', namespace: 'sel' });
    await until(() => seen.includes('delete inf'), 'informer delete');
    expect(seen).toContain('add a');
    expect(seen).toContain('add inf');
    expect((informer as unknown as ListWatch<V1Pod>).list().map((p) => p.metadata?.name)).not.toContain('inf');
    await informer.stop();
  });
});
