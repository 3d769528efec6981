/**
 * The placement index: the nodes of a snapshot grouped so that a scheduling cycle that
 * examines every node does the work once per group instead of once per node.
 *
 * - A group holds the nodes that every non-dynamic plugin reads alike: conditions,
 *   cordon, platform, taints, allocatable, images, and the labels that some pod's
 *   selector or affinity has named so far (a pod naming a new label key regroups).
 *   Non-dynamic filters and scores run once per group, on any of its nodes.
 * - Inside a group, a state class holds the nodes whose running totals are equal
 *   (requests, non-zero requests, pod count, host ports in use): the dynamic plugins
 *   (NodeResourcesFit, NodePorts, LeastAllocated, BalancedAllocation) run once per
 *   class. Classes keep their nodes' positions in the snapshot's order, and a node moves
 *   between classes when a pod is assumed on it or forgotten (SnapshotObserver), so the
 *   index is kept up to date incrementally; adding or removing a node rebuilds it on the
 *   next cycle.
 *
 * Every node is still accounted for: the failures map counts each refused node, the
 * feasible count is exact, normalisation sees the same set of values (normalisers
 * depend on the set, not on multiplicities; see ScorePlugin.normalize), and totals are
 * summed in the same order as the exhaustive scan, so the decision (the node, its score,
 * the runners-up, the summary) equals the exhaustive scan's; a property test on random
 * clusters and pods holds it to that (test/placement-index.test.ts).
 *
 * The index answers only for what it can answer exactly: a full scan (every node
 * examined), a pod without spec.nodeName and without matchFields (those read the node's
 * name), and a framework whose dynamic filters come after the others (so the first
 * failing filter is the same). Otherwise runCycle scans node by node.
 */

import { displayPlatform } from './display.ts';
import type { CycleResult, Framework, NodeScore } from './framework.ts';
import type { FilterPlugin, ScorePlugin } from './plugin.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Rng } from './rng.ts';
import type { ClusterSnapshot, SnapshotObserver } from './snapshot.ts';
import type { Status } from './status.ts';

interface StateClass {
  readonly key: string;
  readonly group: Group;
  /** Positions of its nodes in snapshot.nodes, ascending. */
  readonly positions: number[];
}

interface Group {
  readonly key: string;
  /** A node of the group; its non-running fields (all non-dynamic plugins read) are the group's. */
  readonly rep: NodeInfo;
  size: number;
  readonly classes: Map<string, StateClass>;
}

/** The index of one snapshot, created on first use and kept current by observing it. */
export class PlacementIndex implements SnapshotObserver {
  private stale = true;
  private readonly labelKeys = new Set<string>();
  private readonly groups = new Map<string, Group>();
  private readonly classOf = new Map<NodeInfo, StateClass>();
  private readonly position = new Map<NodeInfo, number>();
  private classCount = 0;
  /** Per-cycle buffers, reused: raw scores per feasible class and per feasible group (row-major by plugin), each class's group. */
  private classRaw = new Float64Array(0);
  private classGroup = new Int32Array(0);
  private groupRaw = new Float64Array(0);
  private readonly feasible: StateClass[] = [];

  constructor(private readonly snapshot: ClusterSnapshot) {
    snapshot.observe(this);
  }

  /** The groups and classes, for tests and benches: how much work a cycle does. */
  get shape(): { groups: number; classes: number } {
    this.fresh();
    return { groups: this.groups.size, classes: this.classCount };
  }

  nodeState(info: NodeInfo): void {
    if (this.stale) return;
    const from = this.classOf.get(info);
    const pos = this.position.get(info);
    if (!from || pos === undefined) return;
    if (from.key === stateKey(info)) return;
    this.detach(info, from, pos);
    this.attach(info, pos);
  }

