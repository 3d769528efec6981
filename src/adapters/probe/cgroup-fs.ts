/**
 * Reads kubelet's pod and container cgroups from the kernel's files, cgroup v1 or v2,
 * either cgroup driver. Synchronous on purpose: these are pseudo-files answered from kernel
 * memory (no disk I/O), and a read of each costs a few microseconds where a promise and a
 * thread-pool hop would cost more than the read (bench/probe.bench.ts).
 *
 * Failures are values: a container whose cgroup vanished between discovery and read is
 * `gone` (containers end all the time); a file missing from a cgroup that still exists, a
 * permission error or a file the parser refuses is an `error` naming the file.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseBlkioServiceBytes,
  parseCfsQuota,
  parseCpuMax,
  parseCpuStatV2,
  parseIoStatV2,
  parseMemoryLimit,
  parseMemoryStatV1,
  parseMemoryStatV2,
  parseNetDev,
  parsePids,
  parsePressure,
  parseSingleValue,
  type Parsed,
  type Pressure,
} from '../../core/probe/parse.ts';
import { KUBEPODS_DIRS, containerOfDir, podOfDir, qosOfDir, type CgroupDriver, type QosClass, type Runtime } from '../../core/probe/paths.ts';

export type CgroupLayout =
  | { readonly version: 'v2'; /** The directory that holds kubepods.slice or kubepods. */ readonly base: string }
  | {
      readonly version: 'v1';
      /** Per controller, the directory that holds kubepods (the same relative tree in each). */
      readonly memory: string;
      readonly cpuacct: string;
      readonly cpu?: string;
      readonly blkio?: string;
    };

export type LayoutResult = { ok: true; layout: CgroupLayout } | { ok: false; error: string };

/**
 * Which cgroup version is mounted at `root` (a DaemonSet mounts the host's /sys/fs/cgroup,
 * often at /host/sys/fs/cgroup): v2 has cgroup.controllers at its root; v1 has a directory
 * per controller, cpu and cpuacct sometimes co-mounted as "cpu,cpuacct".
 */
export function detectLayout(root: string): LayoutResult {
  if (existsSync(join(root, 'cgroup.controllers'))) return { ok: true, layout: { version: 'v2', base: root } };
  const first = (...names: string[]): string | undefined => names.map((n) => join(root, n)).find((p) => existsSync(p));
  const memory = first('memory');
  const cpuacct = first('cpuacct', 'cpu,cpuacct', 'cpuacct,cpu');
  if (memory === undefined || cpuacct === undefined) {
    return { ok: false, error: `${root}: neither cgroup v2 (no cgroup.controllers) nor cgroup v1 (no memory and cpuacct controllers)` };
  }
  const cpu = first('cpu', 'cpu,cpuacct', 'cpuacct,cpu');
  const blkio = first('blkio');
  return { ok: true, layout: { version: 'v1', memory, cpuacct, ...(cpu ? { cpu } : {}), ...(blkio ? { blkio } : {}) } };
}

export interface DiscoveredContainer {
  readonly id: string;
  readonly runtime: Runtime;
  /** Path relative to the layout's base(s), e.g. kubepods/burstable/pod<uid>/<id>. */
  readonly path: string;
}

export interface DiscoveredPod {
  readonly uid: string;
  readonly qos: QosClass;
  readonly path: string;
  readonly containers: readonly DiscoveredContainer[];
}

export interface Discovery {
  readonly driver: CgroupDriver;
  readonly kubepods: string;
  readonly pods: readonly DiscoveredPod[];
}

export type DiscoveryResult = { ok: true; value: Discovery } | { ok: false; error: string };

/** The raw figures of one container at one moment (see core/probe/usage.ts Counters). */
export interface ContainerReading {
  readonly cpuUsec: number;
  readonly memUsage: number;
  readonly memWorkingSet: number;
  readonly memInactiveFile: number;
  readonly memPeak?: number;
  readonly ioBytes?: number;
  readonly memPressure?: Pressure;
  /** From the cgroup itself (what the runtime set), used when the pod list has none. */
  readonly cpuLimitCores?: number;
  readonly memLimitBytes?: number;
  /** Optional files that were not there (io.stat without the io controller, memory.peak before 5.19...). */
  readonly absent: readonly string[];
}

export type ReadResult =
  | { kind: 'ok'; value: ContainerReading }
  | { kind: 'gone'; path: string }
  | { kind: 'error'; path: string; message: string };

