/**
 * The ScalingPolicy custom resource (polyarch.io/v1alpha1): which workload the autoscaler
 * manages, how, and within which bounds; its status carries what it forecast, recommended
 * and did. Validated here (zod) at the edge; deploy/autoscaler/scalingpolicy-crd.yaml carries the
 * same shape as the CRD's OpenAPI schema.
 */
import { z } from 'zod';
import { amountOf } from '../units/amounts.ts';
import { quantity } from '../k8s/schema.ts';
import { startupBoostSchema } from './startup-boost.ts';

export const POLICY_GROUP = 'polyarch.io';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_PLURAL = 'scalingpolicies';
export const POLICY_KIND = 'ScalingPolicy';

export const MODES = ['Off', 'Recommend', 'InPlace', 'Recreate'] as const;
export type Mode = (typeof MODES)[number];
/**
 * How limits move, as VPA's `controlledValues`: RequestsAndLimits (VPA's default: limits keep
 * their ratio to the request), RequestsOnly (limits untouched, raised to the request only when
 * the request passes them), RaiseOnly (polyarch's default: never lowered, raised to the
 * window's peak demand with a margin).
 */
export const CONTROLLED_VALUES = ['RaiseOnly', 'RequestsAndLimits', 'RequestsOnly'] as const;
export type ControlledValues = (typeof CONTROLLED_VALUES)[number];


const bounds = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

export const scalingPolicySpecSchema = z
  .strictObject({
    targetRef: z.strictObject({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']), name: z.string().min(1) }).optional(),
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()) }).optional(),
    resources: z.array(z.enum(['cpu', 'memory'])).min(1).default(['cpu', 'memory']),
    containers: z
      .array(z.strictObject({ name: z.string().min(1), min: bounds.optional(), max: bounds.optional() }))
      .default([]),
    /** The headroom's floor, a share of the forecast. */
    headroom: z.number().min(0).max(10).default(0.05),
    forecast: z
      .strictObject({
        window: z.number().int().min(2).max(30).default(10),
        horizon: z.number().int().min(1).max(60).default(5),
        /** Headroom = this quantile of the forecaster's own recent errors (0: the floor alone). */
        errorQuantile: z.number().min(0).max(1).default(0.95),
        /** Minutes of recent errors it reads. */
        errorWindow: z.number().int().min(10).max(240).default(60),
      })
      .default({ window: 10, horizon: 5, errorQuantile: 0.95, errorWindow: 60 }),
    mode: z.enum(MODES).default('Recommend'),
    application: z.enum(['system', 'user']).default('user'),
    /** Overrides the pods' PriorityClass value in the reclaim score. */
    priority: z.number().int().optional(),
    /** Hand a pod whose node cannot take its increase to migration (evicted within its PodDisruptionBudget). */
    migrateWhenNodeFull: z.boolean().default(false),
    /** Memory is lowered only while usage stays below (1 - margin) x the new amount. */
    memoryMargin: z.number().min(0).max(0.9).default(0.1),
    /** More CPU from creation until Ready, taken back in place (startup-boost.ts). */
    startupBoost: startupBoostSchema.optional(),
    /** How limits move; unset: the autoscaler's default (RaiseOnly). */
    controlledValues: z.enum(CONTROLLED_VALUES).optional(),
    /**
     * Hysteresis, per resource: a request moves only when the target differs from it by at
     * least this share of it (VPA's updater acts only outside its bounds; an in-place resize
     * costs the kubelet and the API server); unset: the autoscaler's default (cpu 0.1,
     * memory 0.05). A limit raised to the usage peak is not held back by it.
     */
    minChange: z.strictObject({ cpu: z.number().min(0).max(1).optional(), memory: z.number().min(0).max(1).optional() }).optional(),
  })
  .refine((s) => (s.targetRef === undefined) !== (s.selector === undefined), { message: 'give exactly one of targetRef or selector', path: ['targetRef'] });

export type ScalingPolicySpec = z.infer<typeof scalingPolicySpecSchema>;

export interface ResourceAmounts {
  /** Cores (cpu) and bytes (memory). */
  readonly cpu?: number;
  readonly memory?: number;
}

