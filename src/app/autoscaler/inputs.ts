/**
 * The autoscaler's inputs: which running pods each ScalingPolicy manages, and the plan's
 * input for each (allocation, usage window, bounds, marks, forecast settings), plus the
 * free room Q the plan may grant from.
 */
import { podKey } from '../../core/k8s/types.ts';
import type { Node, Pod } from '../../core/k8s/types.ts';
import { appOfPod } from '../../core/probe/app-of.ts';
import { RES, type Res } from '../../core/autoscale/decide.ts';
import { containerBounds, type ScalingPolicy } from '../../core/autoscale/policy.ts';
import type { AppInput } from '../../core/scaling/types.ts';
import { allocatableAmounts, podRequestAmounts } from '../../core/k8s/resources.ts';
import type { AppWindow } from './feeder.ts';

export interface Managed {
  readonly policy: ScalingPolicy;
  readonly key: string;
  /** The workloads (`namespace/name`) whose usage windows the policy reads. */
  readonly apps: readonly string[];
  readonly pods: readonly Pod[];
  readonly window: AppWindow;
  /** Requests of one pod (cores, bytes), summed over its containers. */
  readonly perPod: { readonly cpu: number; readonly memory: number };
}

const appKeyOf = (p: Pod): string => appOfPod(p as Parameters<typeof appOfPod>[0]);

/** A pod's effective requests in cores and bytes (core/k8s/resources.ts, as the scheduler counts them; kept per spec object there). */
export function requestsOf(pod: Pod): { cpu: number; memory: number } {
  const r = podRequestAmounts(pod);
  return { cpu: r.cpu / 1000, memory: r.mem };
}

function matches(policy: ScalingPolicy, pod: Pod, appKey: string): boolean {
  if ((pod.metadata.namespace ?? 'default') !== policy.namespace) return false;
  const t = policy.spec.targetRef;
  if (t) {
    const owner = pod.metadata.ownerReferences?.find((r) => r.controller) ?? pod.metadata.ownerReferences?.[0];
    if (!owner) return false;
    // Through its ReplicaSet on a cluster; the simulator's controller owns pods directly.
    if (t.kind === 'Deployment') return (owner.kind === 'ReplicaSet' && appKey === `${policy.namespace}/${t.name}`) || (owner.kind === 'Deployment' && owner.name === t.name);
    return owner.kind === t.kind && owner.name === t.name;
  }
  const sel = policy.spec.selector?.matchLabels ?? {};
  return Object.entries(sel).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

export interface Selection {
  readonly policy: ScalingPolicy;
  readonly pods: readonly Pod[];
  readonly apps: readonly string[];
}

/** Each running pod to the first policy (in name order) that targets it; Off policies take none. */
export function selectPods(policies: readonly ScalingPolicy[], pods: readonly Pod[]): { selections: Selection[]; taken: ReadonlySet<Pod> } {
  const byApp = new Map<string, Pod[]>();
  const appKey = new Map<Pod, string>();
  for (const p of pods) {
    const k = appKeyOf(p);
    appKey.set(p, k);
    const list = byApp.get(k);
    if (list) list.push(p);
    else byApp.set(k, [p]);
  }
  const taken = new Set<Pod>();
  const selections: Selection[] = [];
  for (const policy of policies) {
    if (policy.spec.mode === 'Off') continue;
    // A workload target looks its pods up by owner; only a selector scans them all.
    const candidates = policy.spec.targetRef ? (byApp.get(`${policy.namespace}/${policy.spec.targetRef.name}`) ?? []) : pods;
    const keyed: { pod: Pod; key: string }[] = [];
    for (const p of candidates) if (!taken.has(p) && matches(policy, p, appKey.get(p)!)) keyed.push({ pod: p, key: podKey(p) });
    keyed.sort((a, b) => (a.key < b.key ? -1 : 1));
    const mine = keyed.map((x) => x.pod);
    for (const p of mine) taken.add(p);
    const apps = policy.spec.targetRef ? [`${policy.namespace}/${policy.spec.targetRef.name}`] : [...new Set(mine.map((p) => appKey.get(p)!))];
    selections.push({ policy, pods: mine, apps });
  }
  return { selections, taken };
}

/** The plan's input for one managed policy; `recommended` is a per-pod target from another forecaster (the VPA recommender). */
export function appInput(m: Managed, nowMs: number, recommended?: { cpu: number; memory: number }): AppInput {
  const { policy, pods, window: w, perPod } = m;
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
  const marks = policy.status.marks;
  return {
    name: m.key,
    priority: spec.priority ?? pods[0]!.spec.priority ?? 0,
    system: spec.application === 'system',
    runningMinutes: Math.max(0, (nowMs - w.firstMs) / 60_000),
    allocation: { ...alloc, network: 0, disk: 0 },
    pods: replicas,
    // Demand of the application: one pod's highest demand x replicas (network and disk: the probes' utilisations, score only).
    demand: { cpu: w.cpu.map((x) => x * replicas), mem: w.mem.map((x) => x * replicas), net: w.net, disk: w.disk },
    min,
    max,
    ...(marks && (marks.cpu || marks.memory) ? { marked: { ...(marks.cpu ? { cpu: marks.cpu } : {}), ...(marks.memory ? { memory: marks.memory } : {}) } } : {}),
    forecast: { window: spec.forecast.window, horizon: spec.forecast.horizon, headroom: spec.headroom, errorQuantile: spec.forecast.errorQuantile, errorWindow: spec.forecast.errorWindow },
    ...(recommended ? { recommended: { cpu: recommended.cpu * replicas, memory: recommended.memory * replicas } } : {}),
  };
}

/** Free room the plan grants from: ready, schedulable allocatable minus what unmanaged pods request. */
export function freeCapacity(nodes: readonly Node[], pods: readonly Pod[], managed: ReadonlySet<Pod>): { cpu: number; memory: number } {
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
    const r = podRequestAmounts(p);
    cpu -= r.cpu / 1000;
    memory -= r.mem;
  }
  return { cpu: Math.max(0, cpu), memory: Math.max(0, memory) };
}

/** Per node: allocatable minus every running pod's requests (updated as resizes go out). */
export function nodeFree(nodes: readonly Node[], pods: readonly Pod[]): Map<string, { cpu: number; memory: number }> {
  const free = new Map<string, { cpu: number; memory: number }>();
  for (const n of nodes) {
    const a = allocatableAmounts(n);
    free.set(n.metadata.name ?? '', { cpu: a.cpu / 1000, memory: a.mem });
  }
  for (const p of pods) {
    const f = free.get(p.spec.nodeName ?? '');
    if (!f) continue;
    const r = podRequestAmounts(p);
    f.cpu -= r.cpu / 1000;
    f.memory -= r.mem;
  }
  return free;
}
