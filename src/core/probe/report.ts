/**
 * What the node probe serves (GET /windows) and prints (`polyarch probe --once`): per pod
 * and container, the per-minute maxima of the last 60 minutes as utilisations of a stated
 * basis and as absolute amounts. The autoscaler reads this; keep it stable.
 */
import type { Basis, MonitoringState } from './usage.ts';
import type { QosClass, Runtime } from './paths.ts';

export type ProbeMetric = 'cpu' | 'mem' | 'net' | 'disk';
export const METRIC_UNITS: Readonly<Record<ProbeMetric, 'cores' | 'bytes' | 'bytes/s'>> = { cpu: 'cores', mem: 'bytes', net: 'bytes/s', disk: 'bytes/s' };

export interface MetricWindow {
  readonly unit: 'cores' | 'bytes' | 'bytes/s';
  /** What the utilisations are a share of: the container's limit, else request, else the node's capacity. */
  readonly basis: Basis;
  /** The last sample's value in `unit` (a rate over the last interval, or memory now). */
  readonly current?: number;
  /** Per-minute maxima of utilisation (value / basis, capped at 1), closed minutes, oldest first. */
  readonly utilisation: readonly number[];
  /** The same minutes' maxima in `unit` (not capped by the basis; kept as a share of the node's capacity). */
  readonly usage: readonly number[];
}

export interface ContainerReport {
  readonly name: string;
  readonly id: string;
  readonly runtime: Runtime;
  /** Cgroup path relative to the cgroup root (v1: inside each controller's hierarchy). */
  readonly cgroup: string;
  readonly metrics: { readonly cpu: MetricWindow; readonly mem: MetricWindow; readonly disk?: MetricWindow };
  /** Memory rose above both of the last two samples in between (memory.peak / max_usage_in_bytes moved). */
  readonly memPeakBetweenSamples: boolean;
  /** memory.pressure "some" avg10 (percent of time stalled on memory), cgroup v2 only. */
  readonly memPressureSome10?: number;
  /** Optional kernel files this container lacks (e.g. io.stat with the io controller off). */
  readonly absent?: readonly string[];
  readonly notes?: readonly string[];
}

export interface PodReport {
  readonly uid: string;
  readonly namespace?: string;
  readonly name?: string;
  /** `namespace/name` of the owning workload, when the pod list says. */
  readonly app?: string;
  readonly qos: QosClass;
  readonly monitoring: MonitoringState;
  /** The pod's network namespace (shared by its containers); absent with the reason in netNote. */
  readonly net?: MetricWindow;
  readonly netNote?: string;
  readonly containers: readonly ContainerReport[];
}

export interface ProbeError {
  readonly path: string;
  readonly message: string;
}

export interface WindowsReport {
  readonly node: string;
  /** When the report was made (ms since the epoch). */
  readonly time: number;
  /** Each window's newest minute ended at this time (ms since the epoch); minutes are 60 s. */
  readonly windowEnd: number;
  readonly minutes: number;
  readonly intervalMs: number;
  readonly warmupMs: number;
  readonly cgroup: { readonly version: 'v1' | 'v2'; readonly driver?: 'systemd' | 'cgroupfs'; readonly base: string };
  readonly podInfo: { readonly source: string; readonly ok: boolean; readonly error?: string };
  readonly lastSample?: { readonly at: number; readonly containers: number; readonly gone: readonly string[]; readonly skipped: number };
  readonly pods: readonly PodReport[];
  /** Read errors of the last sample (a missing or unreadable file, named). */
  readonly errors: readonly ProbeError[];
}

export type ReclaimResult =
  | { readonly ok: true; readonly path: string; readonly requestedBytes: number; readonly before: number; readonly after: number }
  | {
      readonly ok: false;
      readonly kind: 'unsupported' | 'disabled' | 'not-found' | 'gone' | 'partial' | 'read-only' | 'denied' | 'invalid' | 'error';
      readonly message: string;
    };

export interface ReclaimRequest {
  readonly podUid: string;
  /** Container name (or runtime id); the whole pod when absent. */
  readonly container?: string;
  readonly bytes: number;
}
