/** The scaling plan's input and output (plain values; amounts in base units). */
import type { Forecast } from '../forecast/forecaster.ts';
import type { Metric } from '../forecast/window.ts';

export const RESOURCES = ['cpu', 'memory', 'network', 'disk'] as const;
export type Resource = (typeof RESOURCES)[number];

/** The usage metric that measures each resource. */
export const RESOURCE_METRIC: Readonly<Record<Resource, Metric>> = { cpu: 'cpu', memory: 'mem', network: 'net', disk: 'disk' };

/** Cores for cpu, bytes for memory, bytes per second for network and disk. */
export type Amounts = Record<Resource, number>;

export interface PlanPolicy {
  /** Double moving average window N (minutes). */
  readonly window: number;
  /** Forecast horizon T (minutes). */
  readonly horizon: number;
  /** Desired allocation = forecast x allocation x (1 + headroom). */
  readonly headroom: number;
  /** Surplus idle for fewer minutes than this is young (released at once). */
  readonly youngMinutes: number;
  /** Largest compaction step of old surplus, as a share of the allocation. */
  readonly compactStep: number;
  /** The usage window, minutes (for the score's maxima and aptl). */
  readonly usageMinutes: number;
}

export const DEFAULT_POLICY: PlanPolicy = { window: 10, horizon: 5, headroom: 0.15, youngMinutes: 10, compactStep: 0.25, usageMinutes: 60 };

export interface AppInput {
  readonly name: string;
  /** Larger is more important (Kubernetes PriorityClass value). */
  readonly priority: number;
  /** A system application (weighs +0.2 in aplv when priorities tie) or a user one (+0.1). */
  readonly system: boolean;
  /** Minutes the application has been running. */
  readonly runningMinutes: number;
  readonly allocation: Amounts;
  /** Per-minute maxima of utilisation of the allocation, oldest first, up to the usage window. */
  readonly usage: Readonly<Record<Metric, readonly number[]>>;
  readonly min?: Partial<Amounts>;
  readonly max?: Partial<Amounts>;
  /** Old surplus marked by the previous plan, to compact in this one. */
  readonly marked?: Partial<Amounts>;
  /** This application's own forecast window, horizon and headroom (a ScalingPolicy's); the plan's policy otherwise. */
  readonly forecast?: { readonly window?: number; readonly horizon?: number; readonly headroom?: number };
  /**
   * A target from another forecaster (the VPA recommender, the baseline), whole application:
   * used as the desired allocation as it is (no headroom, no generations: a surplus is given back at once).
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
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export type ActionKind = 'grant' | 'unmet' | 'release' | 'mark' | 'proactive-reclaim' | 'compact';
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

export interface AppPlan {
  readonly name: string;
  readonly priority: number;
  readonly score: number;
  readonly aplv: number;
  readonly aptl: number;
  /** Maxima of each metric over the usage window (the score's inputs). */
  readonly maxima: Readonly<Record<Metric, number>>;
  readonly forecasts: Readonly<Record<Metric, Forecast>>;
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
