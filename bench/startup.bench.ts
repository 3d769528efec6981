/**
 * What a `polyarch` process costs, against `kubectl version --client` (/usr/bin/kubectl) in
 * the same run: wall time, CPU time and peak memory (maximum resident set) of whole
 * processes of the built CLI (bin/polyarch.js, which runs dist/), as medians and as ratios
 * to kubectl. The cases run interleaved, round after round, so the load of this shared
 * machine weighs on each alike.
 *   - `polyarch --help` and `--version`: no command module loaded; and, for reference, `--help`
 *     run from the TypeScript sources through tsx (as bin/polyarch.js did before the build;
 *     tsx's cache in $TMPDIR warm after the first round);
 *   - `polyarch inspect IMAGE`: a lookup on the real docker-registry on loopback, the same
 *     image looked up once before (the registry's answers are warm);
 *   - `polyarch probe` at rest: started, its /healthz answered, then sampling every 500 ms
 *     until 6 samples are taken: wall and CPU time to ready, resident memory at rest (VmRSS)
 *     and its peak (VmHWM); with the pods from a file; with --kube in a pod, as
 *     deploy/probe-daemonset.yaml runs it (its service account: $KUBERNETES_SERVICE_HOST
 *     and a token, an HTTPS server on loopback answering the pod list; no Kubernetes
 *     client); and with --kube --kubeconfig, against the fake API server
 *     (fake-apiserver/), which loads the client.
 * One-shot processes are measured by GNU time (/usr/bin/time, Debian's `time`), the probe
 * from /proc/PID. Targets (issue 14): `--help` under 150 ms, the probe under 80 MiB.
 * BENCH_FULL=1: 15 rounds instead of 5.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from '../fake-apiserver/index.ts';
import { buildCli } from '../test/support/build-cli.ts';
import { copyFixture } from '../test/support/probe-fixture.ts';
import { startRegistry } from '../test/support/registry.ts';
import { startServiceAccountApi } from '../test/support/service-account-api.ts';

const ROUNDS = process.env['BENCH_FULL'] === '1' ? 15 : 5;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'polyarch.js');
const KUBECTL = '/usr/bin/kubectl';
const GNU_TIME = '/usr/bin/time';
const PROBE_SAMPLES = 6;
/** USER_HZ: the unit of /proc/PID/stat times, 100 on every Linux architecture. */
const TICKS_PER_SECOND = 100;

interface Cost {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Peak resident memory (one-shot) or resident memory at rest (the probe), KiB. */
  readonly memKiB: number;
  readonly peakKiB?: number;
}

function exec(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - start }));
  });
}

