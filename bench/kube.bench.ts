/**
 * The scheduler through a real HTTP API server on loopback (the test API server, the
 * official client): pods bound per second, API requests per pod, and seconds from a
 * node's loss to all of its pods bound elsewhere. Baselines measured in the same run:
 * the same scheduler on the in-memory simulator (what the API costs), and plain
 * bindings posted by the client with no decision at all (the API server's ceiling).
 *
 * Requests per pod are counted from the server's request log: on the critical path (the
 * image patch where the pod's reference must change, and the binding) and events
 * (written in the background by the recorder, rate-limited; what is still queued when
 * all pods are bound is written at stop).
 *
 * The API ratio is measured in rounds that alternate plain bindings and polyarch (the
 * machine is shared: its load moves during a run); each round gives the ratio of pods
 * per second (wall) and of pods per CPU-second of this process (the API server, the
 * client and the scheduler all run in it), and the median round is printed with the
 * load average.
 *
 * Default: 1,000 pods on 100 nodes, 3 rounds; BENCH_FULL=1: 10,000 pods on 1,000 nodes;
 * BENCH_ROUNDS=N. BENCH_ONLY=api: only the API ratio; BENCH_ONLY=loss: only the node loss.
 */
import { loadavg } from 'node:os';
import { KubeCluster } from '../src/adapters/kube/cluster.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { Migrator } from '../src/app/migrator.ts';
import { Scheduler } from '../src/app/scheduler.ts';
import { ImageLookupService } from '../src/app/image-lookup.ts';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import { createFramework } from '../src/core/placement/framework.ts';
import { createRng } from '../src/core/rng.ts';
import type { Cluster } from '../src/ports/cluster.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { SimCluster } from '../src/sim/cluster.ts';
import { SimRegistry } from '../src/sim/registry.ts';
import { FakeApiServer, type KubeObject } from '../fake-apiserver/index.ts';

const FULL = process.env['BENCH_FULL'] === '1';
const NODES = FULL ? 1_000 : 100;
const PODS = FULL ? 10_000 : 1_000;
const LOST_PODS = FULL ? 100 : 20;
const ARCHES = ['amd64', 'arm64', 'loong64', 'riscv64'];
const IMAGES = ['registry.example/shop/web:1.4', 'registry.example/tools/agent:2.0', 'registry.example/legacy/report:7'];
const CATALOG = [
  { reference: IMAGES[0], platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/riscv64', 'linux/loong64'] },
  { reference: IMAGES[1], tags: { 'linux/amd64': 'registry.example/tools/agent:2.0-amd64', 'linux/loong64': 'registry.example/tools/agent:2.0-loong64' } },
  { reference: IMAGES[2], platforms: ['linux/arm64/v8'] },
];

function node(i: number, unschedulable = false): KubeObject {
  const arch = ARCHES[i % ARCHES.length] ?? 'amd64';
  const name = `n${String(i).padStart(4, '0')}`;
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name } },
    spec: unschedulable ? { unschedulable: true } : {},
    status: {
      allocatable: { cpu: '64', memory: '256Gi', pods: '250' }, capacity: { cpu: '64', memory: '256Gi', pods: '250' },
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now }],
      nodeInfo: { architecture: arch, operatingSystem: 'linux' },
    },
  };
}

function pod(i: number, image = IMAGES[i % 3 === 2 ? 2 : i % 5 === 1 ? 1 : 0] ?? ''): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `p${String(i).padStart(5, '0')}`, namespace: 'default' },
    spec: { schedulerName: 'polyarch', terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
    status: { phase: 'Pending' },
  };
}