export type NetResult =
  | { kind: 'ok'; bytes: number; pid: number }
  | { kind: 'host-network'; pid: number }
  | { kind: 'none'; reason: string }
  | { kind: 'error'; path: string; message: string };

type FileText = { ok: true; text: string } | { ok: false; code: string };

// One buffer for every read: cgroup and /proc files are small. open + read + close is three
// system calls where readFileSync makes five (it also fstats, and reads once more for EOF).
const buffer = Buffer.allocUnsafe(64 * 1024);

function readText(path: string): FileText {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  try {
    let n = readSync(fd, buffer, 0, buffer.length, null);
    if (n < buffer.length) return { ok: true, text: buffer.toString('latin1', 0, n) };
    // Larger than the buffer (never for the files the probe reads): read to EOF.
    const parts = [Buffer.from(buffer)];
    while ((n = readSync(fd, buffer, 0, buffer.length, null)) > 0) parts.push(Buffer.from(buffer.subarray(0, n)));
    return { ok: true, text: Buffer.concat(parts).toString('latin1') };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    closeSync(fd);
  }
}

class ReadFailure {
  constructor(readonly result: ReadResult) {}
}

export interface CgroupReaderOptions {
  readonly layout: CgroupLayout;
  /** Where the host's /proc is (hostPID DaemonSet: /proc, or a mount such as /host/proc). */
  readonly procRoot?: string;
  /** kubepods directory relative to the base, when not kubepods.slice or kubepods. */
  readonly kubepods?: string;
}

export class CgroupReader {
  readonly layout: CgroupLayout;
  readonly procRoot: string;
  private readonly kubepodsOverride: string | undefined;
  private hostNetNs: string | undefined | null = null;

  constructor(options: CgroupReaderOptions) {
    this.layout = options.layout;
    this.procRoot = options.procRoot ?? '/proc';
    this.kubepodsOverride = options.kubepods;
  }

  /** The base directory discovery walks (v1: the memory hierarchy). */
  get base(): string {
    return this.layout.version === 'v2' ? this.layout.base : this.layout.memory;
  }

  /** Pods and containers under kubepods; a pod or QoS directory that vanishes while listed is skipped. */
  discover(): DiscoveryResult {
    const found = this.findKubepods();
    if (!found.ok) return found;
    const { kubepods, driver } = found;
    const pods: DiscoveredPod[] = [];
    const top = listDirs(join(this.base, kubepods));
    if (!top.ok) return { ok: false, error: `${join(this.base, kubepods)}: ${top.code}` };
    // cgroupfs names carry no QoS: it is the parent directory's (none = Guaranteed).
    const visitPod = (rel: string, name: string, parentQos: QosClass | undefined): void => {
      const pod = podOfDir(name, driver);
      if (!pod) return;
      const podPath = `${rel}/${name}`;
      const entries = listDirs(join(this.base, podPath));
      if (!entries.ok) return; // the pod went away while we listed it
      const containers: DiscoveredContainer[] = [];
      for (const e of entries.names) {
        const c = containerOfDir(e, driver);
        if (c) containers.push({ id: c.id, runtime: c.runtime, path: `${podPath}/${e}` });
      }
      pods.push({ uid: pod.uid, qos: driver === 'cgroupfs' ? (parentQos ?? 'Guaranteed') : pod.qos, path: podPath, containers });
    };
    for (const name of top.names) {
      const qos = qosOfDir(name, driver);
      if (qos === undefined) {
        visitPod(kubepods, name, undefined);
        continue;
      }
      const qosRel = `${kubepods}/${name}`;
      const inner = listDirs(join(this.base, qosRel));
      if (!inner.ok) continue;
      for (const p of inner.names) visitPod(qosRel, p, qos);
    }
    return { ok: true, value: { driver, kubepods, pods } };
  }

  private findKubepods(): { ok: true; kubepods: string; driver: CgroupDriver } | { ok: false; error: string } {
    if (this.kubepodsOverride !== undefined) {
      const rel = this.kubepodsOverride.replace(/^\/+|\/+$/g, '');
      const driver: CgroupDriver = rel.endsWith('.slice') ? 'systemd' : 'cgroupfs';
      if (!isDir(join(this.base, rel))) return { ok: false, error: `${join(this.base, rel)}: no such cgroup (--kubepods)` };
      return { ok: true, kubepods: rel, driver };
    }
    for (const driver of ['systemd', 'cgroupfs'] as const) {
      if (isDir(join(this.base, KUBEPODS_DIRS[driver]))) return { ok: true, kubepods: KUBEPODS_DIRS[driver], driver };
    }
    return { ok: false, error: `${this.base}: no kubepods.slice (systemd driver) or kubepods (cgroupfs driver) cgroup; is this a Kubernetes node, and is the cgroup root right?` };
  }

