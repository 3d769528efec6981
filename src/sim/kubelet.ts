/**
 * The simulated kubelets: every minute, each bound pod starts (pulling what its node
 * would pull), runs, uses what its workload's usage source says, and fails as it would
 * in life, reporting the statuses a kubelet on containerd reports (core/kube-model, the
 * model the fake API server's kubelet shares): an image for another architecture (or an
 * index entry whose binary lies about its platform) dies with `exec format error`, exit
 * code 255, and goes to CrashLoopBackOff with a growing restartCount; an index with no
 * entry for the node is ErrImagePull / ImagePullBackOff; memory above the limit is an OOM
 * kill (OOMKilled, exit code 137); CPU above the limit is throttled; a node whose pods want
 * more than it has shares its cores by CFS shares and evicts pods under memory pressure
 * (core/kube-model/contention.ts). It also plays the node probe: per-application per-minute maxima, served
 * through the MetricsSource port.
 */
import { startupMinutes } from './startup-time.ts';
import type { AppUsageSample, MetricsSource } from '../ports/metrics-source.ts';
import type { ContainerStatus, Pod } from '../core/k8s/types.ts';
import { oomKill, reportContainer, restartContainer, type KubeletReport, type PodIdentity } from '../core/kube-model/kubelet.ts';
import type { RuntimeOutcome } from '../core/kube-model/runtime.ts';
import { MEMORY_AVAILABLE_THRESHOLD, memoryPressureEvictions, shareCpu } from '../core/kube-model/contention.ts';
import { nodePlatform, formatPlatform, type Platform } from '../core/platform/platform.ts';
import { bytesOf, cpuMilli } from '../core/units/amounts.ts';
import type { PodRuntime, SimCluster } from './cluster.ts';
import type { SimRegistry } from './registry.ts';
import type { Profile, Usage, UsageModel } from './usage.ts';

export interface RunCounters {
  /** Distinct pods that failed with exec format error (CrashLoopBackOff). */
  execFormatErrorPods: number;
  /** Distinct pods whose image index had no manifest for their node (ErrImagePull). */
  imagePullErrorPods: number;
  oomKills: number;
  /** Pod-minutes with CPU demand above the limit. */
  throttledMinutes: number;
  /** Pod-minutes that got less CPU than they could use within their limit: the node's cores were contended (CFS shares). */
  starvedMinutes: number;
  /** The CPU they did not get: millicore-minutes. */
  starvedCpu: number;
  /** Pods the kubelet evicted for memory pressure (node working sets above capacity − 100Mi). */
  nodePressureEvictions: number;
  /** Pod-minutes waiting for a node (unbound). */
  pendingMinutes: number;
  /** Pod-minutes bound but not running (starting, crash-looping, node lost). */
  downMinutes: number;
  /** Requested but unused: millicore-minutes and byte-minutes. */
  slackCpu: number;
  slackMem: number;
  /** Used above the request (the node's spare capacity was borrowed): same units. */
  shortfallCpu: number;
  shortfallMem: number;
  /** Pod-minutes running. */
  runningMinutes: number;
}

export const emptyCounters = (): RunCounters => ({
  execFormatErrorPods: 0, imagePullErrorPods: 0, oomKills: 0, throttledMinutes: 0, starvedMinutes: 0, starvedCpu: 0, nodePressureEvictions: 0, pendingMinutes: 0, downMinutes: 0,
  slackCpu: 0, slackMem: 0, shortfallCpu: 0, shortfallMem: 0, runningMinutes: 0,
});

type AppNow = { cpu: number; mem: number; reqCpu: number; reqMem: number; limCpu: number; limMem: number; running: number };

/**
 * What the kubelet keeps per pod, on the pod's runtime (cluster.ts), updated in place when
 * the pod object changes (a resize, a status), and, while it runs, this minute's use: a
 * minute allocates nothing per pod and looks nothing up per pod.
 */
