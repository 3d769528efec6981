/**
 * The placement index: the nodes of a snapshot grouped so that a scheduling cycle that
 * examines every node does the non-dynamic work once per group instead of once per node,
 * and the dynamic work in batches over per-node columns.
 *
 * - A group holds the nodes that every non-dynamic plugin reads alike: conditions,
 *   cordon, platform, taints, allocatable, images, and the labels that some pod's
 *   selector or affinity has named so far (a pod naming a new label key regroups).
 *   Non-dynamic filters and scores run once per group, on any of its nodes.
 * - The dynamic plugins (NodePorts, NodeResourcesFit, LeastAllocated,
 *   BalancedAllocation) read each node's running totals. The index keeps them, with
 *   each node's room, in columns by position in snapshot.nodes (NodeTable), written
 *   when a pod is assumed on the node or forgotten (SnapshotObserver), and runs each
 *   such plugin over the candidate nodes in one batch (filterMany, scoreMany). A node
 *   updated in place is regrouped at once; adding or removing a node rebuilds the index
 *   on the next cycle.
 *
 * Every node is still accounted for: the failures map counts each refused node, the
 * feasible count is exact, normalisation sees the same set of values (normalisers
 * depend on the set, not on multiplicities; see ScorePlugin.normalize), and totals are
 * the exhaustive scan's sums (term by term in the plugins' order, or in any order when
 * every term is a small integer, where the sums are exact), so the decision (the node,
 * its score, the runners-up, the summary) equals the exhaustive scan's; property tests
 * on random clusters and pods hold it to that (test/placement-index.test.ts).
 *
 * The index answers only for what it can answer exactly: a full scan (every node
 * examined), a pod without spec.nodeName and without matchFields (those read the node's
 * name), and a framework whose dynamic filters come after the others (so the first
 * failing filter is the same). Otherwise runCycle scans node by node.
 */

import { displayPlatform } from './display.ts';
import type { CycleResult, Framework, NodeScore } from './framework.ts';
import type { FilterPlugin, ScorePlugin } from './plugin.ts';
import type { NodeInfo, NodeTable } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Rng } from '../rng.ts';
import type { ClusterSnapshot, SnapshotObserver } from './snapshot.ts';
import type { Status } from './status.ts';

interface Group {
  readonly key: string;
  /** A node of the group; its non-running fields (all non-dynamic plugins read) are the group's. */
  rep: NodeInfo;
  size: number;
  /** Where it is in PlacementIndex.groupList. */
  at: number;
}

/** The index of one snapshot, created on first use and kept current by observing it. */
export class PlacementIndex implements SnapshotObserver {
  private stale = true;
  private readonly labelKeys = new Set<string>();
  private readonly groups = new Map<string, Group>();
  private readonly groupList: Group[] = [];
  private readonly position = new Map<NodeInfo, number>();
  /** Per position in snapshot.nodes: its group's place in groupList. */
  private groupAt = new Int32Array(0);
  /** The numbers the dynamic plugins read, per position (written on every change the snapshot reports). */
  private table: NodeTable;
  /**
   * Per-cycle buffers, reused: the positions still feasible, a batch filter's verdicts,
   * per score plugin a column of scores (per feasible node for a dynamic plugin, per
   * feasible group for the others), the tied nodes, the totals, each feasible node's
   * feasible group, and per group its feasible-group number (or -1).
   */
  private at = new Int32Array(0);
  private pass = new Uint8Array(0);
  private columns: Float64Array[] = [];
  private tied = new Int32Array(0);
  private totals = new Float64Array(0);
  private groupOf = new Int32Array(0);
  private feasibleGroup = new Int32Array(0);
  private groupTotal = new Float64Array(0);

  constructor(private readonly snapshot: ClusterSnapshot) {
    this.table = nodeTable(snapshot.nodes, 0);
    snapshot.observe(this);
  }

  /** The number of groups, for tests and benches: how much of a cycle's work is done once per group. */
  get shape(): { groups: number } {
    this.fresh();
    return { groups: this.groups.size };
  }

  nodeState(info: NodeInfo): void {
    if (this.stale) return;
    const pos = this.position.get(info);
    if (pos !== undefined) writeTotals(this.table, pos, info);
  }

