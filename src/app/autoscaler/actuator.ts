/**
 * The autoscaler's actuator: one application's plan to its pods. Per pod, core/autoscale's
 * decidePod (bounds, memory never below use, node fit, resize conditions) decides; the
 * actuator then resizes in place (pods/resize), reverts an infeasible resize, evicts
 * (Recreate, or a node that cannot take an increase with migrateWhenNodeFull; one pod per
 * policy per round), and first asks the node's probe for a proactive memory reclaim when
 * the plan lowers memory through an old generation. Limits: never lowered, raised with the
 * request's ratio or to the window's peak demand with a margin ('RaiseOnly', polyarch's
 * rule: the request, what the scheduler reserves, follows the forecast; the limit is a
 * safety cap, and lowering it would free nothing but add OOM kills and throttling), or in
 * proportion to the request (RequestsAndLimits, VPA's default), or left as written (RequestsOnly); per ScalingPolicy (`controlledValues`).
 */
import type { ClusterWriter, PodResize } from '../../ports/cluster.ts';
import type { ControlledValues } from '../../core/autoscale/policy.ts';
import type { AutoscalerTelemetry, NodeReclaimer } from '../../ports/scaling-policy.ts';
import type { Pod } from '../../core/k8s/types.ts';
import { decidePod, RES, type ContainerSizing, type PodDecision, type PodDecisionInput, type Res, type ResizeState } from '../../core/autoscale/decide.ts';
import { containerBounds, type PolicyAction, type ScalingPolicy, type ScalingPolicyStatus } from '../../core/autoscale/policy.ts';
import type { AppPlan } from '../../core/scaling/types.ts';
import { amountOf, formatCpu, formatMemory } from '../../core/units/amounts.ts';
import { type Managed } from './inputs.ts';
import { windowMax } from '../../core/scaling/score.ts';
import { podKey } from '../../core/k8s/types.ts';
import type { PolicyReporter } from './status.ts';

export interface PodOutcome {
  readonly pod: string;
  readonly node: string;
  readonly decision: PodDecision;
  /** What was done: resized, reverted, evicted, waiting, reported, recommended, failed, refused, nothing. */
  readonly done: string;
}

export interface Actuation {
  readonly pods: readonly PodOutcome[];
  readonly actions: readonly PolicyAction[];
  readonly reclaims: number;
  readonly recommendation: ScalingPolicyStatus['recommendation'];
}

/** How limits move when requests do. */
export type LimitRule = ControlledValues;

/** CPU limits rise to this share above the window's peak CPU demand (VPA's safety margin); memory limits use the policy's memoryMargin. */
export const CPU_LIMIT_MARGIN = 0.15;

export const fmt = (r: Res, x: number): string => (r === 'cpu' ? formatCpu(Math.round(x * 1000)) : formatMemory(x));

interface PodView {
  readonly status?: {
    readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] | null;
    readonly containerStatuses?: readonly { name: string; allocatedResources?: Record<string, string | number> }[] | null;
  } | null;
  readonly spec: { readonly containers: readonly { name: string; resizePolicy?: readonly { resourceName: string; restartPolicy: string }[] }[] };
}

const UNLIMITED = { cpu: Infinity, memory: Infinity } as const;
const NO_RESIZE: ResizeState = { kind: 'none' };
const NO_MIN_CHANGE = { cpu: 0, memory: 0 } as const;

function resizeState(pod: Pod): ResizeState {
  const conds = (pod as unknown as PodView).status?.conditions ?? [];
  const pending = conds.find((c) => c.type === 'PodResizePending' && c.status === 'True');
  if (pending?.reason === 'Infeasible') return { kind: 'infeasible', message: pending.message ?? '' };
  if (pending) return { kind: 'deferred', message: pending.message ?? '' };
  if (conds.some((c) => c.type === 'PodResizeInProgress' && c.status === 'True')) return { kind: 'in-progress' };
  return NO_RESIZE;
}

type Container = Pod['spec']['containers'][number];
/** What a round reads of one container, from its object alone: requests and limits as amounts, the resources its resizePolicy restarts it for, and `sig`, all of that as one string. */
interface ContainerView {
  readonly request: { readonly cpu: number; readonly memory: number };
  readonly limit: { readonly cpu?: number; readonly memory?: number };
  readonly restartOn: readonly Res[];
  readonly sig: string;
}
/**
 * Kept per container object: a pod's containers are the same objects round after round
 * until a resize replaces them, and 100,000 pods are looked at every round.
 */
