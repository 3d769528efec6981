/**
 * The simulated kubelets: every minute, each bound pod starts (pulling what its node
 * would pull), runs, uses what its workload's usage source says, and fails as it would
 * in life: an image for another architecture dies with `exec format error` and goes to
 * CrashLoopBackOff; memory above the limit is an OOM kill; CPU above the limit is
 * throttled. It also plays the node probe: per-application per-minute maxima, served
 * through the MetricsSource port.
 */
import { startupMinutes } from './startup-time.ts';
import type { AppUsageSample, MetricsSource } from '../ports/metrics-source.ts';
import type { Pod } from '../core/k8s/types.ts';
import { nodePlatform, formatPlatform, type Platform } from '../core/platform/platform.ts';
import { bytesOf, cpuMilli } from '../core/units/amounts.ts';
import type { SimCluster } from './cluster.ts';
import type { SimRegistry } from './registry.ts';
import type { Usage, UsageModel } from './usage.ts';

export interface RunCounters {
  /** Distinct pods that failed with exec format error (CrashLoopBackOff). */
  execFormatErrorPods: number;
  /** Distinct pods whose image index had no manifest for their node (ErrImagePull). */
  imagePullErrorPods: number;
  oomKills: number;
  /** Pod-minutes with CPU demand above the limit. */
  throttledMinutes: number;
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
  execFormatErrorPods: 0, imagePullErrorPods: 0, oomKills: 0, throttledMinutes: 0, pendingMinutes: 0, downMinutes: 0,
  slackCpu: 0, slackMem: 0, shortfallCpu: 0, shortfallMem: 0, runningMinutes: 0,
});

interface PodCalc {
  pod: Pod;
  app: string;
  shift: number;
  reqCpu: number;
  reqMem: number;
  /** Limits of the first container; Infinity when unset. */
  limCpu: number;
  limMem: number;
  images: string[];
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
  private readonly calc = new Map<string, PodCalc>();
  private readonly failedPods = new Set<string>();
  private readonly nodePlatforms = new Map<string, Platform | undefined>();
  private readonly nodePlatformKeys = new Map<string, string>();
  /** Applications whose per-minute figures the report charts (appNow); others are not kept. */
  tracked: ReadonlySet<string> = new Set();
  /** minute -> app -> sample */
  private readonly samples: { minuteMs: number; byApp: Map<string, AppUsageSample> }[] = [];
  private readonly u: Usage = { cpu: 0, mem: 0, net: 0, disk: 0 };
  /** Per platform, this minute. */
  platformNow = new Map<string, PlatformSample>();
  /** Per app, this minute: usage max and the allocation of one pod (for the report). */
  appNow = new Map<string, { cpu: number; mem: number; reqCpu: number; reqMem: number; limCpu: number; limMem: number; running: number }>();
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

  private calcFor(key: string, pod: Pod): PodCalc {
    const c = this.calc.get(key);
    if (c && c.pod === pod) return c;
    const first = pod.spec.containers[0];
    const lim = first?.resources?.limits ?? {};
    const limCpu = lim.cpu === undefined ? Infinity : qMilli(lim.cpu);
    const limMem = lim.memory === undefined ? Infinity : qValue(lim.memory);
    const req = this.cluster.requestOf(key) ?? { cpu: 0, mem: 0, pods: 1 };
    const next: PodCalc = {
      pod, app: appOf(pod), shift: c?.shift ?? this.usage.shiftFor(pod.metadata.name ?? key),
      reqCpu: req.cpu, reqMem: req.mem, limCpu, limMem, images: pod.spec.containers.map((x) => x.image ?? ''),
    };
    this.calc.set(key, next);
    return next;
  }