export interface PolicyAction {
  readonly time: string;
  readonly pod?: string;
  readonly container?: string;
  readonly kind: string;
  readonly resource?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason: string;
  readonly message: string;
}

export interface PolicyCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface ScalingPolicyStatus {
  readonly observedGeneration?: number;
  readonly lastRunTime?: string;
  /** Forecast per-pod use, T minutes ahead (quantities), or why there is none. */
  readonly forecast?: {
    readonly horizonMinutes: number;
    readonly cpu?: string;
    readonly memory?: string;
    /** The margin above the forecast (per pod) and where it came from: `P95 of 60 errors` or `floor`. */
    readonly headroom?: { readonly cpu?: string; readonly memory?: string; readonly source?: string };
    readonly note?: string;
  };
  /** Per container, the requests (and limits, ratio kept) the autoscaler wants. */
  readonly recommendation?: readonly { readonly container: string; readonly requests: Record<string, string>; readonly limits?: Record<string, string> }[];
  /** Old surplus marked by the last plan (cores, bytes for the whole application): the next plan compacts it. */
  readonly marks?: { readonly cpu?: number; readonly memory?: number };
  /** Most recent first, at most MAX_ACTIONS. */
  readonly lastActions?: readonly PolicyAction[];
  readonly conditions?: readonly PolicyCondition[];
}

export const MAX_ACTIONS = 20;

const statusSchema = z
  .object({
    marks: z.object({ cpu: z.number().nonnegative().optional(), memory: z.number().nonnegative().optional() }).loose().optional(),
    lastActions: z.array(z.object({}).loose()).optional(),
    conditions: z.array(z.object({}).loose()).optional(),
  })
  .loose();

export interface ScalingPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  readonly spec: ScalingPolicySpec;
  readonly status: ScalingPolicyStatus;
}

export type ParsedPolicy = { readonly ok: true; readonly value: ScalingPolicy } | { readonly ok: false; readonly namespace: string; readonly name: string; readonly error: string };

/** A ScalingPolicy object as the API returns it, validated; a bad spec names the field. */
export function parseScalingPolicy(obj: unknown): ParsedPolicy {
  const o = (obj ?? {}) as { metadata?: { name?: string; namespace?: string; generation?: number }; spec?: unknown; status?: unknown };
  const namespace = o.metadata?.namespace ?? 'default';
  const name = o.metadata?.name ?? '';
  const spec = scalingPolicySpecSchema.safeParse(o.spec ?? {});
  if (!spec.success) {
    const i = spec.error.issues[0]!;
    const path = i.path.map(String).join('.');
    return { ok: false, namespace, name, error: `spec${path ? `.${path}` : ''}: ${i.message}` };
  }
  const status = statusSchema.safeParse(o.status ?? {});
  return {
    ok: true,
    value: { namespace, name, generation: o.metadata?.generation ?? 0, spec: spec.data, status: (status.success ? status.data : {}) as ScalingPolicyStatus },
  };
}

export interface ContainerBounds {
  readonly min: ResourceAmounts;
  readonly max: ResourceAmounts;
}

/** Bounds per spec object and container name: every pod of a policy asks every round, the answer only changes with the spec. */
const boundsMemo = new WeakMap<ScalingPolicySpec, Map<string, ContainerBounds>>();

/** Per-container bounds in base units (cores, bytes); a container without an entry takes the `*` entry. */
export function containerBounds(spec: ScalingPolicySpec, container: string): ContainerBounds {
  let byName = boundsMemo.get(spec);
  if (!byName) boundsMemo.set(spec, (byName = new Map()));
  let b = byName.get(container);
  if (!b) {
    const e = spec.containers.find((c) => c.name === container) ?? spec.containers.find((c) => c.name === '*');
    const conv = (x: { cpu?: string | number | undefined; memory?: string | number | undefined } | undefined): ResourceAmounts => ({
      ...(x?.cpu !== undefined ? { cpu: amountOf(x.cpu) ?? 0 } : {}),
      ...(x?.memory !== undefined ? { memory: amountOf(x.memory) ?? 0 } : {}),
    });
    byName.set(container, (b = Object.freeze({ min: Object.freeze(conv(e?.min)), max: Object.freeze(conv(e?.max)) })));
  }
  return b;
}
