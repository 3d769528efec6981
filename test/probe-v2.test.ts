/**
 * The node probe on cgroup v2 trees laid out by kubelet (both cgroup drivers), with the
 * kernel's file formats: counters advance between samples, containers vanish, files go
 * missing or turn bad.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CgroupReader, detectLayout, type CgroupLayout } from '../src/adapters/probe/cgroup-fs.ts';
import { ProbeSampler, type NodeCapacity } from '../src/adapters/probe/sampler.ts';
import { functionPodInfoSource } from '../src/adapters/probe/pod-list.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { NodePodInfo } from '../src/ports/pod-info.ts';
import type { PodReport } from '../src/core/probe/report.ts';
import { cpuStat, ioStat, writeProc } from './support/cgroup-tree.ts';
import { copyFixture, FIXTURE_PODS, fixtureContainerPath, fixturePodInfo, NET_AT_START, type FixtureContainer, type FixturePod } from './support/probe-fixture.ts';

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const T0 = 1_764_000_000_000; // a minute boundary (divisible by 60 000)
const capacity: NodeCapacity = {
  cpu: { amount: 8, source: 'test node' },
  mem: { amount: 16 * Gi, source: 'test node' },
  net: { amount: 125_000_000, source: 'test --net-capacity' },
  disk: { amount: 500_000_000, source: 'test --disk-capacity' },
};

class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(): Promise<void> {}
}

const disposers: (() => void)[] = [];
afterEach(() => {
  while (disposers.length) disposers.pop()!();
});

function setup(driver: 'systemd' | 'cgroupfs', opts: { pods?: () => NodePodInfo[]; warmupMs?: number; allowReclaim?: boolean; reader?: (l: CgroupLayout, proc: string) => CgroupReader } = {}) {
  const fx = copyFixture(driver);
  disposers.push(fx.dispose);
  const detected = detectLayout(fx.root);
  if (!detected.ok) throw new Error(detected.error);
  const reader = opts.reader ? opts.reader(detected.layout, fx.procRoot) : new CgroupReader({ layout: detected.layout, procRoot: fx.procRoot });
  const clock = new FakeClock(T0);
  const sampler = new ProbeSampler({
    reader,
    clock,
    nodeName: 'node-a',
    capacity,
    intervalMs: 10_000,
    warmupMs: opts.warmupMs ?? 0,
    ...(opts.pods ? { pods: functionPodInfoSource(opts.pods) } : {}),
    ...(opts.allowReclaim ? { allowReclaim: true } : {}),
  });
  const dir = (pod: FixturePod, c: FixtureContainer): string => join(fx.root, fixtureContainerPath(driver, pod, c));
  return { fx, clock, sampler, reader, dir };
}

const pod = (n: number): FixturePod => FIXTURE_PODS[n]!;
const web = { pod: pod(0), c: pod(0).containers[1]! };
const sidecar = { pod: pod(0), c: pod(0).containers[2]! };
const db = { pod: pod(1), c: pod(1).containers[1]! };
const job = { pod: pod(2), c: pod(2).containers[1]! };

const podReport = (pods: readonly PodReport[], uid: string): PodReport => {
  const p = pods.find((x) => x.uid === uid);
  if (!p) throw new Error(`pod ${uid} not in report`);
  return p;
};
const f32 = Math.fround;

describe.each(['systemd', 'cgroupfs'] as const)('cgroup v2, %s driver', (driver) => {
  it('finds every pod and its containers, and leaves sandboxes and cri-o monitors out when the pod list says which are containers', async () => {
    const { sampler } = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    const outcome = await sampler.sample();
    expect(outcome.errors).toEqual([]);
    expect(outcome.containers).toBe(4);
    const report = sampler.windows();
    expect(report.cgroup).toMatchObject({ version: 'v2', driver });
    expect(report.lastSample?.skipped).toBe(3); // one sandbox per pod
    expect(report.pods.map((p) => [p.name, p.qos, p.containers.map((c) => c.name)]).sort()).toEqual([
      ['batch-x', 'BestEffort', ['job']],
      ['db-0', 'Guaranteed', ['db']],
      ['web-7d9f', 'Burstable', ['web', 'sidecar']],
    ]);
  });

  it('per-minute maxima of CPU, memory, disk and network, as utilisation of limit, request or node, and in absolute units', async () => {
    const { sampler, clock, dir, fx } = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    await sampler.sample(); // t0: first readings, no rates yet
    // In 10 s: web uses 5 s of CPU (0.5 cores) and 20 MB of disk; db 9 s (0.9 cores); the web pod sends 1 MB.
    clock.t = T0 + 10_000;
    writeFileSync(join(dir(web.pod, web.c), 'cpu.stat'), cpuStat({ usageUsec: web.c.values.usageUsec + 5_000_000 }));
    writeFileSync(join(dir(web.pod, web.c), 'io.stat'), ioStat({ rbytes: web.c.values.rbytes + 20_000_000, wbytes: web.c.values.wbytes }));
    writeFileSync(join(dir(db.pod, db.c), 'cpu.stat'), cpuStat({ usageUsec: db.c.values.usageUsec + 9_000_000 }));
    const net = NET_AT_START[web.pod.uid]!;
    for (const pid of [1100, 1101, 1102]) writeProc(fx.procRoot, pid, web.pod.netns, net.rx + 400_000, net.tx + 600_000);
    await sampler.sample();
    // t0+20 s: web's CPU falls to 0.1 cores; memory grows to 600 MiB (working set 520 MiB).
    clock.t = T0 + 20_000;
    writeFileSync(join(dir(web.pod, web.c), 'cpu.stat'), cpuStat({ usageUsec: web.c.values.usageUsec + 6_000_000 }));
    writeFileSync(join(dir(web.pod, web.c), 'memory.current'), `${600 * Mi}\n`);
    await sampler.sample();
    // Nothing counted yet: minute 0 is still open.
    expect(podReport(sampler.windows().pods, web.pod.uid).containers[0]!.metrics.cpu.utilisation).toEqual([]);
    sampler.closeMinutes(T0 + 60_000);

    const report = sampler.windows();
    const webPod = podReport(report.pods, web.pod.uid);
    const w = webPod.containers.find((c) => c.name === 'web')!;
    expect(w.metrics.cpu.basis).toEqual({ kind: 'limit', amount: 2, source: 'pod spec' });
    expect(w.metrics.cpu.utilisation).toEqual([f32(0.5 / 2)]);
    expect(w.metrics.cpu.usage[0]).toBeCloseTo(0.5, 5);
    expect(w.metrics.cpu.current).toBeCloseTo(0.1, 9);
    expect(w.metrics.mem.basis).toEqual({ kind: 'limit', amount: Gi, source: 'pod spec' });
    expect(w.metrics.mem.utilisation).toEqual([f32((600 - 80) / 1024)]);
    expect(w.metrics.mem.usage[0]! / Mi).toBeCloseTo(520, 2);
    expect(w.metrics.disk?.utilisation).toEqual([f32(2_000_000 / 500_000_000)]);
    expect(webPod.net?.usage[0]).toBeCloseTo(100_000, 0); // 1 MB in 10 s
    expect(webPod.net?.basis.kind).toBe('node');

    const sc = webPod.containers.find((c) => c.name === 'sidecar')!;
    expect(sc.metrics.cpu.basis).toEqual({ kind: 'request', amount: 0.1, source: 'pod spec' });
    expect(sc.metrics.mem.basis.kind).toBe('request');
    expect(sc.metrics.cpu.utilisation).toEqual([0]);

    const dbr = podReport(report.pods, db.pod.uid).containers[0]!;
    expect(dbr.metrics.cpu.utilisation).toEqual([f32(0.9)]);
    expect(dbr.memPressureSome10).toBe(1.5);

    const jobPod = podReport(report.pods, job.pod.uid);
    expect(jobPod.containers[0]!.metrics.cpu.basis).toEqual({ kind: 'node', amount: 8, source: 'test node' });
    expect(jobPod.net).toBeUndefined();
    expect(jobPod.netNote).toContain('host network');
    expect(report.windowEnd).toBe(T0);
  });

  it('without a pod list: every container counts, limits come from cpu.max and memory.max', async () => {
    const { sampler } = setup(driver);
    const outcome = await sampler.sample();
    expect(outcome.containers).toBe(7); // sandboxes too: nothing says which are which
    const dbPod = podReport(sampler.windows().pods, db.pod.uid);
    const main = dbPod.containers.find((c) => c.id === db.c.id)!;
    expect(main.metrics.cpu.basis).toEqual({ kind: 'limit', amount: 1, source: 'cgroup cpu.max' });
    expect(main.metrics.mem.basis).toEqual({ kind: 'limit', amount: 2 * Gi, source: 'cgroup memory.max' });
    expect(dbPod.monitoring).toEqual({ state: 'monitoring', since: T0 });
  });

  it('starts counting only once the pod is Ready and the warm-up has passed', async () => {
    let ready = false;
    let readySince = 0;
    const { sampler, clock } = setup(driver, { warmupMs: 30_000, pods: () => fixturePodInfo(readySince, ready) });
    await sampler.sample();
    expect(podReport(sampler.windows().pods, web.pod.uid).monitoring).toMatchObject({ state: 'not-ready' });
    ready = true;
    readySince = T0 + 5_000;
    clock.t = T0 + 10_000;
    await sampler.sample();
    expect(podReport(sampler.windows().pods, web.pod.uid).monitoring).toEqual({ state: 'warming-up', readySince: T0 + 5_000, monitoringFrom: T0 + 35_000 });
    clock.t = T0 + 61_000; // minute 0 ends with nothing recorded
    await sampler.sample();
    const p = podReport(sampler.windows().pods, web.pod.uid);
    expect(p.monitoring).toEqual({ state: 'monitoring', since: T0 + 35_000 });
    expect(p.containers[0]!.metrics.mem.utilisation).toEqual([]);
    sampler.closeMinutes(T0 + 120_000);
    expect(podReport(sampler.windows().pods, web.pod.uid).containers[0]!.metrics.mem.utilisation).toHaveLength(1);
  });

  it('a container that vanishes between discovery and reading is gone, not an error, and the rest are read', async () => {
    class VanishingReader extends CgroupReader {
      victim: string | undefined;
      override discover() {
        const d = super.discover();
        if (this.victim) rmSync(this.victim, { recursive: true, force: true });
        return d;
      }
    }
    let vr: VanishingReader | undefined;
    const { sampler, dir } = setup(driver, {
      pods: () => fixturePodInfo(T0 - 600_000),
      reader: (layout, procRoot) => (vr = new VanishingReader({ layout, procRoot })),
    });
    await sampler.sample();
    vr!.victim = dir(sidecar.pod, sidecar.c);
    const outcome = await sampler.sample();
    expect(outcome.errors).toEqual([]);
    expect(outcome.gone).toEqual([`${sidecar.pod.uid}/sidecar`]);
    expect(outcome.containers).toBe(3);
    expect(podReport(sampler.windows().pods, web.pod.uid).containers.map((c) => c.name)).toEqual(['web']);
  });

  it('a whole pod that is gone leaves the report; a file missing from a live cgroup is an error naming the file', async () => {
    const { sampler, dir, fx } = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    await sampler.sample();
    rmSync(join(fx.root, fixtureContainerPath(driver, job.pod, job.c), '..'), { recursive: true });
    rmSync(join(dir(db.pod, db.c), 'memory.stat'));
    const outcome = await sampler.sample();
    expect(outcome.gone).toContain(job.pod.uid);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]!.path).toBe(join(dir(db.pod, db.c), 'memory.stat'));
    expect(outcome.errors[0]!.message).toMatch(/memory\.stat: missing/);
    expect(sampler.windows().errors).toEqual(outcome.errors);
  });

  it('a file the kernel would never write is an error naming the file and the line', async () => {
    const { sampler, dir } = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    writeFileSync(join(dir(web.pod, web.c), 'cpu.stat'), 'usage_usec lots\n');
    const outcome = await sampler.sample();
    expect(outcome.errors.map((e) => e.message)).toEqual([`${join(dir(web.pod, web.c), 'cpu.stat')}: line 1 (usage_usec): expected a non-negative integer, got "lots"`]);
    expect(outcome.containers).toBe(3);
  });

  it('optional files: without memory.peak and io.stat (older kernel, io controller off) the rest still works', async () => {
    const { sampler, dir } = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    rmSync(join(dir(web.pod, web.c), 'memory.peak'));
    rmSync(join(dir(web.pod, web.c), 'io.stat'));
    await sampler.sample();
    const w = podReport(sampler.windows().pods, web.pod.uid).containers.find((c) => c.name === 'web')!;
    expect(w.absent).toEqual(['memory.peak', 'io.stat']);
    expect(w.metrics.disk).toBeUndefined();
    expect(w.metrics.mem.current).toBe(320 * Mi);
  });

  it('proactive reclaim writes the byte count to memory.reclaim, only when allowed', async () => {
    const off = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000) });
    await off.sampler.sample();
    expect(off.sampler.reclaim({ podUid: db.pod.uid, container: 'db', bytes: 64 * Mi })).toMatchObject({ ok: false, kind: 'disabled' });

    const on = setup(driver, { pods: () => fixturePodInfo(T0 - 600_000), allowReclaim: true });
    await on.sampler.sample();
    const r = on.sampler.reclaim({ podUid: db.pod.uid, container: 'db', bytes: 64 * Mi });
    expect(r).toMatchObject({ ok: true, requestedBytes: 64 * Mi, before: 1536 * Mi });
    expect(readFileSync(join(on.dir(db.pod, db.c), 'memory.reclaim'), 'utf8')).toBe(String(64 * Mi));
    expect(on.sampler.reclaim({ podUid: db.pod.uid, container: 'nope', bytes: 1 })).toMatchObject({ ok: false, kind: 'not-found' });
    expect(on.sampler.reclaim({ podUid: db.pod.uid, bytes: -5 })).toMatchObject({ ok: false, kind: 'invalid' });
    rmSync(join(on.dir(db.pod, db.c), 'memory.reclaim'));
    expect(on.sampler.reclaim({ podUid: db.pod.uid, container: 'db', bytes: 1 })).toMatchObject({ ok: false, kind: 'unsupported' });
  });
});

describe('containers vanishing while being read (a real race)', () => {
  it('another process removes and recreates container cgroups while the probe samples: only "gone", never an error', async () => {
    const { sampler, dir, fx } = setup('cgroupfs', { pods: () => fixturePodInfo(T0 - 600_000) });
    // Like kernfs's rmdir, a cgroup disappears at once with all its files: rename it away.
    const victims = [dir(web.pod, web.c), dir(sidecar.pod, sidecar.c), dir(db.pod, db.c), dir(job.pod, job.c)];
    const trash = join(fx.root, '..', 'trash');
    const spare = join(fx.root, '..', 'spare');
    mkdirSync(trash);
    victims.forEach((v, i) => cpSync(v, join(spare, String(i)), { recursive: true }));
    // The churn runs until told to stop (a file appears), not for a fixed time: under load a
    // timed churn can make too few rounds for the probe to see one (a flaky test). One dot per round.
    const stopFile = join(fx.root, '..', 'stop');
    const churn = spawn(process.execPath, ['-e', `
      const fs = require('fs'); const path = require('path');
      const victims = ${JSON.stringify(victims)}; const trash = ${JSON.stringify(trash)}; const spare = ${JSON.stringify(spare)};
      const stop = ${JSON.stringify(stopFile)};
      let n = 0;
      while (!fs.existsSync(stop)) {
        const i = n % victims.length;
        fs.renameSync(victims[i], path.join(trash, String(n)));
        fs.cpSync(path.join(spare, String(i)), path.join(trash, 'new' + n), { recursive: true });
        fs.renameSync(path.join(trash, 'new' + n), victims[i]);
        n++;
        process.stdout.write('.');
      }
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rounds = 0;
    churn.stdout!.on('data', (d: Buffer) => (rounds += d.length));
    const exited = once(churn, 'exit');
    let running = true;
    void exited.then(() => (running = false));
    let samples = 0;
    let gone = 0;
    const errors: string[] = [];
    const deadline = Date.now() + 60_000;
    // Sample while the churn runs, until it has made rounds, the probe has sampled a few times
    // and seen containers go (bounded: a churn that dies or never races throws, naming which).
    while (!(rounds > 10 && samples > 5 && gone > 0)) {
      if (!running) throw new Error(`the churn process exited early (code ${String(churn.exitCode)}) after ${rounds} rounds`);
      if (Date.now() > deadline) throw new Error(`waited 60 s for 10 churn rounds, 5 samples and a container gone: ${rounds} rounds, ${samples} samples, ${gone} gone`);
      const o = await sampler.sample();
      samples++;
      gone += o.gone.length;
      errors.push(...o.errors.map((e) => e.message));
      await new Promise((r) => setImmediate(r));
    }
    writeFileSync(stopFile, '');
    await exited;
    expect(churn.exitCode).toBe(0);
    expect(errors).toEqual([]);
  }, 90_000);
});

describe('the sampling loop', () => {
  it('a bug in one sample is reported and the loop goes on; a pod source that throws is an error value', async () => {
    class Buggy extends CgroupReader {
      n = 0;
      override discover() {
        if (this.n++ === 0) throw new TypeError('boom');
        return super.discover();
      }
    }
    const { sampler } = setup('systemd', {
      reader: (layout, procRoot) => new Buggy({ layout, procRoot }),
      pods: () => {
        throw new Error('api down');
      },
    });
    const stop = new AbortController();
    const outcomes: { containers: number; errors: readonly { message: string }[] }[] = [];
    await sampler.run(stop.signal, (o) => {
      outcomes.push(o);
      if (outcomes.length === 2) stop.abort();
    });
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]!.errors[0]!.message).toMatch(/^internal error while sampling: TypeError: boom/);
    expect(outcomes[1]!.errors).toEqual([]);
    expect(outcomes[1]!.containers).toBe(7);
    const report = sampler.windows();
    expect(report.podInfo).toEqual({ source: 'function', ok: false, error: 'function: api down' });
    expect(report.pods.every((p) => p.monitoring.state === 'not-ready' && p.monitoring.reason === 'no pod list yet (function: api down)')).toBe(true);
  });
});

describe('cgroup root', () => {
  it('a root that is neither v1 nor v2, and a v2 root without kubepods, are clear errors', async () => {
    expect(detectLayout('/nonexistent/cgroup')).toEqual({ ok: false, error: '/nonexistent/cgroup: neither cgroup v2 (no cgroup.controllers) nor cgroup v1 (no memory and cpuacct controllers)' });
    const fx = copyFixture('systemd');
    disposers.push(fx.dispose);
    rmSync(join(fx.root, 'kubepods.slice'), { recursive: true });
    const reader = new CgroupReader({ layout: { version: 'v2', base: fx.root }, procRoot: fx.procRoot });
    const sampler = new ProbeSampler({ reader, clock: new FakeClock(T0), nodeName: 'n', capacity, intervalMs: 1000, warmupMs: 0 });
    const outcome = await sampler.sample();
    expect(outcome.errors[0]?.message).toMatch(/no kubepods\.slice \(systemd driver\) or kubepods \(cgroupfs driver\)/);
    expect(sampler.health().ok).toBe(true); // it sampled; the error is in the report
  });
});