  nodeReplaced(prev: NodeInfo, next: NodeInfo): void {
    if (this.stale) return;
    const pos = this.position.get(prev);
    if (pos === undefined) {
      this.stale = true;
      return;
    }
    this.detach(prev, pos);
    this.position.delete(prev);
    this.position.set(next, pos);
    this.attach(next, pos);
    writeNode(this.table, pos, next);
  }

  nodesMoved(): void {
    this.stale = true;
  }

  /** Adds the label keys a pod's selectors name; a new one regroups the nodes on the next fresh(). */
  private learnLabels(pod: PodInfo): void {
    let grew = false;
    const learn = (k: string): void => {
      if (!this.labelKeys.has(k)) {
        this.labelKeys.add(k);
        grew = true;
      }
    };
    for (const [k] of pod.nodeSelector) learn(k);
    for (const t of pod.requiredAffinity?.nodeSelectorTerms ?? []) for (const e of t.matchExpressions ?? []) learn(e.key);
    for (const t of pod.preferredAffinity) for (const e of t.preference.matchExpressions ?? []) learn(e.key);
    if (grew) this.stale = true;
  }

  private fresh(): void {
    if (!this.stale) return;
    this.groups.clear();
    this.groupList.length = 0;
    this.position.clear();
    const nodes = this.snapshot.nodes;
    if (this.groupAt.length < nodes.length) {
      this.groupAt = new Int32Array(2 * nodes.length);
      this.table = nodeTable(nodes, 2 * nodes.length);
    }
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as NodeInfo;
      this.position.set(node, i);
      this.attach(node, i);
      writeNode(this.table, i, node);
    }
    this.stale = false;
  }

  private attach(node: NodeInfo, pos: number): void {
    const gk = this.groupKey(node);
    let g = this.groups.get(gk);
    if (!g) {
      g = { key: gk, rep: node, size: 0, at: this.groupList.length };
      this.groups.set(gk, g);
      this.groupList.push(g);
    }
    g.size++;
    this.groupAt[pos] = g.at;
  }

  private detach(node: NodeInfo, pos: number): void {
    const g = this.groupList[this.groupAt[pos] as number] as Group;
    g.size--;
    const n = this.snapshot.size;
    if (g.size > 0) {
      if (g.rep === node) {
        // Another node of the group stands for it (the node at `pos` is already the new one).
        for (let i = 0; i < n; i++) {
          if (i !== pos && this.groupAt[i] === g.at) {
            g.rep = this.snapshot.nodes[i] as NodeInfo;
            break;
          }
        }
      }
      return;
    }
    this.groups.delete(g.key);
    const last = this.groupList.pop() as Group;
    if (last !== g) {
      // The last group takes the removed one's place.
      const from = last.at;
      last.at = g.at;
      this.groupList[g.at] = last;
      for (let i = 0; i < n; i++) if (this.groupAt[i] === from) this.groupAt[i] = g.at;
    }
  }

  private groupKey(node: NodeInfo): string {
    const labels: string[] = [];
    for (const k of this.labelKeys) labels.push(node.labels[k] === undefined ? '' : `=${node.labels[k]}`);
    const p = node.platform;
    const images = [...node.images].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return JSON.stringify([
      node.invalid ?? null, node.unschedulable, node.ready, node.platformKey, p ? [p.os, p.architecture, p.variant] : null,
      node.hardTaints, node.softTaints, labels, node.allocatable, node.allowedPods, images,
    ]);
  }

  private buffers(n: number, groups: number, np: number): void {
    if (this.at.length < n || this.columns.length !== np) {
      const size = Math.max(16, 2 * n);
      this.at = new Int32Array(size);
      this.pass = new Uint8Array(size);
      this.tied = new Int32Array(size);
      this.totals = new Float64Array(size);
      this.groupOf = new Int32Array(size);
      this.columns = Array.from({ length: np }, () => new Float64Array(size));
    }
    if (this.feasibleGroup.length < groups) {
      this.feasibleGroup = new Int32Array(Math.max(16, 2 * groups));
      this.groupTotal = new Float64Array(Math.max(16, 2 * groups));
    }
  }

  /**
   * One scheduling cycle examining every node, or undefined when the index cannot
   * answer it exactly (see the file comment); runCycle then scans node by node.
   * 1. The non-dynamic filters run once per group; the nodes of the groups that pass
   *    are the candidates, in position order.
   * 2. Each dynamic filter runs over the remaining candidates in one batch (filterMany);
   *    the nodes it refuses are counted with its reasons (filter() on that node).
   * 3. The non-dynamic scores run once per group that kept a feasible node and are
   *    normalised over those groups (the same set of values as over the feasible nodes);
   *    the dynamic ones run in one batch each (scoreMany) over the feasible nodes.
   * 4. Each feasible node's total is summed in the plugins' order (the same sums as the
   *    exhaustive scan's); the best, the tied and the runners-up are kept as it goes.
   */
  cycle(fw: Framework, pod: PodInfo, rng: Rng): CycleResult | undefined {
    const plan = planOf(fw);
    if (!plan || pod.nodeName !== undefined || readsNodeName(pod)) return undefined;
    this.learnLabels(pod);
    this.fresh();
    const snapshot = this.snapshot;
    const nodes = snapshot.nodes;
    const n = nodes.length;
    const failures = new Map<string, number>();
    const { staticFilters, dynamicFilters, scores, weights, dynamic } = plan;
    const np = scores.length;
    const groupList = this.groupList;
    const groupCount = groupList.length;
    this.buffers(n, groupCount, np);
    const { at, pass, columns, tied, totals, groupOf, feasibleGroup, groupTotal } = this;

    // 1. Non-dynamic filters per group (feasibleGroup: 0 passes, -1 refused).
    for (let g = 0; g < groupCount; g++) {
      const group = groupList[g] as Group;
      const refused = firstFailure(staticFilters, pod, group.rep);
      feasibleGroup[g] = refused ? -1 : 0;
      if (refused) countFailure(failures, refused, group.size);
    }
    const groupAt = this.groupAt;
    let m = 0;
    for (let pos = 0; pos < n; pos++) if (feasibleGroup[groupAt[pos] as number] === 0) at[m++] = pos;

    // 2. Dynamic filters, one batch each, in the framework's order.
    for (let f = 0; f < dynamicFilters.length && m > 0; f++) {
      const filter = dynamicFilters[f] as FilterPlugin;
      if (filter.filterMany) filter.filterMany(pod, this.table, at, m, pass);
      else for (let i = 0; i < m; i++) pass[i] = filter.filter(pod, nodes[at[i] as number] as NodeInfo).code === 'Success' ? 1 : 0;
      let kept = 0;
      for (let i = 0; i < m; i++) {
        const pos = at[i] as number;
        if (pass[i] === 1) at[kept++] = pos;
        else countFailure(failures, filter.filter(pod, nodes[pos] as NodeInfo), 1);
      }
      m = kept;
    }
    if (m === 0) return { node: undefined, total: n, evaluated: n, feasible: 0, failures, candidates: [] };

    // 3. Scores: non-dynamic ones per group that kept a feasible node (numbered 1.. in feasibleGroup), dynamic ones per node.
    let feasibleGroups = 0;
    for (let i = 0; i < m; i++) {
      const g = groupAt[at[i] as number] as number;
      if (feasibleGroup[g] === 0) feasibleGroup[g] = ++feasibleGroups;
      groupOf[i] = (feasibleGroup[g] as number) - 1;
    }
    // 4. Each plugin's column: per feasible node for a dynamic plugin, per feasible group for the others.
    let integral = plan.integralWeights;
    for (let p = 0; p < np; p++) {
      const plugin = scores[p] as ScorePlugin;
      const column = columns[p] as Float64Array;
      const constant = plugin.constant?.(pod, snapshot);
      const len = dynamic[p] === 1 ? m : feasibleGroups;
      if (constant !== undefined) column.fill(constant, 0, len);
      else if (dynamic[p] === 1) {
        if (plugin.scoreMany) plugin.scoreMany(pod, this.table, at, m, column, snapshot);
        else for (let i = 0; i < m; i++) column[i] = plugin.score(pod, nodes[at[i] as number] as NodeInfo, snapshot);
        plugin.normalize?.(column, m);
      } else {
        for (let g = 0; g < groupCount; g++) {
          const fg = feasibleGroup[g] as number;
          if (fg > 0) column[fg - 1] = plugin.score(pod, (groupList[g] as Group).rep, snapshot);
        }
        plugin.normalize?.(column, feasibleGroups);
      }
      // A dynamic plugin's scores are integers by its word (ScorePlugin.integral); the others' are checked.
      if (dynamic[p] === 1 && constant === undefined) integral &&= plugin.integral === true;
      else for (let i = 0; i < len && integral; i++) integral = small(column[i] as number);
    }
    // Totals. The scan sums weight x score plugin by plugin in the framework's order; when
    // every weight and score is a small integer (as the built-in scores are, with integer
    // weights) every partial sum is an exact integer, the same in any order, so each
    // group's non-dynamic terms are added up once.
    if (integral) {
      for (let g = 0; g < feasibleGroups; g++) {
        let t = 0;
        for (let p = 0; p < np; p++) if (dynamic[p] === 0) t += (weights[p] as number) * ((columns[p] as Float64Array)[g] as number);
        groupTotal[g] = t;
      }
      for (let i = 0; i < m; i++) totals[i] = groupTotal[groupOf[i] as number] as number;
      for (let p = 0; p < np; p++) {
        if (dynamic[p] === 0) continue;
        const w = weights[p] as number;
        const column = columns[p] as Float64Array;
        for (let i = 0; i < m; i++) totals[i] = (totals[i] as number) + w * (column[i] as number);
      }
    } else {
      totals.fill(0, 0, m);
      for (let p = 0; p < np; p++) {
        const w = weights[p] as number;
        const column = columns[p] as Float64Array;
        if (dynamic[p] === 1) for (let i = 0; i < m; i++) totals[i] = (totals[i] as number) + w * (column[i] as number);
        else for (let i = 0; i < m; i++) totals[i] = (totals[i] as number) + w * (column[groupOf[i] as number] as number);
      }
    }
    const value = (i: number, p: number): number => (columns[p] as Float64Array)[dynamic[p] === 1 ? i : (groupOf[i] as number)] as number;

    // 5. The best, the tied nodes (in position order) and the top nodes by (total, position).
    const keep = fw.topNodes;
    const top: TopEntry[] = [];
    let max = -Infinity;
    let ties = 0;
    for (let i = 0; i < m; i++) {
      const t = totals[i] as number;
      if (t > max) {
        max = t;
        ties = 0;
      }
      if (t === max) tied[ties++] = i;
      // Positions ascend, so a node enters the top only ahead of lower totals.
      if (top.length === keep && t <= (top[keep - 1] as TopEntry).total) continue;
      let k = top.length;
      while (k > 0 && (top[k - 1] as TopEntry).total < t) k--;
      top.splice(k, 0, { i, total: t });
      if (top.length > keep) top.pop();
    }
    const describe = (i: number, total: number): NodeScore => {
      const node = nodes[at[i] as number] as NodeInfo;
      const byPlugin: Record<string, number> = {};
      for (let p = 0; p < np; p++) byPlugin[(scores[p] as ScorePlugin).name] = value(i, p);
      return { node: node.name, platform: node.platform ? displayPlatform(node.platform) : '', total, scores: byPlugin };
    };
    // The tie rule (framework.ts pickTied): the k-th tied node in position order, k drawn uniformly.
    const best = tied[rng.int(ties)] as number;
    const runnersUp = top.filter((e) => e.i !== best).slice(0, keep - 1);
    return {
      node: nodes[at[best] as number],
      total: n,
      evaluated: n,
      feasible: m,
      failures,
      candidates: [describe(best, max), ...runnersUp.map((e) => describe(e.i, e.total))],
    };
  }
}

