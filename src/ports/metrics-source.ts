/**
 * Per-application usage, one sample per minute: the maxima the node probes collect
 * (DESIGN.md, scaling S1). Implemented by the simulator's kubelet and, on a cluster, by
 * the probe DaemonSet / metrics.k8s.io adapters.
 */
export interface AppUsageSample {
  /** `namespace/name` of the Deployment or StatefulSet (or of a pod without one). */
  readonly app: string;
  /** Start of the minute, ms since the epoch. */
  readonly minuteMs: number;
  /** Highest use of one pod of the application in that minute (CPU: what it got, at most its limit). */
  readonly cpuMilli: number;
  /**
   * Share of the minute the pod's CPU was throttled (cgroup v2 cpu.stat throttled_usec /
   * elapsed; the highest over the pods), when known. A pod throttled a share f of the time
   * at its limit wanted limit / (1 - f): the feeder counts that as demand.
   */
  readonly cpuThrottled?: number;
  readonly memoryBytes: number;
  /** Network and disk utilisation in [0, 1]. */
  readonly net: number;
  readonly disk: number;
  /** Pods that reported. */
  readonly pods: number;
  /** OOM kills of the application's pods in that minute (cgroup memory.events oom_kill), when known. */
  readonly oomKills?: number;
  /** The memory request of the pod that was OOM-killed (bytes), with `oomKills`. */
  readonly memoryRequestBytes?: number;
}

export interface MetricsSource {
  /** Samples of minutes that started at or after `sinceMs`, oldest first. */
  appUsage(sinceMs: number): Promise<readonly AppUsageSample[]>;
}

/**
 * What each application's pods will use: the simulator knows it, a cluster never does. The
 * oracle baseline's forecaster (the physical limit of slack), nothing else.
 */
export interface Hindsight {
  /** The highest use of one pod of the application (cores, bytes) in the minutes starting in [fromMs, toMs). */
  peak(app: string, fromMs: number, toMs: number): { readonly cpu: number; readonly memory: number } | undefined;
}
