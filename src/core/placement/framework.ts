/**
 * The scheduling cycle, after kube-scheduler's framework: run the filter plugins on
 * each node (stopping at a node's first failure), score the feasible nodes with every
 * score plugin, normalise, weight, sum, and pick the highest total. Ties are broken by
 * the injected seeded RNG, uniformly as kube-scheduler's selectHost does, with one draw
 * per cycle (the k-th tied node in node-list order), so the placement index can find it
 * without visiting every tied node. A cycle that examines every node runs on the
 * placement index (placement-index.ts), which gives the same result as the node-by-node
 * scan (scanCycle) with the work done once per group of alike nodes.
 */

import { displayPlatform } from './display.ts';
import { nodeAffinity } from './filters/node-affinity.ts';
import { nodePorts } from './filters/node-ports.ts';
import { nodeName, nodeReady, nodeUnschedulable } from './filters/node-state.ts';
import { nodePlatformPlugin } from './filters/platform.ts';
import { resourcesFit } from './filters/resources-fit.ts';
import { taintToleration } from './filters/taint-toleration.ts';
import type { NodeInfo } from './node-info.ts';
import type { FilterPlugin, ScorePlugin } from './plugin.ts';
import type { PodInfo } from './pod-info.ts';
import type { Rng } from '../rng.ts';
import { architecturePreference, compileArchitectureWeights, type ArchitectureWeights } from './scores/architecture-preference.ts';
import { imageLocality } from './scores/image-locality.ts';
import { imageVariant } from './scores/image-variant.ts';
import { preferredNodeAffinity } from './scores/node-affinity.ts';
import { balancedAllocation, leastAllocated } from './scores/resource-allocation.ts';
import { preferNoScheduleTaints } from './scores/taint-toleration.ts';
import { placementIndex } from './placement-index.ts';
import type { ClusterSnapshot } from './snapshot.ts';
import { SUCCESS, type Status } from './status.ts';

export type ScoreName = 'LeastAllocated' | 'BalancedAllocation' | 'NodeAffinity' | 'TaintToleration' | 'ImageLocality' | 'ArchitecturePreference' | 'ImageVariant';

/**
 * Weights as kube-scheduler's defaults (TaintToleration 3, NodeAffinity 2, the rest 1),
 * with ArchitecturePreference 2 so a policy can outweigh a little free capacity, and
 * ImageVariant off (the extender profile turns it on).
 */
export const DEFAULT_WEIGHTS: Readonly<Record<ScoreName, number>> = {
  LeastAllocated: 1,
  BalancedAllocation: 1,
  NodeAffinity: 2,
  TaintToleration: 3,
  ImageLocality: 1,
  ArchitecturePreference: 2,
  ImageVariant: 0,
};

/** The extender profile's weights: only polyarch's own scores (kube-scheduler scores the rest). */
export const EXTENDER_WEIGHTS: Readonly<Record<ScoreName, number>> = {
  LeastAllocated: 0, BalancedAllocation: 0, NodeAffinity: 0, TaintToleration: 0, ImageLocality: 0, ArchitecturePreference: 1, ImageVariant: 1,
};

/**
 * A scheduling profile, as kube-scheduler's profiles: which plugins run, with which
 * default weights.
 * - `polyarch`: every filter, NodePlatform included, the image variant for the chosen
 *   node's platform (S3) and the records (S4); ArchitecturePreference when configured.
 * - `kube-scheduler`: kube-scheduler's default profile as shipped, platform-blind: no
 *   image lookup, no NodePlatform or NodeReady filter (a lost or not-ready node is kept
 *   out by its taints, as TaintNodesByCondition does), images started as written, and
 *   its default score weights (TaintToleration 3, NodeAffinity 2,
 *   NodeResourcesFit/LeastAllocated 1, NodeResourcesBalancedAllocation 1,
 *   ImageLocality 1) and adaptive percentageOfNodesToScore. kube-scheduler's
 *   PodTopologySpread and InterPodAffinity plugins are not implemented (see
 *   docs/placement.md).
 * - `extender`: what polyarch adds behind kube-scheduler as its extender (which runs
 *   every other plugin itself): the NodePlatform filter, and the ImageVariant and
 *   ArchitecturePreference scores, weight 1 each.
 */
