/**
 * One app layer, two adapters: the same scheduler code, fed the same scenario through
 * the simulator's in-memory cluster and through the API server, places every pod on the
 * same node with the same image variant.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { QueueScheduler } from '../../src/app/queue-scheduler.ts';
import type { Node, Pod } from '../../src/core/k8s/types.ts';
import { createFramework } from '../../src/core/placement/framework.ts';
import { mulberry32 } from '../../src/core/placement/rng.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Cluster } from '../../src/ports/cluster.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { SimCluster } from '../../src/sim/cluster.ts';
import { FakeApiServer } from '../support/apiserver/index.ts';
import { barePod, node, resolver } from './helpers.ts';

let server: FakeApiServer | undefined;
let kube: KubeCluster | undefined;
afterEach(async () => {
  await kube?.stop();
  await server?.close();
  server = undefined;
  kube = undefined;
});

/** Time stands still for the decisions (queue order = priority, then name), sleeps are real. */
const frozen: Clock = { now: () => 1_700_000_000_000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

const NODES: Node[] = [
  node('amd-big', 'amd64', { cpu: '8', memory: '16Gi' }),
  node('amd-small', 'amd64', { cpu: '2', memory: '4Gi' }),
  node('arm-1', 'arm64', { cpu: '4', memory: '8Gi' }),
  node('arm-2', 'arm64', { cpu: '4', memory: '8Gi' }),
  node('loong-1', 'loong64', { cpu: '4', memory: '8Gi' }),
  node('riscv-1', 'riscv64', { cpu: '2', memory: '4Gi' }),
] as unknown as Node[];

const IMAGES = ['registry.example/shop/web:1.4', 'registry.example/tools/agent:2.0', 'registry.example/legacy/report:7', 'registry.example/mainframe/db:9'];
/** 30 pods of mixed images and sizes, in a fixed order. */
const PODS: Pod[] = Array.from({ length: 30 }, (_, i) => {
  const image = IMAGES[i % 7 === 6 ? 3 : i % 5 === 0 ? 2 : i % 3 === 0 ? 1 : 0] ?? '';
  const cpu = ['100m', '250m', '500m', '1'][i % 4] ?? '100m';
  return barePod(`p${String(i).padStart(2, '0')}`, { app: image }, cpu) as unknown as Pod;
});

async function schedule(cluster: Cluster, settle: () => Promise<void>): Promise<Map<string, string>> {
  const fw = createFramework({});
  if (!fw.ok) throw new Error(fw.error);
  const scheduler = new QueueScheduler({ cluster, resolver: new ImageLookupService({ source: resolver(), clock: frozen }), framework: fw.value, rng: mulberry32(42), clock: frozen, log: silentLogger, queue: { initialBackoffMs: 0, maxBackoffMs: 0 } });
  // Every pod gets its attempt; the unschedulable ones stay so.
  for (let round = 0; round < 10; round++) {
    await scheduler.runOnce();
    await scheduler.drain();
    await settle();
    if (scheduler.queue.counts().active === 0 && scheduler.queue.counts().gated === 0) break;
  }
  const out = new Map<string, string>();
  for (const p of await cluster.listPods()) {
    out.set(p.metadata.name ?? '', `${p.spec.nodeName ?? '-'} ${p.spec.containers[0]?.image ?? ''}`);
  }
  return out;
}

describe('simulator and API server', () => {
  it('give the same placements for the same scenario through the same app code', async () => {
    const sim = new SimCluster(frozen, frozen.now());
    for (const n of NODES) sim.addNode(n);
    for (const p of PODS) await sim.createPod(p);
    const viaSim = await schedule(sim, async () => undefined);

    server = await FakeApiServer.start();
    server.seed(...(NODES as never[]));
    for (const p of PODS) await server.create(p as never);
    kube = new KubeCluster({ kc: server.kubeConfig(), clock: frozen, log: silentLogger });
    await kube.start();
    const k = kube;
    const viaKube = await schedule(kube, async () => {
      // Wait until the informer shows what was written (bindings are asynchronous there).
      const target = server?.store.currentRv ?? 0;
      for (let i = 0; i < 200 && Number(k.pods.list().reduce((m, p) => Math.max(m, Number(p.metadata?.resourceVersion ?? 0)), 0)) < target; i++) await new Promise((r) => setTimeout(r, 10));
    });

    expect(viaKube.size).toBe(30);
    expect([...viaKube.entries()].sort()).toEqual([...viaSim.entries()].sort());
    // The scenario means something: several platforms used, and a pod nobody can run.
    const nodesUsed = new Set([...viaSim.values()].map((v) => v.split(' ')[0]));
    expect(nodesUsed.size).toBeGreaterThanOrEqual(4);
    expect(viaSim.get('p06')?.startsWith('-')).toBe(true);
    expect([...viaSim.values()].filter((v) => !v.startsWith('-') && v.includes('@sha256:')).length).toBeGreaterThanOrEqual(20);
  });
});
