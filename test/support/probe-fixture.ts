/**
 * The pods of test/fixtures/cgroup-v2/{systemd,cgroupfs} and test/fixtures/proc: three pods
 * (one per QoS class), with a sandbox container each, as kubelet lays them out. `npx tsx
 * test/support/probe-fixture.ts` rewrites the fixture trees from this description.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodePodInfo } from '../../src/ports/pod-info.ts';
import { containerPath, HOST_NETNS, podPath, writeProc, writeV2Cgroup, writeV2Root, type Driver, type Qos, type V2Values } from './cgroup-tree.ts';

const id = (prefix: string, n: number): string => prefix.repeat(62) + String(n).padStart(2, '0');
const Mi = 2 ** 20;
const Gi = 2 ** 30;

export interface FixtureContainer {
  name: string | undefined; // undefined: the sandbox (pause) container
  id: string;
  runtime: 'containerd' | 'crio' | 'docker';
  values: V2Values;
}
export interface FixturePod {
  uid: string;
  namespace: string;
  name: string;
  qos: Qos;
  netns: number;
  containers: FixtureContainer[];
  requests: Record<string, { cpu?: number; memory?: number }>;
  limits: Record<string, { cpu?: number; memory?: number }>;
}

const base = (over: Partial<V2Values>): V2Values => ({
  usageUsec: 1_000_000,
  current: 100 * Mi,
  anon: 60 * Mi,
  file: 40 * Mi,
  inactiveFile: 30 * Mi,
  activeFile: 10 * Mi,
  peak: 120 * Mi,
  rbytes: 4096,
  wbytes: 8192,
  ...over,
});

export const FIXTURE_PODS: FixturePod[] = [
  {
    uid: 'a1b2c3d4-0000-4000-8000-00000000000a',
    namespace: 'shop',
    name: 'web-7d9f',
    qos: 'Burstable',
    netns: 4026532101,
    containers: [
      { name: undefined, id: id('a', 1), runtime: 'containerd', values: base({ current: Mi, anon: Mi, file: 0, inactiveFile: 0, activeFile: 0, pids: [1100] }) },
      { name: 'web', id: id('a', 2), runtime: 'containerd', values: base({ usageUsec: 50_000_000, current: 400 * Mi, anon: 300 * Mi, file: 100 * Mi, inactiveFile: 80 * Mi, activeFile: 20 * Mi, peak: 450 * Mi, memMax: Gi, cpuMax: 2, pids: [1101] }) },
      { name: 'sidecar', id: id('a', 3), runtime: 'containerd', values: base({ usageUsec: 5_000_000, current: 50 * Mi, anon: 40 * Mi, file: 10 * Mi, inactiveFile: 2 * Mi, activeFile: 8 * Mi, peak: 60 * Mi, pids: [1102] }) },
    ],
    requests: { web: { cpu: 0.5, memory: 256 * Mi }, sidecar: { cpu: 0.1, memory: 64 * Mi } },
    limits: { web: { cpu: 2, memory: Gi } },
  },
  {
    uid: 'b1b2c3d4-0000-4000-8000-00000000000b',
    namespace: 'data',
    name: 'db-0',
    qos: 'Guaranteed',
    netns: 4026532202,
    containers: [
      { name: undefined, id: id('b', 1), runtime: 'crio', values: base({ current: Mi, anon: Mi, file: 0, inactiveFile: 0, activeFile: 0, pids: [1200] }) },
      { name: 'db', id: id('b', 2), runtime: 'crio', values: base({ usageUsec: 200_000_000, current: 1536 * Mi, anon: Gi, file: 512 * Mi, inactiveFile: 256 * Mi, activeFile: 256 * Mi, peak: 1600 * Mi, memMax: 2 * Gi, cpuMax: 1, rbytes: 10 * Gi, wbytes: 5 * Gi, someAvg10: 1.5, pids: [1201] }) },
    ],
    requests: { db: { cpu: 1, memory: 2 * Gi } },
    limits: { db: { cpu: 1, memory: 2 * Gi } },
  },
  {
    uid: 'c1b2c3d4-0000-4000-8000-00000000000c',
    namespace: 'jobs',
    name: 'batch-x',
    qos: 'BestEffort',
    netns: HOST_NETNS, // hostNetwork: true
    containers: [
      { name: undefined, id: id('c', 1), runtime: 'docker', values: base({ current: Mi, anon: Mi, file: 0, inactiveFile: 0, activeFile: 0, pids: [1300] }) },
      { name: 'job', id: id('c', 2), runtime: 'docker', values: base({ usageUsec: 9_000_000, current: 30 * Mi, anon: 30 * Mi, file: 0, inactiveFile: 0, activeFile: 0, peak: 30 * Mi, pids: [1301] }) },
    ],
    requests: {},
    limits: {},
  },
];

export const NET_AT_START: Readonly<Record<string, { rx: number; tx: number }>> = {
  [FIXTURE_PODS[0]!.uid]: { rx: 1_000_000, tx: 500_000 },
  [FIXTURE_PODS[1]!.uid]: { rx: 50_000_000, tx: 70_000_000 },
  [FIXTURE_PODS[2]!.uid]: { rx: 0, tx: 0 },
};

export const fixtureContainerPath = (driver: Driver, pod: FixturePod, c: FixtureContainer): string => containerPath(driver, pod.qos, pod.uid, c.id, driver === 'systemd' ? c.runtime : 'containerd');

/** Writes one driver's tree and the shared /proc. */
export function writeFixture(driver: Driver, root: string, procRoot: string): void {
  writeV2Root(root, procRoot);
  for (const pod of FIXTURE_PODS) {
    mkdirSync(join(root, podPath(driver, pod.qos, pod.uid)), { recursive: true });
    for (const c of pod.containers) {
      writeV2Cgroup(join(root, fixtureContainerPath(driver, pod, c)), c.values);
      for (const pid of c.values.pids ?? []) writeProc(procRoot, pid, pod.netns, NET_AT_START[pod.uid]!.rx, NET_AT_START[pod.uid]!.tx);
    }
    if (driver === 'systemd' && pod.qos === 'Guaranteed') {
      // cri-o's monitor process has a scope of its own next to the container's: not a container.
      const main = pod.containers[1]!;
      writeV2Cgroup(join(root, podPath(driver, pod.qos, pod.uid), `crio-conmon-${main.id}.scope`), base({ pids: [] }));
    }
  }
  // Node-level cgroups that are not pods.
  mkdirSync(join(root, 'system.slice', 'containerd.service'), { recursive: true });
  writeFileSync(join(root, 'system.slice', 'containerd.service', 'cgroup.procs'), '412\n');
}