  /**
   * One container's figures, or why there are none. `limits: false` skips the limit files
   * (the caller has the limits from the pod spec), two reads fewer.
   */
  readContainer(path: string, options: { limits?: boolean } = {}): ReadResult {
    const limits = options.limits ?? true;
    try {
      return { kind: 'ok', value: this.layout.version === 'v2' ? this.readV2(this.layout.base, path, limits) : this.readV1(this.layout, path, limits) };
    } catch (err) {
      if (err instanceof ReadFailure) return err.result;
      throw err;
    }
  }

  private readV2(base: string, rel: string, limits: boolean): ContainerReading {
    const dir = join(base, rel);
    const absent: string[] = [];
    const cpu = this.required(dir, 'cpu.stat', parseCpuStatV2);
    const current = this.required(dir, 'memory.current', (t) => parseSingleValue(t, 'memory.current'));
    const stat = this.required(dir, 'memory.stat', parseMemoryStatV2);
    const peak = this.optional(dir, 'memory.peak', (t) => parseSingleValue(t, 'memory.peak'), absent);
    const io = this.optional(dir, 'io.stat', parseIoStatV2, absent);
    const pressure = this.optional(dir, 'memory.pressure', parsePressure, absent);
    const memMax = limits ? this.optional(dir, 'memory.max', parseMemoryLimit, absent) : undefined;
    const cpuMax = limits ? this.optional(dir, 'cpu.max', parseCpuMax, absent) : undefined;
    return {
      cpuUsec: cpu.usageUsec,
      memUsage: current,
      memWorkingSet: Math.max(0, current - stat.inactiveFile),
      memInactiveFile: stat.inactiveFile,
      ...(peak !== undefined ? { memPeak: peak } : {}),
      ...(io !== undefined ? { ioBytes: io.readBytes + io.writeBytes } : {}),
      ...(pressure !== undefined ? { memPressure: pressure } : {}),
      ...(cpuMax !== undefined ? { cpuLimitCores: cpuMax } : {}),
      ...(memMax !== undefined ? { memLimitBytes: memMax } : {}),
      absent,
    };
  }

  private readV1(l: Extract<CgroupLayout, { version: 'v1' }>, rel: string, limits: boolean): ContainerReading {
    const absent: string[] = [];
    const mem = join(l.memory, rel);
    const usageNs = this.required(join(l.cpuacct, rel), 'cpuacct.usage', (t) => parseSingleValue(t, 'cpuacct.usage'));
    const usage = this.required(mem, 'memory.usage_in_bytes', (t) => parseSingleValue(t, 'memory.usage_in_bytes'));
    const stat = this.required(mem, 'memory.stat', parseMemoryStatV1);
    const peak = this.optional(mem, 'memory.max_usage_in_bytes', (t) => parseSingleValue(t, 'memory.max_usage_in_bytes'), absent);
    const limit = limits ? this.optional(mem, 'memory.limit_in_bytes', parseMemoryLimit, absent) : undefined;
    const io = l.blkio ? this.optional(join(l.blkio, rel), 'blkio.throttle.io_service_bytes', parseBlkioServiceBytes, absent) : undefined;
    let cpuLimit: number | undefined;
    if (l.cpu && limits) {
      const cpuDir = join(l.cpu, rel);
      const quota = this.optionalText(cpuDir, 'cpu.cfs_quota_us', absent);
      const period = quota === undefined ? undefined : this.optionalText(cpuDir, 'cpu.cfs_period_us', absent);
      if (quota !== undefined && period !== undefined) cpuLimit = this.check(join(cpuDir, 'cpu.cfs_quota_us'), parseCfsQuota(quota, period));
    }
    return {
      cpuUsec: usageNs / 1000,
      memUsage: usage,
      memWorkingSet: Math.max(0, usage - stat.inactiveFile),
      memInactiveFile: stat.inactiveFile,
      ...(peak !== undefined ? { memPeak: peak } : {}),
      ...(io !== undefined ? { ioBytes: io.readBytes + io.writeBytes } : {}),
      ...(cpuLimit !== undefined ? { cpuLimitCores: cpuLimit } : {}),
      ...(limit !== undefined ? { memLimitBytes: limit } : {}),
      absent,
    };
  }