export type ProfileName = 'polyarch' | 'kube-scheduler' | 'extender';
export const PROFILES: readonly ProfileName[] = ['polyarch', 'kube-scheduler', 'extender'];

export interface PlacementPolicy {
  /** Default `polyarch`. */
  readonly profile?: ProfileName;
  /** Weight per score plugin (0 disables it). */
  readonly weights?: Partial<Record<ScoreName, number>>;
  /** Platform -> 0..100 (see scores/architecture-preference.ts). */
  readonly architecturePreference?: ArchitectureWeights;
  /** How many of the best nodes a decision lists with their scores. Default 3. */
  readonly topNodes?: number;
  /**
   * Stop filtering once this share of the nodes is feasible (kube-scheduler's
   * percentageOfNodesToScore). 100 (the default) examines every node, so a decision is
   * the best node there is; 0 picks kube-scheduler's adaptive share (50% - nodes/125,
   * at least 5%, at least 100 nodes) for large clusters. The `kube-scheduler` profile's
   * default is 0, as kube-scheduler's.
   */
  readonly percentageOfNodesToScore?: number;
  /**
   * Write the chosen variant's digest into every pod (true), or only where the pod's
   * own reference would not make the node pull that variant (false, the default: a
   * per-architecture tag, an index with several entries for the node's architecture).
   * Pinning makes a pod run exactly the manifest that was decided even if its tag is
   * pushed again before the node pulls, at the cost of one more API request per pod
   * before its binding.
   */
  readonly pinImages?: boolean;
}

export interface WeightedScore {
  readonly plugin: ScorePlugin;
  readonly weight: number;
}

export interface Framework {
  readonly profile: ProfileName;
  /** False for a platform-blind profile: images are neither looked up (S1) nor rewritten (S3, S4). */
  readonly platformAware: boolean;
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly WeightedScore[];
  readonly topNodes: number;
  readonly percentageOfNodesToScore: number;
  /** Every chosen variant written into the pod by digest (PlacementPolicy.pinImages). */
  readonly pinImages: boolean;
  /** Where the next partial scan starts, so partial scans rotate over the nodes. */
  nextStartIndex: number;
  /** Score buffers reused from cycle to cycle (one per score plugin, plus totals). */
  scratch: Float64Array[];
}

/** Filters in kube-scheduler's order, cheap ones first; NodePlatform before the resource arithmetic. */
export const DEFAULT_FILTERS: readonly FilterPlugin[] = [nodeUnschedulable, nodeReady, nodeName, taintToleration, nodeAffinity, nodePlatformPlugin, nodePorts, resourcesFit];
/** kube-scheduler's default filters that polyarch implements, in its order. */
const KUBE_SCHEDULER_FILTERS: readonly FilterPlugin[] = [nodeUnschedulable, nodeName, taintToleration, nodeAffinity, nodePorts, resourcesFit];

export type FrameworkResult = { ok: true; value: Framework } | { ok: false; error: string };

