/**
 * The autoscaler's runOnce, against the ports: load the per-minute usage windows
 * (MetricsSource), forecast and plan with core/scaling (double moving average, P vs Q,
 * reclaim by score, generations), and act by resizing the application's pods in place
 * (pods/resize). An application is a Deployment or StatefulSet; its allocation is the
 * requests of its first container times its running replicas, limits keep the ratio to
 * the requests that was written.
 *
 * `mode: 'vpa'` is the comparison baseline: a VPA-style recommender (decaying
 * histogram, 90th percentile + 15 %), applied the same way, without P vs Q.
 */
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { MetricsSource } from '../ports/metrics-source.ts';
import type { Pod, PodTemplateSpec, PriorityClass } from '../core/k8s/types.ts';
import { plan as makePlan } from '../core/scaling/plan.ts';
import { DEFAULT_POLICY, type AppInput, type Plan, type PlanPolicy } from '../core/scaling/types.ts';
import { VpaForecaster } from '../core/forecast/baselines.ts';
import { bytesOf, cpuMilli, formatCpu, formatMemory } from '../core/units/amounts.ts';
import { resolvePriority } from '../core/k8s/priority.ts';
import { allocatableAmounts, podRequestAmounts } from '../core/k8s/resources.ts';

export interface AutoscalerOptions {
  readonly mode: 'predictive' | 'vpa';
  readonly policy?: Partial<PlanPolicy>;
  /** Resizes smaller than this share of the request are skipped (no churn). */
  readonly minChange?: number;
  /** An application never goes above this multiple of the requests written (nor below 1/10 of them). */
  readonly maxFactor?: number;
}

export interface AppScaling {
  readonly app: string;
  readonly replicas: number;
  /** Per pod, millicores and bytes. */
  readonly requestCpu: number;
  readonly requestMem: number;
  /** The forecast use of one pod (predictive) or the recommendation (vpa); NaN while starting. */
  readonly forecastCpu: number;
  readonly forecastMem: number;
}

export interface ScalingRound {
  readonly plan: Plan | undefined;
  readonly apps: readonly AppScaling[];
  readonly resized: number;
  readonly deferred: number;
  readonly grants: number;
  readonly releases: number;
}

interface History {
  cpu: number[];
  mem: number[];
  net: number[];
  disk: number[];
  firstMs: number;
  /** Samples not yet fed to the VPA-style recommender. */
  vpaQueue: { cpu: number; mem: number }[];
  vpaCpu?: VpaForecaster;
  vpaMem?: VpaForecaster;
}

interface AppState {
  readonly name: string;
  readonly template: PodTemplateSpec;
  readonly pods: Pod[];
}

const appKey = (ns: string | undefined, name: string | undefined): string => `${ns ?? 'default'}/${name ?? ''}`;

function firstContainerAmounts(spec: PodTemplateSpec['spec']): { reqCpu: number; reqMem: number; limCpu: number | undefined; limMem: number | undefined } {
  const c = spec.containers[0];
  const req = c?.resources?.requests ?? {};
  const lim = c?.resources?.limits ?? {};
  const limCpu = cpuMilli(lim.cpu);
  const limMem = bytesOf(lim.memory);
  return { reqCpu: cpuMilli(req.cpu) ?? limCpu ?? 0, reqMem: bytesOf(req.memory) ?? limMem ?? 0, limCpu, limMem };
}

export class Autoscaler {
  private readonly history = new Map<string, History>();
  private readonly marks = new Map<string, AppInput['marked']>();
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly policy: PlanPolicy;
  private priorityClasses: readonly PriorityClass[] | undefined;

  constructor(
    private readonly reader: ClusterReader,
    private readonly writer: ClusterWriter,
    private readonly metrics: MetricsSource,
    private readonly clock: Clock,
    private readonly opts: AutoscalerOptions,
  ) {
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
  }

