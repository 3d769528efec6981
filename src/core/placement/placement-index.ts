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
  /** Per-cycle buffers, reused. */
  private scratch: Float64Array[] = [];
  private feasible: StateClass[] = [];

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
   */
  cycle(fw: Framework, pod: PodInfo, rng: Rng): CycleResult | undefined {
    const firstDynamic = fw.filters.findIndex((f) => f.dynamic === true);
    const d = firstDynamic < 0 ? fw.filters.length : firstDynamic;
    for (let i = d; i < fw.filters.length; i++) if (fw.filters[i]?.dynamic !== true) return undefined;
    if (pod.nodeName !== undefined || readsNodeName(pod)) return undefined;
    this.learnLabels(pod);
    this.fresh();
    const snapshot = this.snapshot;
    const nodes = snapshot.nodes;
    const n = nodes.length;
    const failures = new Map<string, number>();
    const fail = (st: Status, k: number): void => {
      for (const r of st.reasons) failures.set(r, (failures.get(r) ?? 0) + k);
    };

    const scores = fw.scores;
    const np = scores.length;
    if ((this.scratch[0]?.length ?? 0) < this.classCount || this.scratch.length !== np + 1) {
      this.scratch = Array.from({ length: np + 1 }, () => new Float64Array(Math.max(16, this.classCount * 2)));
    }
    const constants = scores.map(({ plugin }) => plugin.constant?.(pod, snapshot));
    const groupRaw = new Float64Array(np);
    const feasible = this.feasible;
    feasible.length = 0;
    let feasibleNodes = 0;
    for (const g of this.groups.values()) {
      let refused: Status | undefined;
      for (let i = 0; i < d; i++) {
        const st = (fw.filters[i] as Framework['filters'][number]).filter(pod, g.rep);
        if (st.code !== 'Success') {
          refused = st;
          break;
        }
      }
      if (refused) {
        fail(refused, g.size);
        continue;
      }
      for (let p = 0; p < np; p++) {
        const plugin = (scores[p] as Framework['scores'][number]).plugin;
        if (constants[p] === undefined && plugin.dynamic !== true) groupRaw[p] = plugin.score(pod, g.rep, snapshot);
      }
      for (const c of g.classes.values()) {
        const rep = nodes[c.positions[0] as number] as NodeInfo;
        for (let i = d; i < fw.filters.length; i++) {
          const st = (fw.filters[i] as Framework['filters'][number]).filter(pod, rep);
          if (st.code !== 'Success') {
            refused = st;
            break;
          }
        }
        if (refused) {
          fail(refused, c.positions.length);
          refused = undefined;
          continue;
        }
        const at = feasible.length;
        feasible.push(c);
        feasibleNodes += c.positions.length;
        for (let p = 0; p < np; p++) {
          if (constants[p] !== undefined) continue;
          const plugin = (scores[p] as Framework['scores'][number]).plugin;
          (this.scratch[p] as Float64Array)[at] = plugin.dynamic === true ? plugin.score(pod, rep, snapshot) : (groupRaw[p] as number);
        }
      }
    }
    if (feasible.length === 0) return { node: undefined, total: n, evaluated: n, feasible: 0, failures, candidates: [] };

    // Normalise and total exactly as the exhaustive scan does (same order of additions).
    const count = feasible.length;
    for (let p = 0; p < np; p++) {
      const s = this.scratch[p] as Float64Array;
      const constant = constants[p];
      if (constant !== undefined) s.fill(constant, 0, count);
      else (scores[p] as Framework['scores'][number]).plugin.normalize?.(s, count);
    }
    const totals = (this.scratch[np] as Float64Array).fill(0, 0, count);
    for (let p = 0; p < np; p++) {
      const w = (scores[p] as Framework['scores'][number]).weight;
      const s = this.scratch[p] as Float64Array;
      for (let i = 0; i < count; i++) totals[i] = (totals[i] ?? 0) + w * (s[i] ?? 0);
    }
    let max = -Infinity;
    for (let i = 0; i < count; i++) if ((totals[i] as number) > max) max = totals[i] as number;

    // The tie rule (framework.ts pickTied): the tied node first at or after a random position.
    const r = rng.int(n);
    let bestClass = -1;
    let bestPos = -1;
    let bestDist = Infinity;
    for (let i = 0; i < count; i++) {
      if (totals[i] !== max) continue;
      const ps = (feasible[i] as StateClass).positions;
      const at = lowerBound(ps, r);
      const pos = at < ps.length ? (ps[at] as number) : (ps[0] as number);
      const dist = (pos - r + n) % n;
      if (dist < bestDist) [bestClass, bestPos, bestDist] = [i, pos, dist];
    }

    // Runners-up: total descending, then position (the exhaustive scan's order).
    const want = fw.topNodes - 1;
    const top: { i: number; pos: number }[] = [];
    const better = (a: { i: number; pos: number }, b: { i: number; pos: number }): boolean =>
      (totals[a.i] as number) > (totals[b.i] as number) || (totals[a.i] === totals[b.i] && a.pos < b.pos);
    for (let i = 0; i < count && want > 0; i++) {
      const ps = (feasible[i] as StateClass).positions;
      let taken = 0;
      for (let k = 0; k < ps.length && taken < want; k++) {
        const pos = ps[k] as number;
        if (pos === bestPos) continue;
        taken++;
        const e = { i, pos };
        if (top.length === want && !better(e, top[top.length - 1] as { i: number; pos: number })) break;
        let at = top.length;
        while (at > 0 && better(e, top[at - 1] as { i: number; pos: number })) at--;
        top.splice(at, 0, e);
        if (top.length > want) top.pop();
      }
    }
    const describe = (i: number, pos: number): NodeScore => {
      const node = nodes[pos] as NodeInfo;
      const byPlugin: Record<string, number> = {};
      for (let p = 0; p < np; p++) byPlugin[(scores[p] as Framework['scores'][number]).plugin.name] = (this.scratch[p] as Float64Array)[i] ?? 0;
      return { node: node.name, platform: node.platform ? displayPlatform(node.platform) : '', total: totals[i] ?? 0, scores: byPlugin };
    };
    return {
      node: nodes[bestPos],
      total: n,
      evaluated: n,
      feasible: feasibleNodes,
      failures,
      candidates: [describe(bestClass, bestPos), ...top.map((e) => describe(e.i, e.pos))],
    };
  }
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
