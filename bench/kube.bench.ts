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
 * machine is shared: its load moves during a run), with the API server first in this
 * process (the server, the client and the scheduler share its CPU), then in a process of
 * its own (bench/support/apiserver-process.ts), as a real API server is. Each round gives
 * the ratio of pods per second (wall) and of pods per CPU-second (both processes), and
 * the CPU milliseconds per pod of the client (this process) and of the server's process;
 * the median round of each placement of the server is printed with the load average.
 *
 * Every phase first does the same work on WARMUP other pods of the same server, with a
 * KubeCluster of its own stopped before the measured window (its events written), so both
 * processes measure warm code: the server's process is new in every phase, and a 1,000-pod
 * window (about a second) measured before the JIT compilers have done their work charges
 * the start-up of each code path (the patch path, run for 13% of the pods, is cold longest).
 *
 * Default: 1,000 pods on 100 nodes, 3 rounds; BENCH_FULL=1: 10,000 pods on 1,000 nodes;
 * BENCH_ROUNDS=N; BENCH_WARMUP=N pods bound before each measured phase (default as many as measured). BENCH_ONLY=api: only the API ratio; BENCH_ONLY=loss: only the node loss.
 * BENCH_API_PARTS=1: also bindings with the informers and events but no decision (see
 * plainBindings), to split polyarch's cost. BENCH_CPU_PROF=DIR: a CPU profile of each measured phase, of the client and of the
 * server's own process (bench/support/profile.ts).
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
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
import { FakeApiServer, kubeconfigYaml, type FakeApiServerOptions, type KubeObject } from '../fake-apiserver/index.ts';
import type { RequestRecord } from '../fake-apiserver/faults.ts';
import type { ServerMessage } from './support/apiserver-process.ts';
import { profileWindow } from './support/profile.ts';

const FULL = process.env['BENCH_FULL'] === '1';
const NODES = FULL ? 1_000 : 100;
const PODS = FULL ? 10_000 : 1_000;
const LOST_PODS = FULL ? 100 : 20;
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? PODS);
/** The warm-up pods' scheduler (the measured pods name `polyarch`). */
const WARMUP_SCHEDULER = 'polyarch-warmup';
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

/** A warm-up pod: the same as pod(i), named w*, for the warm-up's scheduler. */
function warmupPod(i: number): KubeObject {
  const p = pod(i);
  return { ...p, metadata: { ...p.metadata, name: `w${String(i).padStart(5, '0')}` }, spec: { ...p.spec, schedulerName: WARMUP_SCHEDULER } };
}

