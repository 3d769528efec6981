/**
 * Webhook and extender latency at a fixed rate (default 1,000 requests/second) on
 * loopback, from an open-loop generator: request i is due at t0 + i/rate whatever
 * happened before, latency is measured from when it was due (so a stall shows up in the
 * tail instead of slowing the generator down: no coordinated omission), and at most
 * MAX_IN_FLIGHT requests are outstanding (beyond that a request is counted as dropped).
 * The server runs in a child process pinned to one core (taskset, when the machine has
 * two or more); the server's CPU time over the run is the
 * share of its core used, and it reports the service time of each request (arrival to
 * response end, inside the server: without the generator's waiting, which on a shared
 * machine dominates the client-side latency). Everything is reported against a no-op
 * route with the same body on the same server, in the same run.
 *
 *   npm run bench admission             # 3 s per scenario
 *   BENCH_FULL=1 npm run bench admission # 15 s per scenario
 *   BENCH_RATE=100 npm run bench admission # another rate
 * When the generator cannot keep the rate (a loaded machine), `req/s` says so and the
 * latencies include its own queueing; CPU ms per request stays a fair comparison.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { makePod } from '../test/builders/pod.ts';
import { admissionReview } from '../test/support/admission-review.ts';

const RATE = Number(process.env['BENCH_RATE'] ?? 1000);
const SECONDS = process.env['BENCH_FULL'] ? 15 : 3;
const MAX_IN_FLIGHT = 256;

interface Result {
  name: string;
  sent: number;
  dropped: number;
  errors: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  /** Service time inside the server, ms. */
  serviceP50: number;
  serviceP99: number;
  cpuShare: number;
  /** Server CPU time per request, ms. */
  cpuPerRequest: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function cpu(child: ChildProcess): Promise<{ micros: number; ns: bigint; serviceMs: number[] }> {
  return new Promise((resolve) => {
    const on = (m: { type: string; usage: NodeJS.CpuUsage; at: string; serviceMs: number[] }): void => {
      if (m.type !== 'cpu') return;
      child.off('message', on);
      resolve({ micros: m.usage.user + m.usage.system, ns: BigInt(m.at), serviceMs: m.serviceMs });
    };
    child.on('message', on);
    child.send({ type: 'cpu' });
  });
}

async function scenario(name: string, pool: Pool, child: ChildProcess, path: string, body: string, expect: (status: number, text: string) => boolean): Promise<Result> {
  // Warm up (JIT, connections), not measured.
  await Promise.all(Array.from({ length: 200 }, () => pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.body.text())));
  const total = RATE * SECONDS;
  const latencies: number[] = [];
  let inFlight = 0;
  let dropped = 0;
  let errors = 0;
  let sent = 0;
  const before = await cpu(child);
  const t0 = performance.now();
  const done: Promise<void>[] = [];
  while (sent + dropped < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - t0) / 1000) * RATE) + 1);
    while (sent + dropped < due) {
      const scheduled = t0 + ((sent + dropped) * 1000) / RATE;
      if (inFlight >= MAX_IN_FLIGHT) {
        dropped++;
        continue;
      }
      inFlight++;
      sent++;
      done.push(pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => {
          const text = await r.body.text();
          if (!expect(r.statusCode, text)) errors++;
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          inFlight--;
          latencies.push(performance.now() - scheduled);
        }));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(done);
  const elapsed = (performance.now() - t0) / 1000;
  const after = await cpu(child);
  const wallMicros = Number(after.ns - before.ns) / 1000;
  latencies.sort((a, b) => a - b);
  const service = after.serviceMs.sort((a, b) => a - b);
  return {
    name, sent, dropped, errors, achieved: sent / elapsed,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN,
    serviceP50: percentile(service, 50), serviceP99: percentile(service, 99),
    cpuShare: (after.micros - before.micros) / wallMicros,
    cpuPerRequest: (after.micros - before.micros) / 1000 / Math.max(1, sent),
  };
}

/** The server pinned to core 1 (taskset, when there and the machine has two cores); BENCH_CPU_PROF=DIR profiles it. */
function startServerProcess(): { child: ChildProcess; pinned: boolean } {
  const script = fileURLToPath(new URL('./support/admission-server.ts', import.meta.url));
  const pinned = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' }).status === 0;
  const child = pinned
    ? spawn('taskset', ['-c', '1', process.execPath, ...(process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : []), '--import', 'tsx', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { child, pinned };
}

export default async function bench(): Promise<void> {
  const { child, pinned } = startServerProcess();
  const url = await new Promise<string>((resolve) => child.on('message', (m: { type: string; url: string }) => m.type === 'ready' && resolve(m.url)));
  const pool = new Pool(url, { connections: 32, pipelining: 1 });
  const pod = makePod('web').ns('shop').image('example.com/shop/web:1.4', 'web').image('example.com/mesh/proxy:2.0', 'proxy')
    .requiredTerms({ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a', 'b'] }] }).build();
  const review = JSON.stringify(admissionReview(pod, { namespace: 'shop' }));
  const filterArgs = JSON.stringify({ Pod: pod, Nodes: null, NodeNames: Array.from({ length: 100 }, (_, i) => `n${i}`) });
  try {
    const results: Result[] = [];
    results.push(await scenario('baseline: no-op route, same body as the webhook', pool, child, '/noop', review, (s) => s === 200));
    results.push(await scenario('webhook: AdmissionReview, cache warm, patch', pool, child, '/mutate-pods', review, (s, t) => s === 200 && t.includes('"patch"')));
    results.push(await scenario('extender /filter: 100 node names (nodeCacheCapable)', pool, child, '/extender/filter', filterArgs, (s, t) => s === 200 && t.includes('"Error":""')));
    results.push(await scenario('extender /prioritize: 100 node names', pool, child, '/extender/prioritize', filterArgs, (s) => s === 200));
    const base = results[0] as Result;
    console.log(`open-loop ${RATE} req/s for ${SECONDS} s per scenario, loopback, server in its own process${pinned ? ' pinned to core 1' : ' (not pinned: taskset or a second core missing)'} (at most ${MAX_IN_FLIGHT} in flight); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log('| scenario | req/s | p50 ms | p99 ms | max ms | server p50 ms | server p99 ms | core share | CPU ms/req | p99 / baseline | server p99 / baseline | core / baseline | dropped | errors |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.serviceP50.toFixed(2)} | ${r.serviceP99.toFixed(2)} | ${(r.cpuShare * 100).toFixed(1)}% | ${r.cpuPerRequest.toFixed(3)} | ${(r.p99 / base.p99).toFixed(2)}x | ${(r.serviceP99 / base.serviceP99).toFixed(2)}x | ${(r.cpuShare / base.cpuShare).toFixed(2)}x | ${r.dropped} | ${r.errors} |`);
    }
  } finally {
    await pool.close();
    child.send({ type: 'stop' });
  }
}
