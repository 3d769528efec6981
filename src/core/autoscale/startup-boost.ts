/**
 * CPU startup boost (issue 17 item 3), after VPA's AEP-7862 (`startupBoost`, VPA 1.7
 * alpha): a ScalingPolicy can give its containers more CPU from creation until the pod is
 * Ready (plus `durationSeconds`), then take it back in place (pods/resize). Pure: the boost
 * written at admission and the resize that undoes it.
 *
 * - `Factor`: the CPU request times the factor; `Quantity`: the request plus the quantity.
 * - The limit is raised by the same ratio when the container has one (its limit/request
 *   ratio is kept, so the QoS class does not change); without a limit it stays unset.
 * - Unlike VPA (whose boost may exceed maxAllowed), never above the policy's maximum CPU
 *   for the container, nor above the room of the largest node (the pod must still fit
 *   somewhere): the boost is capped and the reason says so; no boost when nothing is left.
 * - The original values are recorded in the pod (annotation polyarch.io/startup-boost),
 *   which the autoscaler reads back to restore them: no other state.
 */
import { allocatableAmounts, podResources } from '../k8s/resources.ts';
import type { Node, Pod } from '../k8s/types.ts';
import { z } from 'zod';
import { amountOf, formatCpu } from '../units/amounts.ts';

export const STARTUP_BOOST_ANNOTATION = 'polyarch.io/startup-boost';

const cpuQuantity = z.union([z.string(), z.number()]).refine((q) => {
  const v = amountOf(q);
  return v !== undefined && v > 0;
}, 'not a positive CPU quantity (e.g. 500m, 2)');

export const startupBoostSchema = z.strictObject({
  cpu: z
    .strictObject({
      type: z.enum(['Factor', 'Quantity']),
      factor: z.number().min(1).max(100).optional(),
      quantity: cpuQuantity.optional(),
      /** How long the boost stays after the pod is Ready (VPA's default: 0). */
      durationSeconds: z.number().int().min(0).max(86_400).default(0),
    })
    .refine((c) => (c.type === 'Factor' ? c.factor !== undefined && c.quantity === undefined : c.quantity !== undefined && c.factor === undefined), {
      message: 'type Factor takes factor (not quantity); type Quantity takes quantity (not factor)',
      path: ['type'],
    }),
});
export type StartupBoost = z.infer<typeof startupBoostSchema>;

/** One container's CPU as written in the pod, in millicores (undefined: not set). */
export interface ContainerCpu {
  readonly name: string;
  readonly requestMilli: number | undefined;
  readonly limitMilli: number | undefined;
}

export interface BoostedContainer {
  readonly name: string;
  readonly from: { readonly request: string; readonly limit?: string };
  readonly to: { readonly request: string; readonly limit?: string };
}

export interface BoostPlan {
  readonly containers: readonly BoostedContainer[];
  /** Why each container was boosted as it was, or not at all. */
  readonly reasons: readonly string[];
}

/**
 * The boosted CPU of each container. `maxMilli(name)` is the policy's maximum for the
 * container (undefined: none); `roomMilli` the CPU the pod may have at most so it still
 * fits a node (serve's webhook: largestFreeCpuMilli; the simulator: the largest node's
 * allocatable; undefined: no cap). A container with no CPU request is not boosted (there is nothing to scale).
 */
export function planBoost(containers: readonly ContainerCpu[], boost: StartupBoost, maxMilli: (name: string) => number | undefined, roomMilli: number | undefined): BoostPlan {
  const out: BoostedContainer[] = [];
  const reasons: string[] = [];
  // The whole pod must fit the room: share it in proportion to the requests.
  const totalRequest = containers.reduce((s, c) => s + (c.requestMilli ?? 0), 0);
  for (const c of containers) {
    const req = c.requestMilli;
    if (!req || req <= 0) {
      reasons.push(`${c.name}: no CPU request, not boosted`);
      continue;
    }
    const want = boost.cpu.type === 'Factor' ? Math.round(req * (boost.cpu.factor ?? 1)) : req + Math.round((amountOf(boost.cpu.quantity) ?? 0) * 1000);
    let to = want;
    const why: string[] = [];
    const max = maxMilli(c.name);
    if (max !== undefined && to > max) {
      to = max;
      why.push(`capped at the policy's maximum ${formatCpu(max)}`);
    }
    if (roomMilli !== undefined && totalRequest > 0) {
      // This container's share of the largest node, with the other containers boosted alike.
      const share = Math.floor((roomMilli * req) / totalRequest);
      if (to > share) {
        to = share;
        why.push(`capped at the largest node's room ${formatCpu(share)}`);
      }
    }
    if (to <= req) {
      reasons.push(`${c.name}: not boosted (${why.join(', ') || 'factor 1'}; request ${formatCpu(req)})`);
      continue;
    }
    const limit = c.limitMilli !== undefined ? Math.max(c.limitMilli, Math.round((c.limitMilli * to) / req)) : undefined;
    out.push({
      name: c.name,
      from: { request: formatCpu(req), ...(c.limitMilli !== undefined ? { limit: formatCpu(c.limitMilli) } : {}) },
      to: { request: formatCpu(to), ...(limit !== undefined ? { limit: formatCpu(limit) } : {}) },
    });
    reasons.push(`${c.name}: CPU ${formatCpu(req)} -> ${formatCpu(to)} until Ready${why.length ? ` (${why.join(', ')})` : ''}`);
  }
  return { containers: out, reasons };
}

