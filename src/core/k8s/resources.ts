/**
 * Effective resource requests of a pod, as kube-scheduler computes them
 * (k8s.io/component-helpers/resource PodRequests):
 *
 *   requests = max(sum(containers) + sum(sidecars),
 *                  max over init containers i of (init_i + sidecars started before i))
 *              + spec.overhead
 *
 * where sidecars are init containers with restartPolicy: Always. A container that sets
 * a limit but no request gets the limit as request, as API-server defaulting does.
 * Pod-level resources (spec.resources), when set, replace cpu and memory.
 */

import { parseQuantityExact } from './quantity.ts';
import type { Container, Pod, ResourceList } from './types.ts';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** kube-scheduler's defaults for containers with no request, used only for scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * An amount of resources: cpu in millicores, memory and ephemeral storage in bytes,
 * every other resource (extended resources, hugepages) as an integer count in `scalar`.
 */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Only non-zero entries. */
  scalar: Record<string, number>;
}

export const emptyResources = (): Resources => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: {} });

export type ResourcesResult = { ok: true; value: Resources } | { ok: false; error: string };

/** Parses a ResourceList; the error names the field (`where` is its path). */
export function parseResourceList(list: ResourceList | null | undefined, where: string): ResourcesResult {
  const r = emptyResources();
  if (!list) return { ok: true, value: r };
  for (const [name, raw] of Object.entries(list)) {
    const q = parseQuantityExact(raw);
    if (!q.ok) return { ok: false, error: `${where}.${name}: ${q.error}` };
    if (q.value.nano < 0n) return { ok: false, error: `${where}.${name}: must not be negative` };
    addOne(r, name, name === CPU ? q.value.milli : q.value.value);
  }
  return { ok: true, value: r };
}

function addOne(r: Resources, name: string, amount: number): void {
  if (name === CPU) r.milliCPU += amount;
  else if (name === MEMORY) r.memory += amount;
  else if (name === EPHEMERAL_STORAGE) r.ephemeralStorage += amount;
  else if (name === PODS) return; // a container cannot request pods
  else if (amount !== 0) r.scalar[name] = (r.scalar[name] ?? 0) + amount;
}

export function addResources(into: Resources, r: Resources): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = (into.scalar[k] ?? 0) + v;
}

export function subtractResources(into: Resources, r: Resources): void {
  into.milliCPU -= r.milliCPU;
  into.memory -= r.memory;
  into.ephemeralStorage -= r.ephemeralStorage;
  for (const [k, v] of Object.entries(r.scalar)) {
    const left = (into.scalar[k] ?? 0) - v;
    if (left === 0) delete into.scalar[k];
    else into.scalar[k] = left;
  }
}

function maxResources(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = Math.max(into.scalar[k] ?? 0, v);
}

const cloneResources = (r: Resources): Resources => ({ ...r, scalar: { ...r.scalar } });

/** requests, with limits standing in for missing requests (API-server defaulting). */
function containerRequests(c: Container, where: string, nonMissing: boolean): ResourcesResult {
  const requests = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
  const parsed = parseResourceList(requests, `${where}.resources.requests`);
  if (!parsed.ok || !nonMissing) return parsed;
  if (requests[CPU] === undefined) parsed.value.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
  if (requests[MEMORY] === undefined) parsed.value.memory = DEFAULT_MEMORY_REQUEST;
  return parsed;
}

/** What a pod asks of a node. */
export interface PodResources {
  /** The effective requests the NodeResourcesFit filter checks. */
  readonly requests: Resources;
  /** cpu and memory with kube-scheduler's defaults for containers that set none (for scoring). */
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
}

export type PodResourcesResult = { ok: true; value: PodResources } | { ok: false; error: string };

