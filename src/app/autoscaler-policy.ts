/**
 * The autoscaler driven by ScalingPolicy objects (`polyarch serve --autoscaler`), on the
 * same ports as the simulator's loop: every minute load the per-minute usage windows
 * (MetricsSource), forecast and plan with core/scaling for every policy at once (P vs Q
 * over the cluster's free room, reclaim by score, generations with the marks carried in
 * each policy's status), then act per pod through core/autoscale's decidePod (node fit,
 * min/max, never below memory in use, resize conditions):
 *
 * - Off: nothing; Recommend: status only;
 * - InPlace: pods/resize; an old generation's memory is first reclaimed on the node (the
 *   probe's POST /reclaim) and the limit lowered only once usage is below it with a margin;
 * - Recreate: one pod per policy per round evicted within its PodDisruptionBudget, the
 *   recommendation in the status for whatever creates the replacement.
 *
 * An increase the pod's node cannot take is reported once (event, status action,
 * NodeFull condition) and, with `migrateWhenNodeFull`, handed to migration by eviction.
 */
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter, PodResize } from '../ports/cluster.ts';
import type { Logger } from '../ports/logger.ts';
import type { MetricsSource } from '../ports/metrics-source.ts';
import { noTelemetry, type AutoscalerTelemetry, type NodeReclaimer, type PolicyRef, type ScalingPolicyStore } from '../ports/scaling-policy.ts';
import type { Node, Pod } from '../core/k8s/types.ts';
import { appOfPod } from '../core/probe/app-of.ts';
import { decidePod, RES, type ContainerState, type PodDecision, type Res, type ResizeState } from '../core/autoscale/decide.ts';
import { containerBounds, MAX_ACTIONS, type PolicyAction, type PolicyCondition, type ScalingPolicy, type ScalingPolicyStatus } from '../core/autoscale/policy.ts';
import { plan as makePlan } from '../core/scaling/plan.ts';
import { DEFAULT_POLICY, type AppInput, type AppPlan, type Plan, type PlanPolicy } from '../core/scaling/types.ts';
import { amountOf, formatCpu, formatMemory } from '../core/units/amounts.ts';
import { allocatableAmounts, podRequestAmounts } from '../core/k8s/resources.ts';

export interface PolicyAutoscalerOptions {
  readonly reader: ClusterReader;
  readonly writer: ClusterWriter;
  readonly metrics: MetricsSource;
  readonly policies: ScalingPolicyStore;
  readonly reclaimer?: NodeReclaimer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry?: AutoscalerTelemetry;
  /** Generations and the usage window (young minutes, compaction step); forecast settings come from each policy. */
  readonly plan?: Partial<PlanPolicy>;
  /** Changes smaller than this share of the request are skipped (default 5 %). */
  readonly minChange?: number;
  /** Round interval (default 60 s). */
  readonly intervalMs?: number;
}

export interface PodOutcome {
  readonly pod: string;
  readonly node: string;
  readonly decision: PodDecision;
  /** What was done: resized, reverted, evicted, waited, reported, nothing. */
  readonly done: string;
}

export interface PolicyOutcome {
  readonly policy: string;
  readonly mode: string;
  readonly error?: string;
  readonly app?: AppPlan;
  readonly pods: readonly PodOutcome[];
  readonly reclaims: number;
}

export interface AutoscaleRound {
  readonly plan: Plan | undefined;
  readonly policies: readonly PolicyOutcome[];
}

interface History {
  cpu: number[];
  mem: number[];
  net: number[];
  disk: number[];
  firstMs: number;
  lastMinuteMs: number;
}

interface Managed {
  readonly policy: ScalingPolicy;
  readonly key: string;
  readonly pods: Pod[];
  readonly history: History;
  readonly perPod: { cpu: number; memory: number };
}

const keyOf = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;
const fmt = (r: Res, x: number): string => (r === 'cpu' ? formatCpu(Math.round(x * 1000)) : formatMemory(x));
const podName = (p: Pod): string => `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`;

interface PodView {
  readonly status?: {
    readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] | null;
    readonly containerStatuses?: readonly { name: string; allocatedResources?: Record<string, string | number> }[] | null;
  } | null;
  readonly spec: { readonly containers: readonly { name: string; resizePolicy?: readonly { resourceName: string; restartPolicy: string }[] }[] };
}