interface TopEntry {
  /** Index among the feasible nodes (into `at`). */
  readonly i: number;
  readonly total: number;
}

/** A framework's plugins split for the index; null when its filters cannot be split (a dynamic filter before a non-dynamic one). */
interface Plan {
  readonly staticFilters: readonly FilterPlugin[];
  readonly dynamicFilters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
  readonly weights: Float64Array;
  /** Per score plugin: 1 when it reads the running totals. */
  readonly dynamic: Uint8Array;
  readonly integralWeights: boolean;
}

const plans = new WeakMap<Framework, Plan | null>();

function planOf(fw: Framework): Plan | null {
  let plan = plans.get(fw);
  if (plan !== undefined) return plan;
  const first = fw.filters.findIndex((f) => f.dynamic === true);
  const d = first < 0 ? fw.filters.length : first;
  const splittable = fw.filters.slice(d).every((f) => f.dynamic === true);
  plan = splittable
    ? {
        staticFilters: fw.filters.slice(0, d),
        dynamicFilters: fw.filters.slice(d),
        scores: fw.scores.map((s) => s.plugin),
        weights: Float64Array.from(fw.scores, (s) => s.weight),
        dynamic: Uint8Array.from(fw.scores, (s) => (s.plugin.dynamic === true ? 1 : 0)),
        integralWeights: fw.scores.every((s) => small(s.weight)),
      }
    : null;
  plans.set(fw, plan);
  return plan;
}

