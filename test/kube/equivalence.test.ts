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
// Scaling part.
import { Autoscaler } from '../../src/app/autoscaler.ts';
import type { AppUsageSample, MetricsSource } from '../../src/ports/metrics-source.ts';
import { MemoryPolicyStore } from '../../src/sim/scaling-policies.ts';

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

// ---- Scaling: the same autoscaler, the same usage, the same resizes ----

const T0 = Date.UTC(2026, 0, 5, 12, 0);
const MIN = 60_000;
const Mi = 2 ** 20;

/** Three StatefulSets of one pod each; usage per app and minute (cores, bytes). */
const SCALE_APPS: { name: string; node: string; cpu: string; memory: string; limit?: string; use: (m: number) => { cpu: number; mem: number } }[] = [
  { name: 'rising', node: 'n1', cpu: '500m', memory: '512Mi', use: (m) => ({ cpu: 0.3 + 0.02 * m, mem: (300 + 2 * m) * Mi }) },
  { name: 'steady', node: 'n1', cpu: '1', memory: '1Gi', limit: '2Gi', use: (m) => ({ cpu: 0.6 + 0.05 * Math.sin(m / 3), mem: 700 * Mi }) },
  { name: 'spiky', node: 'n2', cpu: '250m', memory: '256Mi', use: (m) => ({ cpu: m % 7 === 0 ? 0.4 : 0.1, mem: (150 + (m % 5) * 20) * Mi }) },
];

function scalePod(a: (typeof SCALE_APPS)[number]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${a.name}-0`, namespace: 'default', labels: { app: a.name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: a.name, uid: `uid-${a.name}`, controller: true }] },
    spec: { nodeName: a.node, containers: [{ name: 'app', image: 'registry.example/shop/web:1.4', resources: { requests: { cpu: a.cpu, memory: a.memory }, ...(a.limit ? { limits: { memory: a.limit } } : {}) } }] },
  } as unknown as Pod;
}

/** The per-minute maxima a probe would report, from a script; minutes closed before `now`. */
function scriptedUsage(clock: { now(): number }): MetricsSource {
  return {
    appUsage: async (since) => {
      const out: AppUsageSample[] = [];
      for (let t = T0; t + MIN <= clock.now(); t += MIN) {
        if (t < since) continue;
        const m = (t - T0) / MIN;
        for (const a of SCALE_APPS) {
          const u = a.use(m);
          out.push({ app: `default/${a.name}`, minuteMs: t, cpuMilli: u.cpu * 1000, memoryBytes: u.mem, net: 0.01, disk: 0.01, pods: 1 });
        }
      }
      return out;
    },
  };
}

const scalePolicies = (): MemoryPolicyStore =>
  new MemoryPolicyStore(SCALE_APPS.map((a) => ({ namespace: 'default', name: a.name, spec: { targetRef: { kind: 'StatefulSet', name: a.name }, mode: 'InPlace' } })));

/** Rounds every 5 minutes from minute 20 to 60; after each, every pod's requests and limits. */
async function scaleRun(cluster: Cluster, settle: () => Promise<void>): Promise<string[]> {
  let now = T0 + 20 * MIN;
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const autoscaler = new Autoscaler({ reader: cluster, writer: cluster, metrics: scriptedUsage(clock), policies: scalePolicies(), clock, log: silentLogger });
  const seen: string[] = [];
  for (; now <= T0 + 60 * MIN; now += 5 * MIN) {
    await autoscaler.runOnce();
    await settle();
    for (const p of [...(await cluster.listPods())].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
      const r = p.spec.containers[0]?.resources;
      seen.push(`${(now - T0) / MIN} ${p.metadata.name ?? ''} ${JSON.stringify(r?.requests)} ${JSON.stringify(r?.limits ?? {})}`);
    }
  }
  return seen;
}

describe('simulator and API server, scaling', () => {
  it('give the same resizes for the same usage through the same autoscaler', async () => {
    const sim = new SimCluster({ now: () => T0, sleep: async () => undefined }, T0);
    for (const n of [node('n1', 'amd64', { cpu: '8', memory: '16Gi' }), node('n2', 'arm64', { cpu: '4', memory: '8Gi' })]) sim.addNode(n as unknown as Node);
    for (const a of SCALE_APPS) {
      await sim.createPod(scalePod(a));
      sim.setPodPhase(`default/${a.name}-0`, 'Running', true);
    }
    const viaSim = await scaleRun(sim, async () => undefined);

    server = await FakeApiServer.start({ controllers: { kubelet: true }, controllerAutoRun: false });
    const srv = server;
    srv.seed(node('n1', 'amd64', { cpu: '8', memory: '16Gi' }), node('n2', 'arm64', { cpu: '4', memory: '8Gi' }));
    for (const a of SCALE_APPS) await srv.create(scalePod(a) as never);
    await srv.reconcile();
    kube = new KubeCluster({ kc: srv.kubeConfig(), clock: frozen, log: silentLogger });
    await kube.start();
    const k = kube;
    const caughtUp = async (): Promise<void> => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const stored = srv.list('v1', 'Pod', 'default');
        const seen = await Promise.all(stored.map((p) => k.getPod({ namespace: 'default', name: p.metadata.name ?? '' })));
        if (stored.every((p, i) => seen[i]?.metadata.resourceVersion === p.metadata.resourceVersion)) return;
        if (Date.now() > deadline) throw new Error('the informer did not show the pods the API server stores within 5 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await caughtUp();
    const viaKube = await scaleRun(kube, async () => {
      await srv.reconcile();
      await caughtUp();
    });

    expect(viaKube).toEqual(viaSim);
    // The scenario means something: the rising workload was raised, several rounds resized.
    const rising = viaSim.filter((l) => l.includes(' rising-0 '));
    expect(rising[0]).not.toEqual(rising[rising.length - 1]);
    expect(new Set(viaSim.map((l) => l.slice(l.indexOf(' ')))).size).toBeGreaterThan(SCALE_APPS.length + 2);
  });
});
