/**
 * One app layer, two adapters: the same Scheduler (the one `polyarch simulate` and
 * `polyarch serve` construct), fed the same scenario through the simulator's in-memory
 * cluster and through the API server, places every pod on the same node with the same
 * image variant, in the same priority order (SimCluster applies Priority admission as
 * the API server does), with either profile.
 * And the same migrator, after the same node loss, records and makes the same moves; the
 * same autoscaler makes the same resizes; the same workload controllers make the same pods.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { Migrator } from '../../src/app/migrator.ts';
import type { MigrationStore } from '../../src/ports/cluster-extras.ts';
import { Scheduler } from '../../src/app/scheduler.ts';
import type { Node, Pod, PriorityClass } from '../../src/core/k8s/types.ts';
import { createFramework, type ProfileName } from '../../src/core/placement/framework.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Cluster } from '../../src/ports/cluster.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { SimCluster } from '../../src/sim/cluster.ts';
import { SimControllers } from '../../src/sim/controllers.ts';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { barePod, node, resolver } from './helpers.ts';
import { waitFor } from '../support/wait.ts';
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

async function schedule(cluster: Cluster, settle: () => Promise<void>, profile: ProfileName): Promise<Map<string, string>> {
  const fw = createFramework({ profile });
  if (!fw.ok) throw new Error(fw.error);
  const scheduler = new Scheduler({ cluster, resolver: new ImageLookupService({ source: resolver(), clock: frozen }), framework: fw.value, rng: createRng(42), clock: frozen, log: silentLogger, queue: { initialBackoffMs: 0, maxBackoffMs: 0 } });
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
    // The newest pod write, not the store's newest write: events bump that too and no pod carries it.
    const target = newest(s.list('v1', 'Pod', 'default'));
    await waitFor(() => newest(k.pods.list()) >= target, { what: `the pod informer to reach resourceVersion ${target}`, state: () => ({ informerAt: newest(k.pods.list()) }) });
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
    // The per-architecture tag's variant is written into the pod; an index or single image keeps its reference.
    const placed = [...viaSim.values()].filter((v) => !v.startsWith('-'));
    expect(placed.filter((v) => v.includes('@sha256:')).every((v) => v.includes('/tools/agent@'))).toBe(true);
    expect(placed.filter((v) => v.includes('/tools/agent')).every((v) => v.includes('@sha256:'))).toBe(true);
    expect(placed.filter((v) => v.includes('@sha256:')).length).toBeGreaterThanOrEqual(5);
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

// ---- migration: the same node loss through both adapters gives the same moves ----------

/** A clock the test moves; sleeps are real (the API server side waits for its informers). */
function movableClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now, set: (ms) => void (now = ms), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
}

