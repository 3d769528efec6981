/** The scaling plan's input and output (plain values; amounts in base units). */
import type { Forecast } from '../forecast/forecaster.ts';
import type { Metric } from '../forecast/window.ts';
import type { Headroom } from '../forecast/headroom.ts';

export const RESOURCES = ['cpu', 'memory', 'network', 'disk'] as const;
export type Resource = (typeof RESOURCES)[number];

/** The usage metric that measures each resource. */
export const RESOURCE_METRIC: Readonly<Record<Resource, Metric>> = { cpu: 'cpu', memory: 'mem', network: 'net', disk: 'disk' };
export const RESOURCE_OF_METRIC: Readonly<Record<Metric, Resource>> = { cpu: 'cpu', mem: 'memory', net: 'network', disk: 'disk' };

/** Cores for cpu, bytes for memory, bytes per second for network and disk. */
export type Amounts = Record<Resource, number>;

export interface PlanPolicy {
  /** Double moving average window N (minutes). */
  readonly window: number;
  /** Forecast horizon T (minutes). */
  readonly horizon: number;
  /** The headroom's floor, a share of the forecast: desired >= forecast x (1 + headroom). */
  readonly headroom: number;
  /**
   * The headroom above the forecast is this quantile of the forecaster's own recent errors
   * (actual - forecast made T minutes before), when it is above the floor; 0 turns it off.
   */
  readonly errorQuantile: number;
  /** Minutes of recent errors the quantile reads. */
  readonly errorWindow: number;
  /** Surplus idle for fewer minutes than this is young (released at once). */
  readonly youngMinutes: number;
  /** Largest compaction step of old surplus, as a share of the allocation. */
  readonly compactStep: number;
  /** The usage window, minutes (the score's maxima, the memory floor, aptl). */
  readonly usageMinutes: number;
  /** The disruption budget: at most this many pods changed per plan (undefined: no limit). */
  readonly maxPodChanges?: number | undefined;
}

export const DEFAULT_POLICY: PlanPolicy = { window: 10, horizon: 5, headroom: 0.05, errorQuantile: 0.95, errorWindow: 60, youngMinutes: 10, compactStep: 0.25, usageMinutes: 60 };

/**
 * Minutes of usage the plan reads for a policy: the usage window, or enough for the error
 * window: the oldest of its errors is `errorWindow` minutes back, judging a forecast made
 * `horizon` minutes before that from the `2 x window - 1` minutes a double moving average needs.
 */
export const usageKeepMinutes = (p: Pick<PlanPolicy, 'usageMinutes' | 'errorWindow' | 'window' | 'horizon'>): number => Math.max(p.usageMinutes, p.errorWindow + 2 * p.window - 2 + p.horizon);

export interface AppInput {
  readonly name: string;
  /** Larger is more important (Kubernetes PriorityClass value). */
  readonly priority: number;
  /** A system application (weighs +0.2 in aplv when priorities tie) or a user one (+0.1). */
  readonly system: boolean;
  /** Minutes the application has been running. */
  readonly runningMinutes: number;
  readonly allocation: Amounts;
  /**
   * Per-minute demand, oldest first, in the resource's units (cores, bytes, bytes/s), not
   * capped at the allocation (CPU throttling already counted in). For a resource the
   * application has no allocation of, the probes' utilisation in [0, 1] (it feeds the score only).
   */
  readonly demand: Readonly<Record<Metric, readonly number[]>>;
  /** Pods the application runs: what a change of its allocation disrupts (default 1). */
  readonly pods?: number;
  readonly min?: Partial<Amounts>;
  readonly max?: Partial<Amounts>;
  /** Old surplus marked by the previous plan, to compact in this one. */
  readonly marked?: Partial<Amounts>;
  /** This application's own forecast settings (a ScalingPolicy's); the plan's policy otherwise. */
  readonly forecast?: { readonly window?: number; readonly horizon?: number; readonly headroom?: number; readonly errorQuantile?: number; readonly errorWindow?: number };
  /**
   * A target from another forecaster (the VPA recommender, the baseline), whole application:
   * used as the desired allocation as it is (no headroom, no memory floor, no generations:
   * a surplus is given back at once).
   */
  readonly recommended?: Partial<Amounts>;
}

export interface PlanInput {
  readonly capacity: Amounts;
  readonly policy: PlanPolicy;
  readonly apps: readonly AppInput[];
}

/** Why an action was taken (stable codes; `detail` says it with numbers). */
export const Reason = {
  IncreaseGranted: 'IncreaseGranted',
  IncreasePartlyGranted: 'IncreasePartlyGranted',
  IncreaseUnmet: 'IncreaseUnmet',
  YoungSurplusReleased: 'YoungSurplusReleased',
  RecommendationFollowed: 'RecommendationFollowed',
  OldSurplusMarked: 'OldSurplusMarked',
  ProactiveReclaim: 'ProactiveReclaim',
  OldSurplusCompacted: 'OldSurplusCompacted',
  DisruptionBudget: 'DisruptionBudget',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export type ActionKind = 'grant' | 'unmet' | 'release' | 'mark' | 'proactive-reclaim' | 'compact' | 'held';
export type Generation = 'young' | 'old';

export interface Action {
  readonly kind: ActionKind;
  readonly resource: Resource;
  /** Amount granted, released, marked, reclaimed or left unmet, in base units. */
  readonly amount: number;
  /** Allocation before and after the action. */
  readonly from: number;
  readonly to: number;
  readonly generation?: Generation;
  readonly reason: Reason;
  readonly detail: string;
}

export type ForecastOut = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly reason: string; readonly needed: number; readonly have: number };

export type { Headroom } from '../forecast/headroom.ts';

export interface AppPlan {
  readonly name: string;
  readonly priority: number;
  readonly score: number;
  readonly aplv: number;
  readonly aptl: number;
  /** Maxima of each metric over the usage window (the score's inputs). */
  readonly maxima: Readonly<Record<Metric, number>>;
  /** Forecast demand T minutes ahead, in the resource's units. */
  readonly forecasts: Readonly<Record<Metric, Forecast>>;
  /** Per resource the application has an allocation of (and a forecast). */
  readonly headroom: Readonly<Partial<Record<Resource, Headroom>>>;
  readonly desired: Amounts;
  /** Allocation after this plan's actions. */
  readonly allocation: Amounts;
  readonly actions: readonly Action[];
  /** Old surplus marked now or still marked: feed back as `marked` into the next plan. */
  readonly marks: Partial<Amounts>;
}

export interface ResourceSummary {
  readonly capacity: number;
  readonly allocated: number;
  /** P: sum of increases wanted. */
  readonly wanted: number;
  /** Q: capacity minus allocations. */
  readonly free: number;
  /** max(0, P - Q). */
  readonly deficit: number;
  readonly released: number;
  readonly granted: number;
  readonly unmet: number;
}

export interface Release {
  readonly app: string;
  readonly score: number;
  readonly resource: Resource;
  readonly amount: number;
  readonly generation: Generation;
  readonly kind: 'release' | 'compact';
}

export interface Plan {
  /** True when P <= Q for every resource: every increase granted, nothing reclaimed. */
  readonly fits: boolean;
  readonly resources: Readonly<Record<Resource, ResourceSummary>>;
  readonly apps: readonly AppPlan[];
  /** Releases in the order they were taken. */
  readonly releases: readonly Release[];
  readonly unmet: Amounts;
}