  /** Reads the samples since the last call into the windows (call every minute, or before runOnce). */
  async observe(): Promise<void> {
    const samples = await this.metrics.appUsage(this.lastMs + 1);
    const keep = Math.max(this.policy.usageMinutes, 2 * this.policy.window);
    for (const s of samples) {
      let h = this.history.get(s.app);
      if (!h) this.history.set(s.app, (h = { cpu: [], mem: [], net: [], disk: [], firstMs: s.minuteMs, vpaQueue: [] }));
      h.cpu.push(s.cpuMilli);
      h.mem.push(s.memoryBytes);
      h.net.push(s.net);
      h.disk.push(s.disk);
      if (this.opts.mode === 'vpa') h.vpaQueue.push({ cpu: s.cpuMilli, mem: s.memoryBytes });
      if (h.cpu.length > keep) {
        h.cpu.shift();
        h.mem.shift();
        h.net.shift();
        h.disk.shift();
      }
      this.lastMs = Math.max(this.lastMs, s.minuteMs);
    }
  }

  private async apps(allPods: readonly Pod[]): Promise<Map<string, AppState>> {
    const apps = new Map<string, AppState>();
    for (const d of await this.reader.listDeployments()) apps.set(appKey(d.metadata.namespace, d.metadata.name), { name: appKey(d.metadata.namespace, d.metadata.name), template: d.spec.template, pods: [] });
    for (const d of await this.reader.listStatefulSets()) apps.set(appKey(d.metadata.namespace, d.metadata.name), { name: appKey(d.metadata.namespace, d.metadata.name), template: d.spec.template, pods: [] });
    for (const p of allPods) {
      if (!p.spec.nodeName || p.status?.phase !== 'Running') continue;
      const owner = p.metadata.ownerReferences?.find((o) => o.controller);
      const a = owner ? apps.get(appKey(p.metadata.namespace, owner.name)) : undefined;
      if (a) a.pods.push(p);
    }
    return apps;
  }

  private priorityOf(spec: PodTemplateSpec['spec']): number {
    const p = resolvePriority(spec, this.priorityClasses ?? []);
    return p.ok ? p.value : 0;
  }

  /** Free room the plan may grant from: ready, schedulable allocatable minus what pods outside the plan hold or wait for. */
  private async capacity(apps: Map<string, AppState>, allPods: readonly Pod[]): Promise<{ cpu: number; memory: number }> {
    let cpu = 0;
    let mem = 0;
    for (const n of await this.reader.listNodes()) {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      if ((ready && ready.status !== 'True') || n.spec?.unschedulable) continue;
      const a = allocatableAmounts(n);
      cpu += a.cpu;
      mem += a.mem;
    }
    const managed = new Set<Pod>();
    for (const a of apps.values()) for (const p of a.pods) managed.add(p);
    for (const p of allPods) {
      if (managed.has(p)) continue;
      const r = podRequestAmounts(p);
      cpu -= r.cpu;
      mem -= r.mem;
    }
    return { cpu: Math.max(0, cpu) / 1000, memory: Math.max(0, mem) };
  }

