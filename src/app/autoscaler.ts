/**
 * The one autoscaler (steps 3 and 4 of the scaling method), run by `polyarch serve
 * --autoscaler` on a cluster and by `polyarch simulate` on the embedded one. Split as the
 * VPA recommender is:
 *
 * - feeder (autoscaler/feeder.ts): MetricsSource -> per-application usage windows;
 * - inputs (autoscaler/inputs.ts): ScalingPolicy objects + running pods -> the plan's input;
 * - the plan (core/scaling, pure): forecast, P vs Q, reclaim by score, generations;
 * - actuator (autoscaler/actuator.ts): per pod, resize / revert / evict / proactive reclaim;
 * - status and events (autoscaler/status.ts).
 *
 * The forecaster is a parameter: the double moving average (the method's, default) or the
 * VPA recommender (the simulator's VPA-style baseline, the same loop). A policy's mode says
 * how far the loop goes: Off (left alone), Recommend (status only), InPlace (pods/resize),
 * Recreate (eviction within PodDisruptionBudgets, one pod per policy per round).
 */
import { STARTUP_BOOST_ANNOTATION } from '../core/autoscale/startup-boost.ts';
import { takeBackStartupBoosts, type UnboostResult } from './autoscaler/startup-boost.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { Logger } from '../ports/logger.ts';
import type { Hindsight, MetricsSource } from '../ports/metrics-source.ts';
import { noAutoscalerTelemetry, type AutoscalerTelemetry, type NodeReclaimer, type ScalingPolicyStore } from '../ports/scaling-policy.ts';
import type { PolicyCondition, ScalingPolicy, ScalingPolicyStatus } from '../core/autoscale/policy.ts';
import { plan as makePlan } from '../core/scaling/plan.ts';
import { DEFAULT_POLICY, usageKeepMinutes, type AppPlan, type Plan, type PlanPolicy } from '../core/scaling/types.ts';
import { formatCpu, formatMemory } from '../core/units/amounts.ts';
import { Actuator, type LimitRule, type PodOutcome } from './autoscaler/actuator.ts';
import { UsageFeeder, type ForecasterKind } from './autoscaler/feeder.ts';
import { appInput, freeCapacity, nodeFree, requestsOf, selectPods, type Managed } from './autoscaler/inputs.ts';
import { PolicyReporter, policyKey } from './autoscaler/status.ts';
import { runEvery } from './run-loop.ts';

export type { PodOutcome } from './autoscaler/actuator.ts';
export type { ForecasterKind } from './autoscaler/feeder.ts';

export interface AutoscalerOptions {
  readonly reader: ClusterReader;
  readonly writer: ClusterWriter;
  readonly metrics: MetricsSource;
  readonly policies: ScalingPolicyStore;
  readonly reclaimer?: NodeReclaimer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry?: AutoscalerTelemetry;
  /** The forecaster (default: the double moving average). */
  readonly forecaster?: ForecasterKind;
  /** The future, for the oracle forecaster (the simulator's). */
  readonly hindsight?: Hindsight;
  /** Generations and the usage window (young minutes, compaction step); forecast settings come from each policy. */
  readonly plan?: Partial<PlanPolicy>;
  /** Changes smaller than this share of the request are skipped, per resource, for a policy whose spec.minChange does not say (default: cpu 10 %, memory 5 %; hysteresis, docs/autoscaler.md). */
  readonly minChange?: { readonly cpu: number; readonly memory: number };
  /** Round interval (default 60 s). */
  readonly intervalMs?: number;
  /** How limits move for policies that do not set `controlledValues` (default RaiseOnly: never lowered, raised to the window's peak demand; the VPA baseline: RequestsAndLimits). */
  readonly limits?: LimitRule;
}

export interface PolicyOutcome {
  readonly policy: string;
  readonly mode: string;
  readonly error?: string;
  readonly app?: AppPlan;
  /** The workloads it manages, their running pods, one pod's requests (cores, bytes) and forecast use (NaN while starting). */
  readonly apps?: readonly string[];
  readonly perPod?: { readonly cpu: number; readonly memory: number };
  readonly forecast?: { readonly cpu: number; readonly memory: number };
  readonly pods: readonly PodOutcome[];
  readonly reclaims: number;
}

export interface AutoscaleRound {
  readonly plan: Plan | undefined;
  readonly policies: readonly PolicyOutcome[];
}

/** The hysteresis of a policy that does not set spec.minChange (measured in docs/scaling-quality.md and docs/performance.md). */
export const DEFAULT_MIN_CHANGE = { cpu: 0.1, memory: 0.05 } as const;

export class Autoscaler {
  private readonly feeder: UsageFeeder;
  private readonly planPolicy: PlanPolicy;
  private readonly telemetry: AutoscalerTelemetry;
  private readonly reporter: PolicyReporter;
  private readonly actuator: Actuator;
  private readonly forecaster: ForecasterKind;

