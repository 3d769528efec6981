/**
 * `npm run bench simulate`: the embedded cluster at scale. A generated scenario (nodes on
 * four platforms, Deployments of 10 replicas with generated usage, node failures and
 * drains) runs with polyarch and, as the baseline in the same run, with kube-scheduler
 * without platform awareness. Prints wall time, simulated minutes per second, memory,
 * and the ratio polyarch / baseline.
 *
 * Default: 250 nodes, 5,000 pods, 2 simulated hours. BENCH_FULL=1: 5,000 nodes,
 * 100,000 pods, 24 simulated hours (the size issue 5 asks polyarch to handle). The CPU of
 * the first simulated minute (every pod placed) is printed apart from the later minutes',
 * with the 24-hour day projected from them; bench/support/simulate-day.ts runs one
 * strategy of the same scenario alone for the measured day (`/usr/bin/time -v`).
 */
import type { Deployment, Node } from '../src/core/k8s/types.ts';
import type { Scenario, UsageSource } from '../src/sim/scenario/load.ts';
import type { CatalogImage, ScenarioEvent } from '../src/sim/scenario/schema.ts';
import { runStrategy } from '../src/cli/simulate/runner.ts';
import { SimRegistry } from '../src/sim/registry.ts';
import { UsageModel } from '../src/sim/usage.ts';
import { createRng } from '../src/core/rng.ts';
import { figuresOf } from '../src/sim/summary.ts';
import type { Strategy } from '../src/sim/results.ts';

const FULL = process.env.BENCH_FULL === '1';
// BENCH_NODES, BENCH_PODS and BENCH_HOURS pick another size (e.g. to see how time grows).
const envInt = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const NODES = envInt('BENCH_NODES', FULL ? 5_000 : 250);
const PODS = envInt('BENCH_PODS', FULL ? 100_000 : 5_000);
const MINUTES = Math.round(envInt('BENCH_HOURS', FULL ? 24 : 2) * 60);
const REPLICAS = 10;

const ARCHS: readonly [string, number][] = [['amd64', 0.4], ['arm64', 0.3], ['loong64', 0.15], ['riscv64', 0.15]];

export function generateScenario(nodes: number, pods: number, minutes: number): Scenario {
  const rng = createRng(2026);
  const nodeList: Node[] = [];
  for (const [arch, share] of ARCHS) {
    const n = Math.round(nodes * share);
    for (let i = 0; i < n; i++) {
      nodeList.push({
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: `${arch}-${i}`, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux' } },
        status: { allocatable: { cpu: '16', memory: '64Gi', pods: '110' } },
      });
    }
  }
  const R = 'bench.example.com';
  const images: CatalogImage[] = [];
  for (let i = 0; i < 60; i++) {
    const kind = i % 6;
    if (kind <= 2) images.push({ reference: `${R}/multi/app${i}:1`, platforms: ['linux/amd64', 'linux/arm64', 'linux/loong64', 'linux/riscv64'] });
    else if (kind === 3) images.push({ reference: `${R}/two/app${i}:1`, platforms: ['linux/amd64', 'linux/arm64'] });
    else if (kind === 4) images.push({ reference: `${R}/tags/app${i}:1`, tags: { 'linux/amd64': `${R}/tags/app${i}:1`, 'linux/arm64': `${R}/tags/app${i}:1-arm64`, 'linux/loong64': `${R}/tags/app${i}:1-loong64` } });
    else images.push({ reference: `${R}/single/app${i}:1`, platforms: ['linux/amd64'] });
  }
  const deployments: Deployment[] = [];
  const usage = new Map<string, UsageSource>();
  const workloads = Math.round(pods / REPLICAS);
  for (let w = 0; w < workloads; w++) {
    const name = `app-${w}`;
    const ns = `team-${w % 50}`;
    const img = images[w % images.length]!;
    const cpu = 100 + rng.int(500);
    const mem = (128 + rng.int(1024)) * 2 ** 20;
    deployments.push({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
      spec: {
        replicas: REPLICAS, selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name, image: img.reference, resources: { requests: { cpu: `${cpu}m`, memory: `${Math.round(mem / 2 ** 20)}Mi` }, limits: { cpu: `${cpu * 2}m`, memory: `${Math.round((mem * 2) / 2 ** 20)}Mi` } } }] },
        },
      },
    });
    usage.set(`${ns}/${name}`, {
      workload: `${ns}/${name}`, peakCpuMilli: cpu * 1.5, peakMemBytes: mem * 1.6,
      pattern: { kind: w % 3 === 0 ? 'spike' : 'diurnal', base: 0.2 + rng.next() * 0.3, amplitude: 0.4, period: 60 + rng.int(600), noise: 0.05 },
    });
  }
  const events: ScenarioEvent[] = [];
  const failures = Math.max(2, Math.round(nodes / 500));
  for (let i = 0; i < failures; i++) {
    const node = nodeList[rng.int(nodeList.length)]!.metadata.name!;
    const at = Math.round(((i + 1) * minutes) / (failures + 2));
    events.push({ at, type: i % 2 === 0 ? 'node-failure' : 'drain', node });
    events.push({ at: Math.min(minutes, at + 60), type: 'recovery', node });
  }
  events.sort((a, b) => a.at - b.at);
  return {
    name: `bench-${nodes}n-${pods}p`, file: '(generated)', durationMinutes: minutes, startMs: Date.parse('2026-01-05T00:00:00Z'), seed: 1,
    images, usage, events,
    policy: { interval: 5, window: 60, horizon: 5, headroom: 0.05, errorQuantile: 0.95, evictionTimeout: 5, startup: 1 },
    controlPlaneNodesPerCluster: 3, nodes: nodeList, pods: [], deployments, statefulSets: [], priorityClasses: [], pdbs: [], scalingPolicies: [], deferred: new Set(),
  };
}