function scheduler(cluster: Cluster, schedulerName?: string): Scheduler {
  const fw = createFramework({ percentageOfNodesToScore: 0 });
  if (!fw.ok) throw new Error(fw.error);
  return new Scheduler({ cluster, resolver: new ImageLookupService({ source: new SimRegistry(CATALOG as never), clock: systemClock }), framework: fw.value, rng: createRng(1), clock: systemClock, log: silentLogger, bindConcurrency: 32, ...(schedulerName ? { schedulerName } : {}) });
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The fake API server of a phase: in this process (the scheduler, the client and the
 * server then share one process's CPU), or in a process of its own
 * (bench/support/apiserver-process.ts), as a real API server is: the scheduler's CPU and
 * the server's overlap, and each process's CPU is counted apart.
 */
interface BenchServer {
  readonly kc: KubeConfig;
  seed(objects: KubeObject[]): Promise<void>;
  /** Requests served so far (a mark for requests()). */
  served(): Promise<number>;
  requests(from: number): Promise<RequestRecord[]>;
  /** CPU seconds of the server's own process; undefined when it is this process. */
  cpuSeconds(): Promise<number | undefined>;
  /** BENCH_CPU_PROF=DIR: profiles the server's own process from now until the returned function is called. */
  profile(name: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

type Where = 'same process' | 'own process';

async function startServer(where: Where, options: FakeApiServerOptions): Promise<BenchServer> {
  if (where === 'same process') {
    const server = await FakeApiServer.start(options);
    return {
      kc: server.kubeConfig(),
      seed: (objects) => Promise.resolve(void server.seed(...objects)),
      served: () => Promise.resolve(server.requests.length),
      requests: (from) => Promise.resolve(server.requests.slice(from)),
      cpuSeconds: () => Promise.resolve(undefined),
      profile: () => Promise.resolve(() => Promise.resolve()),
      close: () => server.close(),
    };
  }
  const child = fork(fileURLToPath(new URL('./support/apiserver-process.ts', import.meta.url)), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`benchmark: the API server process exited (${code ?? 'signal'})`))));
  exited.catch(() => undefined);
  /** The next message of this type from the server's process. */
  const next = <T>(type: string): Promise<T> =>
    Promise.race([
      new Promise<T>((resolve) => {
        const on = (r: { type: string }): void => {
          if (r.type !== type) return;
          child.off('message', on);
          resolve(r as T);
        };
        child.on('message', on);
      }),
      exited,
    ]);
  /** Sends a message and waits for the answer of the same type. */
  const ask = <T>(m: ServerMessage): Promise<T> => {
    const answer = next<T>(m.type);
    child.send(m);
    return answer;
  };
  const { url } = await next<{ url: string }>('ready');
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(url));
  return {
    kc,
    seed: async (objects) => void (await ask({ type: 'seed', objects })),
    served: async () => (await ask<{ served: number }>({ type: 'cpu' })).served,
    requests: async (from) => (await ask<{ requests: RequestRecord[] }>({ type: 'requests', from })).requests,
    cpuSeconds: async () => {
      const { usage } = await ask<{ usage: NodeJS.CpuUsage }>({ type: 'cpu' });
      return (usage.user + usage.system) / 1e6;
    },
    profile: async (name) => {
      if (!process.env['BENCH_CPU_PROF']) return () => Promise.resolve();
      await ask({ type: 'profile', name });
      return async () => void (await ask({ type: 'profile-end' }));
    },
    close: async () => {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' });
      await gone;
    },
  };
}

async function seeded(where: Where, options: FakeApiServerOptions = {}): Promise<BenchServer> {
  const server = await startServer(where, { historyLimit: 10 * (PODS + WARMUP) + 10_000, ...options });
  await server.seed([
    ...Array.from({ length: NODES }, (_, i) => node(i)),
    ...Array.from({ length: WARMUP }, (_, i) => warmupPod(i)),
    ...Array.from({ length: PODS }, (_, i) => pod(i)),
  ]);
  return server;
}

/**
 * The warm-up of a phase: `work` on a KubeCluster of its own (informers started when
 * `informers`), stopped before the measured window starts, which writes the events it
 * still had queued.
 */
async function warmUp(server: BenchServer, informers: boolean, work: (cluster: KubeCluster) => Promise<void>): Promise<void> {
  if (WARMUP === 0) return;
  const cluster = new KubeCluster({ kc: server.kc, clock: systemClock, log: silentLogger });
  if (informers) await cluster.start();
  await work(cluster);
  await cluster.stop();
}

/** A scheduler for the pods of `schedulerName` (default polyarch), run until `count` of them are bound or refused. */
async function scheduleAll(cluster: KubeCluster, count: number, schedulerName?: string): Promise<Scheduler> {
  const s = scheduler(cluster, schedulerName);
  const ac = new AbortController();
  const running = s.run(ac.signal);
  // Every pod is bound, or (the single-arch images on other nodes being full) refused.
  await until(() => s.stats.scheduled + s.queue.counts().unschedulable >= count, 600_000);
  ac.abort();
  await running;
  return s;
}

interface Timed {
  /** Wall seconds. */
  readonly seconds: number;
  /** CPU seconds of this process (the client; with the server when it runs here). */
  readonly cpuSeconds: number;
  /** CPU seconds of the server's own process, when it has one. */
  readonly serverCpuSeconds: number | undefined;
}

