/** Plugin contracts, after kube-scheduler's framework (Filter, Score, NormalizeScore). */

import type { NodeInfo, NodeTable } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { ClusterSnapshot } from './snapshot.ts';
import type { Status } from './status.ts';

export const MAX_NODE_SCORE = 100;

export interface FilterPlugin {
  readonly name: string;
  /**
   * True when the verdict reads the node's running totals (requests, pod count, host
   * ports); otherwise it reads only what the node was created with (labels, taints,
   * platform, allocatable, images, conditions), so the placement index computes it once
   * per group of such nodes (placement-index.ts). Either way it reads nothing else (not
   * the node's name): the index gives one verdict to a group's empty nodes.
   */
  readonly dynamic?: boolean;
  /** SUCCESS when the pod may run on the node; otherwise why not. Must not mutate anything. */
  filter(pod: PodInfo, node: NodeInfo): Status;
  /**
   * The same verdicts for many nodes at once (the placement index's form, for a dynamic
   * filter): for i < count, pass[i] = 1 when nodes.infos[at[i]] passes, else 0. Must agree
   * with filter(); without it the index calls filter() node by node.
   */
  filterMany?(pod: PodInfo, nodes: NodeTable, at: Int32Array, count: number, pass: Uint8Array): void;
}

export interface ScorePlugin {
  readonly name: string;
  /** As FilterPlugin.dynamic: true when the score reads the node's running totals. */
  readonly dynamic?: boolean;
  /**
   * True when every score it gives (after normalize) is an integer from 0 to
   * MAX_NODE_SCORE: the placement index may then add a node's terms in any order (the
   * sums are exact), without checking each node's score.
   */
  readonly integral?: boolean;
  /** A raw score for a node that passed every filter; 0..100 unless normalize() maps it there. */
  score(pod: PodInfo, node: NodeInfo, snapshot: ClusterSnapshot): number;
  /**
   * The same raw scores for many nodes at once (the placement index's form, for a
   * dynamic score): out[i] = score(pod, nodes.infos[at[i]]) for i < count. Without it
   * the index calls score() node by node.
   */
  scoreMany?(pod: PodInfo, nodes: NodeTable, at: Int32Array, count: number, out: Float64Array, snapshot: ClusterSnapshot): void;
  /**
   * Maps the raw scores of all feasible nodes to 0..100 in place. Must depend on the set
   * of values, not on how many nodes share one (defaultNormalize scales by the maximum):
   * the placement index normalises one value per group of identical nodes.
   */
  normalize?(scores: Float64Array, count: number): void;
  /**
   * The final (normalised) score every node would get, when it is known without looking
   * at nodes (kube-scheduler's PreScore "Skip"); undefined to score node by node.
   */
  constant?(pod: PodInfo, snapshot: ClusterSnapshot): number | undefined;
}

/**
 * kube-scheduler's helper.DefaultNormalizeScore: scale so that the highest score is
 * 100; with `reverse`, 100 minus that. All zero stays zero (or 100 reversed).
 */
export function defaultNormalize(scores: Float64Array, count: number, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < count; i++) max = Math.max(max, scores[i] ?? 0);
  if (max === 0) {
    if (reverse) for (let i = 0; i < count; i++) scores[i] = MAX_NODE_SCORE;
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = Math.floor((MAX_NODE_SCORE * (scores[i] ?? 0)) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