  /** One simulated minute for every pod. */
  step(minute: number): void {
    const c = this.counters;
    const u = this.u;
    const minuteMs = this.startMs + minute * 60_000;
    const byApp = new Map<string, AppUsageSample>();
    this.startedThisStep = [];
    const platforms = new Map<string, PlatformSample>();
    const apps = new Map<string, { cpu: number; mem: number; reqCpu: number; reqMem: number; limCpu: number; limMem: number; running: number }>();
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
    for (const [key, pod] of this.cluster.podEntries()) {
      const rt = this.cluster.runtimeOf(key);
      if (!rt) continue;
      const nodeName = pod.spec.nodeName;
      if (!nodeName) {
        c.pendingMinutes++;
        continue;
      }
      const calc = this.calcFor(key, pod);
      switch (rt.state) {
        case 'ContainerCreating': {
          c.downMinutes++;
          if (minute - rt.since < startupMinutes(this.startupMinutes, calc.reqCpu, this.startupCpuMilli)) break;
          const plat = this.platformOf(nodeName);
          let failure: { reason: 'exec format error' | 'no matching manifest for platform'; image: string } | undefined;
          for (const image of calc.images) {
            const r = plat ? this.registry.pull(image, plat) : ({ ok: false, failure: 'not found' } as const);
            if (!r.ok) {
              failure = { reason: r.failure === 'exec format error' ? 'exec format error' : 'no matching manifest for platform', image };
              break;
            }
          }
          if (failure) {
            rt.failure = failure.reason;
            rt.state = failure.reason === 'exec format error' ? 'CrashLoopBackOff' : 'ErrImagePull';
            rt.since = minute;
            if (!this.failedPods.has(key)) {
              this.failedPods.add(key);
              if (failure.reason === 'exec format error') c.execFormatErrorPods++;
              else c.imagePullErrorPods++;
              this.failures.push({ minute, pod: key, node: nodeName, platform: plat ? formatPlatform(plat) : 'unknown', image: failure.image, reason: failure.reason });
              void this.cluster.recordEvent({
                involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' },
                type: 'Warning',
                reason: failure.reason === 'exec format error' ? 'BackOff' : 'Failed',
                message: failure.reason === 'exec format error'
                  ? `exec ${calc.images[0] ?? ''}: exec format error (image for another architecture on ${nodeName}); Back-off restarting failed container`
                  : `Failed to pull image "${failure.image}": no matching manifest for ${plat ? formatPlatform(plat) : 'unknown'} in the manifest list entries`,
              });
            }
            this.cluster.setPodPhase(key, 'Running', false, rt.state);
          } else {
            this.readyMinutes.push(minute - rt.since);
            rt.state = 'Running';
            rt.since = minute;
            this.cluster.setPodPhase(key, 'Running', true);
            this.startedThisStep.push(key);
          }
          break;
        }
        case 'CrashLoopBackOff':
          c.downMinutes++;
          // Back-off doubles up to five minutes; count a restart per back-off period.
          if ((minute - rt.since) % 5 === 0) rt.restarts++;
          break;
        case 'ErrImagePull':
        case 'NodeLost':
          c.downMinutes++;
          break;
        case 'OOMKilled':
          c.downMinutes++;
          rt.state = 'Running';
          rt.since = minute;
          this.cluster.setPodPhase(key, 'Running', true);
          break;
        case 'Running': {
          this.usage.at(calc.app, calc.shift, minute, u, calc.reqCpu, calc.reqMem);
          if (u.mem > calc.limMem) {
            c.oomKills++;
            rt.restarts++;
            rt.state = 'OOMKilled';
            rt.since = minute;
            this.cluster.setPodPhase(key, 'Running', false, 'OOMKilled');
            void this.cluster.recordEvent({
              involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' },
              type: 'Warning', reason: 'OOMKilling', message: `container used ${mib(u.mem)} above its ${mib(calc.limMem)} limit`,
            });
          }
          let cpu = u.cpu;
          // CFS throttling at the limit: the pod gets its limit and is throttled 1 - limit/demand of the time.
          let throttled = 0;
          if (cpu > calc.limCpu) {
            c.throttledMinutes++;
            throttled = 1 - calc.limCpu / cpu;
            cpu = calc.limCpu;
          }
          const oom = rt.state === 'OOMKilled';
          const mem = Math.min(u.mem, calc.limMem);
          c.runningMinutes++;
          if (calc.reqCpu > cpu) c.slackCpu += calc.reqCpu - cpu;
          else c.shortfallCpu += cpu - calc.reqCpu;
          if (calc.reqMem > mem) c.slackMem += calc.reqMem - mem;
          else c.shortfallMem += mem - calc.reqMem;
          const ps = platforms.get(this.platformKeyOf(nodeName));
          if (ps) {
            ps.usedCpu += cpu;
            ps.usedMem += mem;
          }
          // One mutable sample per application and minute (100,000 pods: no object per pod).
          const prev = byApp.get(calc.app) as MutableSample | undefined;
          // What a probe sees: the CPU the pod got and how long it was throttled; the memory it reached; an OOM kill.
          if (!prev) byApp.set(calc.app, { app: calc.app, minuteMs, cpuMilli: cpu, cpuThrottled: throttled, memoryBytes: u.mem, net: u.net, disk: u.disk, pods: 1, oomKills: oom ? 1 : 0, memoryRequestBytes: calc.reqMem });
          else {
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
          if (!this.tracked.has(calc.app)) break;
          const a = apps.get(calc.app);
          if (!a) apps.set(calc.app, { cpu: u.cpu, mem: u.mem, reqCpu: calc.reqCpu, reqMem: calc.reqMem, limCpu: calc.limCpu, limMem: calc.limMem, running: 1 });
          else {
            a.cpu = Math.max(a.cpu, u.cpu);
            a.mem = Math.max(a.mem, u.mem);
            a.running++;
          }
          break;
        }
        default:
          break;
      }
    }
    this.samples.push({ minuteMs, byApp });
    if (this.samples.length > SAMPLES_KEEP_MINUTES) this.samples.shift();
    this.platformNow = platforms;
    this.appNow = apps;
    // Forget the caches of pods that are gone, now and then.
    if (minute % 60 === 0) for (const k of this.calc.keys()) if (!this.cluster.podObject(k)) this.calc.delete(k);
  }

  /** The node list changed (a node added): forget cached platforms. */
  nodesChanged(): void {
    this.nodePlatforms.clear();
  }

  async appUsage(sinceMs: number): Promise<readonly AppUsageSample[]> {
    const out: AppUsageSample[] = [];
    for (const s of this.samples) if (s.minuteMs >= sinceMs) out.push(...s.byApp.values());
    return out;
  }
}

type MutableSample = { -readonly [K in keyof AppUsageSample]: AppUsageSample[K] };
const qMilli = (q: string | number): number => cpuMilli(q) ?? Infinity;
const qValue = (q: string | number): number => bytesOf(q) ?? Infinity;
function allocOf(node: { status?: { allocatable?: Readonly<Record<string, string | number>> | null; capacity?: Readonly<Record<string, string | number>> | null } | null }): { cpu: number; mem: number } {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { cpu: a.cpu === undefined ? 0 : qMilli(a.cpu), mem: a.memory === undefined ? 0 : qValue(a.memory) };
}
const mib = (b: number): string => `${Math.round(b / 2 ** 20)}Mi`;