export function createFramework(policy: PlacementPolicy = {}): FrameworkResult {
  const profile = policy.profile ?? 'polyarch';
  if (!PROFILES.includes(profile)) return { ok: false, error: `profile: unknown profile "${String(profile)}" (known: ${PROFILES.join(', ')})` };
  const platformAware = profile !== 'kube-scheduler';
  if (!platformAware && (Object.keys(policy.architecturePreference ?? {}).length > 0 || (policy.weights?.ArchitecturePreference ?? 0) > 0)) {
    return { ok: false, error: 'architecturePreference: the kube-scheduler profile is platform-blind and has no ArchitecturePreference score' };
  }
  const weights = { ...(profile === 'extender' ? EXTENDER_WEIGHTS : DEFAULT_WEIGHTS), ...(platformAware ? {} : { ArchitecturePreference: 0 }), ...policy.weights };
  for (const [k, w] of Object.entries(weights)) {
    if (!(k in DEFAULT_WEIGHTS)) return { ok: false, error: `weights.${k}: unknown score plugin (known: ${Object.keys(DEFAULT_WEIGHTS).join(', ')})` };
    if (!Number.isFinite(w) || w < 0) return { ok: false, error: `weights.${k}: must be a number >= 0, got ${w}` };
  }
  const arch = compileArchitectureWeights(policy.architecturePreference ?? {});
  if (!arch.ok) return arch;
  const pct = policy.percentageOfNodesToScore ?? (platformAware ? 100 : 0);
  if (!Number.isFinite(pct) || pct < 0 || pct > 100) return { ok: false, error: `percentageOfNodesToScore: must be between 0 and 100, got ${pct}` };
  const pinImages = policy.pinImages ?? false;
  if (typeof pinImages !== 'boolean') return { ok: false, error: `pinImages: must be true or false, got ${JSON.stringify(pinImages)}` };
  const topNodes = policy.topNodes ?? 3;
  if (!Number.isInteger(topNodes) || topNodes < 1) return { ok: false, error: `topNodes: must be an integer >= 1, got ${topNodes}` };
  const plugins: Record<ScoreName, ScorePlugin> = {
    LeastAllocated: leastAllocated,
    BalancedAllocation: balancedAllocation,
    NodeAffinity: preferredNodeAffinity,
    TaintToleration: preferNoScheduleTaints,
    ImageLocality: imageLocality,
    ArchitecturePreference: architecturePreference(arch.value),
    ImageVariant: imageVariant,
  };
  // Without a policy the architecture score is 0 everywhere: leave it out of decisions.
  const hasArchPolicy = Object.keys(policy.architecturePreference ?? {}).length > 0;
  const scores = (Object.keys(plugins) as ScoreName[]).filter((k) => weights[k] > 0 && (k !== 'ArchitecturePreference' || hasArchPolicy)).map((k) => ({ plugin: plugins[k], weight: weights[k] }));
  const filters = profile === 'polyarch' ? DEFAULT_FILTERS : profile === 'extender' ? [nodePlatformPlugin] : KUBE_SCHEDULER_FILTERS;
  return { ok: true, value: { profile, platformAware, filters, scores, topNodes, percentageOfNodesToScore: pct, pinImages, nextStartIndex: 0, scratch: [] } };
}

/** kube-scheduler's numFeasibleNodesToFind. */
export function feasibleNodesToFind(fw: Framework, nodes: number): number {
  const minFeasible = 100;
  if (nodes < minFeasible || fw.percentageOfNodesToScore >= 100) return nodes;
  let pct = fw.percentageOfNodesToScore;
  if (pct === 0) pct = Math.max(5, 50 - Math.floor(nodes / 125));
  return Math.max(minFeasible, Math.floor((nodes * pct) / 100));
}

export interface NodeScore {
  readonly node: string;
  readonly platform: string;
  /** Σ weight x score. */
  readonly total: number;
  /** Each plugin's normalised score 0..100 (before its weight). */
  readonly scores: Readonly<Record<string, number>>;
}

export interface CycleResult {
  readonly node: NodeInfo | undefined;
  readonly total: number;
  readonly evaluated: number;
  readonly feasible: number;
  /** Reason -> number of nodes that gave it. */
  readonly failures: ReadonlyMap<string, number>;
  /** The chosen node first, then the next best, at most fw.topNodes. */
  readonly candidates: readonly NodeScore[];
}

/** Runs the filters on one node; SUCCESS or the first failing plugin's status. */
export function runFilters(fw: Framework, pod: PodInfo, node: NodeInfo): Status {
  for (const f of fw.filters) {
    const st = f.filter(pod, node);
    if (st.code !== 'Success') return st;
  }
  return SUCCESS;
}

