// `npm run bench autoscaler`: one autoscaler round (load the windows from the node probes
// over loopback HTTP, forecast, plan P vs Q with reclaim and generations, decide per pod,
// write status) for many applications, against baselines measured in the same run: the
// pure plan on the same inputs (what the app layer adds) and the load alone (what HTTP and
// JSON cost). CPU time of this process (the probe servers run in it too). Default 2,000
// applications; BENCH_FULL=1 runs 10,000.
import { Agent, setGlobalDispatcher } from 'undici';
import { ProbeMetricsSource } from '../src/adapters/metrics/probe-source.ts';
import { Autoscaler } from '../src/app/autoscaler.ts';
import { parseScalingPolicy, type ParsedPolicy, type ScalingPolicyStatus } from '../src/core/autoscale/policy.ts';
import type { PodReport, WindowsReport } from '../src/core/probe/report.ts';
import { plan } from '../src/core/scaling/plan.ts';
import { DEFAULT_POLICY, type AppInput } from '../src/core/scaling/types.ts';
import type { ClusterReader, ClusterWriter } from '../src/ports/cluster.ts';
import { silentLogger } from '../src/ports/logger.ts';
import type { NodeProbe } from '../src/ports/node-probe.ts';
import type { PolicyRef, ScalingPolicyStore } from '../src/ports/scaling-policy.ts';
import { startProbeServer, type ProbeServer } from '../src/server/probe-server.ts';
import { createRng } from '../src/core/rng.ts';
import { cpuMs } from './support/cpu.ts';

const FULL = process.env.BENCH_FULL === '1';
const APPS = FULL ? 10_000 : 2_000;
const PER_NODE = 100;
const MINUTES = 60;
const Mi = 2 ** 20;
const T0 = Date.UTC(2026, 0, 1, 12, 0);

/** A seeded generator (core's createRng), so every run measures the same data. */
const rng = (seed: number): (() => number) => createRng(seed).next;

