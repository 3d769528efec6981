/**
 * The node probe's loop: every interval, discover kubelet's pod cgroups, read each
 * container, turn counters into rates, and keep per-minute maxima for 60 minutes (the
 * scaling method's steps 1 and 2) once the pod has started (Ready, then a warm-up).
 */
import { MINUTE_MS, UsageWindow, WINDOW_MINUTES } from '../../core/forecast/window.ts';
import { METRIC_UNITS, type ContainerReport, type MetricWindow, type PodReport, type ProbeError, type ReclaimRequest, type ReclaimResult, type WindowsReport } from '../../core/probe/report.ts';
import { chooseBasis, monitoringState, ratesBetween, type Amount, type Basis, type Counters, type MonitoringState } from '../../core/probe/usage.ts';
import type { CgroupDriver, QosClass, Runtime } from '../../core/probe/paths.ts';
import type { Clock } from '../../ports/clock.ts';
import type { NodeProbe } from '../../ports/node-probe.ts';
import type { ContainerInfo, NodePodInfo, PodInfoSource } from '../../ports/pod-info.ts';
import type { CgroupReader, DiscoveredContainer, DiscoveredPod, NetResult } from './cgroup-fs.ts';
import { reclaimMemory } from './reclaim.ts';

/** The node's capacity per metric: the basis of a container with neither limit nor request. */
export interface NodeCapacity {
  readonly cpu: Amount;
  readonly mem: Amount;
  readonly net: Amount;
  readonly disk: Amount;
}

export interface SamplerOptions {
  readonly reader: CgroupReader;
  readonly clock: Clock;
  readonly nodeName: string;
  readonly capacity: NodeCapacity;
  /** Without a source every pod found in the cgroup tree counts as Ready from when it was first seen. */
  readonly pods?: PodInfoSource;
  readonly intervalMs: number;
  readonly warmupMs: number;
  readonly minutes?: number;
  /** Proactive reclaim writes to the kernel; off unless asked for. */
  readonly allowReclaim?: boolean;
}

/** One metric of one container or pod: utilisation and absolute per-minute maxima. */
class Series {
  readonly util: UsageWindow;
  /** Absolute values stored as a share of the node's capacity, so they are not capped by the basis. */
  readonly usage: UsageWindow;
  current: number | undefined;
  basis: Basis;

  constructor(minutes: number, basis: Basis) {
    this.util = new UsageWindow(minutes);
    this.usage = new UsageWindow(minutes);
    this.basis = basis;
  }

  record(t: number, value: number, node: Amount): void {
    this.util.record(t, value / this.basis.amount);
    this.usage.record(t, value / node.amount);
  }

  close(t: number): void {
    this.util.close(t);
    this.usage.close(t);
  }

  report(unit: MetricWindow['unit'], node: Amount): MetricWindow {
    return {
      unit,
      basis: this.basis,
      ...(this.current !== undefined ? { current: this.current } : {}),
      utilisation: this.util.values(),
      usage: this.usage.values().map((v) => v * node.amount),
    };
  }
}

interface ContainerState {
  name: string;
  id: string;
  runtime: Runtime;
  path: string;
  prev: Counters | undefined;
  cpu: Series;
  mem: Series;
  disk: Series | undefined;
  memPeakBetween: boolean;
  memPressureSome10: number | undefined;
  absent: readonly string[];
  notes: readonly string[];
}

interface PodState {
  uid: string;
  qos: QosClass;
  path: string;
  info: NodePodInfo | undefined;
  firstSeenReady: number | undefined;
  monitoring: MonitoringState;
  net: Series;
  prevNet: { t: number; bytes: number } | undefined;
  netNote: string | undefined;
  containers: Map<string, ContainerState>;
}

export interface SampleOutcome {
  readonly at: number;
  readonly containers: number;
  readonly gone: readonly string[];
  readonly errors: readonly ProbeError[];
}

export class ProbeSampler implements NodeProbe {
  private readonly opts: SamplerOptions;
  private readonly minutes: number;
  private readonly pods = new Map<string, PodState>();
  private driver: CgroupDriver | undefined;
  private podInfoError: string | undefined;
  private lastPodInfo: Map<string, NodePodInfo> | undefined;
  private lastOutcome: (SampleOutcome & { skipped: number }) | undefined;
  private errors: ProbeError[] = [];

  constructor(options: SamplerOptions) {
    this.opts = options;
    this.minutes = options.minutes ?? WINDOW_MINUTES;
  }

