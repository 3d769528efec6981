/**
 * The figures of a simulation, as one plain value: what `--output json` prints, what the
 * terminal tables show and what the report's comparison uses, so the three always agree.
 */
import { STRATEGIES, type RunResult, type SimulationReport, type Strategy, type TradeoffPoint } from './results.ts';

export interface StrategyFigures {
  readonly strategy: Strategy;
  readonly title: string;
  readonly placement: string;
  readonly scaling: string;
  readonly podsWanted: number;
  readonly podsLost: number;
  readonly execFormatErrorPods: number;
  /** Pods caught with an exec format error, repaired (running on another platform), left blocked (their image runs nowhere). */
  readonly execFormatCaught: number;
  readonly execFormatRepaired: number;
  readonly execFormatBlocked: number;
  /** Mean minutes from a pod's first exec format error to its replacement running on another platform. */
  readonly meanMinutesToRepair: number | null;
  readonly imagePullErrorPods: number;
  readonly pendingPodHours: number;
  readonly downPodHours: number;
  readonly migrations: number;
  readonly migrationsCompleted: number;
  readonly migrationsCrossPlatform: number;
  readonly meanMinutesToRecover: number | null;
  readonly evictionsRefusedByBudget: number;
  readonly oomKills: number;
  readonly throttledPodMinutes: number;
  /** Pod-minutes that got less CPU than they wanted within their limit (the node's cores contended), and the CPU not had. */
  readonly starvedPodMinutes: number;
  readonly starvedCpuCoreHours: number;
  /** Pods the kubelet evicted for memory pressure. */
  readonly nodePressureEvictions: number;
  readonly slackCpuCoreHours: number;
  readonly slackMemoryGiBHours: number;
  readonly shortfallCpuCoreHours: number;
  readonly shortfallMemoryGiBHours: number;
  readonly resizes: number;
  readonly resizesDeferred: number;
  readonly controlPlaneNodes: number;
  readonly strandedCpuCoreHours: number;
  readonly strandedMemoryGiBHours: number;
  /** Mean minutes from bound to Ready (startup-time.ts), and pods started with a CPU startup boost. */
  readonly meanMinutesToReady: number | null;
  readonly startupBoostedPods: number;
  readonly placementsByPlatform: Readonly<Record<string, number>>;
  readonly runningByPlatform: Readonly<Record<string, number>>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

export function figuresOf(run: RunResult): StrategyFigures {
  const c = run.counters;
  const done = run.migrations.filter((m) => m.recoveredMinute !== undefined);
  const repaired = done.filter((m) => m.reason === 'exec-format');
  const s = STRATEGIES[run.strategy];
  return {
    strategy: run.strategy,
    title: s.title,
    placement: s.placement,
    scaling: s.scaling,
    podsWanted: run.podsWanted,
    podsLost: run.podsLost,
    execFormatErrorPods: c.execFormatErrorPods,
    execFormatCaught: run.execFormat.length,
    execFormatRepaired: repaired.length,
    execFormatBlocked: run.execFormat.filter((e) => e.outcome === 'blocked').length,
    meanMinutesToRepair: repaired.length === 0 ? null : r2(repaired.reduce((a, m) => a + (m.recoveredMinute! - m.outSince), 0) / repaired.length),
    imagePullErrorPods: c.imagePullErrorPods,
    pendingPodHours: r2(c.pendingMinutes / 60),
    downPodHours: r2(c.downMinutes / 60),
    migrations: run.migrations.length,
    migrationsCompleted: done.length,
    migrationsCrossPlatform: done.filter((m) => m.toPlatform !== m.fromPlatform).length,
    meanMinutesToRecover: done.length === 0 ? null : r2(done.reduce((a, m) => a + (m.recoveredMinute! - m.minute), 0) / done.length),
    evictionsRefusedByBudget: run.evictionsRefused,
    oomKills: c.oomKills,
    throttledPodMinutes: c.throttledMinutes,
    starvedPodMinutes: c.starvedMinutes,
    starvedCpuCoreHours: r2(c.starvedCpu / 1000 / 60),
    nodePressureEvictions: c.nodePressureEvictions,
    slackCpuCoreHours: r2(c.slackCpu / 1000 / 60),
    slackMemoryGiBHours: r2(c.slackMem / 2 ** 30 / 60),
    shortfallCpuCoreHours: r2(c.shortfallCpu / 1000 / 60),
    shortfallMemoryGiBHours: r2(c.shortfallMem / 2 ** 30 / 60),
    resizes: run.scaling.resized,
    resizesDeferred: run.scaling.deferred,
    controlPlaneNodes: run.controlPlaneNodes,
    strandedCpuCoreHours: run.stranded.cpuCoreHours,
    strandedMemoryGiBHours: run.stranded.memGiBHours,
    meanMinutesToReady: run.timeToReady?.meanMinutes ?? null,
    startupBoostedPods: run.timeToReady?.boosted ?? 0,
    placementsByPlatform: sortRecord(run.placementsByPlatform),
    runningByPlatform: sortRecord(run.runningByPlatform),
  };
}

function sortRecord(r: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
}

export interface SummaryJson {
  readonly scenario: SimulationReport['scenario'];
  readonly seed: number;
  readonly strategies: readonly StrategyFigures[];
  readonly migrations: readonly {
    readonly minute: number; readonly pod: string; readonly reason: string; readonly from: string; readonly fromPlatform: string;
    readonly to: string | null; readonly toPlatform: string | null; readonly minutesToRecover: number | null; readonly minutesOutOfService: number | null; readonly budgetRefusals: number;
  }[];
  readonly placementMatrix: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly execFormatErrors: RunResult['failures'];
  /** polyarch's run: the exec format errors it caught and what it did. */
  readonly execFormatRepairs: RunResult['execFormat'];
  readonly events: RunResult['events'];
  readonly invariantViolations: readonly string[];
}

/** The JSON document of `polyarch simulate --output json` (deterministic for a seed). */
export function summaryJson(report: SimulationReport): SummaryJson {
  const poly = report.runs.find((r) => r.strategy === 'polyarch') ?? report.runs[0];
  const kube = report.runs.find((r) => r.strategy === 'kube-scheduler');
  return {
    scenario: report.scenario,
    seed: report.seed,
    strategies: report.runs.map(figuresOf),
    migrations: (poly?.migrations ?? []).map((m) => ({
      minute: m.minute, pod: m.pod, reason: m.reason, from: m.fromNode, fromPlatform: m.fromPlatform,
      to: m.toNode ?? null, toPlatform: m.toPlatform ?? null, minutesToRecover: m.recoveredMinute === undefined ? null : m.recoveredMinute - m.minute,
      minutesOutOfService: m.recoveredMinute === undefined ? null : m.recoveredMinute - m.outSince, budgetRefusals: m.refusals,
    })),
    placementMatrix: Object.fromEntries(Object.entries(poly?.placementMatrix ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortRecord(v)])),
    execFormatErrors: (kube?.failures ?? []).slice(0, 50),
    execFormatRepairs: poly?.execFormat ?? [],
    events: poly?.events ?? [],
    invariantViolations: report.runs.flatMap((r) => r.invariantViolations.map((v) => `${r.strategy}: ${v}`)),
  };
}

/** A run as one point of the slack / shortage trade-off. */
export function tradeoffPoint(label: string, run: RunResult, quantile?: number): TradeoffPoint {
  const f = figuresOf(run);
  return {
    label,
    ...(quantile !== undefined ? { quantile } : {}),
    slackCpuCoreHours: f.slackCpuCoreHours,
    slackMemoryGiBHours: f.slackMemoryGiBHours,
    shortfallCpuCoreHours: f.shortfallCpuCoreHours,
    throttledPodMinutes: f.throttledPodMinutes,
    oomKills: f.oomKills,
  };
}
