/**
 * What the autoscaler needs besides the cluster ports: the ScalingPolicy objects (the
 * store of record for marks and recommendations, so a restarted replica carries on), the
 * node probes' proactive reclaim, and somewhere to count what it did.
 */
import type { ParsedPolicy, ScalingPolicyStatus } from '../core/autoscale/policy.ts';
import type { WriteResult } from './cluster.ts';

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ScalingPolicyStore {
  /** Every ScalingPolicy, validated; an invalid one comes back with its error. */
  list(): Promise<readonly ParsedPolicy[]>;
  /** Replaces the status (status subresource, merge patch). */
  writeStatus(ref: PolicyRef, status: ScalingPolicyStatus): Promise<WriteResult>;
  /** An event whose involved object is the policy. */
  recordEvent(ref: PolicyRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export type NodeReclaimResult =
  | { readonly ok: true; readonly before: number; readonly after: number }
  | { readonly ok: false; readonly kind: string; readonly message: string };

/** Proactive memory reclaim on a pod's node (the probe's POST /reclaim, cgroup v2 memory.reclaim). */
export interface NodeReclaimer {
  reclaim(node: string, request: { readonly podUid: string; readonly container?: string; readonly bytes: number }): Promise<NodeReclaimResult>;
}

export interface AutoscalerTelemetry {
  /** Cores or bytes taken back, by generation (young, old) and reason (the plan's reason code). */
  reclaimed(resource: 'cpu' | 'memory', generation: string, reason: string, amount: number): void;
  /** One release or compaction applied to a pod. */
  release(reason: string): void;
  /** Demand the plan could not grant now (cores, bytes). */
  unmet(resource: 'cpu' | 'memory', amount: number): void;
  /** |forecast − actual| as a share of the request, when the minute forecast arrives. */
  forecastError(resource: 'cpu' | 'memory', error: number): void;
  /** One action on a pod by kind (resize, revert, evict, reclaim, recommend) and result. */
  action(kind: string, result: 'ok' | 'failed' | 'skipped'): void;
}

export const noAutoscalerTelemetry: AutoscalerTelemetry = {
  reclaimed: () => undefined,
  release: () => undefined,
  unmet: () => undefined,
  forecastError: () => undefined,
  action: () => undefined,
};