interface Measured {
  ms: number;
  cpuMs: number;
  /** CPU of the first simulated minute (the first placement of every pod) and of each later minute on average. */
  firstMinuteCpuMs: number;
  laterMinuteCpuMs: number;
  rssMiB: number;
  heapMiB: number;
  figures: ReturnType<typeof figuresOf>;
  phases: Readonly<Record<string, number>>;
}

async function measure(scenario: Scenario, strategy: Strategy, shared: { registry: SimRegistry; usage: UsageModel }): Promise<Measured> {
  (globalThis as { gc?: () => void }).gc?.();
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let firstMinuteCpuMs = 0;
  const result = await runStrategy(scenario, {
    seed: 1, strategy, ...shared,
    onProgress: (m) => {
      if (m === 0) {
        const c = process.cpuUsage(c0);
        firstMinuteCpuMs = (c.user + c.system) / 1000;
      }
      if (m % 30 === 0) {
        // Sampled every 30 simulated minutes (and at the start).
        const mu = process.memoryUsage();
        peakRss = Math.max(peakRss, mu.rss);
        peakHeap = Math.max(peakHeap, mu.heapUsed);
        if (m % 60 === 0 && m > 0) process.stderr.write(`  ${strategy}: minute ${m}/${scenario.durationMinutes}, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    },
  });
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const laterMinuteCpuMs = scenario.durationMinutes > 1 ? (cpuMs - firstMinuteCpuMs) / (scenario.durationMinutes - 1) : 0;
  return { ms: performance.now() - t0, cpuMs, firstMinuteCpuMs, laterMinuteCpuMs, rssMiB: peakRss / 2 ** 20, heapMiB: peakHeap / 2 ** 20, figures: figuresOf(result), phases: result.phaseMs };
}

export default async function bench(): Promise<void> {
  const tGen = performance.now();
  const scenario = generateScenario(NODES, PODS, MINUTES);
  const shared = { registry: new SimRegistry(scenario.images), usage: new UsageModel(scenario.usage, scenario.durationMinutes, createRng(1).fork('usage')) };
  console.log(`scenario: ${scenario.nodes.length} nodes, ${PODS} pods (${scenario.deployments.length} Deployments x ${REPLICAS}), ${MINUTES / 60} simulated hours, ${scenario.events.length} events; generated in ${(performance.now() - tGen).toFixed(0)} ms${FULL ? '' : ' (BENCH_FULL=1 for 5,000 nodes / 100,000 pods / 24 h)'}`);
  const base = await measure(scenario, 'kube-scheduler', shared);
  const poly = await measure(scenario, 'polyarch', shared);
  const row = (label: string, m: typeof base): string =>
    `${label.padEnd(34)} ${(m.ms / 1000).toFixed(1).padStart(7)} s wall  ${(m.cpuMs / 1000).toFixed(1).padStart(7)} s cpu  ${(MINUTES / (m.ms / 1000)).toFixed(1).padStart(7)} sim-min/s  peak rss ${m.rssMiB.toFixed(0).padStart(5)} MiB  heap ${m.heapMiB.toFixed(0).padStart(5)} MiB  exec-format-error pods ${m.figures.execFormatErrorPods}  lost ${m.figures.podsLost}`;
  console.log(row('baseline: kube-scheduler (static)', base));
  console.log(row('polyarch (placement + scaling)', poly));
  const phases = (m: typeof base): string => Object.entries(m.phases).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ');
  console.log(`  time by phase, baseline: ${phases(base)}`);
  console.log(`  time by phase, polyarch: ${phases(poly)}`);
  // The day of issue 16 (24 simulated hours), projected from this run: the first minute (every pod placed) once, then the later minutes' mean.
  const day = (m: Measured): number => (m.firstMinuteCpuMs + 1439 * m.laterMinuteCpuMs) / 1000;
  const split = (label: string, m: Measured): string =>
    `  ${label}: first minute ${(m.firstMinuteCpuMs / 1000).toFixed(1)} s cpu, then ${m.laterMinuteCpuMs.toFixed(0)} ms cpu per simulated minute; 24 h at this size ~${day(m).toFixed(0)} s cpu`;
  console.log(split('baseline', base));
  console.log(split('polyarch', poly));
  console.log(`ratio polyarch / baseline: wall time ${(poly.ms / base.ms).toFixed(2)}x, cpu time ${(poly.cpuMs / base.cpuMs).toFixed(2)}x, cpu per later minute ${(poly.laterMinuteCpuMs / base.laterMinuteCpuMs).toFixed(2)}x, peak rss ${(poly.rssMiB / base.rssMiB).toFixed(2)}x`);
}