  private required<T>(dir: string, file: string, parse: (text: string) => Parsed<T>): T {
    const path = join(dir, file);
    const r = readText(path);
    if (!r.ok) throw new ReadFailure(this.failure(dir, path, r.code));
    return this.check(path, parse(r.text));
  }

  private optional<T>(dir: string, file: string, parse: (text: string) => Parsed<T>, absent: string[]): T | undefined {
    const text = this.optionalText(dir, file, absent);
    return text === undefined ? undefined : this.check(join(dir, file), parse(text));
  }

  private optionalText(dir: string, file: string, absent: string[]): string | undefined {
    const path = join(dir, file);
    const r = readText(path);
    if (r.ok) return r.text;
    if (r.code === 'ENOENT') {
      // The directory gone, or replaced between our two looks (the file is there now): the container we were reading went away.
      if (!isDir(dir) || existsSync(path)) throw new ReadFailure({ kind: 'gone', path: dir });
      absent.push(file);
      return undefined;
    }
    throw new ReadFailure(this.failure(dir, path, r.code));
  }

  private check<T>(path: string, parsed: Parsed<T>): T {
    if (!parsed.ok) throw new ReadFailure({ kind: 'error', path, message: `${path}: ${parsed.error}` });
    return parsed.value;
  }

  /** ENOENT means the container is gone if its directory is gone; else the file is missing. */
  private failure(dir: string, path: string, code: string): ReadResult {
    if ((code === 'ENOENT' || code === 'ENODEV') && !isDir(dir)) return { kind: 'gone', path: dir };
    // Replaced between our two looks (the file is there now): the cgroup we were reading is gone.
    if (code === 'ENOENT' && existsSync(path)) return { kind: 'gone', path: dir };
    if (code === 'ENOENT') return { kind: 'error', path, message: `${path}: missing (the cgroup exists but this file does not; is the controller enabled?)` };
    return { kind: 'error', path, message: `${path}: ${code}` };
  }

  /** The processes in a cgroup (the first hierarchy: v2 base, v1 memory). */
  pids(path: string): { ok: true; pids: number[] } | { ok: false; gone: boolean; message: string } {
    const file = join(this.base, path, 'cgroup.procs');
    const r = readText(file);
    if (!r.ok) return { ok: false, gone: r.code === 'ENOENT', message: `${file}: ${r.code}` };
    const p = parsePids(r.text);
    return p.ok ? { ok: true, pids: p.value } : { ok: false, gone: false, message: `${file}: ${p.error}` };
  }

  /**
   * Bytes through the network namespace of a process in the pod (containers of a pod
   * share one); a pod on the host's network namespace has no traffic of its own to measure.
   */
  readNet(containerPaths: readonly string[]): NetResult {
    for (const path of containerPaths) {
      const p = this.pids(path);
      if (!p.ok) {
        if (p.gone) continue;
        return { kind: 'error', path: join(this.base, path, 'cgroup.procs'), message: p.message };
      }
      for (const pid of p.pids) {
        const ns = this.netNs(pid);
        if (ns === undefined) continue; // exited
        if (ns === this.hostNs()) return { kind: 'host-network', pid };
        const file = join(this.procRoot, String(pid), 'net', 'dev');
        const r = readText(file);
        if (!r.ok) {
          if (r.code === 'ENOENT' || r.code === 'ESRCH') continue;
          return { kind: 'error', path: file, message: `${file}: ${r.code}` };
        }
        const parsed = parseNetDev(r.text);
        if (!parsed.ok) return { kind: 'error', path: file, message: `${file}: ${parsed.error}` };
        return { kind: 'ok', bytes: parsed.value.rxBytes + parsed.value.txBytes, pid };
      }
    }
    return { kind: 'none', reason: 'no process in the pod to read /proc/<pid>/net/dev from' };
  }

  private netNs(pid: number | 'self'): string | undefined {
    try {
      return readlinkSync(join(this.procRoot, String(pid), 'ns', 'net'));
    } catch {
      return undefined;
    }
  }

  /**
   * The host's network namespace: pid 1's; where reading another process's namespace is
   * refused (no CAP_SYS_PTRACE), the probe's own, which is the host's when it runs with
   * hostNetwork as the DaemonSet does.
   */
  private hostNs(): string | undefined {
    if (this.hostNetNs === null) this.hostNetNs = this.netNs(1) ?? this.netNs('self');
    return this.hostNetNs;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function listDirs(path: string): { ok: true; names: string[] } | { ok: false; code: string } {
  try {
    return { ok: true, names: readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}
