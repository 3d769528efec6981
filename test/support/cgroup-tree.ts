/**
 * Builds cgroup v2 trees laid out as kubelet lays them out, with files in the kernel's own
 * formats (copied from a 6.x kernel's output with the numbers replaced), plus a /proc with
 * net/dev and ns/net for the pods' processes. Used by the fixture generator, by tests that
 * change counters between samples, and by the benchmark.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Driver = 'systemd' | 'cgroupfs';
export type Qos = 'Guaranteed' | 'Burstable' | 'BestEffort';

export interface V2Values {
  usageUsec: number;
  current: number;
  anon: number;
  file: number;
  inactiveFile: number;
  activeFile: number;
  /** memory.peak; left out (an older kernel) when undefined. */
  peak?: number;
  rbytes: number;
  wbytes: number;
  /** "max" when undefined. */
  memMax?: number;
  /** cores; "max 100000" when undefined. */
  cpuMax?: number;
  someAvg10?: number;
  pids?: number[];
}

export function cpuStat(v: Pick<V2Values, 'usageUsec'>): string {
  const user = Math.floor(v.usageUsec * 0.7);
  return [
    `usage_usec ${v.usageUsec}`,
    `user_usec ${user}`,
    `system_usec ${v.usageUsec - user}`,
    'core_sched.force_idle_usec 0',
    'nr_periods 1204',
    'nr_throttled 17',
    'throttled_usec 81230',
    'nr_bursts 0',
    'burst_usec 0',
    '',
  ].join('\n');
}

export function memoryStat(v: Pick<V2Values, 'anon' | 'file' | 'inactiveFile' | 'activeFile'>): string {
  const rows: [string, number][] = [
    ['anon', v.anon], ['file', v.file], ['kernel', 495616], ['kernel_stack', 16384], ['pagetables', 49152],
    ['sec_pagetables', 0], ['percpu', 0], ['sock', 0], ['vmalloc', 0], ['shmem', 0], ['zswap', 0], ['zswapped', 0],
    ['file_mapped', v.activeFile], ['file_dirty', 0], ['file_writeback', 0], ['swapcached', 0], ['anon_thp', 0],
    ['file_thp', 0], ['shmem_thp', 0], ['inactive_anon', v.anon - 8192], ['active_anon', 8192],
    ['inactive_file', v.inactiveFile], ['active_file', v.activeFile], ['unevictable', 0],
    ['slab_reclaimable', 231480], ['slab_unreclaimable', 144136], ['slab', 375616],
    ['workingset_refault_anon', 0], ['workingset_refault_file', 0], ['workingset_activate_anon', 0],
    ['workingset_activate_file', 0], ['workingset_restore_anon', 0], ['workingset_restore_file', 0],
    ['workingset_nodereclaim', 0], ['pgscan', 0], ['pgsteal', 0], ['pgscan_kswapd', 0], ['pgscan_direct', 0],
    ['pgscan_khugepaged', 0], ['pgsteal_kswapd', 0], ['pgsteal_direct', 0], ['pgsteal_khugepaged', 0],
    ['pgfault', 1221], ['pgmajfault', 17], ['pgrefill', 0], ['pgactivate', 406], ['pgdeactivate', 0],
    ['pglazyfree', 0], ['pglazyfreed', 0], ['zswpin', 0], ['zswpout', 0], ['zswpwb', 0],
    ['thp_fault_alloc', 0], ['thp_collapse_alloc', 0], ['thp_swpout', 0], ['thp_swpout_fallback', 0],
  ];
  return rows.map(([k, n]) => `${k} ${n}`).join('\n') + '\n';
}

export const ioStat = (v: Pick<V2Values, 'rbytes' | 'wbytes'>): string =>
  `259:0 rbytes=${v.rbytes} wbytes=${v.wbytes} rios=${Math.ceil(v.rbytes / 4096)} wios=${Math.ceil(v.wbytes / 4096)} dbytes=0 dios=0\n` +
  '253:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0\n';

export const pressure = (avg10 = 0): string =>
  `some avg10=${avg10.toFixed(2)} avg60=0.00 avg300=0.00 total=${Math.round(avg10 * 1000)}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

/** Writes (or rewrites) a v2 container cgroup's files. */
export function writeV2Cgroup(dir: string, v: V2Values): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'cgroup.procs': (v.pids ?? []).map((p) => `${p}\n`).join(''),
    'cpu.stat': cpuStat(v),
    'cpu.max': v.cpuMax === undefined ? 'max 100000\n' : `${Math.round(v.cpuMax * 100000)} 100000\n`,
    'cpu.weight': '100\n',
    'memory.current': `${v.current}\n`,
    'memory.stat': memoryStat(v),
    'memory.max': v.memMax === undefined ? 'max\n' : `${v.memMax}\n`,
    'memory.pressure': pressure(v.someAvg10),
    'memory.reclaim': '',
    'io.stat': ioStat(v),
  };
  if (v.peak !== undefined) files['memory.peak'] = `${v.peak}\n`;
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** kubelet's directory names for a pod under each driver, relative to the cgroup root. */
export function podPath(driver: Driver, qos: Qos, uid: string): string {
  if (driver === 'systemd') {
    const u = uid.replaceAll('-', '_');
    if (qos === 'Guaranteed') return `kubepods.slice/kubepods-pod${u}.slice`;
    const q = qos.toLowerCase();
    return `kubepods.slice/kubepods-${q}.slice/kubepods-${q}-pod${u}.slice`;
  }
  if (qos === 'Guaranteed') return `kubepods/pod${uid}`;
  return `kubepods/${qos.toLowerCase()}/pod${uid}`;
}

export function containerPath(driver: Driver, qos: Qos, uid: string, id: string, runtime: 'containerd' | 'crio' | 'docker' = 'containerd'): string {
  const name = driver === 'systemd' ? `${runtime === 'containerd' ? 'cri-containerd' : runtime}-${id}.scope` : runtime === 'containerd' ? id : `${runtime}-${id}`;
  return `${podPath(driver, qos, uid)}/${name}`;
}

/** The counters of a pod's network namespace, as /proc/<pid>/net/dev prints them. */
export function netDev(rx: number, tx: number): string {
  const row = (name: string, r: number, t: number): string =>
    `${name.padStart(6)}: ${String(r).padStart(8)} ${String(Math.ceil(r / 1500)).padStart(7)}    0    0    0     0          0         0 ${String(t).padStart(8)} ${String(Math.ceil(t / 1500)).padStart(7)}    0    0    0     0       0          0\n`;
  return (
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    row('lo', 3193, 3193) +
    row('eth0', rx, tx)
  );
}

/** A process of /proc: its network namespace (a symlink, as the kernel shows it) and net/dev. */
export function writeProc(procRoot: string, pid: number, netns: number, rx: number, tx: number): void {
  const dir = join(procRoot, String(pid));
  mkdirSync(join(dir, 'ns'), { recursive: true });
  mkdirSync(join(dir, 'net'), { recursive: true });
  rmSync(join(dir, 'ns', 'net'), { force: true });
  symlinkSync(`net:[${netns}]`, join(dir, 'ns', 'net'));
  writeFileSync(join(dir, 'net', 'dev'), netDev(rx, tx));
}

export const HOST_NETNS = 4026531840;

/** The node-level files of a v2 root (so that detection sees cgroup v2) and /proc/1. */
export function writeV2Root(root: string, procRoot: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), 'cpuset cpu io memory hugetlb pids\n');
  writeProc(procRoot, 1, HOST_NETNS, 900_000_000, 100_000_000);
}