export interface PodCalc extends Usage {
  key: string;
  pod: Pod;
  /** The spec object the fields below were read from. */
  spec: Pod['spec'] | undefined;
  /** spec.nodeName ('' while pending). */
  bound: string;
  app: string;
  shift: number;
  reqCpu: number;
  reqMem: number;
  /** Limits of the first container; Infinity when unset. */
  limCpu: number;
  limMem: number;
  images: string[];
  /** The workload's usage profile (UsageModel.profileOf), looked up once. */
  profile: Profile | undefined;
  /** The workload's sample this minute. */
  acc: AppAcc;
  /** The runtime (set when it runs this minute). */
  rt: PodRuntime;
  /** The node whose list of running pods `list` is (kept while the pod stays bound there). */
  node: string;
  list: RunningPod[] | undefined;
}

/** A running pod this minute: its record, what it would use written into it. */
type RunningPod = PodCalc;

/** A workload's sample of the current minute, created at its first running pod of the minute. */
interface AppAcc {
  readonly app: string;
  minuteMs: number;
  sample: MutableSample | undefined;
}

export interface PlatformSample {
  platform: string;
  /** Sum over ready nodes. */
  allocatableCpu: number;
  allocatableMem: number;
  requestedCpu: number;
  requestedMem: number;
  usedCpu: number;
  usedMem: number;
  nodes: number;
  readyNodes: number;
  pods: number;
}

/** The workload (controller owner) a pod belongs to, or the pod itself. */
export function appOf(pod: Pod): string {
  const ns = pod.metadata.namespace ?? 'default';
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  return `${ns}/${owner?.name ?? pod.metadata.name ?? ''}`;
}

/** Minutes of samples kept for the MetricsSource (its reader calls every minute). */
const SAMPLES_KEEP_MINUTES = 30;

export class SimKubelet implements MetricsSource {
  readonly counters = emptyCounters();
  /** Per workload, the sample it is adding to this minute. */
  private readonly accs = new Map<string, AppAcc>();
  private readonly failedPods = new Set<string>();
  private readonly nodePlatforms = new Map<string, Platform | undefined>();
  private readonly nodePlatformKeys = new Map<string, string>();
  /** Applications whose per-minute figures the report charts (appNow); others are not kept. */
  tracked: ReadonlySet<string> = new Set();
  /** Per minute, the workloads' samples (in the order their first pod was met). */
  private readonly samples: { minuteMs: number; list: AppUsageSample[] }[] = [];
  private samplesNow: AppUsageSample[] = [];
  /** Per node, its running pods this minute (the arrays kept from minute to minute), and the nodes in the order first met this minute. */
  private readonly runningOn = new Map<string, RunningPod[]>();
  private readonly nodesThisMinute: string[] = [];
  /** Per platform, this minute. */
  platformNow = new Map<string, PlatformSample>();
  /** Per app, this minute: usage max and the allocation of one pod (for the report). */
  appNow = new Map<string, AppNow>();
  /** Pods that started running in the last step (a migration is complete when its replacement runs). */
  startedThisStep: string[] = [];
  /** Failures seen this run, for the report's list. */
  readonly failures: { minute: number; pod: string; node: string; platform: string; image: string; reason: string }[] = [];

  constructor(
    private readonly cluster: SimCluster,
    private readonly registry: SimRegistry,
    private readonly usage: UsageModel,
    private readonly startMs: number,
    private readonly startupMinutes: number,
    /** policy.startupCpu in millicores: start-up slows under a smaller request (startup-time.ts). */
    private readonly startupCpuMilli?: number,
  ) {}

  /** Minutes from bound to Ready of each pod started so far (the report's time to Ready). */
  readonly readyMinutes: number[] = [];

  private platformOf(node: string): Platform | undefined {
    if (!this.nodePlatforms.has(node)) {
      const n = this.cluster.nodeObject(node);
      const p = n ? nodePlatform(n) : undefined;
      this.nodePlatforms.set(node, p?.ok ? p.value : undefined);
      this.nodePlatformKeys.set(node, p?.ok ? formatPlatform(p.value) : 'unknown');
    }
    return this.nodePlatforms.get(node);
  }

  private platformKeyOf(node: string): string {
    const k = this.nodePlatformKeys.get(node);
    if (k !== undefined) return k;
    this.platformOf(node);
    return this.nodePlatformKeys.get(node) ?? 'unknown';
  }