  async runOnce(): Promise<ScalingRound> {
    await this.observe();
    this.priorityClasses ??= await this.reader.listPriorityClasses();
    const allPods = await this.reader.listPods();
    const apps = await this.apps(allPods);
    const maxFactor = this.opts.maxFactor ?? 4;
    const minChange = this.opts.minChange ?? 0.05;
    const inputs: AppInput[] = [];
    const current = new Map<string, { reqCpu: number; reqMem: number; base: ReturnType<typeof firstContainerAmounts>; replicas: number }>();
    for (const a of apps.values()) {
      const h = this.history.get(a.name);
      if (!h || a.pods.length === 0) continue;
      const base = firstContainerAmounts(a.template.spec);
      const now = firstContainerAmounts(a.pods[0]!.spec);
      if (now.reqCpu <= 0 || now.reqMem <= 0) continue;
      const replicas = a.pods.length;
      current.set(a.name, { reqCpu: now.reqCpu, reqMem: now.reqMem, base, replicas });
      const ratio = (xs: number[], per: number): number[] => xs.map((x) => Math.min(1, Math.max(0, x / per)));
      inputs.push({
        name: a.name,
        priority: this.priorityOf(a.template.spec),
        system: a.name.startsWith('kube-system/'),
        runningMinutes: Math.max(0, (this.clock.now() - h.firstMs) / 60_000),
        allocation: { cpu: (now.reqCpu * replicas) / 1000, memory: now.reqMem * replicas, network: 0, disk: 0 },
        usage: { cpu: ratio(h.cpu, now.reqCpu), mem: ratio(h.mem, now.reqMem), net: h.net, disk: h.disk },
        min: { cpu: (base.reqCpu * replicas) / 10_000, memory: (base.reqMem * replicas) / 10 },
        max: { cpu: (base.reqCpu * maxFactor * replicas) / 1000, memory: base.reqMem * maxFactor * replicas },
        ...(this.marks.get(a.name) ? { marked: this.marks.get(a.name) } : {}),
      });
    }
    const targets = new Map<string, { cpu: number; mem: number; fCpu: number; fMem: number }>();
    let plan: Plan | undefined;
    let grants = 0;
    let releases = 0;
    if (this.opts.mode === 'predictive') {
      plan = makePlan({ capacity: { ...(await this.capacity(apps, allPods)), network: 0, disk: 0 }, policy: this.policy, apps: inputs });
      for (const ap of plan.apps) {
        const c = current.get(ap.name)!;
        this.marks.set(ap.name, ap.marks);
        for (const act of ap.actions) {
          if (act.kind === 'grant') grants++;
          if (act.kind === 'release' || act.kind === 'compact') releases++;
        }
        const f = ap.forecasts;
        targets.set(ap.name, {
          cpu: (ap.allocation.cpu * 1000) / c.replicas,
          mem: ap.allocation.memory / c.replicas,
          fCpu: f.cpu.ok ? f.cpu.value * c.reqCpu : Number.NaN,
          fMem: f.mem.ok ? f.mem.value * c.reqMem : Number.NaN,
        });
      }
    } else {
      for (const input of inputs) {
        const h = this.history.get(input.name)!;
        const c = current.get(input.name)!;
        // The recommender's histogram is over a fixed range (the most an application may get).
        const refCpu = c.base.reqCpu * maxFactor;
        const refMem = c.base.reqMem * maxFactor;
        h.vpaCpu ??= new VpaForecaster();
        h.vpaMem ??= new VpaForecaster();
        for (const q of h.vpaQueue) {
          h.vpaCpu.observe(Math.min(1, q.cpu / refCpu));
          h.vpaMem.observe(Math.min(1, q.mem / refMem));
        }
        h.vpaQueue = [];
        const fc = h.vpaCpu.forecast();
        const fm = h.vpaMem.forecast();
        const cpu = fc.ok ? Math.max(c.base.reqCpu / 10, fc.value * refCpu) : c.reqCpu;
        const mem = fm.ok ? Math.max(c.base.reqMem / 10, fm.value * refMem) : c.reqMem;
        targets.set(input.name, { cpu, mem, fCpu: cpu, fMem: mem });
      }
    }

    let resized = 0;
    let deferred = 0;
    const out: AppScaling[] = [];
    for (const [name, t] of targets) {
      const a = apps.get(name)!;
      const c = current.get(name)!;
      out.push({ app: name, replicas: c.replicas, requestCpu: c.reqCpu, requestMem: c.reqMem, forecastCpu: t.fCpu, forecastMem: t.fMem });
      const dCpu = Math.abs(t.cpu - c.reqCpu) / c.reqCpu;
      const dMem = Math.abs(t.mem - c.reqMem) / c.reqMem;
      if (dCpu < minChange && dMem < minChange) continue;
      const containerName = a.template.spec.containers[0]?.name ?? '';
      const limits: Record<string, string> = {};
      if (c.base.limCpu !== undefined) limits.cpu = formatCpu((t.cpu * c.base.limCpu) / Math.max(1, c.base.reqCpu));
      if (c.base.limMem !== undefined) limits.memory = formatMemory((t.mem * c.base.limMem) / Math.max(1, c.base.reqMem));
      const resize = { [containerName]: { requests: { cpu: formatCpu(t.cpu), memory: formatMemory(t.mem) }, limits } };
      for (const p of a.pods) {
        const r = await this.writer.resizePod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, resize);
        if (r.ok) resized++;
        else deferred++;
      }
    }
    return { plan, apps: out, resized, deferred, grants, releases };
  }
}