/** Measures from now on; BENCH_CPU_PROF=DIR: profiles the window too (NAME-client, NAME-server). */
async function timer(server: BenchServer, name: string): Promise<() => Promise<Timed>> {
  const profiled = [await profileWindow(`${name}-client`), await server.profile(`${name}-server`)];
  const s0 = await server.cpuSeconds();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return async () => {
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const s1 = await server.cpuSeconds();
    for (const end of profiled) await end();
    return { seconds, cpuSeconds: (c.user + c.system) / 1e6, serverCpuSeconds: s0 === undefined || s1 === undefined ? undefined : s1 - s0 };
  };
}

/** polyarch over HTTP: pending pods until all are bound. */
async function throughApi(where: Where): Promise<Timed & { requestsPerPod: number; criticalPerPod: number; eventsPerPod: number; bound: number }> {
  const server = await seeded(where, { bookmarkIntervalMs: 60_000 });
  await warmUp(server, true, (cluster) => scheduleAll(cluster, WARMUP, WARMUP_SCHEDULER).then(() => undefined));
  const cluster = new KubeCluster({ kc: server.kc, clock: systemClock, log: silentLogger });
  await cluster.start();
  const before = await server.served();
  const elapsed = await timer(server, `polyarch-${where.replace(' ', '-')}`);
  const s = await scheduleAll(cluster, PODS);
  const time = await elapsed();
  const bound = s.stats.scheduled;
  await cluster.stop(); // writes the events still queued
  const made = (await server.requests(before)).filter((r) => !r.watch);
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
 * decision, no patch, no informer. `withTraffic` (BENCH_API_PARTS=1, printed apart, not
 * the ratio's baseline): the same with what a scheduler's API traffic adds around its
 * bindings, the informers watching and one Scheduled event per pod through the recorder,
 * still no decision and no patch: what is left between it and polyarch is the decision,
 * the patches and the scheduler's own bookkeeping.
 */
async function plainBindings(where: Where, withTraffic = false): Promise<Timed> {
  const server = await seeded(where, { bookmarkIntervalMs: 60_000 });
  await warmUp(server, withTraffic, (cluster) => bindAll(cluster, 'w', WARMUP, withTraffic));
  const cluster = new KubeCluster({ kc: server.kc, clock: systemClock, log: silentLogger });
  if (withTraffic) await cluster.start();
  const elapsed = await timer(server, `plain${withTraffic ? '-traffic' : ''}-${where.replace(' ', '-')}`);
  await bindAll(cluster, 'p', PODS, withTraffic);
  const time = await elapsed();
  await cluster.stop();
  await server.close();
  return time;
}

/** Binds the pods PREFIX00000.. (count of them) round robin on the nodes, 32 at a time; `withTraffic`: one Scheduled event per pod too. */
async function bindAll(cluster: KubeCluster, prefix: string, count: number, withTraffic: boolean): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < count; i = next++) {
      const name = `${prefix}${String(i).padStart(5, '0')}`;
      const node = `n${String(i % NODES).padStart(4, '0')}`;
      const r = await cluster.bindPod({ namespace: 'default', name }, node);
      if (!r.ok) throw new Error(`benchmark: plain binding failed: ${r.error.message}`);
      if (withTraffic) await cluster.recordEvent({ involved: { kind: 'Pod', namespace: 'default', name }, type: 'Normal', reason: 'Scheduled', message: `Successfully assigned default/${name} to ${node}` });
    }
  }));
}

interface Round {
  /** polyarch's pods/s over plain bindings/s. */
  readonly wall: number;
  /** The same per CPU-second of both processes (client and server) together. */
  readonly cpu: number;
  readonly plainRate: number;
  readonly apiRate: number;
  readonly plain: Timed;
  /** BENCH_API_PARTS=1: bindings with the informers and the events (plainBindings' withTraffic). */
  readonly traffic: Timed | undefined;
  readonly api: Awaited<ReturnType<typeof throughApi>>;
}

interface ApiResult extends Round {
  readonly rounds: string[];
}

const ms = (seconds: number | undefined, pods: number): string => (seconds === undefined ? '-' : ((seconds * 1000) / pods).toFixed(2));