  private calcFor(rt: PodRuntime): PodCalc {
    const { key, pod } = rt;
    let c = rt.kubelet;
    if (c && c.pod === pod) return c;
    if (!c) {
      const app = appOf(pod);
      c = {
        key, pod, spec: undefined, bound: '', app, shift: this.usage.shiftFor(pod.metadata.name ?? key),
        reqCpu: 0, reqMem: 0, limCpu: Infinity, limMem: Infinity, images: [], profile: this.usage.profileOf(app), acc: this.accOf(app),
        rt, node: '', list: undefined, cpu: 0, mem: 0, net: 0, disk: 0,
      };
      rt.kubelet = c;
    }
    c.pod = pod;
    // A status update keeps the spec object: only a new spec (a resize) is read again.
    if (c.spec !== pod.spec) {
      c.spec = pod.spec;
      c.bound = pod.spec.nodeName ?? '';
      const app = appOf(pod);
      if (app !== c.app) {
        c.app = app;
        c.profile = this.usage.profileOf(app);
        c.acc = this.accOf(app);
      }
      const lim = pod.spec.containers[0]?.resources?.limits ?? {};
      c.limCpu = lim.cpu === undefined ? Infinity : qMilli(lim.cpu);
      c.limMem = lim.memory === undefined ? Infinity : qValue(lim.memory);
      const req = this.cluster.requestOf(key) ?? { cpu: 0, mem: 0, pods: 1 };
      c.reqCpu = req.cpu;
      c.reqMem = req.mem;
      c.images = pod.spec.containers.map((x) => x.image ?? '');
    }
    return c;
  }

  private accOf(app: string): AppAcc {
    let a = this.accs.get(app);
    if (!a) this.accs.set(app, (a = { app, minuteMs: Number.NaN, sample: undefined }));
    return a;
  }

