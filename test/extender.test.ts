// The scheduler extender through a real HTTP client, with the bodies kube-scheduler sends.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Extender, toExtenderPriority } from '../src/app/extender.ts';
import { extenderRoutes } from '../src/server/extender.ts';
import { startServer, type RunningServer } from '../src/server/http-server.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { createMetrics } from '../src/server/metrics.ts';
import type { NodeLike } from '../src/app/placement-choice.ts';
import { SimCluster } from '../src/sim/cluster.ts';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import { MemoryResolver } from './support/memory-resolver.ts';
import { realClock } from './support/real-clock.ts';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/extender/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const nodes = fixture('nodes.json') as unknown as NodeLike[];

const resolver = new MemoryResolver()
  .add('registry.example/shop/migrate:1.4', ['linux/amd64', 'linux/arm64', 'linux/riscv64', 'linux/s390x'])
  .add('registry.example/shop/web:1.4', ['linux/amd64', 'linux/arm64/v8', 'linux/s390x'])
  .add('registry.example/mesh/proxy:2.0', ['linux/amd64', 'linux/arm64', 'linux/riscv64']);
const cluster = new SimCluster(realClock, Date.now());
for (const n of nodes) cluster.addNode(n as Node);
const podOf = (namespace: string, name: string): Pod | undefined => cluster.podObject(`${namespace}/${name}`);
let server: RunningServer;
const metrics = createMetrics({ defaultMetrics: false });

beforeAll(async () => {
  const extender = new Extender({ resolver, cluster, clock: realClock, deadlineMs: 300, preferences: [{ architecture: 'arm64', weight: 100 }, { architecture: 'amd64', weight: 40 }] });
  server = await startServer({ listen: '127.0.0.1:0', routes: extenderRoutes(extender, metrics, silentLogger), metrics, log: silentLogger, bodyLimit: 1 << 20 });
});
afterAll(() => server.close());
afterEach(() => {
  resolver.registry = 'up';
});

async function post(path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}/extender/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