/** One whole process under GNU time: its wall time (seen from here), CPU time and peak memory. */
async function oneShot(command: string, args: readonly string[]): Promise<Cost> {
  const r = await exec(GNU_TIME, ['-f', 'bench-cost %U %S %M', command, ...args]);
  const m = /bench-cost ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`${command} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return { wallMs: r.wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, memKiB: Number(m[3]) };
}

const procStatus = (pid: number, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

function procCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Polls `check` every 20 ms until it returns a value; throws naming `what` after `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const got = await check().catch(() => undefined);
    if (got !== undefined) return got;
    if (performance.now() > deadline) throw new Error(`bench: waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `polyarch probe ARGS` serving: wall and CPU time to its first healthy /healthz, memory after PROBE_SAMPLES samples. */
async function probeAtRest(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Cost> {
  const start = performance.now();
  const child = spawn(process.execPath, [BIN, 'probe', ...args, '--listen', '127.0.0.1:0', '--interval', '500ms', '--node-name', 'node-a'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`probe exited ${code}: ${stderr.trim()}`))));
  exited.catch(() => {});
  try {
    const pid = child.pid!;
    const url = await Promise.race([exited, until('the probe to log its address', 60_000, async () => /"url":"(http:\/\/[^"]+)"/.exec(stderr)?.[1])]);
    await Promise.race([exited, until('the probe to be healthy', 60_000, async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined))]);
    const wallMs = performance.now() - start;
    const cpuMs = procCpuMs(pid);
    const seen = new Set<number>();
    await Promise.race([exited, until(`${PROBE_SAMPLES} samples`, 60_000, async () => {
      const report = (await (await fetch(`${url}/windows`)).json()) as { lastSample?: { at: number } };
      if (report.lastSample) seen.add(report.lastSample.at);
      return seen.size >= PROBE_SAMPLES ? true : undefined;
    })]);
    return { wallMs, cpuMs, memKiB: procStatus(pid, 'VmRSS'), peakKiB: procStatus(pid, 'VmHWM') };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export default async function bench(): Promise<void> {
  buildCli();
  const registry = await startRegistry();
  const api = await FakeApiServer.start();
  const fixture = copyFixture('systemd');
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const amd = await registry.pushImage('team/app', '1.4-amd64', 'linux/amd64');
    const arm = await registry.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8');
    await registry.pushIndex('team/app', '1.4', [amd, arm]);
    const image = `${registry.host}/team/app:1.4`;
    const kubeconfig = await api.writeKubeconfig(join(fixture.root, '..', 'kubeconfig'));
    const podsFile = join(fixture.root, '..', 'pods.json');
    writeFileSync(podsFile, JSON.stringify({ apiVersion: 'v1', kind: 'PodList', items: [] }));
    const probeRoots = ['--cgroup-root', fixture.root, '--proc-root', fixture.procRoot];
    const inPod = await startServiceAccountApi(join(fixture.root, '..', 'serviceaccount'), 'probe-token');
    cleanups.push(inPod.close);

    const cases: [string, () => Promise<Cost>][] = [
      ['kubectl version --client', () => oneShot(KUBECTL, ['version', '--client'])],
      ['polyarch --help', () => oneShot(process.execPath, [BIN, '--help'])],
      ['polyarch --version', () => oneShot(process.execPath, [BIN, '--version'])],
      ['polyarch --help through tsx (the sources, as in development)', () => oneShot(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), '--help'])],
      ['polyarch inspect (warm registry)', () => oneShot(process.execPath, [BIN, 'inspect', image, '--output', 'json'])],
      ['polyarch probe at rest (--pods-file)', () => probeAtRest([...probeRoots, '--pods-file', podsFile])],
      ['polyarch probe at rest (--kube, in a pod)', () => probeAtRest([...probeRoots, '--kube'], { ...process.env, ...inPod.env })],
      ['polyarch probe at rest (--kube --kubeconfig)', () => probeAtRest([...probeRoots, '--kube', '--kubeconfig', kubeconfig])],
    ];
    await oneShot(process.execPath, [BIN, 'inspect', image]); // the registry's answers warm
    const costs = new Map<string, Cost[]>(cases.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, measure] of cases) costs.get(name)!.push(await measure());
    }

    const med = (name: string, key: keyof Cost): number => median(costs.get(name)!.map((c) => c[key] ?? Number.NaN));
    const base = cases[0]![0];
    const MiB = (kib: number): string => (kib / 1024).toFixed(1);
    console.log(`built CLI (node ${process.version}, dist/) vs ${KUBECTL}; medians of ${ROUNDS} interleaved rounds; memory: peak resident (probe: resident at rest after ${PROBE_SAMPLES} samples, peak in brackets)`);
    console.log('case | wall ms | CPU ms | memory MiB | wall ratio | CPU ratio | memory ratio');
    for (const [name] of cases) {
      const peak = costs.get(name)![0]!.peakKiB === undefined ? '' : ` (${MiB(med(name, 'peakKiB'))})`;
      console.log(`${name} | ${med(name, 'wallMs').toFixed(0)} | ${med(name, 'cpuMs').toFixed(0)} | ${MiB(med(name, 'memKiB'))}${peak} | ${(med(name, 'wallMs') / med(base, 'wallMs')).toFixed(2)} | ${(med(name, 'cpuMs') / Math.max(med(base, 'cpuMs'), 10)).toFixed(2)} | ${(med(name, 'memKiB') / med(base, 'memKiB')).toFixed(2)}`);
    }
    const help = med('polyarch --help', 'wallMs');
    console.log(`target: --help under 150 ms: ${help.toFixed(0)} ms, ${help < 150 ? 'met' : 'missed'} (wall time depends on this shared machine's load: see the ratio)`);
    for (const name of cases.map(([n]) => n).filter((n) => n.startsWith('polyarch probe'))) {
      const rss = med(name, 'memKiB') / 1024;
      console.log(`target: ${name} under 80 MiB resident: ${rss.toFixed(1)} MiB, ${rss < 80 ? 'met' : 'missed'}`);
    }
  } finally {
    for (const close of cleanups) await close();
    fixture.dispose();
    await api.close();
    await registry.stop();
  }
}