  /** One simulated minute for every pod. */
  step(minute: number): void {
    const c = this.counters;
    const minuteMs = this.startMs + minute * 60_000;
    this.samplesNow = [];
    this.startedThisStep = [];
    const platforms = new Map<string, PlatformSample>();
    const apps = new Map<string, AppNow>();
    for (const name of this.cluster.nodeNames()) {
      const key = this.platformKeyOf(name);
      let s = platforms.get(key);
      if (!s) platforms.set(key, (s = { platform: key, allocatableCpu: 0, allocatableMem: 0, requestedCpu: 0, requestedMem: 0, usedCpu: 0, usedMem: 0, nodes: 0, readyNodes: 0, pods: 0 }));
      s.nodes++;
      const node = this.cluster.nodeObject(name)!;
      const req = this.cluster.requestedOn(name);
      s.requestedCpu += req.cpu;
      s.requestedMem += req.mem;
      s.pods += req.pods;
      if (this.cluster.isNodeReady(name)) {
        s.readyNodes++;
        const a = allocOf(node);
        s.allocatableCpu += a.cpu;
        s.allocatableMem += a.mem;
      }
    }
    const running = this.runningOn;
    const order = this.nodesThisMinute;
    order.length = 0;
    // Per pod, only its runtime and the kubelet's record are read (not the pod object) unless it changed.
    for (const rt of this.cluster.runtimes()) {
      const { key, pod } = rt;
      const kept = rt.kubelet;
      const calc = kept !== undefined && kept.pod === pod ? kept : this.calcFor(rt);
      const nodeName = calc.bound;
      if (!nodeName) {
        c.pendingMinutes++;
        continue;
      }
      switch (rt.state) {
        case 'ContainerCreating': {
          c.downMinutes++;
          if (minute - rt.since < startupMinutes(this.startupMinutes, calc.reqCpu, this.startupCpuMilli)) break;
          const plat = this.platformOf(nodeName);
          const outcomes = calc.images.map((image): RuntimeOutcome => (plat ? this.registry.run(image, plat) : { kind: 'not-found' }));
          rt.startedMs = minuteMs;
          rt.outcomes = outcomes;
          const reports = this.reports(pod, rt, minuteMs);
          const bad = outcomes.findIndex((o) => o.kind !== 'runs');
          const failed = outcomes[bad];
          if (failed) {
            const execFormat = failed.kind === 'exec-format-error';
            rt.failure = execFormat ? 'exec format error' : 'no matching manifest for platform';
            rt.state = execFormat ? 'CrashLoopBackOff' : 'ErrImagePull';
            rt.since = minute;
            rt.log = reports[bad]?.log;
            rt.restarts = reports[bad]?.status.restartCount ?? 0;
            if (!this.failedPods.has(key)) {
              this.failedPods.add(key);
              if (execFormat) c.execFormatErrorPods++;
              else c.imagePullErrorPods++;
              this.failures.push({ minute, pod: key, node: nodeName, platform: plat ? formatPlatform(plat) : 'unknown', image: calc.images[bad] ?? '', reason: rt.failure });
              const event = reports[bad]?.event;
              if (event) {
                void this.cluster.recordEvent({
                  involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, ...event,
                });
              }
            }
            this.cluster.setPodPhase(key, 'Running', false, 'ContainersNotReady', reports.map((r) => r.status));
          } else {
            this.readyMinutes.push(minute - rt.since);
            rt.state = 'Running';
            rt.since = minute;
            this.cluster.setPodPhase(key, 'Running', true, undefined, reports.map((r) => r.status));
            this.startedThisStep.push(key);
          }
          break;
        }
        case 'CrashLoopBackOff':
        case 'ErrImagePull': {
          c.downMinutes++;
          // The kubelet keeps restarting (10 s back-off doubling to 5 min) or re-pulling: its status moves on.
          const reports = this.reports(pod, rt, minuteMs);
          const restarts = reports.reduce((n, r) => n + r.status.restartCount, 0);
          const waiting = reports.map((r) => r.status.state.waiting?.reason ?? '').join();
          const cur = pod.status?.containerStatuses ?? [];
          if (restarts !== rt.restarts || waiting !== cur.map((x) => x.state?.waiting?.reason ?? '').join()) {
            rt.restarts = restarts;
            this.cluster.setPodPhase(key, 'Running', false, 'ContainersNotReady', reports.map((r) => r.status));
          }
          break;
        }
        case 'NodeLost':
          c.downMinutes++;
          break;
        case 'OOMKilled': {
          c.downMinutes++;
          rt.state = 'Running';
          rt.since = minute;
          const statuses = pod.status?.containerStatuses ?? [];
          this.cluster.setPodPhase(key, 'Running', true, undefined, statuses.map((x, i) => (i === 0 ? restartContainer(x as ContainerStatus, identityOf(pod), minuteMs) : x as ContainerStatus)));
          break;
        }
        case 'Running': {
          this.usage.fill(calc.profile, calc.shift, minute, calc, calc.reqCpu, calc.reqMem);
          calc.rt = rt;
          let list = calc.list;
          if (!list || calc.node !== nodeName) {
            list = running.get(nodeName);
            if (!list) running.set(nodeName, (list = []));
            calc.node = nodeName;
            calc.list = list;
          }
          if (list.length === 0) order.push(nodeName);
          list.push(calc as RunningPod);
          break;
        }
        default:
          break;
      }
    }
    for (const nodeName of order) {
      const list = running.get(nodeName)!;
      this.runNode(nodeName, list, minute, minuteMs, platforms, apps);
      list.length = 0;
    }
    this.samples.push({ minuteMs, list: this.samplesNow });
    if (this.samples.length > SAMPLES_KEEP_MINUTES) this.samples.shift();
    this.platformNow = platforms;
    this.appNow = apps;
  }

