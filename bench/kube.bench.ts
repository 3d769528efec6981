/**
 * The scheduler through a real HTTP API server on loopback (the test API server, the
 * official client): pods bound per second, API requests per pod, and seconds from a
 * node's loss to all of its pods bound elsewhere. Baselines measured in the same run:
 * the same scheduler on the in-memory simulator (what the API costs), and plain
 * bindings posted by the client with no decision at all (the API server's ceiling).
 *
 * Default: 1,000 pods on 100 nodes; BENCH_FULL=1: 10,000 pods on 1,000 nodes.
 */
import { CoreV1Api } from '@kubernetes/client-node';
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

/** polyarch over HTTP: pending pods until all are bound. */
async function throughApi(): Promise<{ seconds: number; requestsPerPod: number; bound: number }> {
  const server = await FakeApiServer.start({ historyLimit: 10 * PODS + 10_000, bookmarkIntervalMs: 60_000 });
  for (let i = 0; i < NODES; i++) server.seed(node(i));
  for (let i = 0; i < PODS; i++) server.seed(pod(i));
  const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
  await cluster.start();
  const before = server.requests.length;
  const s = scheduler(cluster);
  const ac = new AbortController();
  const t0 = performance.now();
  const running = s.run(ac.signal);
  // Every pod is bound, or (the single-arch images on other nodes being full) refused.
  await until(() => s.stats.scheduled + s.queue.counts().unschedulable >= PODS, 600_000);
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  await running;
  const requests = server.requests.length - before;
  const bound = s.stats.scheduled;
  await cluster.stop();
  await server.close();
  return { seconds, requestsPerPod: requests / Math.max(1, bound), bound };
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

/** The ceiling: bindings posted by the client, 32 at a time, no decision, no patch. */
async function plainBindings(): Promise<{ seconds: number }> {
  const server = await FakeApiServer.start({ historyLimit: 10 * PODS + 10_000 });
  for (let i = 0; i < NODES; i++) server.seed(node(i));
  for (let i = 0; i < PODS; i++) server.seed(pod(i));
  const core = server.client(CoreV1Api);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < PODS; i = next++) {
      const name = `p${String(i).padStart(5, '0')}`;
      await core.createNamespacedPodBinding({ name, namespace: 'default', body: { metadata: { name }, target: { kind: 'Node', name: `n${String(i % NODES).padStart(4, '0')}` } } });
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await server.close();
  return { seconds };
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
  const sim = await throughSim();
  const ceiling = await plainBindings();
  const api = await throughApi();
  const simRate = sim.bound / sim.seconds;
  const apiRate = api.bound / api.seconds;
  const ceilingRate = PODS / ceiling.seconds;
  console.log(`simulator (baseline, no API):      ${simRate.toFixed(0)} pods/s`);
  console.log(`plain bindings (API ceiling):      ${ceilingRate.toFixed(0)} bindings/s`);
  console.log(`polyarch through the API server:   ${apiRate.toFixed(0)} pods/s  (${api.bound} bound in ${api.seconds.toFixed(1)} s)`);
  console.log(`  ratio to the simulator:          ${(apiRate / simRate).toFixed(3)}`);
  console.log(`  ratio to plain bindings:         ${(apiRate / ceilingRate).toFixed(3)}`);
  console.log(`  API requests per bound pod:      ${api.requestsPerPod.toFixed(2)} (patch + binding + Scheduled event = 3)`);
  const loss = await nodeLoss();
  console.log(`node lost with ${LOST_PODS} pods (100 with BENCH_FULL=1) -> all bound elsewhere: ${loss.seconds.toFixed(1)} s (of which ~${loss.graceSeconds.toFixed(1)} s is the node-monitor grace set for the run; the pods tolerate the taint 0 s)`);
}