const viewMemo = new WeakMap<Container, ContainerView>();
function containerView(c: Container): ContainerView {
  let v = viewMemo.get(c);
  if (!v) {
    const request = { cpu: amountOf(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu) ?? 0, memory: amountOf(c.resources?.requests?.memory ?? c.resources?.limits?.memory) ?? 0 };
    const lc = amountOf(c.resources?.limits?.cpu);
    const lm = amountOf(c.resources?.limits?.memory);
    const restartOn = ((c as PodView['spec']['containers'][number]).resizePolicy ?? []).filter((p) => p.restartPolicy === 'RestartContainer').map((p) => p.resourceName as Res);
    v = {
      request,
      limit: { ...(lc !== undefined ? { cpu: lc } : {}), ...(lm !== undefined ? { memory: lm } : {}) },
      restartOn,
      sig: `${c.name}|${request.cpu}|${request.memory}|${lc}|${lm}|${restartOn.join(',')}`,
    };
    viewMemo.set(c, v);
  }
  return v;
}

/** Pods whose containers read the same (name, requests, limits, restart policy) size the same under one policy in one round, unless a resize is in flight. */
function sizingKey(pod: Pod): string {
  const cs = pod.spec.containers;
  if (cs.length === 1) return containerView(cs[0]!).sig;
  let k = '';
  for (const c of cs) k += `${containerView(c).sig}\n`;
  return k;
}

function containersOf(policy: ScalingPolicy, pod: Pod): ContainerSizing[] {
  const view = pod as unknown as PodView;
  return pod.spec.containers.map((c) => {
    const b = containerBounds(policy.spec, c.name);
    const alloc = view.status?.containerStatuses?.find((s) => s.name === c.name)?.allocatedResources;
    const v = containerView(c);
    const req = { ...v.request };
    return {
      name: c.name,
      request: req,
      limit: v.limit,
      ...(alloc ? { allocated: { cpu: amountOf(alloc.cpu) ?? req.cpu, memory: amountOf(alloc.memory) ?? req.memory } } : {}),
      min: b.min,
      max: b.max,
      restartOn: v.restartOn,
    };
  });
}