/** An integer whose products and sums with others of its kind stay exact (|x| <= 2^20: 7 terms of 2^40 stay below 2^53). */
function small(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) <= 1_048_576;
}

function firstFailure(filters: readonly FilterPlugin[], pod: PodInfo, node: NodeInfo): Status | undefined {
  for (let i = 0; i < filters.length; i++) {
    const st = (filters[i] as FilterPlugin).filter(pod, node);
    if (st.code !== 'Success') return st;
  }
  return undefined;
}

function countFailure(failures: Map<string, number>, st: Status, nodes: number): void {
  for (const r of st.reasons) failures.set(r, (failures.get(r) ?? 0) + nodes);
}

function nodeTable(infos: readonly NodeInfo[], size: number): NodeTable {
  const column = (): Float64Array => new Float64Array(size);
  return {
    infos,
    allocatableMilliCPU: column(), allocatableMemory: column(), allocatableEphemeralStorage: column(), allowedPods: column(),
    requestedMilliCPU: column(), requestedMemory: column(), requestedEphemeralStorage: column(), nonZeroMilliCPU: column(), nonZeroMemory: column(), podCount: column(),
  };
}

function writeNode(t: NodeTable, pos: number, node: NodeInfo): void {
  t.allocatableMilliCPU[pos] = node.allocatable.milliCPU;
  t.allocatableMemory[pos] = node.allocatable.memory;
  t.allocatableEphemeralStorage[pos] = node.allocatable.ephemeralStorage;
  t.allowedPods[pos] = node.allowedPods;
  writeTotals(t, pos, node);
}

