/**
 * The API path of a placement, counted on the fake API server's request log: a pod whose
 * image reference already gives the node the chosen variant (an index with one entry per
 * architecture) costs its binding alone, the records travelling with it; a pod whose
 * variant must be written (a per-architecture tag) costs the image patch, then the
 * binding, and the binding never lands before the image; nothing else on the way (reads
 * come from the informers), over connections kept alive. Events go through the recorder,
 * which folds repeats, combines similar messages, drops an object's spam and writes in
 * the background.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../src/adapters/kube/events.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { FakeApiServer, type KubeObject } from '../../fake-apiserver/index.ts';
import { barePod, eventually, events, node, pods, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
let server: FakeApiServer | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await server?.close();
  server = undefined;
});

const WEB = 'registry.example/shop/web:1.4';
const AGENT = 'registry.example/tools/agent:2.0';

describe('API path', () => {
  it('binds a pod of an index image with one request, a pod of a per-architecture tag with the image patch first', async () => {
    h = await startHarness();
    const INDEXED = 30;
    const TAGGED = 10;
    for (const n of ['a1', 'a2', 'r1']) h.server.seed(node(n, n.startsWith('a') ? 'amd64' : 'arm64'));
    await eventually(async () => (await h!.cluster.listNodes()).length === 3, 10_000, 'the nodes in the informer');
    const start = h.server.store.currentRv;
    const connections = h.server.connectionsAccepted;
    for (let i = 0; i < INDEXED; i++) await h.server.create(barePod(`w${i}`, { app: WEB }));
    for (let i = 0; i < TAGGED; i++) await h.server.create(barePod(`t${i}`, { app: AGENT }));
    const created = h.server.requests.length;
    await eventually(() => pods(h!.server).filter((p) => p.spec?.['nodeName']).length === INDEXED + TAGGED, 20_000, 'all pods bound');
    const made = h.server.requests.slice(created).filter((r) => !r.watch && r.resource !== 'events');
    const patches = made.filter((r) => r.resource === 'pods' && r.method === 'PATCH' && !r.subresource);
    const bindings = made.filter((r) => r.resource === 'pods' && r.subresource === 'binding');
    // The index pods: the binding only. The tagged pods: the patch, then the binding.
    expect(bindings.length).toBe(INDEXED + TAGGED);
    expect(patches.map((r) => r.name).sort()).toEqual(Array.from({ length: TAGGED }, (_, i) => `t${i}`).sort());
    for (const p of patches) expect(made.indexOf(p), `${p.name} patched before its binding`).toBeLessThan(made.findIndex((b) => b.subresource === 'binding' && b.name === p.name));
    // Nothing else: no GET per pod, no status write for a pod that was placed.
    const other = made.filter((r) => !patches.includes(r) && !bindings.includes(r));
    expect(other.map((r) => `${r.method} ${r.path}`)).toEqual([]);

    // What the kubelet sees: every pod's first state with a node names the image it is to run.
    const firstBound = new Map<string, KubeObject>();
    for (const c of h.server.store.changesSince(start)) {
      if (c.resource === '/pods' && c.object.spec?.['nodeName'] && !firstBound.has(c.object.metadata.name ?? '')) firstBound.set(c.object.metadata.name ?? '', c.object);
    }
    expect(firstBound.size).toBe(INDEXED + TAGGED);
    for (const [name, p] of firstBound) {
      const image = (p.spec?.['containers'] as { image: string }[])[0]?.image;
      if (name.startsWith('t')) expect(image, `${name} bound with its variant`).toMatch(/^registry\.example\/tools\/agent@sha256:[0-9a-f]{64}$/);
      else expect(image, `${name} keeps its reference`).toBe(WEB);
      // The records came with the binding (or the patch): the original, the platform, the decision.
      const annotations = p.metadata.annotations ?? {};
      expect(JSON.parse(annotations['polyarch.io/source-images'] ?? '{}'), name).toEqual({ app: name.startsWith('t') ? AGENT : WEB });
      expect(annotations['polyarch.io/platform'], name).toMatch(/^linux\/(amd64|arm64)/);
      expect(annotations['polyarch.io/decision'], name).toContain(String(p.spec?.['nodeName']));
    }
    // The Scheduled events arrive in the background, one per pod.
    await h.cluster.flushEvents();
    const scheduled = events(h.server).filter((e) => e['reason'] === 'Scheduled');
    expect(scheduled.length).toBe(INDEXED + TAGGED);
    // Connections are kept alive: at most one per request in flight at once (16 writes,
    // 2 event writers), not one per request (90 here).
    const requests = h.server.requests.slice(created).filter((r) => !r.watch).length;
    expect(requests).toBeGreaterThanOrEqual(90);
    expect(h.server.connectionsAccepted - connections).toBeLessThanOrEqual(18);
  });

  it('never binds a re-created pod of the same name: the binding carries the uid the decision saw', async () => {
    server = await FakeApiServer.start();
    const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
    try {
      server.seed(node('a1', 'amd64'));
      await server.create(barePod('p', { app: WEB }));
      await cluster.start();
      await eventually(async () => (await cluster.getPod({ namespace: 'default', name: 'p' })) !== undefined, 10_000, 'the pod in the informer');
      // Re-created while the informer does not look (its watch stopped, its cache kept):
      // the binding names the old uid, the server refuses it.
      await cluster.pods.stop();
      const old = server.get('v1', 'Pod', 'p', 'default');
      expect((await cluster.getPod({ namespace: 'default', name: 'p' }))?.metadata.uid).toBe(old?.metadata.uid);
      server.store.remove('/pods', 'default', 'p');
      server.seed({ ...barePod('p', { app: WEB }), metadata: { name: 'p', namespace: 'default', uid: 'another-uid' } });
      expect(old?.metadata.uid).not.toBe('another-uid');
      const r = await cluster.bindPod({ namespace: 'default', name: 'p' }, 'a1', { annotations: { 'polyarch.io/platform': 'linux/amd64' } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.kind).toBe('conflict');
      expect(server.get('v1', 'Pod', 'p', 'default')?.spec?.['nodeName']).toBeUndefined();
    } finally {
      await cluster.stop();
    }
  });
});

describe('request deadline', () => {
  it('a request the server does not answer is given up after the deadline, one started later too', async () => {
    server = await FakeApiServer.start();
    server.seed(node('a1', 'amd64'));
    await server.create(barePod('p', { app: WEB }));
    await server.create(barePod('q', { app: WEB }));
    // The server answers nothing for a minute; the client's deadline is 300 ms, no retry.
    server.faults.setLatency(60_000);
    const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger, requestTimeoutMs: 300, writeRetries: 0 });
    const first = cluster.bindPod({ namespace: 'default', name: 'p' }, 'a1');
    await new Promise((r) => setTimeout(r, 1_100)); // a later deadline slot (they are 1 s wide)
    const second = cluster.bindPod({ namespace: 'default', name: 'q' }, 'a1');
    for (const r of [await first, await second]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.kind).toBe('unavailable');
    }
    server.faults.clear();
  }, 15_000);
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
