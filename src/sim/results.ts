/**
 * What one simulated run produces: plain values (JSON as is), the same figures for the
 * terminal summary, `--output json` and the HTML report.
 */
import type { RunCounters } from './kubelet.ts';

export type Strategy = 'polyarch' | 'kube-scheduler' | 'per-arch' | 'static' | 'vpa' | 'oracle';

export const STRATEGIES: Readonly<Record<Strategy, { readonly title: string; readonly placement: string; readonly scaling: string }>> = {
  polyarch: { title: 'polyarch', placement: 'architecture-aware (S1-S4), migration across platforms', scaling: 'predictive (double moving average, reclaim)' },
  'kube-scheduler': { title: 'kube-scheduler', placement: 'least allocated, no platform filter, image as written', scaling: 'static requests' },
  'per-arch': { title: 'cluster per architecture', placement: 'one cluster per architecture (static split)', scaling: 'static requests' },
  static: { title: 'static requests', placement: 'architecture-aware (as polyarch)', scaling: 'static requests as written' },
  vpa: { title: 'VPA-style', placement: 'architecture-aware (as polyarch)', scaling: 'the VPA recommender (P90 + 15 %, daily memory peaks, OOM bump)' },
  oracle: { title: 'oracle', placement: 'architecture-aware (as polyarch)', scaling: 'the next interval\'s actual peak (the physical limit of slack)' },
};

export interface SimMigration {
  readonly minute: number;
  readonly pod: string;
  readonly app: string;
  /** exec-format: the pod's image failed with exec format error on its node (it moves to another platform). */
  readonly reason: 'node-failure' | 'drain' | 'exec-format';
  readonly fromNode: string;
  readonly fromPlatform: string;
  /** When the pod stopped serving: the node's failure (node-failure), its first exec format error (exec-format), or the removal (drain). */
  readonly outSince: number;
  /** Filled when a replacement runs. */
  toPod?: string;
  toNode?: string;
  toPlatform?: string;
  recoveredMinute?: number;
  /** Evictions refused by a PodDisruptionBudget before this one went through. */
  refusals: number;
}

/** A pod caught with an exec format error (app/exec-format.ts) and what polyarch did. */
export interface ExecFormatRepair {
  /** When it was caught, and when the pod first failed. */
  readonly minute: number;
  readonly failedMinute: number;
  readonly pod: string;
  readonly node: string;
  readonly platform: string;
  readonly image: string;
  readonly digest: string;
  /** moving: a Migration moves it to another platform; blocked: its image runs on no platform of the cluster. */
  readonly outcome: 'moving' | 'blocked';
  readonly reason: string;
}

export interface PlatformSeries {
  /** used / allocatable of ready nodes, per sample */
  readonly cpuUsed: number[];
  readonly memUsed: number[];
  /** requested / allocatable */
  readonly cpuRequested: number[];
  readonly memRequested: number[];
  readonly readyNodes: number[];
}

export interface AppSeries {
  /** Per sample, one pod: usage (max over replicas), forecast, request; cpu in millicores, memory in bytes. */
  readonly cpuUsage: number[];
  readonly cpuForecast: (number | null)[];
  readonly cpuRequest: number[];
  readonly cpuLimit: (number | null)[];
  readonly memUsage: number[];
  readonly memForecast: (number | null)[];
  readonly memRequest: number[];
  readonly memLimit: (number | null)[];
  readonly running: number[];
}

export interface RunResult {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly minutes: number;
  readonly counters: RunCounters;
  /** Successful binds by platform, over the run. */
  readonly placementsByPlatform: Readonly<Record<string, number>>;
  /** Workload -> platform -> binds. */
  readonly placementMatrix: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Pods running at the end, by platform. */
  readonly runningByPlatform: Readonly<Record<string, number>>;
  readonly migrations: readonly SimMigration[];
  readonly evictionsRefused: number;
  readonly scaling: { readonly rounds: number; readonly resized: number; readonly deferred: number; readonly grants: number; readonly releases: number };
  /** Wanted replicas (and bare pods) not running at the end. */
  readonly podsLost: number;
  readonly podsWanted: number;
  readonly controlPlaneNodes: number;
  /** Free capacity in one architecture's cluster while pods waited in another's, core-hours and GiB-hours. */
  readonly stranded: { readonly cpuCoreHours: number; readonly memGiBHours: number };
  readonly failures: readonly { minute: number; pod: string; node: string; platform: string; image: string; reason: string }[];
  /** Exec format errors caught and what was done (platform-aware strategies; empty for the platform-blind baselines). */
  readonly execFormat: readonly ExecFormatRepair[];
  readonly timeline: {
    readonly minutes: number[];
    readonly platforms: Readonly<Record<string, PlatformSeries>>;
    readonly apps: Readonly<Record<string, AppSeries>>;
  };
  readonly invariantViolations: readonly string[];
  /** Wall time per phase of the loop, ms (not part of the JSON summary: it varies). */
  readonly phaseMs: Readonly<Record<string, number>>;
  readonly events: readonly { minute: number; type: string; detail: string }[];
}

/** One point of the slack / shortage trade-off: polyarch at one headroom quantile, or a baseline. */
export interface TradeoffPoint {
  readonly label: string;
  readonly quantile?: number;
  readonly slackCpuCoreHours: number;
  readonly slackMemoryGiBHours: number;
  /** CPU used above the request (core-hours) and throttled pod-minutes: demand the allocation did not cover. */
  readonly shortfallCpuCoreHours: number;
  readonly throttledPodMinutes: number;
  readonly oomKills: number;
}

export interface SimulationReport {
  readonly scenario: { readonly name: string; readonly file: string; readonly minutes: number; readonly nodes: number; readonly workloads: number; readonly platforms: Readonly<Record<string, number>> };
  readonly seed: number;
  readonly runs: readonly RunResult[];
  /** polyarch at several headroom quantiles (`simulate --tradeoff`). */
  readonly tradeoff?: readonly TradeoffPoint[];
}