function scheduler(cluster: Cluster): Scheduler {
  const fw = createFramework({ percentageOfNodesToScore: 0 });
  if (!fw.ok) throw new Error(fw.error);
  return new Scheduler({ cluster, resolver: new ImageLookupService({ source: new SimRegistry(CATALOG as never), clock: systemClock }), framework: fw.value, rng: createRng(1), clock: systemClock, log: silentLogger, bindConcurrency: 32 });
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Timed {
  /** Wall seconds and CPU seconds of this process. */
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function timer(): () => Timed {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
  };
}

/** polyarch over HTTP: pending pods until all are bound. */
async function throughApi(): Promise<Timed & { requestsPerPod: number; criticalPerPod: number; eventsPerPod: number; bound: number }> {
  const server = await FakeApiServer.start({ historyLimit: 10 * PODS + 10_000, bookmarkIntervalMs: 60_000 });
  for (let i = 0; i < NODES; i++) server.seed(node(i));
  for (let i = 0; i < PODS; i++) server.seed(pod(i));
  const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
  await cluster.start();
  const before = server.requests.length;
  const s = scheduler(cluster);
  const ac = new AbortController();
  const elapsed = timer();
  const running = s.run(ac.signal);
  // Every pod is bound, or (the single-arch images on other nodes being full) refused.
  await until(() => s.stats.scheduled + s.queue.counts().unschedulable >= PODS, 600_000);
  const time = elapsed();
  ac.abort();
  await running;
  const bound = s.stats.scheduled;
  await cluster.stop(); // writes the events still queued
  const made = server.requests.slice(before).filter((r) => !r.watch);
  const critical = made.filter((r) => r.resource === 'pods' && (r.subresource === 'binding' || (r.method === 'PATCH' && !r.subresource))).length;
  const events = made.filter((r) => r.resource === 'events').length;
  await server.close();
  const per = (n: number): number => n / Math.max(1, bound);
  return { ...time, requestsPerPod: per(made.length), criticalPerPod: per(critical), eventsPerPod: per(events), bound };
}

/** The same scheduler on the in-memory simulator. */
async function throughSim(): Promise<{ seconds: number; bound: number }> {
  const sim = new SimCluster(systemClock, Date.now());
  for (let i = 0; i < NODES; i++) sim.addNode(node(i) as unknown as Node);
  for (let i = 0; i < PODS; i++) await sim.createPod(pod(i) as unknown as Pod);
  const s = scheduler(sim);
  const t0 = performance.now();
  while (s.stats.scheduled + s.queue.counts().unschedulable < PODS) {
    await s.runOnce();
    await s.drain();
  }
  return { seconds: (performance.now() - t0) / 1000, bound: s.stats.scheduled };
}

/**
 * The ceiling: bindings posted by the same client (KubeCluster.bindPod: the same
 * request options, connections kept alive), 32 at a time as polyarch's writes, no
 * decision, no patch, no informer.
 */
async function plainBindings(): Promise<Timed> {
  const server = await FakeApiServer.start({ historyLimit: 10 * PODS + 10_000 });
  for (let i = 0; i < NODES; i++) server.seed(node(i));
  for (let i = 0; i < PODS; i++) server.seed(pod(i));
  const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
  let next = 0;
  const elapsed = timer();
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < PODS; i = next++) {
      const r = await cluster.bindPod({ namespace: 'default', name: `p${String(i).padStart(5, '0')}` }, `n${String(i % NODES).padStart(4, '0')}`);
      if (!r.ok) throw new Error(`benchmark: plain binding failed: ${r.error.message}`);
    }
  }));
  const time = elapsed();
  await server.close();
  return time;
}

/** Rounds of plain bindings then polyarch; the median round by the wall ratio. */
async function apiRounds(): Promise<{ wall: number; cpu: number; plainRate: number; apiRate: number; api: Awaited<ReturnType<typeof throughApi>>; rounds: string[]; load: string }> {
  const n = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const rounds: { wall: number; cpu: number; plainRate: number; apiRate: number; api: Awaited<ReturnType<typeof throughApi>> }[] = [];
  const load0 = loadavg()[0] ?? 0;
  for (let r = 0; r < n; r++) {
    const plain = await plainBindings();
    const api = await throughApi();
    const plainRate = PODS / plain.seconds;
    const apiRate = api.bound / api.seconds;
    rounds.push({ wall: apiRate / plainRate, cpu: (api.bound / api.cpuSeconds) / (PODS / plain.cpuSeconds), plainRate, apiRate, api });
  }
  const sorted = [...rounds].sort((a, b) => a.wall - b.wall);
  const mid = sorted[Math.floor(sorted.length / 2)] ?? rounds[0];
  if (!mid) throw new Error('benchmark: no round');
  return {
    ...mid,
    rounds: rounds.map((r) => `${r.wall.toFixed(2)} (cpu ${r.cpu.toFixed(2)})`),
    load: `${load0.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)}`,
  };
}

/** Pods that leave an unreachable node as soon as it is tainted (tolerationSeconds 0), so the bench measures the move, not the toleration. */
const LEAVE_AT_ONCE = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }];

