/**
 * What a node does when its pods want more than it has: the kernel's CPU scheduler shares
 * the cores, and the kubelet evicts pods under memory pressure. Pure rules, shared by every
 * kubelet model (src/sim/kubelet.ts; the fake API server runs no workloads, so it has no
 * usage to contend for).
 *
 * CPU (CFS): each container's cgroup gets cpu.shares = request in millicores × 1024 / 1000
 * (minimum 2 shares; cgroup v2 cpu.weight maps from the same shares), and a CFS quota from
 * its limit. When the node's pods demand more than it has, the cores are divided in
 * proportion to the shares, no pod getting more than its limit or its demand; what a pod
 * does not take goes to the others in proportion again (water-filling). The demand it did
 * not get is starvation by contention, apart from throttling at its own limit.
 *
 * Memory (kubelet node-pressure eviction, pkg/kubelet/eviction): the signal
 * memory.available = capacity − the pods' working sets; below the hard threshold
 * (default `memory.available<100Mi`) the kubelet ranks the pods with rankMemoryPressure
 * (helpers.go: orderedBy(exceedMemoryRequests, priority, memory)): pods whose usage
 * exceeds their request first, then lower priority first, then larger usage above the
 * request first; it evicts them in that order (one per 10 s housekeeping cycle, so up to
 * six a simulated minute; we evict until the signal is above the threshold) with status
 * `Failed`, reason `Evicted`, and the message helpers.go's evictionMessage builds.
 */

/** kubelet's default hard eviction threshold: memory.available<100Mi. */
export const MEMORY_AVAILABLE_THRESHOLD = 100 * 2 ** 20;
/** Kernel minimum cpu.shares (MinShares in pkg/kubelet/cm). */
const MIN_SHARES = 2;

export interface CpuClaim {
  /** Millicores. */
  request: number;
  /** Millicores; Infinity when unset. */
  limit: number;
  /** Millicores the pod wants this minute. */
  demand: number;
}

/** cpu.shares for a request in millicores (MilliCPUToShares). */
export const cpuShares = (requestMilli: number): number => Math.max(MIN_SHARES, Math.floor((requestMilli * 1024) / 1000));

/**
 * The millicores each pod gets on a node with `capacity` millicores: min(demand, limit)
 * when they fit, else the CFS share water-fill described above.
 */
export function shareCpu(capacity: number, claims: readonly CpuClaim[]): number[] {
  const want = claims.map((c) => Math.max(0, Math.min(c.demand, c.limit)));
  const total = want.reduce((a, b) => a + b, 0);
  if (total <= capacity) return want;
  const got = claims.map(() => 0);
  let open = claims.map((_, i) => i).filter((i) => want[i]! > 0);
  let left = Math.max(0, capacity);
  while (open.length > 0 && left > 1e-9) {
    const weight = open.reduce((a, i) => a + cpuShares(claims[i]!.request), 0);
    const capped = open.filter((i) => want[i]! - got[i]! <= (left * cpuShares(claims[i]!.request)) / weight);
    if (capped.length === 0) {
      for (const i of open) got[i]! += (left * cpuShares(claims[i]!.request)) / weight;
      break;
    }
    for (const i of capped) {
      left -= want[i]! - got[i]!;
      got[i] = want[i]!;
    }
    open = open.filter((i) => !capped.includes(i));
  }
  return got;
}

export interface MemoryClaim {
  /** Bytes of working set. */
  usage: number;
  /** Bytes requested. */
  request: number;
  /** Pod priority (spec.priority, 0 when unset). */
  priority: number;
  /** The container named in the message (the largest consumer). */
  container: string;
}

export interface NodeEviction {
  /** Index into the claims. */
  index: number;
  reason: 'Evicted';
  message: string;
}

/** rankMemoryPressure: exceeds request first, then lower priority, then more usage above request. */
export function rankMemoryPressure(claims: readonly MemoryClaim[]): number[] {
  return claims.map((_, i) => i).sort((a, b) => {
    const x = claims[a]!;
    const y = claims[b]!;
    const ex = x.usage > x.request ? 1 : 0;
    const ey = y.usage > y.request ? 1 : 0;
    if (ex !== ey) return ey - ex;
    if (x.priority !== y.priority) return x.priority - y.priority;
    return (y.usage - y.request) - (x.usage - x.request) || a - b;
  });
}

/**
 * The pods the kubelet evicts from a node with `capacity` bytes of memory, in order, so
 * that memory.available is back at or above `threshold`. None while it is.
 */
export function memoryPressureEvictions(capacity: number, claims: readonly MemoryClaim[], threshold = MEMORY_AVAILABLE_THRESHOLD): NodeEviction[] {
  let used = claims.reduce((a, c) => a + c.usage, 0);
  if (capacity - used >= threshold) return [];
  const out: NodeEviction[] = [];
  for (const i of rankMemoryPressure(claims)) {
    if (capacity - used >= threshold) break;
    const c = claims[i]!;
    out.push({ index: i, reason: 'Evicted', message: evictionMessage(threshold, capacity - used, c) });
    used -= c.usage;
  }
  return out;
}

/** helpers.go evictionMessage for memory: node-low, threshold, and the container over its request. */
export function evictionMessage(threshold: number, available: number, c: MemoryClaim): string {
  let m = `The node was low on resource: memory. Threshold quantity: ${binaryQuantity(threshold)}, available: ${binaryQuantity(available)}. `;
  if (c.usage > c.request) m += `Container ${c.container} was using ${binaryQuantity(c.usage)}, request is ${binaryQuantity(c.request)}, has larger consumption of memory. `;
  return m;
}

/** A byte count as resource.Quantity (BinarySI) prints it: the largest exact unit, Ki at least when it divides. */
export function binaryQuantity(bytes: number): string {
  const b = Math.round(bytes);
  if (b < 0) return `-${binaryQuantity(-b)}`;
  for (const [suffix, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (b !== 0 && b % size === 0) return `${b / size}${suffix}`;
  }
  return String(b);
}
