/**
 * What to do with one pod, given the application's plan (a per-pod target) and what the
 * pod, its node and its usage say. Pure; the safety rules live here:
 *
 * - never above a container's max, never below its min; a limit scaled with its request
 *   stays within the max too (it never falls below the request); with a limit floor
 *   (polyarch's rule) a limit is never lowered, and rises to the application's recent peak
 *   with a margin: the request follows the forecast, the limit is a safety cap;
 * - memory never below what is in use: a decrease keeps the pod's memory at or above
 *   usage / (1 - margin); when that floor cannot be kept within the bounds, memory is left
 *   as it is;
 * - an increase must fit the pod's node (allocatable minus the other pods' requests); one
 *   that does not is dropped and reported (NodeFull), the rest of the resize goes on;
 * - a resize already in flight (PodResizeInProgress, or PodResizePending Deferred) is
 *   waited for; one the node cannot take (Infeasible) is reported and reverted, not resent.
 */

import type { ControlledValues } from './policy.ts';

export type Res = 'cpu' | 'memory';
export const RES: readonly Res[] = ['cpu', 'memory'];

export interface Amount2 {
  /** Cores. */
  readonly cpu: number;
  /** Bytes. */
  readonly memory: number;
}

export interface ContainerSizing {
  readonly name: string;
  readonly request: Amount2;
  /** Absent: no limit. */
  readonly limit: { readonly cpu?: number; readonly memory?: number };
  /** What the kubelet has actually allocated (status.containerStatuses[].allocatedResources); defaults to request. */
  readonly allocated?: Amount2;
  readonly min: { readonly cpu?: number; readonly memory?: number };
  readonly max: { readonly cpu?: number; readonly memory?: number };
  /** resizePolicy: a resource whose change needs a restart (RestartContainer). */
  readonly restartOn?: readonly Res[];
}

export type ResizeState = { readonly kind: 'none' } | { readonly kind: 'in-progress' } | { readonly kind: 'deferred' | 'infeasible'; readonly message: string };

export interface PodDecisionInput {
  readonly containers: readonly ContainerSizing[];
  /** The plan's per-pod target (sum over the managed containers). */
  readonly target: Amount2;
  readonly manage: readonly Res[];
  /** The pod's highest use in the latest minute (cores, bytes); undefined when unknown. */
  readonly usage: { readonly cpu?: number | undefined; readonly memory?: number | undefined };
  readonly memoryMargin: number;
  /** Node allocatable minus the requests of the other pods on it. */
  readonly nodeFree: Amount2;
  readonly resize: ResizeState;
  /** Changes smaller than this share of the current request are skipped (no churn), per resource. */
  readonly minChange: { readonly cpu: number; readonly memory: number };
  /** Whether a change of a resource whose resizePolicy says RestartContainer may go ahead. */
  readonly allowRestart: boolean;
  /**
   * Present: limits only rise (with the request's ratio, or to this floor per pod: the
   * application's recent peak with a margin, split over the containers as their requests
   * are), never lowered. Absent: limits keep their ratio to the request (VPA's way).
   */
  readonly limitFloor?: { readonly cpu?: number; readonly memory?: number } | undefined;
  /** RequestsOnly: limits stay as written (raised to the request only if it passes them); otherwise as above. */
  readonly controlledValues?: ControlledValues | undefined;
}

export interface ContainerResources {
  readonly name: string;
  readonly requests: Amount2;
  readonly limits: { readonly cpu?: number; readonly memory?: number };
}

export interface Note {
  readonly reason: 'NodeFull' | 'BelowUsage' | 'Bounded' | 'ResizeInProgress' | 'ResizeDeferred' | 'ResizeInfeasible' | 'NeedsRestart';
  readonly resource?: Res;
  readonly message: string;
}

export interface PodDecision {
  /** resize: send `containers`; revert: send `containers` (the allocated values) once; wait / none: nothing. */
  readonly kind: 'resize' | 'revert' | 'wait' | 'none';
  readonly containers: readonly ContainerResources[];
  readonly notes: readonly Note[];
  /** The node could not take an increase wanted. */
  readonly nodeFull: boolean;
}

const sum = (cs: readonly ContainerSizing[], r: Res): number => cs.reduce((s, c) => s + c.request[r], 0);
const round = (r: Res, x: number): number => (r === 'cpu' ? Math.ceil(x * 1000 - 1e-9) / 1000 : Math.ceil(x / 2 ** 20 - 1e-9) * 2 ** 20);
const fmt = (r: Res, x: number): string => (r === 'cpu' ? `${Math.round(x * 1000)}m` : `${Math.round(x / 2 ** 20)}Mi`);