  /** One pass over the node's containers. Never throws for what the kernel or the pod list does. */
  async sample(): Promise<SampleOutcome> {
    const { reader, clock } = this.opts;
    const errors: ProbeError[] = [];
    const gone: string[] = [];
    let skipped = 0;
    let containers = 0;

    if (this.opts.pods) {
      const listed = await this.opts.pods.list().catch((err: unknown) => ({ ok: false as const, error: { kind: 'other' as const, message: `${this.opts.pods!.description}: ${err instanceof Error ? err.message : String(err)}` } }));
      if (listed.ok) {
        this.lastPodInfo = new Map(listed.pods.map((p) => [p.uid, p]));
        this.podInfoError = undefined;
      } else {
        // Keep the last good list: a blip of the API must not restart every pod's warm-up.
        this.podInfoError = listed.error.message;
      }
    }

    const now = clock.now();
    const discovered = reader.discover();
    if (!discovered.ok) {
      errors.push({ path: reader.base, message: discovered.error });
      return this.finish({ at: now, containers, gone, errors }, skipped);
    }
    this.driver = discovered.value.driver;
    const seenPods = new Set<string>();
    for (const dpod of discovered.value.pods) {
      seenPods.add(dpod.uid);
      const pod = this.podState(dpod, now);
      const seenContainers = new Set<string>();
      const measured: string[] = [];
      for (const dc of dpod.containers) {
        const info = this.containerInfo(pod, dc);
        if (pod.info && !info) {
          skipped++; // the sandbox (pause) container, or one that already exited
          continue;
        }
        const key = info ? info.name : dc.id;
        seenContainers.add(key);
        const r = this.sampleContainer(pod, key, dc, info, now);
        if (r === 'gone') gone.push(`${pod.uid}/${key}`);
        else if (r !== 'ok') errors.push(r);
        else {
          containers++;
          measured.push(dc.path);
        }
      }
      for (const key of [...pod.containers.keys()]) {
        if (!seenContainers.has(key)) {
          pod.containers.delete(key);
          gone.push(`${pod.uid}/${key}`);
        }
      }
      this.sampleNet(pod, measured.length > 0 ? measured : dpod.containers.map((c) => c.path), now, errors);
    }
    for (const uid of [...this.pods.keys()]) {
      if (!seenPods.has(uid)) {
        this.pods.delete(uid);
        gone.push(uid);
      }
    }
    this.closeMinutes(now);
    return this.finish({ at: now, containers, gone, errors }, skipped);
  }

  private finish(outcome: SampleOutcome, skipped: number): SampleOutcome {
    this.errors = [...outcome.errors];
    this.lastOutcome = { ...outcome, skipped };
    return outcome;
  }

  /** Closes every window's minutes that ended by `t` (also done by each sample). */
  closeMinutes(t: number): void {
    for (const pod of this.pods.values()) {
      pod.net.close(t);
      for (const c of pod.containers.values()) {
        c.cpu.close(t);
        c.mem.close(t);
        c.disk?.close(t);
      }
    }
  }

  private podState(dpod: DiscoveredPod, now: number): PodState {
    let pod = this.pods.get(dpod.uid);
    if (!pod) {
      pod = {
        uid: dpod.uid,
        qos: dpod.qos,
        path: dpod.path,
        info: undefined,
        firstSeenReady: undefined,
        monitoring: { state: 'not-ready', reason: 'not sampled yet' },
        net: new Series(this.minutes, chooseBasis(undefined, undefined, this.opts.capacity.net)),
        prevNet: undefined,
        netNote: undefined,
        containers: new Map(),
      };
      this.pods.set(dpod.uid, pod);
    }
    pod.path = dpod.path;
    pod.qos = dpod.qos;
    const info = this.opts.pods ? this.lastPodInfo?.get(dpod.uid) : undefined;
    pod.info = info;
    let ready: boolean;
    let reason: string | undefined;
    if (!this.opts.pods) ready = true;
    else if (!info) {
      ready = false;
      reason = this.lastPodInfo ? 'not in the pod list' : `no pod list yet${this.podInfoError ? ` (${this.podInfoError})` : ''}`;
    } else {
      ready = info.ready;
      if (!ready) reason = `containers not ready: ${info.containers.filter((c) => !c.ready).map((c) => c.name).join(', ') || 'pod not Ready'}`;
    }
    if (!ready) pod.firstSeenReady = undefined;
    else pod.firstSeenReady ??= now;
    pod.monitoring = monitoringState(
      { ready, ...(info?.readySince !== undefined ? { readySince: info.readySince } : {}), ...(pod.firstSeenReady !== undefined ? { firstSeenReady: pod.firstSeenReady } : {}), ...(reason ? { reason } : {}) },
      now,
      this.opts.warmupMs,
    );
    return pod;
  }

  private containerInfo(pod: PodState, dc: DiscoveredContainer): ContainerInfo | undefined {
    return pod.info?.containers.find((c) => c.id === dc.id);
  }