function writeTotals(t: NodeTable, pos: number, node: NodeInfo): void {
  t.requestedMilliCPU[pos] = node.requested.milliCPU;
  t.requestedMemory[pos] = node.requested.memory;
  t.requestedEphemeralStorage[pos] = node.requested.ephemeralStorage;
  t.nonZeroMilliCPU[pos] = node.nonZeroMilliCPU;
  t.nonZeroMemory[pos] = node.nonZeroMemory;
  t.podCount[pos] = node.podCount;
}

const indexes = new WeakMap<ClusterSnapshot, PlacementIndex>();

/** The snapshot's index, created (and subscribed to the snapshot) on first use. */
export function placementIndex(snapshot: ClusterSnapshot): PlacementIndex {
  let idx = indexes.get(snapshot);
  if (!idx) indexes.set(snapshot, (idx = new PlacementIndex(snapshot)));
  return idx;
}


/** A required or preferred term with matchFields reads the node's name. */
function readsNodeName(pod: PodInfo): boolean {
  for (const t of pod.requiredAffinity?.nodeSelectorTerms ?? []) if ((t.matchFields?.length ?? 0) > 0) return true;
  for (const t of pod.preferredAffinity) if ((t.preference.matchFields?.length ?? 0) > 0) return true;
  return false;
}