interface FilterResult {
  Nodes: { items: NodeLike[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

describe('POST /filter', () => {
  it('nodeCacheCapable false: answers Nodes, echoing the node objects, and refuses platforms as unresolvable', async () => {
    const { status, json } = await post('filter', fixture('filter-nodes.json'));
    const r = json as FilterResult;
    expect(status).toBe(200);
    expect(Object.keys(r).sort()).toEqual(['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes']);
    expect(r.Error).toBe('');
    expect(r.NodeNames).toBeNull();
    expect(r.Nodes?.items.map((n) => n.metadata?.name)).toEqual(['n-amd64', 'n-arm64']);
    // The objects go back whole, as kube-scheduler sent them.
    expect(r.Nodes?.items[1]).toEqual(nodes[1]);
    expect(Object.keys(r.FailedAndUnresolvableNodes).sort()).toEqual(['n-riscv64', 'n-s390x', 'n-unlabelled']);
    expect(r.FailedAndUnresolvableNodes['n-riscv64']).toBe("node(s) can't run any platform of image registry.example/shop/web:1.4 (has linux/amd64, linux/arm64, linux/s390x)");
    expect(r.FailedAndUnresolvableNodes['n-s390x']).toMatch(/image registry\.example\/mesh\/proxy:2\.0/);
    expect(r.FailedAndUnresolvableNodes['n-unlabelled']).toBe('node(s) had no known platform');
    // A node of unknown platform cannot take the pod whatever is evicted: unresolvable, as NodePlatform says.
    expect(Object.keys(r.FailedNodes)).toEqual([]);
  });

  it('nodeCacheCapable true: answers NodeNames from its node cache; unknown names fail, not as unresolvable', async () => {
    const { status, json } = await post('filter', fixture('filter-nodenames.json'));
    const r = json as FilterResult;
    expect(status).toBe(200);
    expect(r.Error).toBe('');
    expect(r.Nodes).toBeNull();
    expect(r.NodeNames).toEqual(['n-amd64', 'n-arm64']);
    expect(Object.keys(r.FailedNodes).sort()).toEqual(['n-gone']);
    expect(Object.keys(r.FailedAndUnresolvableNodes).sort()).toEqual(['n-riscv64', 'n-s390x', 'n-unlabelled']);
  });

  it('accepts the field names in any case, as Go extenders do', async () => {
    const f = fixture('filter-nodenames.json');
    const { json } = await post('filter', { pod: f.Pod, nodenames: ['n-arm64', 'n-riscv64'] });
    expect((json as FilterResult).NodeNames).toEqual(['n-arm64']);
  });

  it('an unreachable registry with a cold cache is an Error, and a hanging one answers by the deadline', async () => {
    const pod = fixture('filter-nodes.json').Pod as { spec: { containers: { image: string }[] } };
    const cold = structuredClone(pod);
    cold.spec.containers[0]!.image = 'registry.example/shop/web:cold';
    resolver.registry = 'unreachable';
    const a = (await post('filter', { Pod: cold, NodeNames: ['n-amd64'] })).json as FilterResult;
    expect(a.Error).toMatch(/ECONNREFUSED/);
    expect(a.NodeNames).toEqual([]);
    resolver.registry = 'hang';
    const b = (await post('filter', { Pod: cold, NodeNames: ['n-amd64'] })).json as FilterResult;
    expect(b.Error).toMatch(/longer than 300 ms/);
  });

  it('answers from the cache when it is warm, whatever the registry does', async () => {
    resolver.registry = 'hang';
    const r = (await post('filter', fixture('filter-nodenames.json'))).json as FilterResult;
    expect(r.Error).toBe('');
    expect(r.NodeNames).toEqual(['n-amd64', 'n-arm64']);
  });

  it('answers an ExtenderFilterResult with Error for protocol errors', async () => {
    const wrongType = await post('filter', fixture('filter-nodes.json'), { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect((wrongType.json as FilterResult).Error).toMatch(/content type/);
    const notJson = await post('filter', '{"Pod":');
    expect(notJson.status).toBe(400);
    expect((notJson.json as FilterResult).Error).toMatch(/not JSON/);
    const noPod = await post('filter', { NodeNames: ['n-amd64'] });
    expect((noPod.json as FilterResult).Error).toMatch(/Pod/);
    const big = await post('filter', { Pod: { metadata: { name: 'x'.repeat(2 << 20) } } });
    expect(big.status).toBe(413);
    expect((big.json as FilterResult).Error).toMatch(/limit/);
    const get = await fetch(`${server.url}/extender/filter`);
    expect(get.status).toBe(405);
    expect(((await get.json()) as FilterResult).Error).toMatch(/POST/);
  });
});

describe('POST /prioritize', () => {
  it('scores 0-10, higher for the preferred architecture', async () => {
    const { status, json } = await post('prioritize', fixture('prioritize-nodes.json'));
    expect(status).toBe(200);
    const list = json as { Host: string; Score: number }[];
    expect(list.map((h) => h.Host)).toEqual(['n-amd64', 'n-arm64']);
    for (const h of list) expect(Number.isInteger(h.Score) && h.Score >= 0 && h.Score <= 10).toBe(true);
    expect(list[1]!.Score).toBe(10);
    expect(list[0]!.Score).toBeLessThan(list[1]!.Score);
  });

  it('gives 0 to a node that cannot run the pod', async () => {
    const f = fixture('filter-nodes.json');
    const list = (await post('prioritize', f)).json as { Host: string; Score: number }[];
    expect(list.find((h) => h.Host === 'n-riscv64')?.Score).toBe(0);
  });
});

describe('POST /bind', () => {
  it('writes the variant for the node and the records, then binds', async () => {
    const pod = fixture('filter-nodes.json').Pod as unknown as Pod;
    const created = await cluster.createPod(pod);
    if (!created.ok) throw new Error(created.error.message);
    const args = { ...fixture('bind.json'), PodUID: created.value.metadata.uid };
    const { status, json } = await post('bind', args);
    expect(status).toBe(200);
    expect(json).toEqual({ Error: '' });
    const bound = podOf('shop', pod.metadata.name ?? '');
    expect(bound?.spec?.nodeName).toBe('n-arm64');
    const web = resolver.table.get('registry.example/shop/web:1.4')!.platforms.find((p) => p.platform.architecture === 'arm64')!;
    expect(bound?.spec?.containers?.find((c) => c.name === 'web')?.image).toBe(web.image);
    expect(bound?.spec?.initContainers?.[0]?.image).toMatch(/^registry\.example\/shop\/migrate@sha256:/);
    expect(JSON.parse(bound?.metadata?.annotations?.['polyarch.io/source-images'] ?? '{}')).toEqual({
      migrate: 'registry.example/shop/migrate:1.4', web: 'registry.example/shop/web:1.4', proxy: 'registry.example/mesh/proxy:2.0',
    });
    expect(bound?.metadata?.annotations?.['polyarch.io/platform']).toBe('linux/arm64');
    expect(cluster.events.at(-1)?.reason).toBe('PlatformSelected');

    const again = (await post('bind', args)).json as { Error: string };
    expect(again.Error).toMatch(/already bound to n-arm64/);
  });

  it('refuses a node the pod cannot run on, and a pod that is not there, with an Error', async () => {
    const pod = structuredClone(fixture('filter-nodes.json').Pod) as { metadata: { name: string } };
    pod.metadata.name = 'web-other';
    const created = await cluster.createPod(pod as unknown as Pod);
    if (!created.ok) throw new Error(created.error.message);
    const wrong = (await post('bind', { PodName: 'web-other', PodNamespace: 'shop', PodUID: created.value.metadata.uid, Node: 'n-riscv64' })).json as { Error: string };
    expect(wrong.Error).toMatch(/node n-riscv64: node\(s\) can't run any platform of image registry.example\/shop\/web:1.4/);
    expect(podOf('shop', 'web-other')?.spec.nodeName).toBeUndefined();
    const stale = (await post('bind', { PodName: 'web-other', PodNamespace: 'shop', PodUID: 'an-older-uid', Node: 'n-amd64' })).json as { Error: string };
    expect(stale.Error).toMatch(/re-created/);
    const missing = (await post('bind', { PodName: 'nope', PodNamespace: 'shop', PodUID: 'u', Node: 'n-amd64' })).json as { Error: string };
    expect(missing.Error).toMatch(/not found/);
    const bad = await post('bind', { PodName: 'x' });
    expect(bad.status).toBe(400);
    expect((bad.json as { Error: string }).Error).toMatch(/Node/);
  });
});

describe('/bind re-checks the node with the filters of /filter', () => {
  it('judges the recorded originals in both, and refuses the node /filter refused, with its reason', async () => {
    // A migrated pod: the spec carries a variant that runs on many platforms, the
    // record says the original exists for amd64 only. Both calls judge the original.
    resolver.add('registry.example/tools/amd-only:1', ['linux/amd64']);
    const created = await cluster.createPod({
      metadata: { name: 'pinned', namespace: 'shop', annotations: { 'polyarch.io/source-images': JSON.stringify({ web: 'registry.example/tools/amd-only:1' }) } },
      spec: { containers: [{ name: 'web', image: 'registry.example/shop/web:1.4' }] },
    } as Pod);
    if (!created.ok) throw new Error(created.error.message);
    const pod = podOf('shop', 'pinned');
    const names = nodes.map((n) => n.metadata?.name ?? '');
    const filtered = (await post('filter', { Pod: pod, NodeNames: names })).json as FilterResult;
    expect(filtered.NodeNames).toEqual(['n-amd64']);
    const reason = filtered.FailedAndUnresolvableNodes['n-arm64'];
    expect(reason).toBe("node(s) can't run any platform of image registry.example/tools/amd-only:1 (has linux/amd64)");

    const refused = (await post('bind', { PodName: 'pinned', PodNamespace: 'shop', PodUID: created.value.metadata.uid, Node: 'n-arm64' })).json as { Error: string };
    expect(refused.Error).toBe(`pod shop/pinned: node n-arm64: ${reason}`);
    expect(podOf('shop', 'pinned')?.spec.nodeName).toBeUndefined();
    expect(podOf('shop', 'pinned')?.spec.containers[0]?.image).toBe('registry.example/shop/web:1.4');

    const accepted = (await post('bind', { PodName: 'pinned', PodNamespace: 'shop', PodUID: created.value.metadata.uid, Node: 'n-amd64' })).json as { Error: string };
    expect(accepted.Error).toBe('');
    expect(podOf('shop', 'pinned')?.spec.nodeName).toBe('n-amd64');
    expect(podOf('shop', 'pinned')?.spec.containers[0]?.image).toMatch(/^registry\.example\/tools\/amd-only@sha256:/);
  });

  it('scales the 0-100 score to kube-scheduler\'s 0-10 and clamps', () => {
    expect([0, 4, 5, 100, 250, -3].map(toExtenderPriority)).toEqual([0, 0, 1, 10, 10, 0]);
  });
});

describe('metrics', () => {
  it('records request latency per route', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/polyarch_http_request_duration_seconds_count\{route="extender_filter",method="POST",code="200"\} [1-9]/);
    expect(text).toMatch(/polyarch_extender_requests_total\{verb="bind",result="ok"\} 2/);
  });
});