  private sampleContainer(pod: PodState, key: string, dc: DiscoveredContainer, info: ContainerInfo | undefined, now: number): 'ok' | 'gone' | ProbeError {
    const needLimits = info?.limits.cpu === undefined || info.limits.memory === undefined;
    const read = this.opts.reader.readContainer(dc.path, { limits: needLimits });
    if (read.kind === 'gone') {
      pod.containers.delete(key);
      return 'gone';
    }
    if (read.kind === 'error') return { path: read.path, message: read.message };
    const r = read.value;
    const cap = this.opts.capacity;
    const cgroupSource = this.opts.reader.layout.version === 'v2' ? { cpu: 'cgroup cpu.max', mem: 'cgroup memory.max' } : { cpu: 'cgroup cpu.cfs_quota_us', mem: 'cgroup memory.limit_in_bytes' };
    const limitOf = (spec: number | undefined, cgroup: number | undefined, source: string): Amount | undefined =>
      spec !== undefined ? { amount: spec, source: 'pod spec' } : cgroup !== undefined ? { amount: cgroup, source } : undefined;
    const requestOf = (spec: number | undefined): Amount | undefined => (spec !== undefined ? { amount: spec, source: 'pod spec' } : undefined);
    const cpuBasis = chooseBasis(limitOf(info?.limits.cpu, r.cpuLimitCores, cgroupSource.cpu), requestOf(info?.requests.cpu), cap.cpu);
    const memBasis = chooseBasis(limitOf(info?.limits.memory, r.memLimitBytes, cgroupSource.mem), requestOf(info?.requests.memory), cap.mem);

    let c = pod.containers.get(key);
    if (!c || c.id !== dc.id) {
      // New, or restarted under a new id: the window goes on (same application), the counters start over.
      c = {
        name: info?.name ?? dc.id.slice(0, 12),
        id: dc.id,
        runtime: dc.runtime,
        path: dc.path,
        prev: undefined,
        cpu: c?.cpu ?? new Series(this.minutes, cpuBasis),
        mem: c?.mem ?? new Series(this.minutes, memBasis),
        disk: c?.disk,
        memPeakBetween: false,
        memPressureSome10: undefined,
        absent: [],
        notes: [],
      };
      pod.containers.set(key, c);
    }
    c.cpu.basis = cpuBasis;
    c.mem.basis = memBasis;
    const counters: Counters = {
      t: now,
      cpuUsec: r.cpuUsec,
      memUsage: r.memUsage,
      memWorkingSet: r.memWorkingSet,
      memInactiveFile: r.memInactiveFile,
      ...(r.memPeak !== undefined ? { memPeak: r.memPeak } : {}),
      ...(r.ioBytes !== undefined ? { ioBytes: r.ioBytes } : {}),
    };
    const rates = ratesBetween(c.prev, counters);
    c.prev = counters;
    c.memPeakBetween = rates.memPeakBetween;
    c.memPressureSome10 = r.memPressure?.some.avg10;
    c.absent = r.absent;
    c.notes = rates.notes;
    if (r.ioBytes !== undefined && !c.disk) c.disk = new Series(this.minutes, chooseBasis(undefined, undefined, cap.disk));
    const monitoring = pod.monitoring.state === 'monitoring';
    c.mem.current = r.memWorkingSet; // the level now; the window also gets a peak seen in between
    if (monitoring) c.mem.record(now, rates.memBytes, cap.mem);
    if (rates.cpuCores !== undefined) {
      c.cpu.current = rates.cpuCores;
      if (monitoring) c.cpu.record(now, rates.cpuCores, cap.cpu);
    }
    if (c.disk && rates.diskBytesPerSec !== undefined) {
      c.disk.current = rates.diskBytesPerSec;
      if (monitoring) c.disk.record(now, rates.diskBytesPerSec, cap.disk);
    }
    return 'ok';
  }

  private sampleNet(pod: PodState, paths: readonly string[], now: number, errors: ProbeError[]): void {
    const r: NetResult = pod.info?.hostNetwork ? { kind: 'host-network', pid: 0 } : this.opts.reader.readNet(paths);
    if (r.kind === 'error') {
      errors.push({ path: r.path, message: r.message });
      return;
    }
    if (r.kind !== 'ok') {
      pod.netNote = r.kind === 'host-network' ? 'host network namespace: its traffic is the node\'s, not measured per pod' : r.reason;
      pod.prevNet = undefined;
      pod.net.current = undefined;
      return;
    }
    pod.netNote = undefined;
    const prev = pod.prevNet;
    pod.prevNet = { t: now, bytes: r.bytes };
    if (!prev || !(now > prev.t) || r.bytes < prev.bytes) return;
    const rate = ((r.bytes - prev.bytes) * 1000) / (now - prev.t);
    pod.net.current = rate;
    if (pod.monitoring.state === 'monitoring') pod.net.record(now, rate, this.opts.capacity.net);
  }