/**
 * Rounds of plain bindings then polyarch, the server first in this process, then in a
 * process of its own (alternating, as the machine's load moves); the median round of
 * each by the wall ratio.
 */
async function apiRounds(): Promise<{ results: Record<Where, ApiResult>; load: string }> {
  const n = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const wheres: Where[] = ['same process', 'own process'];
  const rounds: Record<Where, Round[]> = { 'same process': [], 'own process': [] };
  const load0 = loadavg()[0] ?? 0;
  for (let r = 0; r < n; r++) {
    for (const where of wheres) {
      const plain = await plainBindings(where);
      const traffic = process.env['BENCH_API_PARTS'] === '1' ? await plainBindings(where, true) : undefined;
      const api = await throughApi(where);
      const plainRate = PODS / plain.seconds;
      const apiRate = api.bound / api.seconds;
      const cpuOf = (t: Timed): number => t.cpuSeconds + (t.serverCpuSeconds ?? 0);
      rounds[where].push({ wall: apiRate / plainRate, cpu: (api.bound / cpuOf(api)) / (PODS / cpuOf(plain)), plainRate, apiRate, plain, traffic, api });
    }
  }
  const median = (rs: Round[]): ApiResult => {
    const sorted = [...rs].sort((a, b) => a.wall - b.wall);
    const mid = sorted[Math.floor(sorted.length / 2)];
    if (!mid) throw new Error('benchmark: no round');
    return { ...mid, rounds: rs.map((x) => `${x.wall.toFixed(2)} (cpu ${x.cpu.toFixed(2)})`) };
  };
  return {
    results: { 'same process': median(rounds['same process']), 'own process': median(rounds['own process']) },
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
    console.log(`load average ${a.load}; median round of each (BENCH_ROUNDS, default 3)`);
    for (const where of ['same process', 'own process'] as const) {
      const r = a.results[where];
      console.log(`the API server in ${where === 'same process' ? 'this process (with the client and the scheduler)' : 'a process of its own'}:`);
      console.log(`  plain bindings (API ceiling):    ${r.plainRate.toFixed(0)} bindings/s; CPU-ms per binding: client ${ms(r.plain.cpuSeconds, PODS)}, server ${ms(r.plain.serverCpuSeconds, PODS)}`);
      if (r.traffic) console.log(`  + informers and events, no decision: ${(PODS / r.traffic.seconds).toFixed(0)} bindings/s; CPU-ms per binding: client ${ms(r.traffic.cpuSeconds, PODS)}, server ${ms(r.traffic.serverCpuSeconds, PODS)}; polyarch's pods/s over it: ${(r.apiRate / (PODS / r.traffic.seconds)).toFixed(3)}`);
      console.log(`  polyarch through the API server: ${r.apiRate.toFixed(0)} pods/s (${r.api.bound} bound in ${r.api.seconds.toFixed(1)} s); CPU-ms per pod: client ${ms(r.api.cpuSeconds, r.api.bound)}, server ${ms(r.api.serverCpuSeconds, r.api.bound)}`);
      console.log(`  ratio to plain bindings:         ${r.wall.toFixed(3)} pods/s, ${r.cpu.toFixed(3)} per CPU-second (rounds: ${r.rounds.join(', ')})`);
      console.log(`  API requests per bound pod:      ${r.api.requestsPerPod.toFixed(2)}: ${r.api.criticalPerPod.toFixed(2)} on the critical path (image patch where needed + binding), ${r.api.eventsPerPod.toFixed(2)} events written in the background`);
    }
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
  console.log(`  ratio to the simulator:          ${(a.results['own process'].apiRate / simRate).toFixed(3)} (the API server in a process of its own)`);
  const loss = await nodeLoss();
  console.log(`node lost with ${LOST_PODS} pods (100 with BENCH_FULL=1) -> all bound elsewhere: ${loss.seconds.toFixed(1)} s (of which ~${loss.graceSeconds.toFixed(1)} s is the node-monitor grace set for the run; the pods tolerate the taint 0 s)`);
}