function withLimits(c: ContainerSizing, requests: Amount2, floor: { readonly cpu?: number; readonly memory?: number } = {}, controlled?: ControlledValues): ContainerResources {
  const limits: { cpu?: number; memory?: number } = {};
  for (const r of RES) {
    const l = c.limit[r];
    if (l === undefined) continue;
    // RequestsOnly: the limit as written; a request above it would be refused by the API server.
    if (controlled === 'RequestsOnly') {
      limits[r] = Math.max(requests[r], l);
      continue;
    }
    // Limits keep the ratio to the request that was written; with a floor (polyarch's rule) they only rise: with the
    // request's ratio or to the floor, never lowered. Within the container's max when they change; never below the request.
    const scaled = requests[r] === c.request[r] ? l : c.request[r] > 0 ? round(r, (l * requests[r]) / c.request[r]) : l;
    const f = floor[r];
    const want = f !== undefined ? Math.max(l, scaled, round(r, f)) : scaled;
    const hi = c.max[r];
    limits[r] = Math.max(requests[r], hi !== undefined && want !== l ? Math.min(want, hi) : want);
  }
  return { name: c.name, requests, limits };
}

export function decidePod(input: PodDecisionInput): PodDecision {
  const { containers } = input;
  const notes: Note[] = [];
  if (input.resize.kind === 'in-progress') return { kind: 'wait', containers: [], notes: [{ reason: 'ResizeInProgress', message: 'a resize is being applied; waiting' }], nodeFull: false };
  if (input.resize.kind === 'deferred') return { kind: 'wait', containers: [], notes: [{ reason: 'ResizeDeferred', message: `the node deferred the resize: ${input.resize.message}` }], nodeFull: false };
  if (input.resize.kind === 'infeasible') {
    const back = containers.map((c) => withLimits(c, c.allocated ?? c.request));
    return { kind: 'revert', containers: back, notes: [{ reason: 'ResizeInfeasible', message: `the node cannot take the resize: ${input.resize.message}` }], nodeFull: true };
  }

  // Per container: the target split in proportion to the current requests, then bounded.
  const next = containers.map((c) => ({ ...c.request }) as { cpu: number; memory: number });
  let nodeFull = false;
  for (const r of input.manage) {
    const cur = sum(containers, r);
    if (!(input.target[r] > 0)) continue;
    const want = containers.map((c, i) => {
      const share = cur > 0 ? c.request[r] / cur : 1 / containers.length;
      let v = round(r, input.target[r] * share);
      const lo = c.min[r];
      const hi = c.max[r];
      if (hi !== undefined && v > hi) v = hi;
      if (lo !== undefined && v < lo) v = lo;
      if (v !== round(r, input.target[r] * share)) notes.push({ reason: 'Bounded', resource: r, message: `${containers[i]!.name} ${r} held within [${lo === undefined ? '-' : fmt(r, lo)}, ${hi === undefined ? '-' : fmt(r, hi)}]` });
      return v;
    });
    let total = want.reduce((s, v) => s + v, 0);
    if (r === 'memory' && total < cur && input.usage.memory !== undefined) {
      // Memory never below what is in use, with a margin: the kernel would OOM-kill instead of reclaiming.
      const floor = input.usage.memory / (1 - input.memoryMargin);
      if (total < floor) {
        notes.push({ reason: 'BelowUsage', resource: r, message: `memory kept at or above ${fmt(r, floor)} (in use ${fmt(r, input.usage.memory)} with a ${Math.round(input.memoryMargin * 100)}% margin)` });
        if (floor >= cur) continue; // no decrease possible now
        const scale = floor / total;
        for (let i = 0; i < want.length; i++) want[i] = round(r, want[i]! * scale);
        const c = containers;
        if (want.some((v, i) => c[i]!.max[r] !== undefined && v > c[i]!.max[r]!)) continue; // the bounds cannot hold the floor: leave memory as it is
        total = want.reduce((s, v) => s + v, 0);
      }
    }
    if (Math.abs(total - cur) < input.minChange[r] * cur) continue;
    if (total > cur && total - cur > input.nodeFree[r] + 1e-9) {
      nodeFull = true;
      notes.push({ reason: 'NodeFull', resource: r, message: `the node has ${fmt(r, Math.max(0, input.nodeFree[r]))} ${r} free, the increase needs ${fmt(r, total - cur)}` });
      continue;
    }
    const blocked = containers.some((c, i) => want[i] !== c.request[r] && (c.restartOn ?? []).includes(r));
    if (blocked && !input.allowRestart) {
      notes.push({ reason: 'NeedsRestart', resource: r, message: `resizePolicy restarts the container on a ${r} change; not done in place` });
      continue;
    }
    for (let i = 0; i < want.length; i++) next[i]![r] = want[i]!;
  }
  const lf = input.limitFloor;
  const floorOf = (i: number): { cpu?: number; memory?: number } => {
    const f: { cpu?: number; memory?: number } = {};
    if (!lf) return f;
    for (const r of RES) {
      const x = lf[r];
      if (x === undefined || !input.manage.includes(r)) continue;
      const cur = sum(containers, r);
      f[r] = x * (cur > 0 ? containers[i]!.request[r] / cur : 1 / containers.length);
    }
    return f;
  };
  const out = containers.map((c, i) => withLimits(c, next[i]!, floorOf(i), input.controlledValues));
  // A limit raised to the floor is a change too (after an OOM kill or throttling, with the requests where they are).
  const changed = out.some((o, i) => RES.some((r) => o.requests[r] !== containers[i]!.request[r] || (o.limits[r] ?? 0) > (containers[i]!.limit[r] ?? Infinity)));
  return { kind: changed ? 'resize' : 'none', containers: out, notes, nodeFull };
}