  constructor(private readonly o: AutoscalerOptions) {
    this.planPolicy = { ...DEFAULT_POLICY, ...o.plan };
    this.telemetry = o.telemetry ?? noAutoscalerTelemetry;
    this.forecaster = o.forecaster ?? 'dma';
    if (this.forecaster === 'oracle' && !o.hindsight) throw new Error('the oracle forecaster needs hindsight (the simulator)');
    // The usage window, or the error window with the forecast's own needs (a policy asking a longer one reads what is kept).
    this.feeder = new UsageFeeder(o.metrics, { keepMinutes: usageKeepMinutes(this.planPolicy), forecaster: this.forecaster, telemetry: this.telemetry });
    const now = (): number => o.clock.now();
    this.reporter = new PolicyReporter({ writer: o.writer, policies: o.policies, log: o.log, now });
    this.actuator = new Actuator({ writer: o.writer, reclaimer: o.reclaimer, telemetry: this.telemetry, reporter: this.reporter, minChange: o.minChange ?? DEFAULT_MIN_CHANGE, now, limits: o.limits ?? 'RaiseOnly', usageMinutes: this.planPolicy.usageMinutes });
  }

  /** Rounds every `intervalMs` until the signal aborts; a failed round is logged and the next goes on. */
  run(signal: AbortSignal): Promise<void> {
    return runEvery({
      signal,
      clock: this.o.clock,
      intervalMs: this.o.intervalMs ?? 60_000,
      round: () => this.runOnce(),
      onError: (err) => this.o.log.error({ error: err instanceof Error ? err.message : String(err) }, 'autoscaler round failed'),
    });
  }

  /** Reads the minutes closed since the last call (runOnce does it too; the simulator calls it every minute). */
  observe(): Promise<void> {
    return this.feeder.observe();
  }

  /** Gives boosted pods that are Ready their CPU back in place (autoscaler/startup-boost.ts); runOnce does it first. */
  takeBackStartupBoosts(): Promise<UnboostResult[]> {
    return takeBackStartupBoosts({ reader: this.o.reader, writer: this.o.writer, clock: this.o.clock });
  }