function resizeState(pod: Pod): ResizeState {
  const conds = (pod as unknown as PodView).status?.conditions ?? [];
  const pending = conds.find((c) => c.type === 'PodResizePending' && c.status === 'True');
  if (pending?.reason === 'Infeasible') return { kind: 'infeasible', message: pending.message ?? '' };
  if (pending) return { kind: 'deferred', message: pending.message ?? '' };
  if (conds.some((c) => c.type === 'PodResizeInProgress' && c.status === 'True')) return { kind: 'in-progress' };
  return { kind: 'none' };
}

function requestsOf(pod: Pod): { cpu: number; memory: number } {
  const r = podRequestAmounts(pod);
  return { cpu: r.cpu / 1000, memory: r.mem };
}

export class PolicyAutoscaler {
  private readonly history = new Map<string, History>();
  private readonly pending = new Map<string, { res: Res; value: number; per: number }[]>();
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly planPolicy: PlanPolicy;
  private readonly telemetry: AutoscalerTelemetry;

  constructor(private readonly o: PolicyAutoscalerOptions) {
    this.planPolicy = { ...DEFAULT_POLICY, ...o.plan };
    this.telemetry = o.telemetry ?? noTelemetry;
  }

  /** Rounds every `intervalMs` until the signal aborts; a failed round is logged and the next goes on. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.runOnce();
      } catch (err) {
        this.o.log.error({ error: err instanceof Error ? err.message : String(err) }, 'autoscaler round failed');
      }
      if (signal.aborted) break;
      await Promise.race([this.o.clock.sleep(this.o.intervalMs ?? 60_000), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    }
  }

  /** Reads the minutes closed since the last call into the windows, and scores the forecasts that came due. */
  async observe(): Promise<void> {
    const samples = await this.o.metrics.appUsage(this.lastMs + 1);
    const keep = Math.max(this.planPolicy.usageMinutes, 60);
    for (const s of samples) {
      let h = this.history.get(s.app);
      if (!h) this.history.set(s.app, (h = { cpu: [], mem: [], net: [], disk: [], firstMs: s.minuteMs, lastMinuteMs: s.minuteMs }));
      if (s.minuteMs <= h.lastMinuteMs && h.cpu.length > 0) continue;
      h.cpu.push(s.cpuMilli / 1000);
      h.mem.push(s.memoryBytes);
      h.net.push(s.net);
      h.disk.push(s.disk);
      h.lastMinuteMs = s.minuteMs;
      if (h.cpu.length > keep) for (const xs of [h.cpu, h.mem, h.net, h.disk]) xs.shift();
      this.lastMs = Math.max(this.lastMs, s.minuteMs);
      const due = this.pending.get(`${s.app}|${s.minuteMs}`);
      if (due) {
        this.pending.delete(`${s.app}|${s.minuteMs}`);
        for (const d of due) this.telemetry.forecastError(d.res, Math.abs((d.res === 'cpu' ? s.cpuMilli / 1000 : s.memoryBytes) - d.value) / d.per);
      }
    }
    this.prune();
  }

  /** Forgets applications and forecasts not heard of for two hours (workloads deleted). */
  private prune(): void {
    const horizon = this.lastMs - 2 * 60 * 60_000;
    for (const [k, h] of this.history) if (h.lastMinuteMs < horizon) this.history.delete(k);
    for (const k of this.pending.keys()) if (Number(k.slice(k.lastIndexOf('|') + 1)) < horizon) this.pending.delete(k);
  }

  private historyOf(keys: readonly string[]): History | undefined {
    const hs = keys.map((k) => this.history.get(k)).filter((h): h is History => h !== undefined);
    if (hs.length <= 1) return hs[0];
    // A selector spanning several workloads: the element-wise maximum, aligned on the newest minute.
    const n = Math.max(...hs.map((h) => h.cpu.length));
    const merged: History = { cpu: [], mem: [], net: [], disk: [], firstMs: Math.min(...hs.map((h) => h.firstMs)), lastMinuteMs: Math.max(...hs.map((h) => h.lastMinuteMs)) };
    for (let i = 0; i < n; i++) {
      for (const m of ['cpu', 'mem', 'net', 'disk'] as const) {
        merged[m].push(Math.max(...hs.map((h) => h[m][h[m].length - n + i] ?? 0)));
      }
    }
    return merged;
  }