export function toResize(d: PodDecision): PodResize {
  const out: Record<string, { requests: Record<string, string>; limits?: Record<string, string> }> = {};
  for (const c of d.containers) {
    const limits: Record<string, string> = {};
    if (c.limits.cpu !== undefined) limits.cpu = formatCpu(Math.round(c.limits.cpu * 1000));
    if (c.limits.memory !== undefined) limits.memory = formatMemory(c.limits.memory);
    out[c.name] = { requests: { cpu: formatCpu(Math.round(c.requests.cpu * 1000)), memory: formatMemory(c.requests.memory) }, ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  }
  return out;
}

function describeResize(before: readonly ContainerSizing[], d: PodDecision): string {
  const parts: string[] = [];
  d.containers.forEach((c, i) => {
    const b = before[i];
    if (!b) return;
    for (const r of RES) if (c.requests[r] !== b.request[r]) parts.push(`${c.name} ${r} ${fmt(r, b.request[r])} -> ${fmt(r, c.requests[r])}`);
  });
  return parts.join(', ') || 'limits only';
}

export class Actuator {
  constructor(
    private readonly o: {
      readonly writer: ClusterWriter;
      readonly reclaimer?: NodeReclaimer | undefined;
      readonly telemetry: AutoscalerTelemetry;
      readonly reporter: PolicyReporter;
      /** Changes smaller than this share of the request are skipped, per resource, where a policy does not say (its spec.minChange wins). */
      readonly minChange: { readonly cpu: number; readonly memory: number };
      readonly now: () => number;
      /** How limits move for a policy that does not say (its spec.controlledValues wins; core/autoscale/policy.ts). */
      readonly limits: LimitRule;
      /** The usage window (minutes) whose peak the limits rise to. */
      readonly usageMinutes: number;
    },
  ) {}

  async act(m: Managed, ap: AppPlan, nodeFree: Map<string, { cpu: number; memory: number }>): Promise<Actuation> {
    const { policy, pods, window: w } = m;
    const spec = policy.spec;
    const rep = this.o.reporter;
    const time = new Date(this.o.now()).toISOString();
    const replicas = pods.length;
    const target = { cpu: ap.allocation.cpu / replicas, memory: ap.allocation.memory / replicas };
    const actions: PolicyAction[] = [];
    const seen = policy.status.lastActions ?? [];
    // Reported once: the same pod, reason and message; a node still full for the pod (the amount it lacks moves with the demand).
    const full = policy.status.conditions?.find((c) => c.type === 'NodeFull' && c.status === 'True');
    // The pods the last round found on a full node (its message lists `pod on node`), read once per round.
    const fullPods = new Set((full?.message ?? '').split(', ').filter((x) => x.includes(' on ')).map((x) => x.slice(0, x.lastIndexOf(' on '))));
    const already = (a: { pod?: string; reason: string; message: string }): boolean =>
      (a.reason === 'NodeFull' && a.pod !== undefined && fullPods.has(a.pod)) ||
      seen.some((s) => s.pod === a.pod && s.reason === a.reason && s.message === a.message);
    const add = (a: Omit<PolicyAction, 'time'>): void => {
      actions.push({ time, ...a });
    };
    for (const a of ap.actions) {
      if (a.resource !== 'cpu' && a.resource !== 'memory') continue;
      add({ kind: `plan-${a.kind}`, resource: a.resource, from: fmt(a.resource, a.from), to: fmt(a.resource, a.to), reason: a.reason, message: a.detail });
    }

    const controlledValues = spec.controlledValues ?? this.o.limits;
    const limitFloor = controlledValues === 'RaiseOnly' ? { cpu: windowMax(w.cpu, this.o.usageMinutes) * (1 + CPU_LIMIT_MARGIN), memory: windowMax(w.mem, this.o.usageMinutes) / (1 - spec.memoryMargin) } : undefined;
    const latestMem = w.mem[w.mem.length - 1];
    const latestCpu = w.cpu[w.cpu.length - 1];
    const outcomes: PodOutcome[] = [];
    let reclaims = 0;
    const acting = spec.mode === 'InPlace' || spec.mode === 'Recreate';

    // Old generation's memory: reclaimed on the node first, so the kernel frees pages before the limit drops.
    const reclaim = ap.actions.find((a) => a.kind === 'proactive-reclaim' && a.resource === 'memory');
    if (reclaim && acting && this.o.reclaimer) {
      const bytes = Math.ceil(reclaim.amount / replicas);
      for (const p of pods) {
        const r = await this.o.reclaimer.reclaim(p.spec.nodeName ?? '', { podUid: p.metadata.uid ?? '', bytes });
        this.o.telemetry.action('reclaim', r.ok ? 'ok' : 'failed');
        const msg = r.ok ? `proactive reclaim of ${formatMemory(bytes)} on ${p.spec.nodeName ?? ''}: memory ${formatMemory(r.before)} -> ${formatMemory(r.after)}` : `proactive reclaim of ${formatMemory(bytes)} on ${p.spec.nodeName ?? ''} failed (${r.kind}): ${r.message}`;
        if (r.ok) reclaims++;
        add({ kind: 'reclaim', pod: podKey(p), resource: 'memory', reason: r.ok ? 'ProactiveReclaim' : 'ProactiveReclaimFailed', message: msg });
        await rep.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? 'ProactiveReclaim' : 'ProactiveReclaimFailed', msg);
      }
    }

    let recommendation: ScalingPolicyStatus['recommendation'];
    let evicted = false;
    const usage = { memory: latestMem, cpu: latestCpu };
    const minChange = { cpu: spec.minChange?.cpu ?? this.o.minChange.cpu, memory: spec.minChange?.memory ?? this.o.minChange.memory };
    // One shape for every call (no spread: 100,000 of these a round).
    const input = (containers: readonly ContainerSizing[], free: { cpu: number; memory: number }, resize: ResizeState, allowRestart: boolean, change: { cpu: number; memory: number }): PodDecisionInput => ({
      containers, target, manage: spec.resources, usage, memoryMargin: spec.memoryMargin, nodeFree: free, resize, minChange: change, allowRestart, limitFloor, controlledValues,
    });
    const allowRestart = spec.mode === 'Recreate';
    // Per sizing (sizingKey), the decision of a pod with no resize in flight on a node with room for anything. When
    // that changes nothing, it is the decision of every such pod of that sizing, whatever room its node has (the room
    // is read only for an increase, which would be a change): the pod takes it as it is, no decision of its own is built.
    const unlimited = new Map<string, PodDecision>();
    for (const p of pods) {
      const node = p.spec.nodeName ?? '';
      const rs = resizeState(p);
      let d: PodDecision | undefined;
      let containers: ContainerSizing[] | undefined;
      if (rs.kind === 'none') {
        const key = sizingKey(p);
        d = unlimited.get(key);
        if (!d) {
          containers = containersOf(policy, p);
          d = decidePod(input(containers, UNLIMITED, rs, allowRestart, minChange));
          unlimited.set(key, d);
        }
        if (d.kind !== 'none') d = undefined;
      }
      if (recommendation === undefined) {
        containers ??= containersOf(policy, p);
        recommendation = decidePod(input(containers, UNLIMITED, NO_RESIZE, true, NO_MIN_CHANGE)).containers.map((c) => ({
          container: c.name,
          requests: { cpu: formatCpu(Math.round(c.requests.cpu * 1000)), memory: formatMemory(c.requests.memory) },
          ...(c.limits.cpu !== undefined || c.limits.memory !== undefined
            ? { limits: { ...(c.limits.cpu !== undefined ? { cpu: formatCpu(Math.round(c.limits.cpu * 1000)) } : {}), ...(c.limits.memory !== undefined ? { memory: formatMemory(c.limits.memory) } : {}) } }
            : {}),
        }));
      }
      if (!d) {
        containers ??= containersOf(policy, p);
        d = decidePod(input(containers, nodeFree.get(node) ?? { cpu: 0, memory: 0 }, rs, allowRestart, minChange));
      }
      let done = 'nothing';
      for (const n of d.notes) {
        if (n.reason !== 'NodeFull' && n.reason !== 'ResizeInfeasible' && n.reason !== 'NeedsRestart') continue;
        const a = { pod: podKey(p), reason: n.reason, message: n.message };
        if (already(a)) continue;
        add({ kind: 'report', ...(n.resource ? { resource: n.resource } : {}), ...a });
        await rep.event(policy, p, 'Warning', n.reason, n.message);
        done = 'reported';
      }
      if (!acting) {
        outcomes.push({ pod: podKey(p), node, decision: d, done: d.kind === 'resize' ? 'recommended' : done });
        continue;
      }
      if (d.kind === 'resize' && spec.mode === 'InPlace') {
        const r = await this.o.writer.resizePod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, toResize(d));
        this.o.telemetry.action('resize', r.ok ? 'ok' : 'failed');
        const before = containers ?? containersOf(policy, p);
        const msg = describeResize(before, d) + (r.ok ? '' : ` failed: ${r.error.message}`);
        add({ kind: 'resize', pod: podKey(p), reason: r.ok ? 'Resized' : 'ResizeFailed', message: msg });
        await rep.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? 'Resized' : 'ResizeFailed', msg);
        const free = nodeFree.get(node);
        if (r.ok && free) {
          for (const res of RES) {
            const delta = d.containers.reduce((s, c) => s + c.requests[res], 0) - before.reduce((s, c) => s + c.request[res], 0);
            free[res] -= delta;
            if (delta < 0) this.o.telemetry.release(res === 'cpu' ? 'CpuLowered' : 'MemoryLowered');
          }
        }
        done = r.ok ? 'resized' : 'failed';
      } else if (d.kind === 'revert') {
        const r = await this.o.writer.resizePod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' }, toResize(d));
        this.o.telemetry.action('revert', r.ok ? 'ok' : 'failed');
        done = r.ok ? 'reverted' : 'failed';
      } else if ((d.kind === 'resize' && spec.mode === 'Recreate') || (d.nodeFull && spec.migrateWhenNodeFull)) {
        if (evicted) {
          done = 'waiting';
        } else {
          evicted = true;
          const r = await this.o.writer.evictPod({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' });
          const why = d.kind === 'resize' && spec.mode === 'Recreate' ? 'Recreated' : 'HandedToMigration';
          const msg = r.ok ? `${why === 'Recreated' ? 'evicted to be recreated with the recommendation' : 'the node cannot take the increase; evicted to be placed elsewhere'}` : `eviction refused: ${r.message}`;
          this.o.telemetry.action('evict', r.ok ? 'ok' : 'failed');
          add({ kind: 'evict', pod: podKey(p), reason: r.ok ? why : 'EvictionRefused', message: msg });
          await rep.event(policy, p, r.ok ? 'Normal' : 'Warning', r.ok ? why : 'EvictionRefused', msg);
          done = r.ok ? 'evicted' : 'refused';
        }
      } else if (d.kind === 'wait') done = 'waiting';
      outcomes.push({ pod: podKey(p), node, decision: d, done });
    }
    return { pods: outcomes, actions, reclaims, recommendation };
  }
}
