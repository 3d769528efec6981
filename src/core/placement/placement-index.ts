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
 * - A group's empty nodes (running nothing: the totals of a new node) read alike to
 *   every plugin, dynamic ones included, so they are one candidate (a unit) that stands
 *   for all of them: one verdict, one score. Each group keeps its empty nodes in
 *   position order and its busy ones apart, moved between the two as pods are assumed
 *   and forgotten. A fresh cluster is mostly empty nodes; nodes that run pods are
 *   candidates one by one (busy nodes with equal totals are not told apart: keeping
 *   such classes cost more than it saved once every node ran its own mix of pods).
 *
 * Every node is still accounted for: the failures map counts each refused node (a
 * unit with the number of nodes it stands for), the feasible count is exact, ties are
 * drawn among the tied nodes counted in position order (a unit's nodes included), the
 * runners-up are the best by (total, position), normalisation sees the same set of
 * values (normalisers depend on the set, not on multiplicities; see
 * ScorePlugin.normalize), and totals are
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
  /** Positions of its nodes that run something, the first `busyCount` (any order; PlacementIndex.slot says where each is). */
  busy: Int32Array;
  busyCount: number;
  /** Positions of its empty nodes (see isEmpty), ascending: alike in everything any plugin reads. */
  readonly empty: number[];
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
  /** Per position: 1 when the node is in its group's `empty` list, else 0 (and `slot` is its place in `busy`). */
  private emptyAt = new Uint8Array(0);
  private slot = new Int32Array(0);
  /** The numbers the dynamic plugins read, per position (written on every change the snapshot reports). */
  private table: NodeTable;
  /**
   * Per-cycle buffers, reused. A unit is a node, or a group's empty nodes taken as one
   * (they get the same verdicts and scores). Per unit: its position (the first of its
   * nodes), how many nodes it stands for, a batch filter's verdict, the total, and per
   * score plugin a column of scores (per unit for a dynamic plugin, per segment for the
   * others). A segment is the units of one group that passed the non-dynamic filters:
   * its group and where its units start and end. Then the tied units, and the top
   * nodes (position, unit, total) by total, then position.
   */
  private at = new Int32Array(0);
  private mult = new Int32Array(0);
  private pass = new Uint8Array(0);
  private columns: Float64Array[] = [];
  private totals = new Float64Array(0);
  private tied = new Int32Array(0);
  private tiedPos = new Int32Array(0);
  private segGroup = new Int32Array(0);
  private segStart = new Int32Array(0);
  private segEnd = new Int32Array(0);
  private topPos = new Int32Array(0);
  private topUnit = new Int32Array(0);
  private topTotal = new Float64Array(0);
  private topLen = 0;

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
    if (pos === undefined) return;
    writeTotals(this.table, pos, info);
    const empty = isEmpty(info) ? 1 : 0;
    if (empty === this.emptyAt[pos]) return;
    const g = this.groupList[this.groupAt[pos] as number] as Group;
    this.leave(g, pos);
    this.enter(g, pos, empty);
  }

  nodeReplaced(prev: NodeInfo, next: NodeInfo): void {
    if (this.stale) return;
    const pos = this.position.get(prev);
    if (pos === undefined) {
      this.stale = true;
      return;
    }
    this.detach(pos);
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
    const keys = this.labelKeys;
    const before = keys.size;
    for (const [k] of pod.nodeSelector) keys.add(k);
    const required = pod.requiredAffinity?.nodeSelectorTerms;
    if (required) for (const t of required) for (const e of t.matchExpressions ?? []) keys.add(e.key);
    for (const t of pod.preferredAffinity) for (const e of t.preference.matchExpressions ?? []) keys.add(e.key);
    if (keys.size !== before) this.stale = true;
  }

  private fresh(): void {
    if (!this.stale) return;
    this.groups.clear();
    this.groupList.length = 0;
    this.position.clear();
    const nodes = this.snapshot.nodes;
    if (this.groupAt.length < nodes.length) {
      this.groupAt = new Int32Array(2 * nodes.length);
      this.emptyAt = new Uint8Array(2 * nodes.length);
      this.slot = new Int32Array(2 * nodes.length);
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
      g = { key: gk, rep: node, size: 0, at: this.groupList.length, busy: new Int32Array(4), busyCount: 0, empty: [] };
      this.groups.set(gk, g);
      this.groupList.push(g);
    }
    g.size++;
    this.groupAt[pos] = g.at;
    this.enter(g, pos, isEmpty(node) ? 1 : 0);
  }

  /** Takes the node at `pos` (already the new one, for a replacement) out of its group. */
  private detach(pos: number): void {
    const g = this.groupList[this.groupAt[pos] as number] as Group;
    this.leave(g, pos);
    g.size--;
    if (g.size > 0) {
      // Any other node of the group stands for it.
      g.rep = this.snapshot.nodes[(g.busyCount > 0 ? g.busy[0] : g.empty[0]) as number] as NodeInfo;
      return;
    }
    this.groups.delete(g.key);
    const last = this.groupList.pop() as Group;
    if (last !== g) {
      // The last group takes the removed one's place.
      last.at = g.at;
      this.groupList[g.at] = last;
      for (let k = 0; k < last.busyCount; k++) this.groupAt[last.busy[k] as number] = g.at;
      for (const p of last.empty) this.groupAt[p] = g.at;
    }
  }

  /** Puts `pos` in its group's `empty` list (in order) or `busy` list. */
  private enter(g: Group, pos: number, empty: number): void {
    this.emptyAt[pos] = empty;
    if (empty === 1) g.empty.splice(upperBound(g.empty, g.empty.length, pos), 0, pos);
    else {
      if (g.busyCount === g.busy.length) {
        const grown = new Int32Array(2 * g.busy.length);
        grown.set(g.busy);
        g.busy = grown;
      }
      this.slot[pos] = g.busyCount;
      g.busy[g.busyCount++] = pos;
    }
  }

  private leave(g: Group, pos: number): void {
    if (this.emptyAt[pos] === 1) {
      g.empty.splice(upperBound(g.empty, g.empty.length, pos) - 1, 1);
      return;
    }
    const s = this.slot[pos] as number;
    const moved = g.busy[--g.busyCount] as number;
    if (moved !== pos) {
      g.busy[s] = moved;
      this.slot[moved] = s;
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
      this.mult = new Int32Array(size);
      this.pass = new Uint8Array(size);
      this.tied = new Int32Array(size);
      this.tiedPos = new Int32Array(size);
      this.totals = new Float64Array(size);
      this.columns = Array.from({ length: np }, () => new Float64Array(size));
    }
    if (this.segGroup.length < groups) {
      const size = Math.max(16, 2 * groups);
      this.segGroup = new Int32Array(size);
      this.segStart = new Int32Array(size);
      this.segEnd = new Int32Array(size);
    }
  }

  /**
   * One scheduling cycle examining every node, or undefined when the index cannot
   * answer it exactly (see the file comment); runCycle then scans node by node.
   * 1. The non-dynamic filters run once per group; each group that passes gives a
   *    segment of units: its nodes that run something, one each, and its empty nodes
   *    as one unit (one verdict, one score for all of them).
   * 2. Each dynamic filter runs over the units in one batch (filterMany); the units it
   *    refuses are counted with their nodes and reasons (filter() on the unit's node).
   * 3. The non-dynamic scores run once per segment that kept a unit and are normalised
   *    over those segments (the same set of values as over the feasible nodes); the
   *    dynamic ones run in one batch each (scoreMany) over the units.
   * 4. Totals: the exhaustive scan's sums; then the best total, the tied nodes and the
   *    top nodes by (total, position): the scan's tie rule and order, with each unit's
   *    nodes counted.
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
    const { at, mult, pass, columns, totals, segGroup, segStart, segEnd } = this;

    // 1. Non-dynamic filters per group; a segment of units per group that passes.
    let units = 0;
    let segs = 0;
    let feasible = 0;
    for (let g = 0; g < groupCount; g++) {
      const group = groupList[g] as Group;
      const refused = firstFailure(staticFilters, pod, group.rep);
      if (refused) {
        countFailure(failures, refused, group.size);
        continue;
      }
      segGroup[segs] = g;
      segStart[segs] = units;
      const busy = group.busyCount;
      if (busy > 0) {
        at.set(group.busy.subarray(0, busy), units);
        mult.fill(1, units, units + busy);
        units += busy;
      }
      if (group.empty.length > 0) {
        at[units] = group.empty[0] as number;
        mult[units++] = group.empty.length;
      }
      segEnd[segs++] = units;
      feasible += group.size;
    }

    // 2. Dynamic filters, one batch each, in the framework's order; segments left without a unit are dropped.
    for (let f = 0; f < dynamicFilters.length && units > 0; f++) {
      const filter = dynamicFilters[f] as FilterPlugin;
      if (filter.filterMany) filter.filterMany(pod, this.table, at, units, pass);
      else for (let i = 0; i < units; i++) pass[i] = filter.filter(pod, nodes[at[i] as number] as NodeInfo).code === 'Success' ? 1 : 0;
      let first = 0;
      while (first < units && pass[first] === 1) first++;
      if (first === units) continue;
      let kept = 0;
      let keptSegs = 0;
      for (let s = 0; s < segs; s++) {
        const from = kept;
        for (let i = segStart[s] as number, end = segEnd[s] as number; i < end; i++) {
          if (pass[i] === 1) {
            at[kept] = at[i] as number;
            mult[kept++] = mult[i] as number;
          } else {
            countFailure(failures, filter.filter(pod, nodes[at[i] as number] as NodeInfo), mult[i] as number);
            feasible -= mult[i] as number;
          }
        }
        if (kept > from) {
          segGroup[keptSegs] = segGroup[s] as number;
          segStart[keptSegs] = from;
          segEnd[keptSegs++] = kept;
        }
      }
      units = kept;
      segs = keptSegs;
    }
    if (units === 0) return { node: undefined, total: n, evaluated: n, feasible: 0, failures, candidates: [] };

    // 3. Each plugin's column: per unit for a dynamic plugin, per segment for the others.
    let integral = plan.integralWeights;
    for (let p = 0; p < np; p++) {
      const plugin = scores[p] as ScorePlugin;
      const column = columns[p] as Float64Array;
      const constant = plugin.constant?.(pod, snapshot);
      const len = dynamic[p] === 1 ? units : segs;
      if (constant !== undefined) column.fill(constant, 0, len);
      else if (dynamic[p] === 1) {
        if (plugin.scoreMany) plugin.scoreMany(pod, this.table, at, units, column, snapshot);
        else for (let i = 0; i < units; i++) column[i] = plugin.score(pod, nodes[at[i] as number] as NodeInfo, snapshot);
        plugin.normalize?.(column, units);
      } else {
        for (let s = 0; s < segs; s++) column[s] = plugin.score(pod, (groupList[segGroup[s] as number] as Group).rep, snapshot);
        plugin.normalize?.(column, segs);
      }
      // A dynamic plugin's scores are integers by its word (ScorePlugin.integral); the others' are checked.
      if (dynamic[p] === 1 && constant === undefined) integral &&= plugin.integral === true;
      else for (let i = 0; i < len && integral; i++) integral = small(column[i] as number);
    }
    // 4. Totals. The scan sums weight x score plugin by plugin in the framework's order; when
    // every weight and score is a small integer (as the built-in scores are, with integer
    // weights) every partial sum is an exact integer, the same in any order, so each
    // segment's non-dynamic terms are added up once.
    if (integral) {
      for (let s = 0; s < segs; s++) {
        let t = 0;
        for (let p = 0; p < np; p++) if (dynamic[p] === 0) t += (weights[p] as number) * ((columns[p] as Float64Array)[s] as number);
        totals.fill(t, segStart[s] as number, segEnd[s] as number);
      }
      for (let p = 0; p < np; p++) {
        if (dynamic[p] === 0) continue;
        const w = weights[p] as number;
        const column = columns[p] as Float64Array;
        for (let i = 0; i < units; i++) totals[i] = (totals[i] as number) + w * (column[i] as number);
      }
    } else {
      totals.fill(0, 0, units);
      for (let p = 0; p < np; p++) {
        const w = weights[p] as number;
        const column = columns[p] as Float64Array;
        if (dynamic[p] === 1) for (let i = 0; i < units; i++) totals[i] = (totals[i] as number) + w * (column[i] as number);
        else for (let s = 0; s < segs; s++) {
          const v = w * (column[s] as number);
          for (let i = segStart[s] as number, end = segEnd[s] as number; i < end; i++) totals[i] = (totals[i] as number) + v;
        }
      }
    }

    // 5. The best total, the tied units, and the top nodes by (total, position).
    const keep = fw.topNodes;
    if (this.topPos.length !== keep + 1) {
      this.topPos = new Int32Array(keep + 1);
      this.topUnit = new Int32Array(keep + 1);
      this.topTotal = new Float64Array(keep + 1);
    }
    this.topLen = 0;
    const tied = this.tied;
    let max = -Infinity;
    let ties = 0;
    let tiedNodes = 0;
    for (let s = 0; s < segs; s++) {
      for (let i = segStart[s] as number, end = segEnd[s] as number; i < end; i++) {
        const t = totals[i] as number;
        if (t > max) {
          max = t;
          ties = 0;
          tiedNodes = 0;
        }
        if (t === max) {
          tied[ties++] = i;
          tiedNodes += mult[i] as number;
        }
        const c = mult[i] as number;
        if (c === 1) this.offer(at[i] as number, i, t, keep);
        else {
          // A unit of several empty nodes: its first `keep` nodes, in position order, may enter the top.
          const empty = (groupList[segGroup[s] as number] as Group).empty;
          for (let k = 0; k < c && k < keep; k++) if (!this.offer(empty[k] as number, i, t, keep)) break;
        }
      }
    }
    // The tie rule (framework.ts pickTied): the k-th tied node in position order, k drawn uniformly.
    const bestPos = this.kthTied(ties, rng.int(tiedNodes), segs);
    const bestUnit = ties === 1 ? (tied[0] as number) : this.unitOf(bestPos, ties);
    const { topPos, topUnit, topTotal } = this;
    const candidates = [this.describe(plan, bestPos, bestUnit, max, segs)];
    for (let k = 0; k < this.topLen && candidates.length < keep; k++) {
      if (topPos[k] !== bestPos) candidates.push(this.describe(plan, topPos[k] as number, topUnit[k] as number, topTotal[k] as number, segs));
    }
    return { node: nodes[bestPos], total: n, evaluated: n, feasible, failures, candidates };
  }

  /** A node's line in the decision: its unit's scores (a non-dynamic plugin's from its segment). */
  private describe(plan: Plan, pos: number, unit: number, total: number, segs: number): NodeScore {
    const node = this.snapshot.nodes[pos] as NodeInfo;
    const s = segmentOf(this.segStart, segs, unit);
    const byPlugin: Record<string, number> = {};
    for (let p = 0; p < plan.scores.length; p++) byPlugin[(plan.scores[p] as ScorePlugin).name] = (this.columns[p] as Float64Array)[plan.dynamic[p] === 1 ? unit : s] as number;
    return { node: node.name, platform: node.platformKey, total, scores: byPlugin };
  }

  /**
   * Offers a node to the top list (at most `keep`, by total descending, then position
   * ascending); false when it does not enter (nor would a later node of the same unit).
   */
  private offer(pos: number, unit: number, total: number, keep: number): boolean {
    const { topPos, topUnit, topTotal } = this;
    let k = this.topLen;
    if (k === keep) {
      const last = topTotal[k - 1] as number;
      if (total < last || (total === last && pos > (topPos[k - 1] as number))) return false;
    }
    // Shift the entries it goes before one place down (the last one falls off a full list).
    for (; k > 0 && ((topTotal[k - 1] as number) < total || ((topTotal[k - 1] as number) === total && (topPos[k - 1] as number) > pos)); k--) {
      topPos[k] = topPos[k - 1] as number;
      topUnit[k] = topUnit[k - 1] as number;
      topTotal[k] = topTotal[k - 1] as number;
    }
    topPos[k] = pos;
    topUnit[k] = unit;
    topTotal[k] = total;
    if (this.topLen < keep) this.topLen++;
    return true;
  }

  /** The position of the k-th (from 0) node of the tied units in position order. */
  private kthTied(ties: number, k: number, segs: number): number {
    const { tied, at, mult, tiedPos } = this;
    if (ties === 1) {
      const i = tied[0] as number;
      return mult[i] === 1 ? (at[i] as number) : ((this.groupList[this.segGroup[segmentOf(this.segStart, segs, i)] as number] as Group).empty[k] as number);
    }
    // Positions of the tied units of one node, ascending, and the empty lists of the others.
    let singles = 0;
    const lists: number[][] = [];
    for (let j = 0; j < ties; j++) {
      const i = tied[j] as number;
      if (mult[i] === 1) tiedPos[singles++] = at[i] as number;
      else lists.push((this.groupList[this.segGroup[segmentOf(this.segStart, segs, i)] as number] as Group).empty);
    }
    const sorted = tiedPos.subarray(0, singles).sort();
    if (lists.length === 0) return sorted[k] as number;
    // The smallest position p with more than k tied nodes at or before it.
    let lo = 0;
    let hi = this.snapshot.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let count = upperBound(sorted, singles, mid);
      for (const list of lists) count += upperBound(list, list.length, mid);
      if (count > k) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The tied unit a tied node's position belongs to. */
  private unitOf(pos: number, ties: number): number {
    const { tied, at, mult } = this;
    const group = this.groupAt[pos] as number;
    const empty = this.emptyAt[pos] === 1;
    for (let j = 0; j < ties; j++) {
      const i = tied[j] as number;
      if (mult[i] === 1 ? at[i] === pos : empty && this.groupAt[at[i] as number] === group) return i;
    }
    throw new Error(`unreachable: no tied unit holds position ${pos}`);
  }
}

/** Index of the segment holding unit i (segments are in unit order). */
function segmentOf(segStart: Int32Array, segs: number, i: number): number {
  let lo = 0;
  let hi = segs - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((segStart[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** How many of the first `len` values of an ascending list are <= x. */
function upperBound(list: ArrayLike<number>, len: number, x: number): number {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A node that runs nothing: running totals as a new NodeInfo's, no port in use. Two
 * empty nodes of one group read alike to every plugin, dynamic ones included.
 */
function isEmpty(node: NodeInfo): boolean {
  const r = node.requested;
  if (node.podCount !== 0 || node.pods.size !== 0 || node.usedPorts.size !== 0) return false;
  if (r.milliCPU !== 0 || r.memory !== 0 || r.ephemeralStorage !== 0 || node.nonZeroMilliCPU !== 0 || node.nonZeroMemory !== 0) return false;
  for (const k in r.scalar) if (r.scalar[k] !== 0) return false;
  return true;
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