/** The pod list the API would give for the fixture's pods (all Ready since `readySince`). */
export function fixturePodInfo(readySince: number, ready = true): NodePodInfo[] {
  return FIXTURE_PODS.map((p) => ({
    uid: p.uid,
    namespace: p.namespace,
    name: p.name,
    app: `${p.namespace}/${p.name.replace(/-[^-]+$/, '')}`,
    ready,
    readySince,
    containers: p.containers
      .filter((c) => c.name !== undefined)
      .map((c) => ({ name: c.name!, id: c.id, ready, requests: p.requests[c.name!] ?? {}, limits: p.limits[c.name!] ?? {} })),
  }));
}

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', 'fixtures');

/** A private, writable copy of a fixture tree and /proc (tests change counters in it). */
export function copyFixture(driver: Driver): { root: string; procRoot: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `polyarch-probe-${driver}-`));
  const root = join(dir, 'cgroup');
  const procRoot = join(dir, 'proc');
  cpSync(join(FIXTURES, 'cgroup-v2', driver), root, { recursive: true });
  cpSync(join(FIXTURES, 'proc'), procRoot, { recursive: true, verbatimSymlinks: true });
  return { root, procRoot, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const driver of ['systemd', 'cgroupfs'] as const) {
    const root = join(FIXTURES, 'cgroup-v2', driver);
    rmSync(root, { recursive: true, force: true });
    writeFixture(driver, root, join(FIXTURES, 'proc'));
  }
  console.log(`wrote ${join(FIXTURES, 'cgroup-v2')} and ${join(FIXTURES, 'proc')}`);
}
