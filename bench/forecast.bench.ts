// `npm run bench forecast`: double moving average forecasts per second (incremental running
// sums vs the direct form, as a ratio) and scaling-plan time for many applications.
// Times are CPU time of the process (the machine is shared). Default sizes are small; BENCH_FULL=1 runs 100,000 series x 4 metrics
// and adds a 100,000-application plan.
import { DmaBank, dmaDirect, METRICS, WindowStore } from '../src/core/forecast/index.ts';
import { DEFAULT_POLICY, plan, type AppInput, type PlanInput } from '../src/core/scaling/index.ts';
import { createRng } from '../src/core/rng.ts';
import { cpuMs } from './support/cpu.ts';

const FULL = process.env.BENCH_FULL === '1';

/** A seeded generator (core's createRng), so every run measures the same data. */
const rng = (seed: number): (() => number) => createRng(seed).next;

function forecasts(apps: number, minutes: number): void {
  const N = 10;
  const T = 5;
  const series = apps * METRICS.length;
  const rand = rng(42);
  const values = new Float32Array(4096);
  for (let i = 0; i < values.length; i++) values[i] = rand();
  const store = new WindowStore({ apps });
  const bank = new DmaBank(series, N);
  const scratch = new Float64Array(2 * N - 1);
  // Warm: the first 2N-1 minutes, so every series has a forecast.
  let k = 0;
  for (let m = 0; m < 2 * N - 1; m++) {
    for (let a = 0; a < apps; a++) {
      for (let j = 0; j < 4; j++) {
        const x = values[k++ & 4095]!;
        store.push(a, METRICS[j]!, x);
        bank.observe(a * 4 + j, x);
      }
    }
  }
  let sink = 0;
  const t0 = cpuMs();
  for (let m = 0; m < minutes; m++) {
    for (let a = 0; a < apps; a++) {
      for (let j = 0; j < 4; j++) {
        const x = values[k++ & 4095]!;
        const metric = METRICS[j]!;
        store.push(a, metric, x);
        const s = a * 4 + j;
        bank.observe(s, x);
        sink += bank.forecastValue(s, T);
      }
    }
  }
  const inc = cpuMs() - t0;
  const t1 = cpuMs();
  for (let m = 0; m < minutes; m++) {
    for (let a = 0; a < apps; a++) {
      for (let j = 0; j < 4; j++) {
        const x = values[k++ & 4095]!;
        const metric = METRICS[j]!;
        store.push(a, metric, x);
        store.copy(a, metric, scratch, 2 * N - 1);
        const d = dmaDirect(scratch, N, T);
        if (d.ok) sink += d.value;
      }
    }
  }
  const dir = cpuMs() - t1;
  const n = series * minutes;
  const rate = (ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;
  console.log(`forecasts: ${apps.toLocaleString('en-US')} apps x 4 metrics = ${series.toLocaleString('en-US')} series, ${minutes} minute(s), N=${N}, T=${T}`);
  console.log(`  direct (window push + copy + O(N^2) definition): ${rate(dir)}  (${(dir / minutes).toFixed(0)} ms per minute of the cluster)`);
  console.log(`  incremental (window push + running sums):        ${rate(inc)}  (${(inc / minutes).toFixed(0)} ms per minute of the cluster)`);
  console.log(`  ratio incremental / direct: ${(dir / inc).toFixed(2)}x   (checksum ${sink.toFixed(3)})`);
}

function makePlan(n: number, seed: number): PlanInput {
  const rand = rng(seed);
  const apps: AppInput[] = [];
  let cpu = 0;
  let mem = 0;
  for (let i = 0; i < n; i++) {
    const level = rand();
    const trend = (rand() - 0.5) * 0.02;
    const series = (): number[] => Array.from({ length: 60 }, (_, m) => Math.min(1, Math.max(0, level + trend * m + (rand() - 0.5) * 0.1)));
    const allocation = { cpu: 0.25 + Math.floor(rand() * 16) / 4, memory: (1 + Math.floor(rand() * 16)) * 2 ** 30, network: 1e8, disk: 1e8 };
    const a: AppInput = {
      name: `app-${i}`,
      priority: Math.floor(rand() * 10) * 100,
      system: rand() < 0.1,
      runningMinutes: Math.floor(rand() * 120),
      allocation,
      demand: { cpu: series().map((x) => x * allocation.cpu), mem: series().map((x) => x * allocation.memory), net: series().map((x) => x * allocation.network), disk: series().map((x) => x * allocation.disk) },
      ...(rand() < 0.2 ? { marked: { memory: 2 ** 30 } } : {}),
    };
    cpu += a.allocation.cpu;
    mem += a.allocation.memory;
    apps.push(a);
  }
  // Tight: a little less than allocated, so the plan has to reclaim.
  return { capacity: { cpu: cpu * 0.98, memory: mem * 0.98, network: n * 1e8, disk: n * 1e8 }, policy: DEFAULT_POLICY, apps };
}

function timePlan(n: number, runs: number): number {
  const input = makePlan(n, 7);
  const times: number[] = [];
  let releases = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = cpuMs();
    const p = plan(input);
    times.push(cpuMs() - t0);
    releases = p.releases.length;
  }
  times.sort((x, y) => x - y);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`  ${n.toLocaleString('en-US').padStart(7)} apps: ${median.toFixed(1)} ms (median of ${runs}), ${(median * 1000 / n).toFixed(1)} us per app, ${releases} release(s)`);
  return median;
}

export default async function main(): Promise<void> {
  forecasts(FULL ? 100_000 : 10_000, 10);
  console.log('plan (forecast + score + reclaim + grant):');
  const small = timePlan(1_000, 5);
  const big = timePlan(10_000, FULL ? 5 : 3);
  console.log(`  ratio 10,000 / 1,000 apps: ${(big / small).toFixed(2)}x (10x would be linear)`);
  if (FULL) {
    const huge = timePlan(100_000, 3);
    console.log(`  ratio 100,000 / 10,000 apps: ${(huge / big).toFixed(2)}x`);
  }
}