  private matches(policy: ScalingPolicy, pod: Pod): boolean {
    if ((pod.metadata.namespace ?? 'default') !== policy.namespace) return false;
    const t = policy.spec.targetRef;
    if (t) {
      const owner = pod.metadata.ownerReferences?.find((r) => r.controller) ?? pod.metadata.ownerReferences?.[0];
      if (!owner) return false;
      // Through its ReplicaSet on a cluster; the simulator's controller owns pods directly.
      if (t.kind === 'Deployment') return (owner.kind === 'ReplicaSet' && appOfPod(pod as Parameters<typeof appOfPod>[0]) === `${policy.namespace}/${t.name}`) || (owner.kind === 'Deployment' && owner.name === t.name);
      return owner.kind === t.kind && owner.name === t.name;
    }
    const sel = policy.spec.selector?.matchLabels ?? {};
    return Object.entries(sel).every(([k, v]) => pod.metadata.labels?.[k] === v);
  }

  async runOnce(): Promise<AutoscaleRound> {
    await this.observe();
    const parsed = await this.o.policies.list();
    const outcomes: PolicyOutcome[] = [];
    const valid: ScalingPolicy[] = [];
    for (const p of parsed) {
      if (p.ok) valid.push(p.value);
      else {
        outcomes.push({ policy: `${p.namespace}/${p.name}`, mode: 'Invalid', error: p.error, pods: [], reclaims: 0 });
        await this.reportInvalid(p);
      }
    }
    valid.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    const pods = (await this.o.reader.listPods()).filter((p) => p.spec.nodeName && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    const nodes = await this.o.reader.listNodes();

    const byApp = new Map<string, Pod[]>();
    for (const p of pods) {
      const k = appOfPod(p as Parameters<typeof appOfPod>[0]);
      const list = byApp.get(k);
      if (list) list.push(p);
      else byApp.set(k, [p]);
    }
    const managed: Managed[] = [];
    const taken = new Set<Pod>();
    for (const policy of valid) {
      if (policy.spec.mode === 'Off') {
        outcomes.push({ policy: keyOf(policy), mode: 'Off', pods: [], reclaims: 0 });
        continue;
      }
      // A workload target looks its pods up by owner; only a selector scans them all.
      const candidates = policy.spec.targetRef ? (byApp.get(`${policy.namespace}/${policy.spec.targetRef.name}`) ?? []) : pods;
      const mine = candidates.filter((p) => !taken.has(p) && this.matches(policy, p)).sort((a, b) => (podName(a) < podName(b) ? -1 : 1));
      for (const p of mine) taken.add(p);
      const keys = policy.spec.targetRef ? [`${policy.namespace}/${policy.spec.targetRef.name}`] : [...new Set(mine.map((p) => appOfPod(p as Parameters<typeof appOfPod>[0])))];
      const history = this.historyOf(keys);
      const perPod = mine[0] ? requestsOf(mine[0]) : undefined;
      if (!history || !perPod || perPod.cpu <= 0 || perPod.memory <= 0) {
        const note = mine.length === 0 ? 'no running pods match the target' : !history ? 'no usage reported yet' : 'the pods have no cpu or memory requests';
        outcomes.push({ policy: keyOf(policy), mode: policy.spec.mode, error: note, pods: [], reclaims: 0 });
        await this.writeStatus(policy, { forecast: { horizonMinutes: policy.spec.forecast.horizon, note } }, [], [{ type: 'Ready', status: 'False', reason: 'NoData', message: note }]);
        continue;
      }
      managed.push({ policy, key: keyOf(policy), pods: mine, history, perPod });
    }

    const inputs: AppInput[] = managed.map((m) => this.appInput(m));
    const capacity = this.capacity(nodes, pods, taken);
    const plan = inputs.length > 0 ? makePlan({ capacity: { ...capacity, network: 0, disk: 0 }, policy: this.planPolicy, apps: inputs }) : undefined;
    if (plan) {
      for (const r of plan.releases) {
        if (r.resource !== 'cpu' && r.resource !== 'memory') continue;
        this.telemetry.reclaimed(r.resource, r.generation, r.kind === 'compact' ? 'OldSurplusCompacted' : 'YoungSurplusReleased', r.amount);
      }
      this.telemetry.unmet('cpu', plan.unmet.cpu);
      this.telemetry.unmet('memory', plan.unmet.memory);
    }

    const nodeFree = this.nodeFree(nodes, pods);
    // Decreases first, so that the room they free on a node is there for the increases.
    const order = managed.map((m, i) => ({ m, ap: plan?.apps[i] })).filter((x): x is { m: Managed; ap: AppPlan } => x.ap !== undefined);
    const growth = (x: { m: Managed; ap: AppPlan }): number => x.ap.allocation.cpu / Math.max(1e-9, x.m.perPod.cpu * x.m.pods.length) + x.ap.allocation.memory / Math.max(1, x.m.perPod.memory * x.m.pods.length);
    order.sort((a, b) => growth(a) - growth(b));
    for (const { m, ap } of order) outcomes.push(await this.act(m, ap, nodeFree));
    return { plan, policies: outcomes };
  }

  private appInput(m: Managed): AppInput {
    const { policy, pods, history: h, perPod } = m;
    const replicas = pods.length;
    const spec = policy.spec;
    const sumBound = (which: 'min' | 'max', r: Res): number | undefined => {
      let total = 0;
      for (const c of pods[0]!.spec.containers) {
        const b = containerBounds(spec, c.name)[which][r];
        if (b === undefined) return undefined;
        total += b;
      }
      return total * replicas;
    };
    const alloc = { cpu: perPod.cpu * replicas, memory: perPod.memory * replicas };
    const min: Partial<Record<Res, number>> = {};
    const max: Partial<Record<Res, number>> = {};
    for (const r of RES) {
      if (!spec.resources.includes(r)) {
        // Not managed: pinned where it is.
        min[r] = alloc[r];
        max[r] = alloc[r];
        continue;
      }
      const lo = sumBound('min', r);
      const hi = sumBound('max', r);
      if (lo !== undefined) min[r] = lo;
      if (hi !== undefined) max[r] = hi;
    }
    const ratio = (xs: readonly number[], per: number): number[] => xs.map((x) => Math.min(1, Math.max(0, x / per)));
    const marks = policy.status.marks;
    return {
      name: m.key,
      priority: spec.priority ?? pods[0]!.spec.priority ?? 0,
      system: spec.application === 'system',
      runningMinutes: Math.max(0, (this.o.clock.now() - h.firstMs) / 60_000),
      allocation: { ...alloc, network: 0, disk: 0 },
      usage: { cpu: ratio(h.cpu, perPod.cpu), mem: ratio(h.mem, perPod.memory), net: h.net, disk: h.disk },
      min,
      max,
      ...(marks && (marks.cpu || marks.memory) ? { marked: { ...(marks.cpu ? { cpu: marks.cpu } : {}), ...(marks.memory ? { memory: marks.memory } : {}) } } : {}),
      forecast: { window: spec.forecast.window, horizon: spec.forecast.horizon, headroom: spec.headroom },
    };
  }

  /** Free room the plan grants from: ready, schedulable allocatable minus what unmanaged pods request. */
  private capacity(nodes: readonly Node[], pods: readonly Pod[], managed: ReadonlySet<Pod>): { cpu: number; memory: number } {
    let cpu = 0;
    let memory = 0;
    for (const n of nodes) {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      if ((ready && ready.status !== 'True') || n.spec?.unschedulable) continue;
      const a = allocatableAmounts(n);
      cpu += a.cpu / 1000;
      memory += a.mem;
    }
    for (const p of pods) {
      if (managed.has(p)) continue;
      const r = requestsOf(p);
      cpu -= r.cpu;
      memory -= r.memory;
    }
    return { cpu: Math.max(0, cpu), memory: Math.max(0, memory) };
  }

  /** Per node: allocatable minus every running pod's requests (updated as resizes go out). */
  private nodeFree(nodes: readonly Node[], pods: readonly Pod[]): Map<string, { cpu: number; memory: number }> {
    const free = new Map<string, { cpu: number; memory: number }>();
    for (const n of nodes) {
      const a = allocatableAmounts(n);
      free.set(n.metadata.name ?? '', { cpu: a.cpu / 1000, memory: a.mem });
    }
    for (const p of pods) {
      const f = free.get(p.spec.nodeName ?? '');
      if (!f) continue;
      const r = requestsOf(p);
      f.cpu -= r.cpu;
      f.memory -= r.memory;
    }
    return free;
  }

  private containersOf(m: Managed, pod: Pod): ContainerState[] {
    const view = pod as unknown as PodView;
    return pod.spec.containers.map((c, i) => {
      const b = containerBounds(m.policy.spec, c.name);
      const alloc = view.status?.containerStatuses?.find((s) => s.name === c.name)?.allocatedResources;
      const restartOn = (view.spec.containers[i]?.resizePolicy ?? []).filter((p) => p.restartPolicy === 'RestartContainer').map((p) => p.resourceName as Res);
      const req = { cpu: amountOf(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu) ?? 0, memory: amountOf(c.resources?.requests?.memory ?? c.resources?.limits?.memory) ?? 0 };
      const lc = amountOf(c.resources?.limits?.cpu);
      const lm = amountOf(c.resources?.limits?.memory);
      return {
        name: c.name,
        request: req,
        limit: { ...(lc !== undefined ? { cpu: lc } : {}), ...(lm !== undefined ? { memory: lm } : {}) },
        ...(alloc ? { allocated: { cpu: amountOf(alloc.cpu) ?? req.cpu, memory: amountOf(alloc.memory) ?? req.memory } } : {}),
        min: b.min,
        max: b.max,
        restartOn,
      };
    });
  }

  private async act(m: Managed, ap: AppPlan, nodeFree: Map<string, { cpu: number; memory: number }>): Promise<PolicyOutcome> {
    const { policy, pods, perPod, history } = m;
    const spec = policy.spec;
    const now = new Date(this.o.clock.now()).toISOString();
    const replicas = pods.length;
    const target = { cpu: ap.allocation.cpu / replicas, memory: ap.allocation.memory / replicas };
    const fc = ap.forecasts.cpu;
    const fm = ap.forecasts.mem;
    // Scored when the minute it is about arrives.
    const dueMs = history.lastMinuteMs + spec.forecast.horizon * 60_000;
    const due: { res: Res; value: number; per: number }[] = [];
    if (fc.ok) due.push({ res: 'cpu', value: fc.value * perPod.cpu, per: perPod.cpu });
    if (fm.ok) due.push({ res: 'memory', value: fm.value * perPod.memory, per: perPod.memory });
    const keys = spec.targetRef ? [`${policy.namespace}/${spec.targetRef.name}`] : [];
    for (const k of keys) if (due.length > 0) this.pending.set(`${k}|${dueMs}`, due);

    const actions: PolicyAction[] = [];
    const seen = policy.status.lastActions ?? [];
    const already = (a: { pod?: string; reason: string; message: string }): boolean => seen.some((s) => s.pod === a.pod && s.reason === a.reason && s.message === a.message);
    const add = (a: Omit<PolicyAction, 'time'>): void => {
      actions.push({ time: now, ...a });
    };
    for (const a of ap.actions) {
      if (a.resource !== 'cpu' && a.resource !== 'memory') continue;
      add({ kind: `plan-${a.kind}`, resource: a.resource, from: fmt(a.resource, a.from), to: fmt(a.resource, a.to), reason: a.reason, message: a.detail });
    }

    const latestMem = history.mem[history.mem.length - 1];
    const latestCpu = history.cpu[history.cpu.length - 1];
    const outcomes: PodOutcome[] = [];
    let reclaims = 0;
    const acting = spec.mode === 'InPlace' || spec.mode === 'Recreate';

    // Old generation's memory: reclaimed on the node first, so the kernel frees pages before the limit drops.
    const reclaim = ap.actions.find((a) => a.kind === 'proactive-reclaim' && a.resource === 'memory');
    if (reclaim && acting && this.o.reclaimer) {
      const bytes = Math.ceil(reclaim.amount / replicas);
      for (const p of pods) {
        const r = await this.o.reclaimer.reclaim(p.spec.nodeName ?? '', { podUid: p.metadata.uid ?? '', bytes });
        this.telemetry.action('reclaim', r.ok ? 'ok' : 'failed');
        const msg = r.ok ? `proactive reclaim of ${formatMemory(bytes)} on ${p.spec.nodeName ?? ''}: memory ${formatMemory(r.before)} -> ${formatMemory(r.after)}` : `proactive reclaim of ${formatMemory(bytes)} on ${p.spec.nodeName ?? ''} failed (${r.kind}): ${r.message}`;
        if (r.ok) reclaims++;
        add({ kind: 'reclaim', pod: podName(p), resource: 'memory', reason: r.ok ? 'ProactiveReclaim' : 'ProactiveReclaimFailed', message: msg });
        await this.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? 'ProactiveReclaim' : 'ProactiveReclaimFailed', msg);
      }
    }

    let recommendation: ScalingPolicyStatus['recommendation'];
    let evicted = false;
    for (const p of pods) {
      const node = p.spec.nodeName ?? '';
      const free = nodeFree.get(node) ?? { cpu: 0, memory: 0 };
      const containers = this.containersOf(m, p);
      const base = {
        containers,
        target,
        manage: spec.resources,
        usage: { ...(latestMem !== undefined ? { memory: latestMem } : {}), ...(latestCpu !== undefined ? { cpu: latestCpu } : {}) },
        memoryMargin: spec.memoryMargin,
        minChange: this.o.minChange ?? 0.05,
      };
      recommendation ??= decidePod({ ...base, nodeFree: { cpu: Infinity, memory: Infinity }, resize: { kind: 'none' }, allowRestart: true, minChange: 0 }).containers.map((c) => ({
        container: c.name,
        requests: { cpu: formatCpu(Math.round(c.requests.cpu * 1000)), memory: formatMemory(c.requests.memory) },
        ...(c.limits.cpu !== undefined || c.limits.memory !== undefined
          ? { limits: { ...(c.limits.cpu !== undefined ? { cpu: formatCpu(Math.round(c.limits.cpu * 1000)) } : {}), ...(c.limits.memory !== undefined ? { memory: formatMemory(c.limits.memory) } : {}) } }
          : {}),
      }));
      const d = decidePod({ ...base, nodeFree: free, resize: resizeState(p), allowRestart: spec.mode === 'Recreate' });
      let done = 'nothing';
      for (const n of d.notes) {
        if (n.reason !== 'NodeFull' && n.reason !== 'ResizeInfeasible' && n.reason !== 'NeedsRestart') continue;
        const a = { pod: podName(p), reason: n.reason, message: n.message };
        if (already(a)) continue;
        add({ kind: 'report', ...(n.resource ? { resource: n.resource } : {}), ...a });
        await this.event(policy, p, 'Warning', n.reason, n.message);
        done = 'reported';
      }
      if (!acting) {
        outcomes.push({ pod: podName(p), node, decision: d, done: d.kind === 'resize' ? 'recommended' : done });
        continue;
      }
      if (d.kind === 'resize' && spec.mode === 'InPlace') {
        const r = await this.o.writer.resizePod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, toResize(d));
        this.telemetry.action('resize', r.ok ? 'ok' : 'failed');
        const msg = describeResize(containers, d) + (r.ok ? '' : ` failed: ${r.error.message}`);
        add({ kind: 'resize', pod: podName(p), reason: r.ok ? 'Resized' : 'ResizeFailed', message: msg });
        await this.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? 'Resized' : 'ResizeFailed', msg);
        if (r.ok) {
          for (const res of RES) {
            const delta = d.containers.reduce((s, c) => s + c.requests[res], 0) - containers.reduce((s, c) => s + c.request[res], 0);
            free[res] -= delta;
            if (delta < 0) this.telemetry.release(res === 'cpu' ? 'CpuLowered' : 'MemoryLowered');
          }
        }
        done = r.ok ? 'resized' : 'failed';
      } else if (d.kind === 'revert') {
        const r = await this.o.writer.resizePod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, toResize(d));
        this.telemetry.action('revert', r.ok ? 'ok' : 'failed');
        done = r.ok ? 'reverted' : 'failed';
      } else if ((d.kind === 'resize' && spec.mode === 'Recreate') || (d.nodeFull && spec.migrateWhenNodeFull)) {
        if (evicted) {
          done = 'waiting';
        } else {
          evicted = true;
          const r = await this.o.writer.evictPod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' });
          const why = d.kind === 'resize' && spec.mode === 'Recreate' ? 'Recreated' : 'HandedToMigration';
          const msg = r.ok ? `${why === 'Recreated' ? 'evicted to be recreated with the recommendation' : 'the node cannot take the increase; evicted to be placed elsewhere'}` : `eviction refused: ${r.message}`;
          this.telemetry.action('evict', r.ok ? 'ok' : 'failed');
          add({ kind: 'evict', pod: podName(p), reason: r.ok ? why : 'EvictionRefused', message: msg });
          await this.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? why : 'EvictionRefused', msg);
          done = r.ok ? 'evicted' : 'refused';
        }
      } else if (d.kind === 'wait') done = 'waiting';
      outcomes.push({ pod: podName(p), node, decision: d, done });
    }

    const anyFull = outcomes.some((o) => o.decision.nodeFull);
    const conditions: Omit<PolicyCondition, 'lastTransitionTime'>[] = [
      { type: 'Ready', status: 'True', reason: 'Planned', message: `planned ${replicas} pod(s); mode ${spec.mode}` },
      anyFull
        ? { type: 'NodeFull', status: 'True', reason: 'IncreaseDoesNotFit', message: outcomes.filter((o) => o.decision.nodeFull).map((o) => `${o.pod} on ${o.node}`).join(', ') }
        : { type: 'NodeFull', status: 'False', reason: 'Fits', message: 'every increase fits its node' },
    ];
    const forecast: NonNullable<ScalingPolicyStatus['forecast']> = {
      horizonMinutes: spec.forecast.horizon,
      ...(fc.ok ? { cpu: formatCpu(Math.round(fc.value * perPod.cpu * 1000)) } : {}),
      ...(fm.ok ? { memory: formatMemory(fm.value * perPod.memory) } : {}),
      ...(!fc.ok ? { note: `starting: ${fc.have} of ${fc.needed} minutes` } : {}),
    };
    await this.writeStatus(policy, { forecast, ...(recommendation ? { recommendation } : {}), marks: { cpu: ap.marks.cpu ?? 0, memory: ap.marks.memory ?? 0 } }, actions, conditions);
    return { policy: keyOf(policy), mode: spec.mode, app: ap, pods: outcomes, reclaims };
  }

  private async event(policy: ScalingPolicy, pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.o.writer.recordEvent({ involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, type, reason, message: `${message} (ScalingPolicy ${policy.name})` });
    await this.o.policies.recordEvent({ namespace: policy.namespace, name: policy.name }, type, reason, `${pod.metadata.name ?? ''}: ${message}`);
  }

  private async reportInvalid(p: { namespace: string; name: string; error: string }): Promise<void> {
    const ref: PolicyRef = { namespace: p.namespace, name: p.name };
    this.o.log.warn({ policy: `${p.namespace}/${p.name}`, error: p.error }, 'invalid ScalingPolicy');
    const r = await this.o.policies.writeStatus(ref, {
      conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: p.error, lastTransitionTime: new Date(this.o.clock.now()).toISOString() }],
    });
    if (!r.ok) this.o.log.warn({ policy: `${p.namespace}/${p.name}`, error: r.error.message }, 'status not written');
  }

  private async writeStatus(policy: ScalingPolicy, part: Partial<ScalingPolicyStatus>, actions: readonly PolicyAction[], conditions: readonly Omit<PolicyCondition, 'lastTransitionTime'>[]): Promise<void> {
    const now = new Date(this.o.clock.now()).toISOString();
    const old = policy.status.conditions ?? [];
    const conds: PolicyCondition[] = conditions.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
    });
    const status: ScalingPolicyStatus = {
      ...policy.status,
      ...part,
      observedGeneration: policy.generation,
      lastRunTime: now,
      lastActions: [...[...actions].reverse(), ...(policy.status.lastActions ?? [])].slice(0, MAX_ACTIONS),
      conditions: conds,
    };
    const r = await this.o.policies.writeStatus({ namespace: policy.namespace, name: policy.name }, status);
    if (!r.ok) this.o.log.warn({ policy: keyOf(policy), error: r.error.message }, 'status not written');
  }
}

function toResize(d: PodDecision): PodResize {
  const out: Record<string, { requests: Record<string, string>; limits?: Record<string, string> }> = {};
  for (const c of d.containers) {
    const limits: Record<string, string> = {};
    if (c.limits.cpu !== undefined) limits.cpu = formatCpu(Math.round(c.limits.cpu * 1000));
    if (c.limits.memory !== undefined) limits.memory = formatMemory(c.limits.memory);
    out[c.name] = { requests: { cpu: formatCpu(Math.round(c.requests.cpu * 1000)), memory: formatMemory(c.requests.memory) }, ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  }
  return out;
}

function describeResize(before: readonly ContainerState[], d: PodDecision): string {
  const parts: string[] = [];
  d.containers.forEach((c, i) => {
    const b = before[i];
    if (!b) return;
    for (const r of RES) if (c.requests[r] !== b.request[r]) parts.push(`${c.name} ${r} ${fmt(r, b.request[r])} -> ${fmt(r, c.requests[r])}`);
  });
  return parts.join(', ') || 'limits only';
}
