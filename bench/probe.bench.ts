/**
 * The node probe's CPU cost per sample for 100 containers (50 pods x 2, cgroup v2, systemd
 * driver, kernel file formats) on a fixture tree in the temp directory, against baselines
 * measured in the same run:
 *   - naive: walk the whole kubepods tree with readdirSync and readFileSync every file of
 *     every cgroup (what a first probe would do), no parsing;
 *   - async: the probe's own reads done with fs/promises, one promise per file.
 * BENCH_FULL=1: 1,000 containers and more rounds.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupReader } from '../src/adapters/probe/cgroup-fs.ts';
import { ProbeSampler } from '../src/adapters/probe/sampler.ts';
import { functionPodInfoSource } from '../src/adapters/probe/pod-list.ts';
import type { NodePodInfo } from '../src/ports/pod-info.ts';
import { containerPath, writeProc, writeV2Cgroup, writeV2Root } from '../test/support/cgroup-tree.ts';

const FULL = process.env['BENCH_FULL'] === '1';
const CONTAINERS = FULL ? 1000 : 100;
const ROUNDS = FULL ? 50 : 30;

function buildTree(dir: string): { root: string; procRoot: string; pods: NodePodInfo[] } {
  const root = join(dir, 'cgroup');
  const procRoot = join(dir, 'proc');
  writeV2Root(root, procRoot);
  const pods: NodePodInfo[] = [];
  for (let p = 0; p < CONTAINERS / 2; p++) {
    const uid = `0000${p.toString(16).padStart(4, '0')}-1111-4222-8333-444455556666`;
    const containers = [];
    for (let k = 0; k < 3; k++) {
      const id = `${p.toString(16).padStart(8, '0')}${k}`.padEnd(64, 'e');
      const pid = 10_000 + p * 3 + k;
      writeV2Cgroup(join(root, containerPath('systemd', 'Burstable', uid, id)), {
        usageUsec: 1e6 * (k + 1), current: 2 ** 27, anon: 2 ** 26, file: 2 ** 26, inactiveFile: 2 ** 25, activeFile: 2 ** 25, peak: 2 ** 28, rbytes: 4096, wbytes: 8192, memMax: 2 ** 30, cpuMax: 1, pids: [pid],
      });
      writeProc(procRoot, pid, 4026532000 + p, 1e6, 2e6);
      if (k > 0) containers.push({ name: `c${k}`, id, ready: true, requests: { cpu: 0.25, memory: 2 ** 28 }, limits: { cpu: 1, memory: 2 ** 30 } });
    }
    pods.push({ uid, namespace: 'bench', name: `pod-${p}`, ready: true, readySince: 0, containers });
  }
  return { root, procRoot, pods };
}

function naiveWalk(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) bytes += naiveWalk(p);
    else if (statSync(p).mode & 0o444) bytes += readFileSync(p).length;
  }
  return bytes;
}

const V2_FILES = ['cpu.stat', 'memory.current', 'memory.stat', 'memory.peak', 'io.stat', 'memory.pressure', 'memory.max', 'cpu.max'];

async function asyncReads(root: string, paths: readonly string[]): Promise<number> {
  const texts = await Promise.all(paths.flatMap((p) => V2_FILES.map((f) => readFile(join(root, p, f), 'latin1'))));
  return texts.reduce((n, t) => n + t.length, 0);
}

/** CPU microseconds (user + system) per call, median of rounds. */
async function cpuPerCall(fn: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    samples.push(c.user + c.system);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'polyarch-probe-bench-'));
  try {
    const { root, procRoot, pods } = buildTree(dir);
    let t = 1_764_000_000_000;
    const sampler = new ProbeSampler({
      reader: new CgroupReader({ layout: { version: 'v2', base: root }, procRoot }),
      clock: { now: () => (t += 5000), sleep: async () => {} },
      nodeName: 'bench',
      capacity: { cpu: { amount: 64, source: 'b' }, mem: { amount: 2 ** 38, source: 'b' }, net: { amount: 1.25e9, source: 'b' }, disk: { amount: 5e8, source: 'b' } },
      pods: functionPodInfoSource(() => pods),
      intervalMs: 5000,
      warmupMs: 0,
    });
    const first = await sampler.sample();
    if (first.containers !== CONTAINERS || first.errors.length > 0) throw new Error(`bench tree wrong: ${first.containers} containers, ${first.errors.length} errors`);
    const paths = pods.flatMap((p) => p.containers.map((c) => containerPath('systemd', 'Burstable', p.uid, c.id!)));

    const probeUs = await cpuPerCall(() => sampler.sample());
    const naiveUs = await cpuPerCall(() => naiveWalk(join(root, 'kubepods.slice')));
    const asyncUs = await cpuPerCall(() => asyncReads(root, paths));
    const windowsUs = await cpuPerCall(() => JSON.stringify(sampler.windows()));

    const per100 = (us: number): string => `${((us / 1000) * (100 / CONTAINERS)).toFixed(2)} ms`;
    console.log(`containers: ${CONTAINERS} (+ ${CONTAINERS / 2} sandboxes), ${ROUNDS} rounds, CPU time (user+system) per sample, median`);
    console.log(`probe sample (discover, read 6 files + net/dev, parse, rates, windows): ${per100(probeUs)} per 100 containers (${(probeUs / CONTAINERS).toFixed(1)} us/container)`);
    console.log(`baseline naive readFileSync walk of every file (no parsing):          ${per100(naiveUs)} per 100 containers`);
    console.log(`baseline fs/promises reads of the probe's files (no parsing):         ${per100(asyncUs)} per 100 containers`);
    console.log(`ratio probe / naive walk: ${(probeUs / naiveUs).toFixed(2)}`);
    console.log(`ratio probe / async reads: ${(probeUs / asyncUs).toFixed(2)}`);
    console.log(`GET /windows body (JSON.stringify of the report): ${per100(windowsUs)} per 100 containers; ratio to a sample: ${(windowsUs / probeUs).toFixed(2)}`);
    console.log(`at a 5 s interval the probe uses ${((probeUs / 1e6 / 5) * 100 * (100 / CONTAINERS)).toFixed(3)}% of one core per 100 containers`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
