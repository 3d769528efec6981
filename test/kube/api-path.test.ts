/**
 * The API path of a placement, counted on the fake API server's request log: each bound
 * pod costs its image patch and its binding, nothing else on the way (reads come from
 * the informers); events go through the recorder, which folds repeats, combines similar
 * messages, drops an object's spam and writes in the background.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../src/adapters/kube/events.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { barePod, eventually, events, node, pods, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
let server: FakeApiServer | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await server?.close();
  server = undefined;
});

describe('API path', () => {
  it('binds each pod with two requests on its path: the image patch and the binding', async () => {
    h = await startHarness();
    const PODS = 30;
    for (const n of ['a1', 'a2', 'r1']) h.server.seed(node(n, n.startsWith('a') ? 'amd64' : 'arm64'));
    await eventually(async () => (await h!.cluster.listNodes()).length === 3, 10_000, 'the nodes in the informer');
    for (let i = 0; i < PODS; i++) await h.server.create(barePod(`p${i}`, { app: 'registry.example/shop/web:1.4' }));
    const created = h.server.requests.length;
    await eventually(() => pods(h!.server).filter((p) => p.spec?.['nodeName']).length === PODS, 20_000, 'all pods bound');
    const made = h.server.requests.slice(created).filter((r) => !r.watch && r.resource !== 'events');
    const patches = made.filter((r) => r.resource === 'pods' && r.method === 'PATCH' && !r.subresource);
    const bindings = made.filter((r) => r.resource === 'pods' && r.subresource === 'binding');
    expect(patches.length).toBe(PODS);
    expect(bindings.length).toBe(PODS);
    // Nothing else: no GET per pod, no status write for a pod that was placed.
    const other = made.filter((r) => !patches.includes(r) && !bindings.includes(r));
    expect(other.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // The Scheduled events arrive in the background, one per pod.
    await h.cluster.flushEvents();
    const scheduled = events(h.server).filter((e) => e['reason'] === 'Scheduled');
    expect(scheduled.length).toBe(PODS);
  });
});

describe('event recorder', () => {
  const target = (name: string) => ({ kind: 'Pod', namespace: 'default', name });
  const recorder = (s: FakeApiServer, opts: Partial<ConstructorParameters<typeof EventRecorder>[1]> = {}) =>
    new EventRecorder(s.kubeConfig(), { component: 'polyarch', instance: 'test', clock: systemClock, log: silentLogger, writeQps: 1000, writeBurst: 1000, ...opts });
  const evs = (s: FakeApiServer) => s.list('v1', 'Event', 'default');

  it('folds repeats into one event with a count, before and after it is written', async () => {
    server = await FakeApiServer.start();
    const r = recorder(server, { writers: 1 });
    for (let i = 0; i < 5; i++) r.record({ target: target('p'), type: 'Warning', reason: 'FailedScheduling', message: 'no nodes' });
    await r.flush();
    expect(evs(server)).toHaveLength(1);
    // The first write took one, the four repeats waiting behind it became one more write.
    r.record({ target: target('p'), type: 'Warning', reason: 'FailedScheduling', message: 'no nodes' });
    await r.flush();
    expect(evs(server)).toHaveLength(1);
    expect(evs(server)[0]?.['count']).toBe(6);
    expect(r.stats.created).toBe(1);
    expect(r.stats.coalesced).toBeGreaterThan(0);
  });

  it('combines more than ten distinct messages for one object and reason', async () => {
    server = await FakeApiServer.start();
    const r = recorder(server);
    for (let i = 0; i < 14; i++) r.record({ target: target('p'), type: 'Warning', reason: 'FailedScheduling', message: `0/${i} nodes are available` });
    await r.flush();
    const all = evs(server);
    const combined = all.filter((e) => String(e['message']).startsWith('(combined from similar events): '));
    expect(all.length - combined.length).toBe(10);
    expect(r.stats.aggregated).toBe(4);
    // One combined event counts the four, carrying the latest message.
    expect(combined).toHaveLength(1);
    expect(combined[0]?.['count']).toBe(4);
    expect(combined[0]?.['message']).toBe('(combined from similar events): 0/13 nodes are available');
  });

  it("drops an object's events beyond its burst, and not another object's", async () => {
    server = await FakeApiServer.start();
    const r = recorder(server, { spamBurst: 3, spamRefillMs: 3_600_000 });
    for (let i = 0; i < 5; i++) r.record({ target: target('noisy'), type: 'Normal', reason: `R${i}`, message: 'm' });
    r.record({ target: target('quiet'), type: 'Normal', reason: 'R', message: 'm' });
    await r.flush();
    expect(evs(server).filter((e) => (e['involvedObject'] as { name: string }).name === 'noisy')).toHaveLength(3);
    expect(evs(server).filter((e) => (e['involvedObject'] as { name: string }).name === 'quiet')).toHaveLength(1);
    expect(r.stats.spam).toBe(2);
  });

  it('writes at most its rate, the rest later; a full queue drops new events', async () => {
    server = await FakeApiServer.start();
    const r = recorder(server, { writeQps: 0.01, writeBurst: 2, queueSize: 3 });
    // Two leave the queue at once (the burst), three wait, the sixth finds the queue full.
    for (let i = 0; i < 6; i++) r.record({ target: target(`p${i}`), type: 'Normal', reason: 'Scheduled', message: 'm' });
    expect(r.stats.overflow).toBe(1);
    // Two go at once (the burst); the others wait for tokens (one per 100 s).
    await eventually(() => evs(server!).length >= 2, 5_000, 'the burst written');
    expect(evs(server).length).toBeLessThan(4);
    await r.flush(); // past the limit
    expect(evs(server)).toHaveLength(5);
  });
});