/**
 * Below this many nodes a cycle scans node by node: the index's fixed work per cycle
 * (per group, per batch) costs about what it saves (`npm run bench placement`: 0.8x to
 * 1.0x the scan at 100 nodes, 2x and more from 1,000).
 */
export const INDEX_MIN_NODES = 200;

/**
 * One scheduling cycle for a prepared pod over the snapshot: on the placement index when
 * there are at least INDEX_MIN_NODES nodes, every node is to be examined and the index
 * can answer exactly, else node by node.
 * Pure except for the RNG and fw.nextStartIndex.
 */
export function runCycle(fw: Framework, snapshot: ClusterSnapshot, pod: PodInfo, rng: Rng): CycleResult {
  const n = snapshot.size;
  if (n >= INDEX_MIN_NODES && feasibleNodesToFind(fw, n) === n) {
    const indexed = placementIndex(snapshot).cycle(fw, pod, rng);
    if (indexed) return indexed;
  }
  return scanCycle(fw, snapshot, pod, rng);
}

/** The cycle node by node (the exhaustive scan the placement index must equal). A full scan starts at the first node. */
export function scanCycle(fw: Framework, snapshot: ClusterSnapshot, pod: PodInfo, rng: Rng): CycleResult {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  const want = feasibleNodesToFind(fw, n);
  const feasible: NodeInfo[] = [];
  const positions: number[] = [];
  const failures = new Map<string, number>();
  const start = n === 0 || want === n ? 0 : fw.nextStartIndex % n;
  let evaluated = 0;
  for (; evaluated < n && feasible.length < want; evaluated++) {
    const node = nodes[(start + evaluated) % n] as NodeInfo;
    let failed = false;
    for (const f of fw.filters) {
      const st = f.filter(pod, node);
      if (st.code !== 'Success') {
        for (const r of st.reasons) failures.set(r, (failures.get(r) ?? 0) + 1);
        failed = true;
        break;
      }
    }
    if (!failed) {
      feasible.push(node);
      positions.push((start + evaluated) % n);
    }
  }
  if (n > 0) fw.nextStartIndex = (start + evaluated) % n;
  if (feasible.length === 0) return { node: undefined, total: n, evaluated, feasible: 0, failures, candidates: [] };

  const count = feasible.length;
  if ((fw.scratch[0]?.length ?? 0) < count) fw.scratch = Array.from({ length: fw.scores.length + 1 }, () => new Float64Array(Math.max(count, 2 * (fw.scratch[0]?.length ?? 0))));
  const perPlugin = fw.scores.map(({ plugin }, p) => {
    const scores = fw.scratch[p] as Float64Array;
    const constant = plugin.constant?.(pod, snapshot);
    if (constant !== undefined) return scores.fill(constant, 0, count);
    for (let i = 0; i < count; i++) scores[i] = plugin.score(pod, feasible[i] as NodeInfo, snapshot);
    plugin.normalize?.(scores, count);
    return scores;
  });
  const totals = (fw.scratch[fw.scores.length] as Float64Array).fill(0, 0, count);
  for (let p = 0; p < perPlugin.length; p++) {
    const w = (fw.scores[p] as WeightedScore).weight;
    const s = perPlugin[p] as Float64Array;
    for (let i = 0; i < count; i++) totals[i] = (totals[i] ?? 0) + w * (s[i] ?? 0);
  }
  const best = pickTied(totals, positions, count, rng);
  const describe = (i: number): NodeScore => {
    const node = feasible[i] as NodeInfo;
    const scores: Record<string, number> = {};
    fw.scores.forEach(({ plugin }, p) => (scores[plugin.name] = (perPlugin[p] as Float64Array)[i] ?? 0));
    return { node: node.name, platform: node.platform ? displayPlatform(node.platform) : '', total: totals[i] ?? 0, scores };
  };
  // The runners-up: a small insertion-sorted list, so this stays O(nodes).
  const top: number[] = [];
  for (let i = 0; i < count && fw.topNodes > 1; i++) {
    if (i === best) continue;
    const t = totals[i] ?? 0;
    if (top.length === fw.topNodes - 1 && t <= (totals[top[top.length - 1] ?? 0] ?? 0)) continue;
    let at = top.length;
    while (at > 0 && (totals[top[at - 1] ?? 0] ?? 0) < t) at--;
    top.splice(at, 0, i);
    if (top.length > fw.topNodes - 1) top.pop();
  }
  return { node: feasible[best], total: n, evaluated, feasible: count, failures, candidates: [best, ...top].map(describe) };
}