/** A node with LOST_PODS pods stops heart-beating: seconds until all of them run bound elsewhere. */
async function nodeLoss(): Promise<{ seconds: number; graceSeconds: number }> {
  const graceMs = 500;
  const server = await FakeApiServer.start({ controllers: 'all', nodeMonitorGracePeriodMs: graceMs, historyLimit: 100_000 });
  server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
  const others = Math.min(NODES, 100);
  server.seed(node(0));
  for (let i = 1; i < others; i++) server.seed(node(i, true));
  await server.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: LOST_PODS, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { ...(pod(0, IMAGES[0]).spec as object), tolerations: LEAVE_AT_ONCE } } },
  });
  const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
  await cluster.start();
  const s = scheduler(cluster);
  const m = new Migrator({ cluster, clock: systemClock, log: silentLogger, intervalMs: 100, retryInitialMs: 100, retryMaxMs: 500 });
  const ac = new AbortController();
  const running = Promise.all([s.run(ac.signal), m.run(ac.signal)]);
  const live = (): KubeObject[] => server.list('v1', 'Pod', 'default').filter((p) => !p.metadata?.deletionTimestamp);
  await until(() => live().filter((p) => p.spec?.['nodeName'] === 'n0000' && p.status?.['phase'] === 'Running').length === LOST_PODS, 300_000).catch((e: unknown) => {
    const ps = live();
    console.log('node-loss setup:', ps.length, 'pods,', ps.filter((p) => p.spec?.['nodeName']).length, 'bound,', ps.filter((p) => p.status?.['phase'] === 'Running').length, 'running', JSON.stringify(s.queue.counts()), JSON.stringify(s.stats), server.controllers.errors.slice(-2));
    throw e;
  });
  for (let i = 1; i < others; i++) await cluster.cordonNode(`n${String(i).padStart(4, '0')}`, false);
  await until(async () => (await cluster.listNodes()).filter((n) => !n.spec?.unschedulable).length === others, 60_000, 'nodes uncordoned');
  const t0 = performance.now();
  server.controllers.stopKubelet('n0000');
  await until(() => {
    const ps = live();
    return ps.length === LOST_PODS && ps.every((p) => p.spec?.['nodeName'] && p.spec['nodeName'] !== 'n0000');
  }, 300_000, 'the lost pods bound elsewhere');
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  await running;
  await cluster.stop();
  await server.close();
  return { seconds, graceSeconds: graceMs / 1000 };
}

export default async function bench(): Promise<void> {
  if (process.env['BENCH_ONLY'] === 'loss') {
    const l = await nodeLoss();
    console.log(`node lost -> all bound elsewhere: ${l.seconds.toFixed(1)} s`);
    return;
  }
  console.log(`${PODS} pending pods on ${NODES} nodes of ${ARCHES.length} platforms${FULL ? '' : ' (BENCH_FULL=1 for 10,000 on 1,000)'}`);
  const printApi = (a: Awaited<ReturnType<typeof apiRounds>>): void => {
    console.log(`plain bindings (API ceiling):      ${a.plainRate.toFixed(0)} bindings/s (median round)`);
    console.log(`polyarch through the API server:   ${a.apiRate.toFixed(0)} pods/s  (${a.api.bound} bound in ${a.api.seconds.toFixed(1)} s)`);
    console.log(`  ratio to plain bindings:         ${a.wall.toFixed(3)} pods/s, ${a.cpu.toFixed(3)} per CPU-second (median of rounds: ${a.rounds.join(', ')}; load average ${a.load})`);
    console.log(`  API requests per bound pod:      ${a.api.requestsPerPod.toFixed(2)}: ${a.api.criticalPerPod.toFixed(2)} on the critical path (image patch where needed + binding), ${a.api.eventsPerPod.toFixed(2)} events written in the background`);
  };
  if (process.env['BENCH_ONLY'] === 'api') {
    printApi(await apiRounds());
    return;
  }
  const sim = await throughSim();
  const a = await apiRounds();
  const simRate = sim.bound / sim.seconds;
  console.log(`simulator (baseline, no API):      ${simRate.toFixed(0)} pods/s`);
  printApi(a);
  console.log(`  ratio to the simulator:          ${(a.apiRate / simRate).toFixed(3)}`);
  const loss = await nodeLoss();
  console.log(`node lost with ${LOST_PODS} pods (100 with BENCH_FULL=1) -> all bound elsewhere: ${loss.seconds.toFixed(1)} s (of which ~${loss.graceSeconds.toFixed(1)} s is the node-monitor grace set for the run; the pods tolerate the taint 0 s)`);
}