  /**
   * The running pods of one node this minute: OOM kills at the limit, then node-pressure
   * eviction and CPU contention (core/kube-model/contention.ts), then the accounting.
   */
  private runNode(nodeName: string, list: RunningPod[], minute: number, minuteMs: number, platforms: Map<string, PlatformSample>, apps: Map<string, AppNow>): void {
    const c = this.counters;
    const ps = platforms.get(this.platformKeyOf(nodeName));
    const node = this.cluster.nodeObject(nodeName);
    const alloc = node ? allocOf(node) : { cpu: Infinity, mem: Infinity };
    const capMem = node ? capacityMem(node) : Infinity;
    for (const r of list) {
      const { pod, rt } = r;
      const calc = r;
      if (r.mem > calc.limMem) {
        c.oomKills++;
        rt.restarts++;
        rt.state = 'OOMKilled';
        rt.since = minute;
        const statuses = pod.status?.containerStatuses ?? [];
        this.cluster.setPodPhase(r.key, 'Running', false, 'OOMKilled', statuses.map((x, i) => (i === 0 ? oomKill(x as ContainerStatus, minuteMs) : x as ContainerStatus)));
        void this.cluster.recordEvent({
          involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' },
          type: 'Warning', reason: 'OOMKilling', message: `container used ${mib(r.mem)} above its ${mib(calc.limMem)} limit`,
        });
      }
    }
    // Node-pressure eviction: the working sets of the pods still running (an OOM-killed container holds nothing).
    // Most nodes are far from pressure: the claims are only built when the sum (the
    // function's own, in the same order) leaves less than the threshold available.
    let stay = list;
    let used = 0;
    for (const r of list) if (r.rt.state === 'Running') used += r.mem;
    if (capMem - used < MEMORY_AVAILABLE_THRESHOLD) {
      const holding = list.filter((r) => r.rt.state === 'Running');
      const evictions = memoryPressureEvictions(capMem, holding.map((r) => ({
        usage: r.mem, request: r.reqMem, priority: r.pod.spec.priority ?? 0, container: r.pod.spec.containers[0]?.name ?? '',
      })));
      const evicted = new Set<PodCalc>();
      for (const e of evictions) {
        const r = holding[e.index]!;
        evicted.add(r);
        c.nodePressureEvictions++;
        c.downMinutes++;
        this.cluster.evictByKubelet(r.key, e.message);
      }
      if (evicted.size > 0) stay = list.filter((r) => !evicted.has(r));
    }
    // CPU: the kernel shares the node's cores among the pods by their requests; while
    // what they want fits, each gets what it wants (shareCpu's first answer, without the arrays).
    let want = 0;
    for (const r of stay) want += Math.max(0, Math.min(r.cpu, r.limCpu));
    if (want <= alloc.cpu) {
      for (const r of stay) this.account(r, Math.max(0, Math.min(r.cpu, r.limCpu)), ps, minuteMs, apps);
      return;
    }
    const granted = shareCpu(alloc.cpu, stay.map((r) => ({ request: r.reqCpu, limit: r.limCpu, demand: r.cpu })));
    stay.forEach((r, i) => this.account(r, granted[i] ?? 0, ps, minuteMs, apps));
  }