const LOSS_AT = 1_700_000_000_000;
const lossNodes = (): Node[] => [node('amd-1', 'amd64'), node('arm-1', 'arm64')] as unknown as Node[];
const owner = (kind: string, name: string): Pod['metadata']['ownerReferences'] => [{ apiVersion: 'apps/v1', kind, name, uid: `${name}-uid`, controller: true }];
const onAmd = (name: string, meta: Partial<Pod['metadata']> = {}, spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', annotations: { 'polyarch.io/source-images': JSON.stringify({ app: 'registry.example/shop/web:1.4' }) }, ...meta },
  spec: { nodeName: 'amd-1', schedulerName: 'polyarch', containers: [{ name: 'app', image: 'registry.example/shop/web:1.4-amd64', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...spec },
  status: { phase: 'Running' },
});
/** Every way a pod leaves a lost node: owned, StatefulSet, DaemonSet, mirror, bare with the default toleration and with its own. */
const LOSS_PODS: Pod[] = [
  onAmd('web-abc12', { ownerReferences: owner('ReplicaSet', 'web-7d9c') }),
  onAmd('db-0', { ownerReferences: owner('StatefulSet', 'db') }),
  onAmd('agent-x1', { ownerReferences: owner('DaemonSet', 'agent') }),
  onAmd('etcd-amd-1', { annotations: { 'kubernetes.io/config.mirror': 'abc' } }),
  onAmd('solo'),
  onAmd('quick', {}, { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }),
];

/** What two runs must agree on: each record (uids differ between the adapters, so not its name) and where each pod is. */
async function lossOutcome(cluster: Cluster & MigrationStore): Promise<{ records: string[]; pods: string[] }> {
  const records = (await cluster.listMigrations()).map((r) => `${r.spec.pod} ${r.spec.reason} ${r.spec.method} ${String(r.spec.tolerationSeconds)} ${r.status?.phase ?? '-'}: ${r.status?.message ?? ''}`);
  const pods = (await cluster.listPods()).map((p) => `${p.metadata.name ?? ''} ${p.spec.nodeName ?? '-'}`);
  return { records: records.sort(), pods: pods.sort() };
}

/**
 * amd-1 is lost (the node controller's taint, at LOSS_AT); the migrator runs 2 minutes
 * later, 7 minutes later, and once the node is fenced. `settle` waits until the adapter
 * shows what was written (an informer lags; the simulator does not).
 */
async function nodeLoss(cluster: Cluster & MigrationStore, settle: () => Promise<void>): Promise<{ records: string[]; pods: string[] }[]> {
  const clock = movableClock(LOSS_AT);
  const migrator = new Migrator({ cluster, clock, log: silentLogger, retryInitialMs: 0, retryMaxMs: 0 });
  const lost = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(LOSS_AT).toISOString() };
  expect((await cluster.setNodeTaints('amd-1', [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, lost])).ok).toBe(true);
  const rounds = async (): Promise<{ records: string[]; pods: string[] }> => {
    // Enough rounds for the slower adapter to see each write before the next step.
    for (let i = 0; i < 4; i++) {
      await settle();
      await migrator.runOnce();
    }
    await settle();
    return lossOutcome(cluster);
  };
  const out = [];
  clock.set(LOSS_AT + 120_000);
  out.push(await rounds());
  clock.set(LOSS_AT + 420_000);
  out.push(await rounds());
  expect((await cluster.setNodeTaints('amd-1', [lost, { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }])).ok).toBe(true);
  out.push(await rounds());
  return out;
}