/**
 * The tie rule: among the nodes with the highest total, one drawn uniformly (one draw,
 * rng.int(ties)), counting the tied nodes in the order of their positions in the
 * snapshot's node list. Uniform as kube-scheduler's reservoir sampling, and a rule the
 * placement index can apply without listing every tied node. Returns the index into
 * totals/positions.
 */
function pickTied(totals: Float64Array, positions: readonly number[], count: number, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < count; i++) if ((totals[i] as number) > max) max = totals[i] as number;
  const tied: number[] = [];
  for (let i = 0; i < count; i++) if (totals[i] === max) tied.push(i);
  if (tied.length > 1) tied.sort((a, b) => (positions[a] as number) - (positions[b] as number));
  return tied[rng.int(tied.length)] as number;
}

export interface NodeEvaluation {
  /** Feasible nodes with their scores, best first (ties in the given order). */
  readonly feasible: readonly NodeScore[];
  /** Node name -> the first filter's reasons, for nodes refused. */
  readonly failed: Readonly<Record<string, string>>;
  /** The refused nodes whose status was UnschedulableAndUnresolvable (preemption cannot help there). */
  readonly unresolvable: readonly string[];
}

/**
 * Filters and scores a given set of nodes for a prepared pod, without choosing: what a
 * scheduler extender answers (filter, then prioritize). Names not in the snapshot are
 * refused as unknown. `score: false` (a filter call) leaves the scores out: the feasible
 * nodes come in the given order, with total 0.
 */
export function evaluateNodes(fw: Framework, snapshot: ClusterSnapshot, pod: PodInfo, names: readonly string[], { score = true }: { score?: boolean } = {}): NodeEvaluation {
  const failed: Record<string, string> = {};
  const unresolvable: string[] = [];
  const feasible: NodeInfo[] = [];
  for (const name of names) {
    const node = snapshot.node(name);
    if (!node) {
      failed[name] = 'node(s) were not found in the scheduler cache';
      continue;
    }
    const st = runFilters(fw, pod, node);
    if (st.code === 'Success') feasible.push(node);
    else {
      failed[name] = st.reasons.join(', ');
      if (st.code === 'UnschedulableAndUnresolvable') unresolvable.push(name);
    }
  }
  if (!score) return { feasible: feasible.map((node) => ({ node: node.name, platform: node.platformKey, total: 0, scores: {} })), failed, unresolvable };
  const perPlugin = fw.scores.map(({ plugin }) => {
    const s = new Float64Array(feasible.map((n) => plugin.score(pod, n, snapshot)));
    plugin.normalize?.(s, s.length);
    return s;
  });
  const scored = feasible.map((node, i): NodeScore => {
    const scores: Record<string, number> = {};
    let total = 0;
    fw.scores.forEach(({ plugin, weight }, p) => {
      const v = (perPlugin[p] as Float64Array)[i] ?? 0;
      scores[plugin.name] = v;
      total += weight * v;
    });
    return { node: node.name, platform: node.platformKey, total, scores };
  });
  return { feasible: scored.map((s, i) => ({ s, i })).sort((a, b) => b.s.total - a.s.total || a.i - b.i).map((x) => x.s), failed, unresolvable };
}
