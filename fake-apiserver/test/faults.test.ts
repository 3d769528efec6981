/** Fault injection: failing requests, latency, dropped watches, compaction, and restarts with and without state. */
import { CoreV1Api, Watch, makeInformer } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';
import { expectStatus, pod, raw, until } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await FakeApiServer.start();
  core = server.client(CoreV1Api);
});
afterAll(() => server.close());

interface Ev { type: string; obj: { metadata?: { name?: string }; code?: number; reason?: string } }
const watch = async (query: Record<string, string | number | boolean | undefined>): Promise<{ events: Ev[]; done: Promise<unknown> }> => {
  const events: Ev[] = [];
  let resolve: (v: unknown) => void = () => {};
  const done = new Promise((r) => { resolve = r; });
  await new Watch(server.kubeConfig()).watch('/api/v1/namespaces/default/pods', query, (type, obj) => events.push({ type, obj }), (err) => resolve(err ?? 'closed'));
  return { events, done };
};

describe('failing requests', () => {
  it('failNext(n, path) answers n matching requests with a 500 Status, then serves normally; others are untouched', async () => {
    server.faults.failNext(2, { path: '/pods' });
    expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
    const s = await expectStatus(core.listNamespacedPod({ namespace: 'default' }), 500, 'InternalError');
    expect(s.message).toBe('Internal error occurred: injected fault');
    await expectStatus(core.createNamespacedPod({ namespace: 'default', body: pod('f1') }), 500, 'InternalError');
    expect(server.get('v1', 'Pod', 'f1')).toBeUndefined();
    expect((await core.createNamespacedPod({ namespace: 'default', body: pod('f1') })).metadata?.name).toBe('f1');
  });

  it('can match a method and answer another code (429 with retryAfterSeconds)', async () => {
    server.faults.failNext(1, { method: 'POST', path: /\/binding$/, code: 429, message: 'slow down' });
    expect((await core.readNamespacedPod({ name: 'f1', namespace: 'default' })).metadata?.name).toBe('f1');
    const s = await expectStatus(core.createNamespacedPodBinding({ name: 'f1', namespace: 'default', body: { metadata: { name: 'f1' }, target: { name: 'n1' } } }), 429, 'TooManyRequests');
    expect(s.details).toEqual({ retryAfterSeconds: 1 });
    expect(server.get('v1', 'Pod', 'f1')?.spec.nodeName).toBeUndefined();
  });

  it('latency holds every request before it is handled', async () => {
    server.faults.setLatency(300);
    const before = server.requests.length;
    const pending = raw(server.url, 'GET', '/api/v1/namespaces/default/pods/f1');
    await until(() => server.requests.length > before, 'the request to arrive');
    const rec = server.requests[before];
    expect(rec?.code).toBe(0); // arrived, not yet answered
    const r = await pending;
    expect(r.status).toBe(200);
    expect(rec?.code).toBe(200);
    server.faults.setLatency(0);
  });
});

describe('watches', () => {
  it('dropWatches ends every open watch; the client sees the stream close', async () => {
    const w = await watch({ resourceVersion: String(server.store.currentRv) });
    await until(() => server.watches.count > 0, 'the watch to open');
    expect(server.dropWatches()).toBeGreaterThanOrEqual(1);
    expect(await w.done).toBe('closed');
    expect(server.watches.count).toBe(0);
  });

  it('after compact(), a watch from an older version gets 410 Expired', async () => {
    const old = String(server.store.currentRv);
    await core.createNamespacedPod({ namespace: 'default', body: pod('f2') });
    server.compact();
    const w = await watch({ resourceVersion: old });
    await w.done;
    expect(w.events).toEqual([{ type: 'ERROR', obj: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);
  });

  it('an informer keeps working across dropped watches (it re-watches)', async () => {
    const informer = makeInformer(server.kubeConfig(), '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const added: string[] = [];
    informer.on('add', (p) => added.push(p.metadata?.name ?? ''));
    await informer.start();
    await until(() => added.includes('f1'), 'initial list');
    server.dropWatches();
    await core.createNamespacedPod({ namespace: 'default', body: pod('after-drop') });
    await until(() => added.includes('after-drop'), 'the pod created after the drop');
    await informer.stop();
  });
});

describe('stop and restart on the same port', () => {
  it('keeping state: objects survive, the port is the same, a watch resumes from its version', async () => {
    const port = server.port;
    const rv = String(server.store.currentRv);
    await server.stop();
    await expect(fetch(`${server.url}/version`)).rejects.toThrow();
    await server.restart({ keepState: true });
    expect(server.port).toBe(port);
    expect((await core.readNamespacedPod({ name: 'f1', namespace: 'default' })).metadata?.name).toBe('f1');
    const w = await watch({ resourceVersion: rv });
    await core.createNamespacedPod({ namespace: 'default', body: pod('f3') });
    await until(() => w.events.length > 0, 'an event');
    expect(w.events[0]).toMatchObject({ type: 'ADDED', obj: { metadata: { name: 'f3' } } });
    server.dropWatches();
  });

  it('losing state: objects are gone, namespaces are back, old versions are 410 Gone and new ones keep growing', async () => {
    const rv = server.store.currentRv;
    await server.restart({ keepState: false });
    await expectStatus(core.readNamespacedPod({ name: 'f1', namespace: 'default' }), 404, 'NotFound');
    expect((await core.readNamespace({ name: 'kube-node-lease' })).status?.phase).toBe('Active');
    const list = await core.listNamespacedPod({ namespace: 'default' });
    expect(list.items).toEqual([]);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(rv);
    const w = await watch({ resourceVersion: String(rv) });
    await w.done;
    expect(w.events[0]).toMatchObject({ type: 'ERROR', obj: { code: 410 } });
  });

  it('an informer across a restart that loses state gets 410, relists, and converges on the new state', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('before') });
    const informer = makeInformer(server.kubeConfig(), '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const log: string[] = [];
    informer.on('add', (p) => log.push(`add ${p.metadata?.name ?? ''}`));
    informer.on('delete', (p) => log.push(`delete ${p.metadata?.name ?? ''}`));
    await informer.start();
    await until(() => log.includes('add before'), 'initial list');
    const watchesBefore = server.requests.filter((r) => r.watch).length;
    await server.restart({ keepState: false });
    await core.createNamespacedPod({ namespace: 'default', body: pod('after') });
    await until(() => log.includes('delete before') && log.includes('add after'), 'relist after 410');
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['after']);
    expect(server.requests.filter((r) => r.watch).length).toBeGreaterThan(watchesBefore);
    await informer.stop();
  });
});