  nodeReplaced(prev: NodeInfo, next: NodeInfo): void {
    if (this.stale) return;
    const from = this.classOf.get(prev);
    const pos = this.position.get(prev);
    if (!from || pos === undefined) {
      this.stale = true;
      return;
    }
    this.detach(prev, from, pos);
    this.position.delete(prev);
    this.position.set(next, pos);
    this.attach(next, pos);
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
    this.classOf.clear();
    this.position.clear();
    this.classCount = 0;
    const nodes = this.snapshot.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as NodeInfo;
      this.position.set(node, i);
      this.attach(node, i);
    }
    this.stale = false;
  }

  private attach(node: NodeInfo, pos: number): void {
    const gk = this.groupKey(node);
    let g = this.groups.get(gk);
    if (!g) this.groups.set(gk, (g = { key: gk, rep: node, size: 0, classes: new Map() }));
    const ck = stateKey(node);
    let c = g.classes.get(ck);
    if (!c) {
      g.classes.set(ck, (c = { key: ck, group: g, positions: [] }));
      this.classCount++;
    }
    insertSorted(c.positions, pos);
    g.size++;
    this.classOf.set(node, c);
  }

  private detach(node: NodeInfo, c: StateClass, pos: number): void {
    const at = lowerBound(c.positions, pos);
    if (c.positions[at] === pos) c.positions.splice(at, 1);
    this.classOf.delete(node);
    const g = c.group;
    g.size--;
    if (c.positions.length === 0) {
      g.classes.delete(c.key);
      this.classCount--;
    }
    if (g.size === 0) this.groups.delete(g.key);
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

  /**
   * One scheduling cycle examining every node, or undefined when the index cannot
   * answer it exactly (see the file comment); runCycle then scans node by node.
   * Pass 1 runs the non-dynamic filters and scores once per group and the dynamic ones
   * once per state class; the non-dynamic scores are normalised over the feasible
   * groups (the same set of values as over the feasible nodes); pass 2 totals each
   * feasible class in the plugins' order (the same sums as the exhaustive scan's) and
   * keeps the best and the runners-up as it goes.
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
    const { staticFilters, dynamicFilters, scores } = plan;
    const np = scores.length;
    const constants = scores.map((s) => s.plugin.constant?.(pod, snapshot));

    if (this.classRaw.length < this.classCount * np || this.groupRaw.length < this.groups.size * np) {
      this.classRaw = new Float64Array(Math.max(16, 2 * this.classCount * np));
      this.classGroup = new Int32Array(Math.max(16, 2 * this.classCount));
      this.groupRaw = new Float64Array(Math.max(16, 2 * this.groups.size * np));
    }
    const { classRaw, classGroup, groupRaw } = this;
    const feasible = this.feasible;
    feasible.length = 0;
    let feasibleGroups = 0;
    let feasibleNodes = 0;
    for (const g of this.groups.values()) {
      const refused = firstFailure(staticFilters, pod, g.rep);
      if (refused) {
        countFailure(failures, refused, g.size);
        continue;
      }
      const gi = feasibleGroups;
      for (let p = 0; p < np; p++) {
        const s = scores[p] as PlanScore;
        if (constants[p] === undefined && !s.dynamic) groupRaw[gi * np + p] = s.plugin.score(pod, g.rep, snapshot);
      }
      let any = false;
      for (const c of g.classes.values()) {
        const rep = nodes[c.positions[0] as number] as NodeInfo;
        const st = firstFailure(dynamicFilters, pod, rep);
        if (st) {
          countFailure(failures, st, c.positions.length);
          continue;
        }
        any = true;
        const ci = feasible.length;
        feasible.push(c);
        classGroup[ci] = gi;
        feasibleNodes += c.positions.length;
        for (let p = 0; p < np; p++) {
          const s = scores[p] as PlanScore;
          if (constants[p] === undefined && s.dynamic) classRaw[ci * np + p] = s.plugin.score(pod, rep, snapshot);
        }
      }
      if (any) feasibleGroups++;
    }
    const count = feasible.length;
    if (count === 0) return { node: undefined, total: n, evaluated: n, feasible: 0, failures, candidates: [] };

    // Normalise each plugin over its values: per group for the non-dynamic ones, per class for the dynamic ones.
    for (let p = 0; p < np; p++) {
      const s = scores[p] as PlanScore;
      if (constants[p] !== undefined || !s.plugin.normalize) continue;
      const [raw, len] = s.dynamic ? [classRaw, count] : [groupRaw, feasibleGroups];
      const column = new Float64Array(len);
      for (let i = 0; i < len; i++) column[i] = raw[i * np + p] as number;
      s.plugin.normalize(column, len);
      for (let i = 0; i < len; i++) raw[i * np + p] = column[i] as number;
    }
    const value = (ci: number, p: number): number => {
      const c = constants[p];
      if (c !== undefined) return c;
      return (scores[p] as PlanScore).dynamic ? (classRaw[ci * np + p] as number) : (groupRaw[(classGroup[ci] as number) * np + p] as number);
    };

    // Pass 2: totals, the classes tied at the top, and the top nodes by (total, position).
    const keep = fw.topNodes;
    const top: TopEntry[] = [];
    let max = -Infinity;
    const tied: number[] = [];
    let tiedNodes = 0;
    for (let ci = 0; ci < count; ci++) {
      let t = 0;
      for (let p = 0; p < np; p++) t = t + (scores[p] as PlanScore).weight * value(ci, p);
      const ps = (feasible[ci] as StateClass).positions;
      if (t > max) {
        max = t;
        tied.length = 0;
        tiedNodes = 0;
      }
      if (t === max) {
        tied.push(ci);
        tiedNodes += ps.length;
      }
      for (let k = 0; k < ps.length && k < keep; k++) {
        const pos = ps[k] as number;
        const last = top[top.length - 1];
        if (top.length === keep && last && (t < last.total || (t === last.total && pos > last.pos))) break;
        let at = top.length;
        while (at > 0 && ((top[at - 1] as TopEntry).total < t || ((top[at - 1] as TopEntry).total === t && (top[at - 1] as TopEntry).pos > pos))) at--;
        top.splice(at, 0, { ci, pos, total: t });
        if (top.length > keep) top.pop();
      }
    }
    const describe = (ci: number, pos: number, total: number): NodeScore => {
      const node = nodes[pos] as NodeInfo;
      const byPlugin: Record<string, number> = {};
      for (let p = 0; p < np; p++) byPlugin[(scores[p] as PlanScore).plugin.name] = value(ci, p);
      return { node: node.name, platform: node.platform ? displayPlatform(node.platform) : '', total, scores: byPlugin };
    };
    // The tie rule (framework.ts pickTied): the k-th tied node in position order, k drawn uniformly.
    const k = rng.int(tiedNodes);
    const bestPos = kthPosition(tied.map((ci) => (feasible[ci] as StateClass).positions), k, n);
    const bestClass = tied.find((ci) => (feasible[ci] as StateClass).positions.includes(bestPos)) as number;
    const runnersUp = top.filter((e) => e.pos !== bestPos).slice(0, keep - 1);
    return {
      node: nodes[bestPos],
      total: n,
      evaluated: n,
      feasible: feasibleNodes,
      failures,
      candidates: [describe(bestClass, bestPos, max), ...runnersUp.map((e) => describe(e.ci, e.pos, e.total))],
    };
  }
}

interface TopEntry {
  readonly ci: number;
  readonly pos: number;
  readonly total: number;
}

interface PlanScore {
  readonly plugin: ScorePlugin;
  readonly weight: number;
  readonly dynamic: boolean;
}

/** A framework's plugins split for the index; null when its filters cannot be split (a dynamic filter before a non-dynamic one). */
interface Plan {
  readonly staticFilters: readonly FilterPlugin[];
  readonly dynamicFilters: readonly FilterPlugin[];
  readonly scores: readonly PlanScore[];
}

const plans = new WeakMap<Framework, Plan | null>();

function planOf(fw: Framework): Plan | null {
  let plan = plans.get(fw);
  if (plan !== undefined) return plan;
  const first = fw.filters.findIndex((f) => f.dynamic === true);
  const d = first < 0 ? fw.filters.length : first;
  const splittable = fw.filters.slice(d).every((f) => f.dynamic === true);
  plan = splittable
    ? { staticFilters: fw.filters.slice(0, d), dynamicFilters: fw.filters.slice(d), scores: fw.scores.map(({ plugin, weight }) => ({ plugin, weight, dynamic: plugin.dynamic === true })) }
    : null;
  plans.set(fw, plan);
  return plan;
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

const indexes = new WeakMap<ClusterSnapshot, PlacementIndex>();

/** The snapshot's index, created (and subscribed to the snapshot) on first use. */
export function placementIndex(snapshot: ClusterSnapshot): PlacementIndex {
  let idx = indexes.get(snapshot);
  if (!idx) indexes.set(snapshot, (idx = new PlacementIndex(snapshot)));
  return idx;
}

/** What the dynamic plugins read: the node's running totals. */
function stateKey(node: NodeInfo): string {
  const r = node.requested;
  let key = `${r.milliCPU},${r.memory},${r.ephemeralStorage},${node.nonZeroMilliCPU},${node.nonZeroMemory},${node.podCount}`;
  const scalar = Object.keys(r.scalar);
  if (scalar.length > 0) key += `|${scalar.sort().map((k) => `${k}=${r.scalar[k]}`).join(',')}`;
  if (node.usedPorts.size > 0) {
    const ports: string[] = [];
    for (const [ip, set] of node.usedPorts) for (const p of set) ports.push(`${ip}:${p}`);
    key += `|${ports.sort().join(',')}`;
  }
  return key;
}

/** A required or preferred term with matchFields reads the node's name. */
function readsNodeName(pod: PodInfo): boolean {
  for (const t of pod.requiredAffinity?.nodeSelectorTerms ?? []) if ((t.matchFields?.length ?? 0) > 0) return true;
  for (const t of pod.preferredAffinity) if ((t.preference.matchFields?.length ?? 0) > 0) return true;
  return false;
}

/** The k-th smallest (from 0) of the positions in several sorted lists, found by bisecting on the position. */
function kthPosition(lists: readonly (readonly number[])[], k: number, n: number): number {
  if (lists.length === 1) return (lists[0] as readonly number[])[k] as number;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let atMost = 0;
    for (const l of lists) atMost += lowerBound(l, mid + 1);
    if (atMost > k) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(a: number[], x: number): void {
  const at = lowerBound(a, x);
  if (at === a.length) a.push(x);
  else a.splice(at, 0, x);
}