function effective(pod: Pod, nonMissing: boolean): ResourcesResult {
  const reqs = emptyResources();
  for (const [i, c] of pod.spec.containers.entries()) {
    const r = containerRequests(c, `spec.containers[${i}]`, nonMissing);
    if (!r.ok) return r;
    addResources(reqs, r.value);
  }
  const sidecars = emptyResources();
  const initMax = emptyResources();
  for (const [i, c] of (pod.spec.initContainers ?? []).entries()) {
    const r = containerRequests(c, `spec.initContainers[${i}]`, nonMissing);
    if (!r.ok) return r;
    let peak: Resources;
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running beside the app containers and the later init containers.
      addResources(reqs, r.value);
      addResources(sidecars, r.value);
      peak = cloneResources(sidecars);
    } else {
      peak = cloneResources(r.value);
      addResources(peak, sidecars);
    }
    maxResources(initMax, peak);
  }
  maxResources(reqs, initMax);
  const podLevel = pod.spec.resources?.requests;
  if (podLevel) {
    const p = parseResourceList({ ...(pod.spec.resources?.limits ?? {}), ...podLevel }, 'spec.resources.requests');
    if (!p.ok) return p;
    const given = { ...(pod.spec.resources?.limits ?? {}), ...podLevel };
    if (given[CPU] !== undefined) reqs.milliCPU = p.value.milliCPU;
    if (given[MEMORY] !== undefined) reqs.memory = p.value.memory;
  }
  const overhead = parseResourceList(pod.spec.overhead, 'spec.overhead');
  if (!overhead.ok) return overhead;
  addResources(reqs, overhead.value);
  return { ok: true, value: reqs };
}

/** The pod's effective requests, or an error naming the field that does not parse. */
export function podResources(pod: Pod): PodResourcesResult {
  const requests = effective(pod, false);
  if (!requests.ok) return requests;
  const nonZero = effective(pod, true);
  if (!nonZero.ok) return nonZero;
  return { ok: true, value: { requests: requests.value, nonZeroMilliCPU: nonZero.value.milliCPU, nonZeroMemory: nonZero.value.memory } };
}

/** A node's allocatable resources (falling back to capacity), plus its pod limit. */
export function nodeAllocatable(node: { readonly status?: { readonly allocatable?: ResourceList | null; readonly capacity?: ResourceList | null } | null }, where = 'status.allocatable'): { ok: true; value: { resources: Resources; pods: number } } | { ok: false; error: string } {
  const list = node.status?.allocatable ?? node.status?.capacity ?? {};
  const r = parseResourceList(list, where);
  if (!r.ok) return r;
  const podsRaw = list[PODS];
  let pods = 110; // the kubelet's default maxPods when a hand-written node says nothing
  if (podsRaw !== undefined) {
    const q = parseQuantityExact(podsRaw);
    if (!q.ok) return { ok: false, error: `${where}.pods: ${q.error}` };
    pods = q.value.value;
  }
  return { ok: true, value: { resources: r.value, pods } };
}

/**
 * cpu (millicores), memory (bytes) and a pod count as plain numbers: what the
 * simulator's API server and kubelet, the autoscaler and the reports add up. Computed
 * by podResources and nodeAllocatable above, so every part counts a pod's requests
 * (init containers, sidecars, overhead, pod-level resources) and a node's room alike.
 */
export interface ResourceTotals {
  cpu: number;
  mem: number;
  pods: number;
}

/**
 * podRequestAmounts per pod spec object (the answer depends on the spec alone): the API
 * server's store, the autoscaler and the kubelet of the simulator ask of the same spec
 * object until a resize replaces it, 100,000 pods every round. Frozen: shared by all.
 */
const requestAmountsMemo = new WeakMap<Pod['spec'], Readonly<ResourceTotals>>();

/** The pod's effective requests (as the NodeResourcesFit filter counts them); zero when they do not parse (admission refuses such a pod). */
export function podRequestAmounts(pod: Pod): Readonly<ResourceTotals> {
  let a = requestAmountsMemo.get(pod.spec);
  if (!a) {
    const r = effective(pod, false);
    a = Object.freeze(r.ok ? { cpu: r.value.milliCPU, mem: r.value.memory, pods: 1 } : { cpu: 0, mem: 0, pods: 1 });
    requestAmountsMemo.set(pod.spec, a);
  }
  return a;
}

type NodeRoom = { readonly status?: { readonly allocatable?: ResourceList | null; readonly capacity?: ResourceList | null } | null };
/** allocatableAmounts per node object (every resize and every autoscaler round asks of the same nodes). Frozen: shared by all. */
const allocatableMemo = new WeakMap<NodeRoom, Readonly<ResourceTotals>>();

/** A node's allocatable (falling back to capacity) and pod limit; zero when it does not parse. */
export function allocatableAmounts(node: NodeRoom): Readonly<ResourceTotals> {
  let r = allocatableMemo.get(node);
  if (!r) {
    const a = nodeAllocatable(node);
    r = Object.freeze(a.ok ? { cpu: a.value.resources.milliCPU, mem: a.value.resources.memory, pods: a.value.pods } : { cpu: 0, mem: 0, pods: 0 });
    allocatableMemo.set(node, r);
  }
  return r;
}
