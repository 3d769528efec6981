/**
 * A placement decision is a plain value: which node, which platform, which image
 * variant per container, the best nodes with their per-plugin scores, and for a pod
 * that cannot be placed the kube-scheduler-style summary of why each node refused it.
 */

import type { Pod } from '../k8s/types.ts';
import type { CycleResult, Framework, NodeScore } from './framework.ts';

export type Outcome = 'scheduled' | 'unschedulable' | 'invalid';

export interface ImageChoice {
  readonly container: string;
  readonly init: boolean;
  /** The architecture-neutral reference the user wrote (recorded in polyarch.io/source-images). */
  readonly original: string;
  /** The variant's reference, pinned by digest. */
  readonly image: string;
  readonly platform: string;
  /** True when the variant was built for exactly the node's platform, false for a compatible lower level. */
  readonly exact: boolean;
  /**
   * Whether `image` is written into the pod (S4). False when the node's runtime pulls
   * exactly this variant from what the pod already names (see schedule.ts mustWrite)
   * and the framework does not pin images: the pod then keeps its reference.
   */
  readonly write: boolean;
}

export interface Decision {
  /** namespace/name */
  readonly pod: string;
  readonly outcome: Outcome;
  readonly node: string | null;
  readonly platform: string | null;
  /** Container name -> pinned reference; empty unless scheduled. */
  readonly images: Readonly<Record<string, string>>;
  /** One line: why this node, or why none. */
  readonly reason: string;
  readonly priority: number;
  readonly nodes: { readonly total: number; readonly evaluated: number; readonly feasible: number };
  /** Filter reason -> number of nodes that refused the pod for it. */
  readonly failures: Readonly<Record<string, number>>;
  /** Platforms every image of the pod exists for (empty when unknown). */
  readonly supportedPlatforms: readonly string[];
  readonly choices: readonly ImageChoice[];
  /** The chosen node first, then the runners-up. */
  readonly candidates: readonly NodeScore[];
  /** The pod as it will be created: images replaced, annotations written, spec.nodeName set. */
  readonly boundPod: Pod | null;
}

/**
 * kube-scheduler's FitError message: "0/12 nodes are available: 4 Insufficient cpu,
 * 5 node(s) had untolerated taint {k: v}." — each entry "count reason", sorted as
 * strings as kube-scheduler sorts them.
 */
export function failureSummary(total: number, failures: ReadonlyMap<string, number> | Readonly<Record<string, number>>): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const entries = failures instanceof Map ? [...failures.entries()] : Object.entries(failures);
  const parts = entries.map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}

/** The success line: "best of 9 feasible node(s) of 12, score 412 (LeastAllocated 85x1, ...)". */
export function successSummary(fw: Framework, cycle: CycleResult): string {
  const top = cycle.candidates[0];
  if (!top) return '';
  const parts = fw.scores.map(({ plugin, weight }) => `${plugin.name} ${top.scores[plugin.name] ?? 0}x${weight}`);
  const of = cycle.evaluated < cycle.total ? `${cycle.evaluated} examined of ${cycle.total}` : `${cycle.total}`;
  return `best of ${cycle.feasible} feasible node(s) of ${of}, score ${top.total} (${parts.join(', ')})`;
}
