/**
 * The fake API server's own cost on loopback, as ratios against a bare node:http server
 * answering the same number of requests in the same run: creating and binding pods, a
 * field-selected list over many pods, and watch fan-out. Default 1,000 pods on 100 nodes;
 * BENCH_FULL=1 for 10,000 pods on 1,000 nodes (the size of issue 7's scheduling bench).
 */
import { Agent, createServer, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { FakeApiServer } from '../fake-apiserver/index.ts';

const FULL = process.env.BENCH_FULL === '1';
const PODS = FULL ? 10_000 : 1_000;
const NODES = FULL ? 1_000 : 100;
const CONCURRENCY = 16;

const inParallel = async (n: number, f: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await f(next++);
  }));
};

const time = async (f: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

// node:http with a keep-alive agent: on this loopback it costs a fraction of what fetch does, so the server's share shows.
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const call = (method: string, url: string, body?: unknown): Promise<string> => new Promise((resolve, reject) => {
  const req = request(url, { method, agent, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  req.on('error', reject);
  req.end(body === undefined ? undefined : JSON.stringify(body));
});
const post = (url: string, body: unknown): Promise<string> => call('POST', url, body);
const get = (url: string): Promise<string> => call('GET', url);

export default async function bench(): Promise<void> {
  // Baseline: a bare HTTP server that reads the body and answers a small JSON object.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end('{"kind":"Status","status":"Success"}');
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const addr = bare.address();
  const bareUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const server = await FakeApiServer.start();
  for (let i = 0; i < NODES; i++) {
    server.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n${i}` }, status: { allocatable: { cpu: '8', memory: '32Gi' } } });
  }
  const podBody = (i: number): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { schedulerName: 'polyarch', containers: [{ name: 'app', image: 'registry.local/app:1' }] } });

  const baseCreate = await time(() => inParallel(PODS, async (i) => { await post(`${bareUrl}/create`, podBody(i)); }));
  const create = await time(() => inParallel(PODS, async (i) => { await post(`${server.url}/api/v1/namespaces/default/pods`, podBody(i)); }));

  // A watcher on all pods, to include fan-out in the bind cost.
  const watch = await fetch(`${server.url}/api/v1/pods?watch=true&resourceVersion=${server.store.currentRv}`);
  const reader = watch.body?.getReader();
  let events = 0;
  const drain = (async () => {
    const dec = new TextDecoder();
    for (;;) {
      const r = await reader?.read();
      if (!r || r.done) return;
      events += dec.decode(r.value).split('\n').length - 1;
    }
  })();
  const baseBind = await time(() => inParallel(PODS, async (i) => { await post(`${bareUrl}/bind`, { target: { name: `n${i % NODES}` } }); }));
  const bind = await time(() => inParallel(PODS, async (i) => {
    await post(`${server.url}/api/v1/namespaces/default/pods/p${i}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: `p${i}` }, target: { kind: 'Node', name: `n${i % NODES}` } });
  }));

  const LISTS = 200;
  const baseList = await time(() => inParallel(LISTS, async () => { await get(`${bareUrl}/list`); }));
  const list = await time(() => inParallel(LISTS, async (i) => { await get(`${server.url}/api/v1/pods?fieldSelector=spec.nodeName%3Dn${i % NODES}`); }));

  server.dropWatches();
  await drain;
  await server.close();
  agent.destroy();
  await new Promise<void>((r) => bare.close(() => r()));

  const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000)}/s`;
  console.log(`pods ${PODS}, nodes ${NODES}, concurrency ${CONCURRENCY}`);
  console.log(`create pod:        ${rate(PODS, create)} (bare HTTP ${rate(PODS, baseCreate)}), ratio ${(create / baseCreate).toFixed(2)}x the bare cost`);
  console.log(`bind pod + 1 watch: ${rate(PODS, bind)} (bare HTTP ${rate(PODS, baseBind)}), ratio ${(bind / baseBind).toFixed(2)}x; watch events ${events}`);
  console.log(`list by spec.nodeName over ${PODS} pods: ${rate(LISTS, list)} (bare HTTP ${rate(LISTS, baseList)}), ratio ${(list / baseList).toFixed(2)}x`);
}