  windows(): WindowsReport {
    const now = this.opts.clock.now();
    this.closeMinutes(now); // so the newest closed minute ends at windowEnd, samples or not
    const cap = this.opts.capacity;
    const layout = this.opts.reader.layout;
    const pods: PodReport[] = [];
    for (const pod of this.pods.values()) {
      const containers: ContainerReport[] = [];
      for (const c of pod.containers.values()) {
        containers.push({
          name: c.name,
          id: c.id,
          runtime: c.runtime,
          cgroup: c.path,
          metrics: {
            cpu: c.cpu.report(METRIC_UNITS.cpu, cap.cpu),
            mem: c.mem.report(METRIC_UNITS.mem, cap.mem),
            ...(c.disk ? { disk: c.disk.report(METRIC_UNITS.disk, cap.disk) } : {}),
          },
          memPeakBetweenSamples: c.memPeakBetween,
          ...(c.memPressureSome10 !== undefined ? { memPressureSome10: c.memPressureSome10 } : {}),
          ...(c.absent.length ? { absent: c.absent } : {}),
          ...(c.notes.length ? { notes: c.notes } : {}),
        });
      }
      pods.push({
        uid: pod.uid,
        ...(pod.info ? { namespace: pod.info.namespace, name: pod.info.name, ...(pod.info.app ? { app: pod.info.app } : {}) } : {}),
        qos: pod.qos,
        monitoring: pod.monitoring,
        ...(pod.netNote === undefined ? { net: pod.net.report(METRIC_UNITS.net, cap.net) } : { netNote: pod.netNote }),
        containers,
      });
    }
    const last = this.lastOutcome;
    return {
      node: this.opts.nodeName,
      time: now,
      windowEnd: Math.floor(now / MINUTE_MS) * MINUTE_MS,
      minutes: this.minutes,
      intervalMs: this.opts.intervalMs,
      warmupMs: this.opts.warmupMs,
      cgroup: { version: layout.version, ...(this.driver ? { driver: this.driver } : {}), base: this.opts.reader.base },
      podInfo: { source: this.opts.pods?.description ?? 'none (every pod in the cgroup tree counts as started when first seen)', ok: this.podInfoError === undefined, ...(this.podInfoError ? { error: this.podInfoError } : {}) },
      ...(last ? { lastSample: { at: last.at, containers: last.containers, gone: last.gone, skipped: last.skipped } } : {}),
      pods,
      errors: this.errors,
    };
  }

  reclaim(request: ReclaimRequest): ReclaimResult {
    if (!this.opts.allowReclaim) return { ok: false, kind: 'disabled', message: 'proactive reclaim is off (start the probe with --allow-reclaim)' };
    const pod = this.pods.get(request.podUid);
    if (!pod) return { ok: false, kind: 'not-found', message: `pod ${request.podUid}: not on this node (or not sampled yet)` };
    let path = pod.path;
    if (request.container !== undefined) {
      const c = [...pod.containers.values()].find((x) => x.name === request.container || x.id === request.container);
      if (!c) return { ok: false, kind: 'not-found', message: `pod ${request.podUid}: no container ${request.container}` };
      path = c.path;
    }
    return reclaimMemory(this.opts.reader.layout, path, request.bytes);
  }

  health(): { ok: boolean; message: string } {
    const last = this.lastOutcome;
    if (!last) return { ok: false, message: 'no sample yet' };
    const age = this.opts.clock.now() - last.at;
    if (age > 3 * this.opts.intervalMs + 5_000) return { ok: false, message: `last sample ${Math.round(age / 1000)} s ago` };
    return { ok: true, message: `last sample ${Math.round(age / 1000)} s ago: ${last.containers} containers, ${last.errors.length} errors` };
  }

  /** Samples every interval until the signal aborts. */
  async run(signal: AbortSignal, onSample?: (o: SampleOutcome) => void): Promise<void> {
    while (!signal.aborted) {
      let outcome: SampleOutcome;
      try {
        outcome = await this.sample();
      } catch (err) {
        // A bug, not the kernel: report it and keep the windows and the loop (a DaemonSet
        // that crash-loops on one odd cgroup would lose every node's history).
        const message = `internal error while sampling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
        outcome = this.finish({ at: this.opts.clock.now(), containers: 0, gone: [], errors: [{ path: '', message }] }, 0);
      }
      onSample?.(outcome);
      try {
        await this.opts.clock.sleep(this.opts.intervalMs, signal);
      } catch {
        return; // aborted
      }
    }
  }
}