describe('simulator and API server: migration', () => {
  it('give the same migrations for the same node loss through the same migrator', async () => {
    const sim = new SimCluster(frozen, LOSS_AT);
    for (const n of lossNodes()) sim.addNode(n);
    for (const p of LOSS_PODS) await sim.createPod(p);
    const viaSim = await nodeLoss(sim, async () => undefined);

    server = await FakeApiServer.start();
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
    server.seed(...(lossNodes() as never[]), ...(LOSS_PODS.map((p) => ({ ...p, metadata: { ...p.metadata, uid: `uid-${p.metadata.name ?? ''}` } })) as never[]));
    kube = new KubeCluster({ kc: server.kubeConfig(), clock: frozen, log: silentLogger });
    await kube.start();
    const k = kube;
    const s = server;
    const viaKube = await nodeLoss(kube, async () => {
      // The informers have seen every write (pods and nodes): their newest resourceVersion is the server's.
      const newest = (): number => Math.max(...[...k.pods.list(), ...k.nodes.list()].map((o) => Number(o.metadata?.resourceVersion ?? 0)));
      const target = Math.max(...[...s.list('v1', 'Pod'), ...s.list('v1', 'Node')].map((o) => Number(o.metadata?.resourceVersion ?? 0)));
      await waitFor(() => newest() >= target, { what: `the pod and node informers to reach resourceVersion ${target}`, state: () => ({ informersAt: newest() }) });
    });

    expect(viaKube).toEqual(viaSim);
    // The run means something: a pod moved after its own short toleration, the others waited the default,
    // the StatefulSet pod only once the node was fenced; DaemonSet and mirror pods stayed.
    const [twoMinutes, sevenMinutes, fenced] = viaSim;
    expect(twoMinutes?.records.filter((r) => r.includes(' Pending:'))).toHaveLength(3);
    expect(twoMinutes?.records.find((r) => r.startsWith('default/quick '))).toContain('WaitingForReplacement');
    expect(twoMinutes?.pods).toContain('quick -');
    expect(sevenMinutes?.records.find((r) => r.startsWith('default/web-abc12 '))).toContain('Succeeded');
    expect(sevenMinutes?.records.find((r) => r.startsWith('default/db-0 '))).toContain('Pending: StatefulSet pod default/db-0 stays');
    expect(fenced?.records.find((r) => r.startsWith('default/db-0 '))).toContain('WaitingForReplacement');
    expect(fenced?.pods).toEqual(['agent-x1 amd-1', 'etcd-amd-1 amd-1', 'quick -', 'solo -']);
    expect(fenced?.records).toHaveLength(4);
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
    const caughtUp = (): Promise<boolean> => waitFor(async () => {
      const stored = srv.list('v1', 'Pod', 'default');
      const seen = await Promise.all(stored.map((p) => k.getPod({ namespace: 'default', name: p.metadata.name ?? '' })));
      return stored.every((p, i) => seen[i]?.metadata.resourceVersion === p.metadata.resourceVersion);
    }, { what: 'the informer to show the pods the API server stores' });
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

// ---- Workload controllers: the same Deployment and StatefulSet, the same pods ----

describe('simulator and API server: workload controllers (core/kube-model/workload-controllers.ts)', () => {
  const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'registry.example/shop/web:1.4', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } });
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web') } };
  const statefulSet = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' }, spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') } };
  /** Pods as both must agree: generated suffixes cut, with the labels the controllers set. */
  const shape = (pods: readonly Pod[]): string[] => pods.map((p) => {
    const name = p.metadata.name ?? '';
    const stable = p.metadata.labels?.['statefulset.kubernetes.io/pod-name'] ? name : name.slice(0, name.lastIndexOf('-') + 1);
    return `${stable} ${p.metadata.labels?.['pod-template-hash'] ?? ''} ${p.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? ''} ${p.spec.hostname ?? ''}`;
  }).sort();

  /** Three passes: controllers act, then every pending pod is bound to amd-1 and runs. */
  async function run(cluster: Cluster, reconcile: () => Promise<void>, runBound: () => Promise<void>): Promise<string[][]> {
    const out: string[][] = [];
    for (let i = 0; i < 3; i++) {
      await reconcile();
      out.push(shape((await cluster.listPods()).filter((p) => !p.metadata.deletionTimestamp)));
      for (const p of await cluster.listPods({ nodeName: '' })) expect((await cluster.bindPod({ namespace: 'default', name: p.metadata.name ?? '' }, 'amd-1')).ok).toBe(true);
      await runBound();
    }
    return out;
  }

  it('create the same pods in the same order (StatefulSet OrderedReady: one ordinal per pass once the last is Ready)', async () => {
    const sim = new SimCluster(frozen, 1_700_000_000_000);
    sim.addNode(lossNodes()[0]!);
    const ctl = new SimControllers(sim, { schedulerName: 'polyarch' });
    sim.addDeployment(deployment as never);
    sim.addStatefulSet(statefulSet as never);
    ctl.activate('default/web');
    ctl.activate('default/db');
    const viaSim = await run(sim, async () => void (await ctl.reconcile()), async () => {
      for (const [key, p] of sim.podEntries()) if (p.spec.nodeName) sim.setPodPhase(key, 'Running', true);
    });

    server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, statefulSet: true, kubelet: true }, controllerAutoRun: false });
    server.seed(lossNodes()[0] as never, deployment as never, statefulSet as never);
    kube = new KubeCluster({ kc: server.kubeConfig(), clock: frozen, log: silentLogger });
    await kube.start();
    const k = kube;
    const s = server;
    const settle = async (): Promise<void> => {
      const target = Math.max(...s.list('v1', 'Pod').map((o) => Number(o.metadata?.resourceVersion ?? 0)), 0);
      await waitFor(() => Math.max(0, ...k.pods.list().map((o) => Number(o.metadata?.resourceVersion ?? 0))) >= target, { what: `the pod informer to reach resourceVersion ${target}` });
    };
    const viaKube = await run(kube, async () => { await s.reconcile(); await s.reconcile(); await settle(); }, async () => { await s.reconcile(); await settle(); });

    expect(viaKube).toEqual(viaSim);
    expect(viaSim[0]?.filter((x) => x.startsWith('db-'))).toEqual(['db-0  0 db-0']);
    expect(viaSim[2]?.filter((x) => x.startsWith('db-'))).toEqual(['db-0  0 db-0', 'db-1  1 db-1', 'db-2  2 db-2']);
    expect(viaSim[0]?.filter((x) => x.startsWith('web-'))).toHaveLength(2);
  });
});