  async runOnce(): Promise<AutoscaleRound> {
    await this.feeder.observe();
    await this.takeBackStartupBoosts();
    const parsed = await this.o.policies.list();
    const outcomes: PolicyOutcome[] = [];
    const valid: ScalingPolicy[] = [];
    for (const p of parsed) {
      if (p.ok) valid.push(p.value);
      else {
        outcomes.push({ policy: `${p.namespace}/${p.name}`, mode: 'Invalid', error: p.error, pods: [], reclaims: 0 });
        await this.reporter.invalid(p);
      }
    }
    const keys = new Map(valid.map((p) => [p, policyKey(p)]));
    valid.sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : keys.get(a)! > keys.get(b)! ? 1 : 0));
    for (const p of valid) if (p.spec.mode === 'Off') outcomes.push({ policy: policyKey(p), mode: 'Off', pods: [], reclaims: 0 });
    if (valid.every((p) => p.spec.mode === 'Off')) return { plan: undefined, policies: outcomes };
    // A pod still under its startup boost is left to autoscaler/startup-boost.ts until it is Ready.
    const pods = (await this.o.reader.listPods()).filter((p) => p.spec.nodeName && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && !p.metadata.annotations?.[STARTUP_BOOST_ANNOTATION]);
    const nodes = await this.o.reader.listNodes();

    const { selections, taken } = selectPods(valid, pods);
    const managed: Managed[] = [];
    for (const { policy, pods: mine, apps } of selections) {
      const window = this.feeder.window(apps);
      const perPod = mine[0] ? requestsOf(mine[0]) : undefined;
      if (!window || !perPod || perPod.cpu <= 0 || perPod.memory <= 0) {
        const note = mine.length === 0 ? 'no running pods match the target' : !window ? 'no usage reported yet' : 'the pods have no cpu or memory requests';
        outcomes.push({ policy: policyKey(policy), mode: policy.spec.mode, error: note, pods: [], reclaims: 0 });
        await this.reporter.write(policy, { forecast: { horizonMinutes: policy.spec.forecast.horizon, note } }, [], [{ type: 'Ready', status: 'False', reason: 'NoData', message: note }]);
        continue;
      }
      managed.push({ policy, key: policyKey(policy), apps, pods: mine, window, perPod });
    }

    const now = this.o.clock.now();
    const inputs = managed.map((m) => appInput(m, now, this.recommended(m.apps, now)));
    const capacity = freeCapacity(nodes, pods, taken);
    const plan = inputs.length > 0 ? makePlan({ capacity: { ...capacity, network: 0, disk: 0 }, policy: this.planPolicy, apps: inputs }) : undefined;
    if (plan) {
      for (const r of plan.releases) {
        if (r.resource !== 'cpu' && r.resource !== 'memory') continue;
        this.telemetry.reclaimed(r.resource, r.generation, r.kind === 'compact' ? 'OldSurplusCompacted' : 'YoungSurplusReleased', r.amount);
      }
      this.telemetry.unmet('cpu', plan.unmet.cpu);
      this.telemetry.unmet('memory', plan.unmet.memory);
    }

    const free = nodeFree(nodes, pods);
    // Decreases first, so that the room they free on a node is there for the increases.
    const order = managed.map((m, i) => ({ m, ap: plan?.apps[i] })).filter((x): x is { m: Managed; ap: AppPlan } => x.ap !== undefined);
    const growth = (x: { m: Managed; ap: AppPlan }): number => x.ap.allocation.cpu / Math.max(1e-9, x.m.perPod.cpu * x.m.pods.length) + x.ap.allocation.memory / Math.max(1, x.m.perPod.memory * x.m.pods.length);
    order.sort((a, b) => growth(a) - growth(b));
    for (const { m, ap } of order) outcomes.push(await this.settle(m, ap, free));
    return { plan, policies: outcomes };
  }

  /** Another forecaster's per-pod target: the VPA recommender's, or the oracle's (the peak until the next round). */
  private recommended(apps: readonly string[], now: number): { cpu: number; memory: number } | undefined {
    if (this.forecaster === 'vpa') return this.feeder.recommendation(apps);
    if (this.forecaster !== 'oracle') return undefined;
    let out: { cpu: number; memory: number } | undefined;
    const interval = this.o.intervalMs ?? 60_000;
    for (const a of apps) {
      // The allocation set now holds for the minutes until the next round's (its minute included).
      const p = this.o.hindsight?.peak(a, now + 60_000, now + interval + 60_000);
      if (p) out = out ? { cpu: Math.max(out.cpu, p.cpu), memory: Math.max(out.memory, p.memory) } : { ...p };
    }
    return out;
  }

  /** Acts on one application's pods and writes its policy's status. */
  private async settle(m: Managed, ap: AppPlan, free: Map<string, { cpu: number; memory: number }>): Promise<PolicyOutcome> {
    const { policy, perPod, window: w } = m;
    const spec = policy.spec;
    const fc = ap.forecasts.cpu;
    const fm = ap.forecasts.mem;
    // What the forecaster says one pod will use: the DMA's forecast, or the VPA recommender's target.
    const vpa = this.forecaster !== 'dma';
    const n = m.pods.length;
    const forecastCpu = vpa ? ap.desired.cpu / n : fc.ok ? fc.value / n : Number.NaN;
    const forecastMem = vpa ? ap.desired.memory / n : fm.ok ? fm.value / n : Number.NaN;
    const hc = ap.headroom.cpu;
    const hm = ap.headroom.memory;
    // Scored when the minute it is about arrives.
    if (spec.targetRef) {
      this.feeder.expect(`${policy.namespace}/${spec.targetRef.name}`, w.lastMinuteMs + spec.forecast.horizon * 60_000, [
        ...(fc.ok ? [{ res: 'cpu' as const, value: forecastCpu, per: perPod.cpu }] : []),
        ...(fm.ok ? [{ res: 'memory' as const, value: forecastMem, per: perPod.memory }] : []),
      ]);
    }
    const a = await this.actuator.act(m, ap, free);
    const anyFull = a.pods.some((o) => o.decision.nodeFull);
    const conditions: Omit<PolicyCondition, 'lastTransitionTime'>[] = [
      { type: 'Ready', status: 'True', reason: 'Planned', message: `planned ${m.pods.length} pod(s); mode ${spec.mode}` },
      anyFull
        ? { type: 'NodeFull', status: 'True', reason: 'IncreaseDoesNotFit', message: a.pods.filter((o) => o.decision.nodeFull).map((o) => `${o.pod} on ${o.node}`).join(', ') }
        : { type: 'NodeFull', status: 'False', reason: 'Fits', message: 'every increase fits its node' },
    ];
    const forecast: NonNullable<ScalingPolicyStatus['forecast']> = {
      horizonMinutes: spec.forecast.horizon,
      ...(fc.ok ? { cpu: formatCpu(Math.round(forecastCpu * 1000)) } : {}),
      ...(fm.ok ? { memory: formatMemory(forecastMem) } : {}),
      ...(hc || hm
        ? {
            headroom: {
              ...(hc ? { cpu: formatCpu(Math.round((hc.amount / n) * 1000)) } : {}),
              ...(hm ? { memory: formatMemory(hm.amount / n) } : {}),
              source: [hc, hm].map((h) => (h ? (h.source === 'errors' ? `P${Math.round(h.quantile * 100)} of ${h.errors} errors` : 'floor') : '-')).join(' / '),
            },
          }
        : {}),
      // Only while it is true: a status written in an earlier round does not keep it (the store replaces the forecast).
      ...(!fc.ok && !vpa ? { note: `starting: ${fc.have} of ${fc.needed} minutes` } : {}),
    };
    await this.reporter.write(policy, { forecast, ...(a.recommendation ? { recommendation: a.recommendation } : {}), marks: { cpu: ap.marks.cpu ?? 0, memory: ap.marks.memory ?? 0 } }, a.actions, conditions);
    return { policy: policyKey(policy), mode: spec.mode, app: ap, apps: m.apps, perPod, forecast: { cpu: forecastCpu, memory: forecastMem }, pods: a.pods, reclaims: a.reclaims };
  }
}