/** The annotation value recording the originals (and when to take the boost back after Ready). */
export function boostAnnotation(plan: BoostPlan, boost: StartupBoost): string {
  return JSON.stringify({ durationSeconds: boost.cpu.durationSeconds, containers: Object.fromEntries(plan.containers.map((c) => [c.name, c.from])) });
}

export interface RecordedBoost {
  readonly durationSeconds: number;
  readonly containers: Readonly<Record<string, { readonly request: string; readonly limit?: string }>>;
}

const recordedSchema = z.object({
  durationSeconds: z.number().int().min(0).default(0),
  containers: z.record(z.string(), z.object({ request: cpuQuantity, limit: cpuQuantity.optional() })),
});

/** The recorded originals, or undefined when the annotation is absent or not polyarch's. */
export function parseBoostAnnotation(text: string | undefined | null): RecordedBoost | undefined {
  if (!text) return undefined;
  try {
    const r = recordedSchema.safeParse(JSON.parse(text));
    return r.success ? (r.data as RecordedBoost) : undefined;
  } catch {
    return undefined;
  }
}

export interface PodReadiness {
  /** When the pod's Ready condition last became True (ms), undefined while not Ready. */
  readonly readySinceMs: number | undefined;
}

/**
 * The in-place resize that takes the boost back: due once the pod has been Ready for
 * `durationSeconds`. Per container, the recorded request (and limit).
 */
export function unboostDue(recorded: RecordedBoost, pod: PodReadiness, nowMs: number): { due: true; resize: Record<string, { requests: { cpu: string }; limits?: { cpu: string } }> } | { due: false; reason: string } {
  if (pod.readySinceMs === undefined) return { due: false, reason: 'not Ready yet' };
  const left = pod.readySinceMs + recorded.durationSeconds * 1000 - nowMs;
  if (left > 0) return { due: false, reason: `Ready; boost kept ${Math.ceil(left / 1000)} s more (durationSeconds)` };
  const resize: Record<string, { requests: { cpu: string }; limits?: { cpu: string } }> = {};
  for (const [name, c] of Object.entries(recorded.containers)) resize[name] = { requests: { cpu: c.request }, ...(c.limit !== undefined ? { limits: { cpu: c.limit } } : {}) };
  return { due: true, resize };
}

/** The parts of a pod the boost reads. */
export interface BoostPodLike {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> | null; readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[] | null } | null;
}

/** A policy as the boost reads it (core/autoscale/policy.ts ScalingPolicy). */
export interface BoostPolicyLike {
  readonly namespace: string;
  readonly name: string;
  readonly spec: {
    readonly targetRef?: { readonly kind: string; readonly name: string } | undefined;
    readonly selector?: { readonly matchLabels: Readonly<Record<string, string>> } | undefined;
    readonly startupBoost?: StartupBoost | undefined;
  };
}

/**
 * The policy with a startupBoost that manages a pod being created: by its selector, or by
 * its targetRef through the pod's owner (a Deployment's pods are owned by a ReplicaSet
 * named `<deployment>-<hash>`; a StatefulSet's and a DaemonSet's by the workload itself;
 * the simulator's controllers own pods by the workload directly).
 * The first by name when several match.
 */
export function boostPolicyFor<P extends BoostPolicyLike>(policies: readonly P[], pod: BoostPodLike, namespace: string): P | undefined {
  const labels = pod.metadata?.labels ?? {};
  const owners = pod.metadata?.ownerReferences ?? [];
  const manages = (p: P): boolean => {
    if (p.spec.selector) return Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
    const t = p.spec.targetRef;
    if (!t) return false;
    return owners.some((o) => (o.kind === t.kind && o.name === t.name) || (t.kind === 'Deployment' && o.kind === 'ReplicaSet' && o.name.replace(/-[^-]+$/, '') === t.name));
  };
  return policies
    .filter((p) => p.namespace === namespace && p.spec.startupBoost !== undefined && manages(p))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
}

/**
 * The room a boost may use: the most CPU (millicores) free on one schedulable node, its
 * allocatable less the requests of the pods bound to it that have not finished; undefined
 * with no node. A pod boosted to at most this still fits on that node.
 */
export function largestFreeCpuMilli(nodes: readonly Node[], pods: readonly Pod[]): number | undefined {
  const used = new Map<string, number>();
  for (const p of pods) {
    const on = p.spec.nodeName;
    if (!on || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const r = podResources(p);
    used.set(on, (used.get(on) ?? 0) + (r.ok ? r.value.requests.milliCPU : 0));
  }
  const free = nodes.filter((n) => !n.spec?.unschedulable).map((n) => allocatableAmounts(n).cpu - (used.get(n.metadata.name ?? '') ?? 0));
  return free.length ? Math.max(0, ...free) : undefined;
}
