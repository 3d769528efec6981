/**
 * The node probe on real cgroup v1 (this machine mounts v1 and tests run as root): a
 * kubelet-like cgroupfs tree is created, a process placed in it allocates a known amount of
 * memory and burns CPU, and the probe's per-minute maxima are checked against what the
 * process itself reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { CgroupReader, type CgroupLayout } from '../src/adapters/probe/cgroup-fs.ts';
import { ProbeSampler } from '../src/adapters/probe/sampler.ts';
import { functionPodInfoSource } from '../src/adapters/probe/pod-list.ts';
import { reclaimMemory } from '../src/adapters/probe/reclaim.ts';
import type { Clock } from '../src/ports/clock.ts';
import { makeV1Tree, v1Unavailable, type V1Tree } from './support/cgroup-v1.ts';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { parseCpuStatV2, parsePressure } from '../src/core/probe/parse.ts';

const Mi = 2 ** 20;
const ALLOC_MIB = 96;
const SPIKE_MIB = 128;
const BURN_MS = 1500;
const INTERVAL_MS = 150;

// The child waits for "go" (so it is inside the cgroup before it allocates anything), then
// allocates and touches ALLOC_MIB, burns one core for BURN_MS, reports, and holds the memory.
const CHILD = `
process.stdin.once('data', () => {
  const buf = Buffer.alloc(${ALLOC_MIB} * 1048576, 1);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < ${BURN_MS}) x += Math.sqrt(x + 1);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  process.stdout.write(JSON.stringify({ cpuMs: (c.user + c.system) / 1000, wallMs: wall, rss: process.memoryUsage().rss, x: x > 0, b: buf[7] }) + '\\n');
  setInterval(() => { buf[0]++; }, 1000);
});
`;

const unavailable = v1Unavailable();
const uid = `0e5c4b1a-${randomBytes(2).toString('hex')}-4a00-8000-${randomBytes(6).toString('hex')}`;
const containerId = randomBytes(32).toString('hex');
let tree: V1Tree;
let child: ChildProcess | undefined;

/** Real time, shifted so the test runs early in a minute (one minute holds all its samples). */
function minuteAlignedClock(): Clock {
  const real = Date.now();
  const offset = Math.ceil(real / 60_000) * 60_000 + 1_000 - real;
  return { now: () => Date.now() + offset, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
}

beforeAll(() => {
  if (unavailable) throw new Error(`this test needs real cgroup v1 and root (${unavailable})`);
  tree = makeV1Tree(`polyarch-probe-test-${process.pid}-${randomBytes(3).toString('hex')}`, uid, containerId);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  tree?.remove();
});

describe('node probe on real cgroup v1 (cgroupfs driver layout)', () => {
  it('per-minute maxima of memory and CPU match what the process did; a spike between samples is kept', async () => {
    // Every controller this test asserts on is there (v1Unavailable checked them all): none is skipped.
    const { memory, cpuacct, cpu, blkio } = tree.bases;
    if (!memory || !cpuacct || !cpu || !blkio) throw new Error(`cgroup v1 controllers missing: ${JSON.stringify(tree.bases)}`);
    tree.write('memory', 'memory.limit_in_bytes', String(1024 * Mi));
    tree.write('cpu', 'cpu.cfs_period_us', '100000');
    tree.write('cpu', 'cpu.cfs_quota_us', '150000'); // 1.5 cores: above what one busy thread uses
    const layout: CgroupLayout = { version: 'v1', memory, cpuacct, cpu, blkio };
    const reader = new CgroupReader({ layout });
    const clock = minuteAlignedClock();
    const readySince = clock.now() - 120_000;
    const sampler = new ProbeSampler({
      reader,
      clock,
      nodeName: 'this-machine',
      capacity: {
        cpu: { amount: cpus().length, source: 'os.cpus()' },
        mem: { amount: 64 * 1024 * Mi, source: 'test' },
        net: { amount: 1.25e9, source: 'test' },
        disk: { amount: 5e8, source: 'test' },
      },
      pods: functionPodInfoSource(() => [
        { uid, namespace: 'test', name: 'burner', ready: true, readySince, containers: [{ name: 'burner', id: containerId, ready: true, requests: {}, limits: {} }] },
      ]),
      intervalMs: INTERVAL_MS,
      warmupMs: 0,
    });

    child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child, 'spawn');
    tree.enter(child.pid!);
    const before = reader.readContainer(tree.containerRel);
    expect(before.kind).toBe('ok');
    await sampler.sample();

    const report = new Promise<{ cpuMs: number; wallMs: number; rss: number }>((resolve, reject) => {
      child!.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString())));
      child!.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    child.stdin!.write('go\n');
    let done = false;
    void report.then(() => (done = true), () => (done = true));
    while (!done) {
      await clock.sleep(INTERVAL_MS);
      const o = await sampler.sample();
      expect(o.errors).toEqual([]);
    }
    const self = await report;
    await clock.sleep(INTERVAL_MS);
    await sampler.sample();

    // A second process in the container allocates SPIKE_MIB and exits between two samples:
    // no sample sees it, memory.max_usage_in_bytes does.
    const memProcs = join(tree.containerDir('memory')!, 'cgroup.procs');
    const spike = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(memProcs)}, String(process.pid)); Buffer.alloc(${SPIKE_MIB} * 1048576, 1);`]);
    expect(spike.status).toBe(0);
    await sampler.sample();
    const after = reader.readContainer(tree.containerRel);

    sampler.closeMinutes(clock.now() + 60_000);
    const windows = sampler.windows();
    const pod = windows.pods.find((p) => p.uid === uid)!;
    expect(pod).toMatchObject({ namespace: 'test', name: 'burner', qos: 'Burstable', monitoring: { state: 'monitoring' } });
    const c = pod.containers[0]!;
    expect(c.cgroup).toBe(tree.containerRel);

    // Memory: basis from the cgroup's own limit; one closed minute whose maximum is at least
    // the spike on top of what the burner holds, and no more than the burner's RSS plus the spike
    // plus 32 MiB (kernel memory and the short-lived process's own runtime).
    expect(c.metrics.mem.basis).toEqual({ kind: 'limit', amount: 1024 * Mi, source: 'cgroup memory.limit_in_bytes' });
    expect(c.metrics.mem.usage).toHaveLength(1);
    const memMax = c.metrics.mem.usage[0]!;
    expect(memMax).toBeGreaterThanOrEqual((ALLOC_MIB + SPIKE_MIB) * Mi);
    expect(memMax).toBeLessThanOrEqual(self.rss + SPIKE_MIB * Mi + 64 * Mi);
    expect(c.metrics.mem.utilisation[0]).toBeCloseTo(memMax / (1024 * Mi), 5);
    expect(c.memPeakBetweenSamples).toBe(true);
    // Now (after the spike) the working set is the burner's again.
    expect(c.metrics.mem.current!).toBeGreaterThanOrEqual(ALLOC_MIB * Mi);
    expect(c.metrics.mem.current!).toBeLessThan(memMax - (SPIKE_MIB / 2) * Mi);

    // CPU: the cgroup counted at least the CPU the process says it used while burning; the
    // minute's maximum rate is at least 3/4 of the process's own average while burning (some
    // interval lies wholly inside the burn) and at most one core plus runtime threads.
    if (before.kind !== 'ok' || after.kind !== 'ok') throw new Error('reads failed');
    expect(after.value.cpuUsec - before.value.cpuUsec).toBeGreaterThanOrEqual(self.cpuMs * 1000 * 0.99);
    const burnRate = self.cpuMs / self.wallMs;
    const cpuMax = c.metrics.cpu.usage[0]!;
    expect(cpuMax).toBeGreaterThanOrEqual(0.75 * burnRate);
    expect(cpuMax).toBeLessThanOrEqual(1.3);
    expect(c.metrics.cpu.basis).toEqual({ kind: 'limit', amount: 1.5, source: 'cgroup cpu.cfs_quota_us' });
    expect(c.metrics.cpu.utilisation[0]).toBeCloseTo(cpuMax / 1.5, 5);

    // Disk: blkio is read (the process did no block I/O); network: it shares the host's namespace.
    expect(c.metrics.disk?.basis.kind).toBe('node');
    expect(c.metrics.disk?.usage).toHaveLength(1);
    expect(pod.netNote).toMatch(/host network/);

    // v1 has no proactive reclaim: a clear "cannot".
    expect(reclaimMemory(layout, tree.containerRel, 16 * Mi)).toMatchObject({ ok: false, kind: 'unsupported' });
  });
});

describe('hybrid hosts: the cgroup v2 hierarchy next to v1 (/sys/fs/cgroup/unified)', () => {
  it('real cpu.stat and memory.pressure parse and count the process; the v2 reader names memory.current as missing (memory is on v1)', async () => {
    const unified = '/sys/fs/cgroup/unified';
    if (!existsSync(join(unified, 'cgroup.controllers'))) throw new Error(`this test needs the cgroup2 hierarchy at ${unified}`);
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    const base = join(unified, own, `polyarch-probe-v2-${process.pid}-${randomBytes(3).toString('hex')}`);
    const rel = `kubepods/burstable/pod${uid}/${containerId}`;
    const dirs = [base];
    for (const part of rel.split('/')) dirs.push(join(dirs.at(-1)!, part));
    for (const d of dirs) mkdirSync(d);
    const burner = spawn(process.execPath, ['-e', `process.stdin.once('data', () => { const c0 = process.cpuUsage(); const t = performance.now(); let x = 0; while (performance.now() - t < 500) x += Math.sqrt(x + 1); const c = process.cpuUsage(c0); process.stdout.write(String((c.user + c.system) / 1000) + '\\n'); setInterval(() => {}, 1000); });`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await once(burner, 'spawn');
      writeFileSync(join(dirs.at(-1)!, 'cgroup.procs'), String(burner.pid));
      const cpu0 = parseCpuStatV2(readFileSync(join(dirs.at(-1)!, 'cpu.stat'), 'utf8'));
      burner.stdin!.write('go\n');
      const [out] = (await once(burner.stdout!, 'data')) as [Buffer];
      const cpuMs = Number(out.toString());
      const cpu1 = parseCpuStatV2(readFileSync(join(dirs.at(-1)!, 'cpu.stat'), 'utf8'));
      if (!cpu0.ok || !cpu1.ok) throw new Error('cpu.stat did not parse');
      expect(cpu1.value.usageUsec - cpu0.value.usageUsec).toBeGreaterThanOrEqual(cpuMs * 1000 * 0.99);
      expect(parsePressure(readFileSync(join(dirs.at(-1)!, 'memory.pressure'), 'utf8')).ok).toBe(true);

      const reader = new CgroupReader({ layout: { version: 'v2', base } });
      const d = reader.discover();
      expect(d.ok && d.value.pods.map((p) => [p.uid, p.qos, p.containers.map((c) => c.id)])).toEqual([[uid, 'Burstable', [containerId]]]);
      expect(reader.readContainer(rel)).toEqual({ kind: 'error', path: join(base, rel, 'memory.current'), message: `${join(base, rel, 'memory.current')}: missing (the cgroup exists but this file does not; is the controller enabled?)` });
    } finally {
      burner.kill('SIGKILL');
      if (burner.exitCode === null && burner.signalCode === null) await once(burner, 'exit');
      for (const d of dirs.reverse()) rmdirSync(d);
    }
  });
});
