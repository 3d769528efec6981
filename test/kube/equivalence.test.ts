/**
 * One app layer, two adapters: the same Scheduler (the one `polyarch simulate` and
 * `polyarch serve` construct), fed the same scenario through the simulator's in-memory
 * cluster and through the API server, places every pod on the same node with the same
 * image variant, in the same priority order (SimCluster applies Priority admission as
 * the API server does), with either profile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { Scheduler } from '../../src/app/scheduler.ts';
import type { Node, Pod, PriorityClass } from '../../src/core/k8s/types.ts';
import { createFramework, type ProfileName } from '../../src/core/placement/framework.ts';
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

async function schedule(cluster: Cluster, settle: () => Promise<void>, profile: ProfileName): Promise<Map<string, string>> {
  const fw = createFramework({ profile });
  if (!fw.ok) throw new Error(fw.error);
  const scheduler = new Scheduler({ cluster, resolver: new ImageLookupService({ source: resolver(), clock: frozen }), framework: fw.value, rng: mulberry32(42), clock: frozen, log: silentLogger, queue: { initialBackoffMs: 0, maxBackoffMs: 0 } });
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

/** The same nodes, priority classes and pods through SimCluster and through the fake API server. */
async function viaBoth(nodes: readonly Node[], pods: readonly Pod[], classes: readonly PriorityClass[], profile: ProfileName = 'polyarch'): Promise<{ viaSim: Map<string, string>; viaKube: Map<string, string> }> {
  const sim = new SimCluster(frozen, frozen.now());
  for (const n of nodes) sim.addNode(n);
  for (const c of classes) sim.addPriorityClass(c);
  for (const p of pods) {
    const r = await sim.createPod(p);
    if (!r.ok) throw new Error(r.error.message);
  }
  const viaSim = await schedule(sim, async () => undefined, profile);

  server = await FakeApiServer.start();
  server.seed(...(nodes as never[]), ...(classes.map((c) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', ...c })) as never[]));
  for (const p of pods) await server.create(p as never);
  kube = new KubeCluster({ kc: server.kubeConfig(), clock: frozen, log: silentLogger });
  await kube.start();
  const k = kube;
  const s = server;
  const viaKube = await schedule(kube, async () => {
    // Wait until the informer shows what was written (bindings are asynchronous there).
    const newest = (list: readonly { metadata?: { resourceVersion?: string } }[]): number => list.reduce((m, p) => Math.max(m, Number(p.metadata?.resourceVersion ?? 0)), 0);
    const target = newest(s.store.list('/pods'));
    const seen = (): number => newest(k.pods.list());
    for (let i = 0; i < 500 && seen() < target; i++) await new Promise((r) => setTimeout(r, 10));
    if (seen() < target) throw new Error(`the informer did not reach resourceVersion ${target} (at ${seen()})`);
  }, profile);
  return { viaSim, viaKube };
}

describe('simulator and API server', () => {
  it('give the same placements for the same scenario through the same app code', async () => {
    const { viaSim, viaKube } = await viaBoth(NODES, PODS, []);

    expect(viaKube.size).toBe(30);
    expect([...viaKube.entries()].sort()).toEqual([...viaSim.entries()].sort());
    // The scenario means something: several platforms used, and a pod nobody can run.
    const nodesUsed = new Set([...viaSim.values()].map((v) => v.split(' ')[0]));
    expect(nodesUsed.size).toBeGreaterThanOrEqual(4);
    expect(viaSim.get('p06')?.startsWith('-')).toBe(true);
    expect([...viaSim.values()].filter((v) => !v.startsWith('-') && v.includes('@sha256:')).length).toBeGreaterThanOrEqual(20);
  });

  it('keep priority order: the PriorityClass (or the globalDefault one) decides who gets the room, the same on both', async () => {
    // Room for four 1-cpu pods; the four older pods take the default class (value 1),
    // the four newer ones name a class of value 1000: the newer ones win on both.
    const nodes = [node('amd', 'amd64', { cpu: '2', memory: '8Gi' }), node('arm', 'arm64', { cpu: '2', memory: '8Gi' })] as unknown as Node[];
    const classes: PriorityClass[] = [{ metadata: { name: 'batch' }, value: 1, globalDefault: true }, { metadata: { name: 'critical' }, value: 1000 }];
    const pods = Array.from({ length: 8 }, (_, i) => {
      const p = barePod(`q${i}`, { app: 'registry.example/shop/web:1.4' }, '1') as unknown as Pod;
      return i < 4 ? p : ({ ...p, spec: { ...p.spec, priorityClassName: 'critical' } } as Pod);
    });
    const { viaSim, viaKube } = await viaBoth(nodes, pods, classes);
    expect([...viaKube.entries()].sort()).toEqual([...viaSim.entries()].sort());
    const placed = [...viaSim.entries()].filter(([, v]) => !v.startsWith('-')).map(([k]) => k).sort();
    expect(placed).toEqual(['q4', 'q5', 'q6', 'q7']);
  });

  it('give the same placements with the platform-blind kube-scheduler profile (images as written)', async () => {
    const { viaSim, viaKube } = await viaBoth(NODES, PODS, [], 'kube-scheduler');
    expect([...viaKube.entries()].sort()).toEqual([...viaSim.entries()].sort());
    // Blind: every pod lands somewhere, images untouched, the one nobody can run included.
    expect([...viaSim.values()].every((v) => !v.startsWith('-') && !v.includes('@sha256:'))).toBe(true);
    expect(viaSim.get('p06')?.startsWith('-')).toBe(false);
  });
});