  /** One running pod's minute: throttling at its limit, starvation by contention, slack, and the probe's sample. */
  private account(r: RunningPod, got: number, ps: PlatformSample | undefined, minuteMs: number, apps: Map<string, AppNow>): void {
    const c = this.counters;
    const calc = r;
    const rt = r.rt;
    const u = r;
    // CFS throttling at the limit: the pod gets at most its limit and is throttled 1 - limit/demand of the time.
    let throttled = 0;
    if (u.cpu > calc.limCpu) {
      c.throttledMinutes++;
      throttled = 1 - calc.limCpu / u.cpu;
    }
    // Contention: the share of the node's cores it got (shareCpu) is below what it could use.
    const cpu = got;
    const starved = Math.min(u.cpu, calc.limCpu) - got;
    if (starved > 1e-6) {
      c.starvedMinutes++;
      c.starvedCpu += starved;
    }
    const oom = rt.state === 'OOMKilled';
    const mem = Math.min(u.mem, calc.limMem);
    c.runningMinutes++;
    if (calc.reqCpu > cpu) c.slackCpu += calc.reqCpu - cpu;
    else c.shortfallCpu += cpu - calc.reqCpu;
    if (calc.reqMem > mem) c.slackMem += calc.reqMem - mem;
    else c.shortfallMem += mem - calc.reqMem;
    if (ps) {
      ps.usedCpu += cpu;
      ps.usedMem += mem;
    }
    // One mutable sample per application and minute (100,000 pods: no object per pod).
    const acc = calc.acc;
    const prev = acc.minuteMs === minuteMs ? acc.sample : undefined;
    // What a probe sees: the CPU the pod got and how long it was throttled; the memory it reached; an OOM kill.
    if (!prev) {
      acc.minuteMs = minuteMs;
      acc.sample = { app: calc.app, minuteMs, cpuMilli: cpu, cpuThrottled: throttled, memoryBytes: u.mem, net: u.net, disk: u.disk, pods: 1, oomKills: oom ? 1 : 0, memoryRequestBytes: calc.reqMem };
      this.samplesNow.push(acc.sample);
    } else {
      if (cpu > prev.cpuMilli) prev.cpuMilli = cpu;
      if (throttled > (prev.cpuThrottled ?? 0)) prev.cpuThrottled = throttled;
      if (oom) {
        prev.oomKills = (prev.oomKills ?? 0) + 1;
        prev.memoryRequestBytes = calc.reqMem;
      }
      if (u.mem > prev.memoryBytes) prev.memoryBytes = u.mem;
      if (u.net > prev.net) prev.net = u.net;
      if (u.disk > prev.disk) prev.disk = u.disk;
      prev.pods++;
    }
    if (this.tracked.size === 0 || !this.tracked.has(calc.app)) return;
    const a = apps.get(calc.app);
    if (!a) apps.set(calc.app, { cpu: u.cpu, mem: u.mem, reqCpu: calc.reqCpu, reqMem: calc.reqMem, limCpu: calc.limCpu, limMem: calc.limMem, running: 1 });
    else {
      a.cpu = Math.max(a.cpu, u.cpu);
      a.mem = Math.max(a.mem, u.mem);
      a.running++;
    }
  }

  /** What the kubelet reports for each container of a pod it started (core/kube-model/kubelet.ts). */
  private reports(pod: Pod, rt: PodRuntime, nowMs: number): KubeletReport[] {
    const id = identityOf(pod);
    const started = rt.startedMs ?? nowMs;
    return pod.spec.containers.map((ct, i) => reportContainer(id, { name: ct.name, image: ct.image ?? '', terminationMessagePolicy: ct.terminationMessagePolicy }, rt.outcomes?.[i] ?? { kind: 'not-found' }, started, nowMs));
  }

  /** The node list changed (a node added): forget cached platforms. */
  nodesChanged(): void {
    this.nodePlatforms.clear();
  }

  async appUsage(sinceMs: number): Promise<readonly AppUsageSample[]> {
    const out: AppUsageSample[] = [];
    for (const s of this.samples) if (s.minuteMs >= sinceMs) for (const x of s.list) out.push(x);
    return out;
  }
}

type MutableSample = { -readonly [K in keyof AppUsageSample]: AppUsageSample[K] };
const qMilli = (q: string | number): number => cpuMilli(q) ?? Infinity;
const qValue = (q: string | number): number => bytesOf(q) ?? Infinity;
type NodeView = { status?: { allocatable?: Readonly<Record<string, string | number>> | null; capacity?: Readonly<Record<string, string | number>> | null } | null };
/** Per node object (the same every minute until the node changes). */
const allocMemo = new WeakMap<NodeView, { readonly cpu: number; readonly mem: number }>();
function allocOf(node: NodeView): { readonly cpu: number; readonly mem: number } {
  let r = allocMemo.get(node);
  if (!r) {
    const a = node.status?.allocatable ?? node.status?.capacity ?? {};
    allocMemo.set(node, (r = { cpu: a.cpu === undefined ? 0 : qMilli(a.cpu), mem: a.memory === undefined ? 0 : qValue(a.memory) }));
  }
  return r;
}
/** Memory capacity: the kubelet's memory.available signal is capacity − working sets. */
function capacityMem(node: { status?: { allocatable?: Readonly<Record<string, string | number>> | null; capacity?: Readonly<Record<string, string | number>> | null } | null }): number {
  const q = node.status?.capacity?.memory ?? node.status?.allocatable?.memory;
  return q === undefined ? Infinity : qValue(q);
}
const identityOf = (pod: Pod): PodIdentity => ({ name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid ?? '' });
const mib = (b: number): string => `${Math.round(b / 2 ** 20)}Mi`;