export default async function bench(): Promise<void> {
  // Fresh connections per round: a kept-alive socket the server is closing reads as ECONNRESET.
  setGlobalDispatcher(new Agent({ pipelining: 0, keepAliveTimeout: 10, keepAliveMaxTimeout: 10 }));
  const rand = rng(7);
  const nodes = Math.ceil(APPS / PER_NODE);
  const clock = { now: () => T0 + MINUTES * 60_000, sleep: async () => undefined };
  const minutes = Array.from({ length: MINUTES }, (_, m) => m);
  const reports: WindowsReport[] = [];
  const pods: object[] = [];
  const policies: ParsedPolicy[] = [];
  for (let n = 0; n < nodes; n++) {
    const podReports: PodReport[] = [];
    for (let i = n * PER_NODE; i < Math.min(APPS, (n + 1) * PER_NODE); i++) {
      // A random walk per application: some rise, some idle, some fall.
      let c = 0.1 + rand() * 0.4;
      let mem = (100 + rand() * 300) * Mi;
      const drift = (rand() - 0.5) * 0.01;
      const cpu = minutes.map(() => (c = Math.max(0.01, c + drift + (rand() - 0.5) * 0.02)));
      const memory = minutes.map(() => (mem = Math.max(50 * Mi, mem + (rand() - 0.5) * 4 * Mi)));
      const win = (unit: 'cores' | 'bytes', amount: number, xs: number[]) => ({ unit, basis: { kind: 'request' as const, amount, source: 'pod spec' }, usage: xs, utilisation: xs.map((x) => Math.min(1, x / amount)) });
      podReports.push({
        uid: `uid-${i}`, namespace: 'default', name: `app${i}-0`, app: `default/app${i}`, qos: 'Burstable', monitoring: { state: 'monitoring', since: T0 },
        containers: [{ name: 'app', id: `c${i}`, runtime: 'containerd', cgroup: `/kubepods/pod${i}`, metrics: { cpu: win('cores', 0.5, cpu), mem: win('bytes', 512 * Mi, memory) }, memPeakBetweenSamples: false }],
      });
      pods.push({
        metadata: { name: `app${i}-0`, namespace: 'default', uid: `uid-${i}`, ownerReferences: [{ kind: 'StatefulSet', name: `app${i}`, controller: true }] },
        spec: { nodeName: `n${n}`, priority: i % 7, containers: [{ name: 'app', resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } } }] },
        status: { phase: 'Running' },
      });
      const p = parseScalingPolicy({ metadata: { name: `app${i}`, namespace: 'default', generation: 1 }, spec: { targetRef: { kind: 'StatefulSet', name: `app${i}` }, mode: 'InPlace', forecast: { window: 10, horizon: 5 } } });
      policies.push(p);
    }
    reports.push({ node: `n${n}`, time: clock.now(), windowEnd: clock.now(), minutes: 60, intervalMs: 5000, warmupMs: 0, cgroup: { version: 'v2', driver: 'systemd', base: '/sys/fs/cgroup' }, podInfo: { source: 'bench', ok: true }, pods: podReports, errors: [] });
  }
  // A cluster a little smaller than the applications want, so the plan reclaims.
  const nodeObjs = Array.from({ length: nodes }, (_, n) => ({ metadata: { name: `n${n}` }, status: { allocatable: { cpu: String(PER_NODE * 0.5 + 2), memory: `${PER_NODE * 512 + 1024}Mi` }, conditions: [{ type: 'Ready', status: 'True' }] } }));
  const servers: ProbeServer[] = [];
  for (const r of reports) {
    const probe: NodeProbe = { windows: () => r, reclaim: () => ({ ok: false, kind: 'unsupported', message: 'bench' }), health: () => ({ ok: true, message: '' }) };
    servers.push(await startProbeServer({ probe, host: '127.0.0.1', port: 0 }));
  }
  let writes = 0;
  const cluster = {
    listPods: async () => pods,
    listNodes: async () => nodeObjs,
    resizePod: async () => ((writes++), { ok: true, value: undefined }),
    evictPod: async () => ({ ok: true }),
    recordEvent: async () => undefined,
  } as unknown as ClusterReader & ClusterWriter;
  const store: ScalingPolicyStore = {
    list: async () => policies,
    writeStatus: async (_ref: PolicyRef, _s: ScalingPolicyStatus) => ((writes++), { ok: true, value: undefined }),
    recordEvent: async () => undefined,
  };
  const source = (): ProbeMetricsSource => new ProbeMetricsSource({ endpoints: () => servers.map((s) => s.url), clock, timeoutMs: 60_000 });

  // Warm the JIT once on everything.
  await new Autoscaler({ reader: cluster, writer: cluster, metrics: source(), policies: store, clock, log: silentLogger }).runOnce();

  const runs = FULL ? 3 : 5;
  let tick = 0;
  let load = 0;
  let planOnly = 0;
  let samples = 0;
  for (let k = 0; k < runs; k++) {
    const a = new Autoscaler({ reader: cluster, writer: cluster, metrics: source(), policies: store, clock, log: silentLogger });
    let t = cpuMs();
    const round = await a.runOnce();
    tick += cpuMs() - t;
    if (!round.plan || round.plan.apps.length !== APPS) throw new Error(`planned ${round.plan?.apps.length ?? 0} of ${APPS} applications`);

    t = cpuMs();
    const got = await source().appUsage(0);
    load += cpuMs() - t;
    samples = got.length;

    // The pure plan on the inputs the round built (same usage series, same capacity).
    const byApp = new Map<string, { cpu: number[]; mem: number[] }>();
    for (const s of got) {
      let h = byApp.get(s.app);
      if (!h) byApp.set(s.app, (h = { cpu: [], mem: [] }));
      h.cpu.push(s.cpuMilli / 1000);
      h.mem.push(s.memoryBytes);
    }
    const inputs: AppInput[] = [...byApp].map(([name, h]) => ({ name, priority: 0, system: false, runningMinutes: 60, allocation: { cpu: 0.5, memory: 512 * Mi, network: 0, disk: 0 }, demand: { cpu: h.cpu, mem: h.mem, net: [], disk: [] } }));
    t = cpuMs();
    plan({ capacity: { cpu: nodes * (PER_NODE * 0.5 + 2), memory: nodes * (PER_NODE * 512 + 1024) * Mi, network: 0, disk: 0 }, policy: DEFAULT_POLICY, apps: inputs });
    planOnly += cpuMs() - t;
  }
  for (const s of servers) await s.close();
  tick /= runs;
  load /= runs;
  planOnly /= runs;
  const rows = [
    ['autoscaler round (load, forecast, plan, decide, status)', tick],
    ['  baseline: load alone (HTTP /windows, JSON, per-minute maxima)', load],
    ['  baseline: pure plan on the same inputs (forecast, P vs Q, reclaim)', planOnly],
  ] as const;
  console.log(`${APPS} applications on ${nodes} nodes, ${samples} application-minutes loaded, ${writes} writes over ${runs + 1} rounds; CPU ms per round (mean of ${runs})`);
  for (const [name, ms] of rows) console.log(`${name.padEnd(72)} ${ms.toFixed(1).padStart(9)} ms  ${(ms / tick).toFixed(2)}x of the round`);
  console.log(`round / pure plan: ${(tick / planOnly).toFixed(1)}x; per application: ${((tick * 1000) / APPS).toFixed(1)} µs`);
}
