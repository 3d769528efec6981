/**
 * From two readings of a container's counters to the rates and utilisations the usage
 * windows keep (scaling method, step 1: per application and minute, the maximum memory,
 * CPU, network and disk utilisation). Pure.
 */

/** One reading of one container's cgroup (and its pod's network namespace) at time `t`. */
export interface Counters {
  /** Milliseconds since the epoch (Clock.now()) when the reading was taken. */
  readonly t: number;
  /** Cumulative CPU time, microseconds (v2 usage_usec; v1 cpuacct.usage / 1000). */
  readonly cpuUsec: number;
  /** Memory in use, bytes (v2 memory.current; v1 memory.usage_in_bytes). */
  readonly memUsage: number;
  /** Usage minus inactive page cache: what kubelet evicts on and close to what OOM kills on. */
  readonly memWorkingSet: number;
  /** High-water mark of memUsage since the cgroup was created (memory.peak, max_usage_in_bytes). */
  readonly memPeak?: number;
  /** Inactive page cache at this reading (to turn a peak of usage into a working-set estimate). */
  readonly memInactiveFile: number;
  /** Cumulative bytes read + written to block devices. */
  readonly ioBytes?: number;
  /** Cumulative bytes received + sent in the pod's network namespace, loopback excluded. */
  readonly netBytes?: number;
}

export interface Rates {
  /** CPU in cores (1 = one CPU fully busy) over the interval. */
  readonly cpuCores?: number;
  /** Memory to record for the interval, bytes: the working set, or more if a peak rose in between. */
  readonly memBytes: number;
  /** True when memory rose above both readings between them (memory.peak moved). */
  readonly memPeakBetween: boolean;
  readonly diskBytesPerSec?: number;
  readonly netBytesPerSec?: number;
  /** Why a rate is missing: 'first reading', 'counter went backwards: cpu', 'no time passed'. */
  readonly notes: readonly string[];
}

/**
 * Rates over the interval between two readings. A counter that went backwards (a reset,
 * or a recreated cgroup with the same name) gives no rate for that interval rather than
 * a negative or huge one. Memory is a level, not a counter: the working set now, raised
 * to the peak when the kernel's high-water mark moved since the previous reading (a spike
 * between two samples still belongs to the minute's maximum).
 */
export function ratesBetween(prev: Counters | undefined, cur: Counters): Rates {
  const notes: string[] = [];
  let memBytes = cur.memWorkingSet;
  let memPeakBetween = false;
  if (prev?.memPeak !== undefined && cur.memPeak !== undefined && cur.memPeak > prev.memPeak) {
    // The peak counts page cache too; take out what is inactive now, as for the working set.
    const peakWorkingSet = cur.memPeak - cur.memInactiveFile;
    if (peakWorkingSet > memBytes) {
      memBytes = peakWorkingSet;
      memPeakBetween = true;
    }
  }
  if (prev === undefined) return { memBytes, memPeakBetween, notes: ['first reading'] };
  const dtMs = cur.t - prev.t;
  if (!(dtMs > 0)) return { memBytes, memPeakBetween, notes: ['no time passed'] };
  const perSec = (a: number | undefined, b: number | undefined, name: string): number | undefined => {
    if (a === undefined || b === undefined) return undefined;
    if (b < a) {
      notes.push(`counter went backwards: ${name}`);
      return undefined;
    }
    return ((b - a) * 1000) / dtMs;
  };
  const cpuUsecPerSec = perSec(prev.cpuUsec, cur.cpuUsec, 'cpu');
  const disk = perSec(prev.ioBytes, cur.ioBytes, 'disk');
  const net = perSec(prev.netBytes, cur.netBytes, 'net');
  return {
    ...(cpuUsecPerSec !== undefined ? { cpuCores: cpuUsecPerSec / 1e6 } : {}),
    memBytes,
    memPeakBetween,
    ...(disk !== undefined ? { diskBytesPerSec: disk } : {}),
    ...(net !== undefined ? { netBytesPerSec: net } : {}),
    notes,
  };
}

export type BasisKind = 'limit' | 'request' | 'node';

/** What a utilisation is a share of, and where that figure came from. */
export interface Basis {
  readonly kind: BasisKind;
  /** Cores, bytes or bytes/s. */
  readonly amount: number;
  /** e.g. 'pod spec', 'cgroup memory.max', '/proc/meminfo', '--net-capacity'. */
  readonly source: string;
}

export interface Amount {
  readonly amount: number;
  readonly source: string;
}

/**
 * The container's limit, else its request, else the node's capacity: the first that is a
 * positive finite number.
 */
export function chooseBasis(limit: Amount | undefined, request: Amount | undefined, node: Amount): Basis {
  const usable = (a: Amount | undefined): a is Amount => a !== undefined && Number.isFinite(a.amount) && a.amount > 0;
  if (usable(limit)) return { kind: 'limit', ...limit };
  if (usable(request)) return { kind: 'request', ...request };
  return { kind: 'node', ...node };
}

/** value / basis; may exceed 1 (a burstable container above its request). */
export const utilisation = (value: number, basis: Basis): number => value / basis.amount;

export type MonitoringState =
  | { readonly state: 'not-ready'; readonly reason: string }
  | { readonly state: 'warming-up'; readonly readySince: number; readonly monitoringFrom: number }
  | { readonly state: 'monitoring'; readonly since: number };

export interface ReadinessInput {
  /** All the pod's containers are Ready. */
  readonly ready: boolean;
  /** When the pod became Ready (its Ready condition's lastTransitionTime), if known. */
  readonly readySince?: number;
  /** When the probe first saw it Ready (used when the API gives no time). */
  readonly firstSeenReady?: number;
  /** Why it is not ready, when it is not. */
  readonly reason?: string;
}

/**
 * The method's step 2: monitoring starts once the application has started, here its
 * containers being Ready and then a warm-up (start-up spikes such as JIT and cache fills
 * are not what it will need next).
 */
export function monitoringState(input: ReadinessInput, now: number, warmupMs: number): MonitoringState {
  if (!input.ready) return { state: 'not-ready', reason: input.reason ?? 'containers not ready' };
  const readySince = input.readySince ?? input.firstSeenReady ?? now;
  const monitoringFrom = readySince + warmupMs;
  if (now < monitoringFrom) return { state: 'warming-up', readySince, monitoringFrom };
  return { state: 'monitoring', since: monitoringFrom };
}
