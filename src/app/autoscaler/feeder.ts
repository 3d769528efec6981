/**
 * The autoscaler's feeder (the VPA recommender's "input feeders"): reads the per-minute
 * samples closed since the last call from the MetricsSource into one window per
 * application, in absolute units (cores, bytes; network and disk as the utilisations the
 * probes report), CPU throttling counted as demand, an OOM kill's memory bumped as VPA
 * bumps it, scores the forecasts that came due, and feeds a stateful forecaster
 * (the VPA recommender) when the loop runs with one.
 */
import type { AppUsageSample, MetricsSource } from '../../ports/metrics-source.ts';
import type { AutoscalerTelemetry } from '../../ports/scaling-policy.ts';
import { oomBump, VpaRecommender } from '../../core/forecast/vpa.ts';

export interface AppWindow {
  /** Per minute, oldest first: the highest use of one pod (cores, bytes, utilisations). */
  readonly cpu: number[];
  readonly mem: number[];
  readonly net: number[];
  readonly disk: number[];
  readonly firstMs: number;
  lastMinuteMs: number;
}

/**
 * Which forecaster the loop runs: the method's double moving average; the VPA recommender
 * (a baseline); or the oracle (a baseline: the next interval's actual peak, simulator only).
 */
export type ForecasterKind = 'dma' | 'vpa' | 'oracle';

interface Due {
  readonly res: 'cpu' | 'memory';
  readonly value: number;
  readonly per: number;
}

const METRIC_KEYS = ['cpu', 'mem', 'net', 'disk'] as const;

export class UsageFeeder {
  private readonly windows = new Map<string, AppWindow>();
  private readonly pending = new Map<string, Due[]>();
  private readonly recommenders = new Map<string, VpaRecommender>();
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly metrics: MetricsSource,
    private readonly o: { readonly keepMinutes: number; readonly forecaster: ForecasterKind; readonly telemetry: AutoscalerTelemetry },
  ) {}

  /** Reads the minutes closed since the last call. */
  async observe(): Promise<void> {
    const samples = await this.metrics.appUsage(this.lastMs + 1);
    for (const s of samples) this.add(s);
    this.prune();
  }

  private add(s: AppUsageSample): void {
    let w = this.windows.get(s.app);
    if (!w) this.windows.set(s.app, (w = { cpu: [], mem: [], net: [], disk: [], firstMs: s.minuteMs, lastMinuteMs: s.minuteMs }));
    if (s.minuteMs <= w.lastMinuteMs && w.cpu.length > 0) return;
    // Demand, not use: throttled time is CPU the pod wanted and did not get (capped at 10x what it got).
    const cpu = s.cpuMilli / 1000 / (1 - Math.min(0.9, Math.max(0, s.cpuThrottled ?? 0)));
    w.cpu.push(cpu);
    // An OOM-killed minute: what it reached was not enough (a cgroup cannot show more than its limit); VPA's bump.
    w.mem.push((s.oomKills ?? 0) > 0 ? oomBump(s.memoryBytes) : s.memoryBytes);
    w.net.push(s.net);
    w.disk.push(s.disk);
    w.lastMinuteMs = s.minuteMs;
    if (w.cpu.length > this.o.keepMinutes) for (const m of METRIC_KEYS) w[m].shift();
    this.lastMs = Math.max(this.lastMs, s.minuteMs);
    if (this.o.forecaster === 'vpa') {
      let r = this.recommenders.get(s.app);
      if (!r) this.recommenders.set(s.app, (r = new VpaRecommender()));
      r.addCpu(s.minuteMs, cpu);
      r.addMemory(s.minuteMs, s.memoryBytes);
      if ((s.oomKills ?? 0) > 0) r.recordOom(s.minuteMs, s.memoryRequestBytes ?? s.memoryBytes);
    }
    const due = this.pending.get(`${s.app}|${s.minuteMs}`);
    if (due) {
      this.pending.delete(`${s.app}|${s.minuteMs}`);
      for (const d of due) this.o.telemetry.forecastError(d.res, Math.abs((d.res === 'cpu' ? cpu : s.memoryBytes) - d.value) / d.per);
    }
  }

  /** Forgets applications and forecasts not heard of for two hours (workloads deleted). */
  private prune(): void {
    const horizon = this.lastMs - 2 * 60 * 60_000;
    for (const [k, w] of this.windows) {
      if (w.lastMinuteMs >= horizon) continue;
      this.windows.delete(k);
      this.recommenders.delete(k);
    }
    for (const k of this.pending.keys()) if (Number(k.slice(k.lastIndexOf('|') + 1)) < horizon) this.pending.delete(k);
  }

  /** The window of one application, or of several (a selector spanning workloads: the element-wise maximum, aligned on the newest minute). */
  window(keys: readonly string[]): AppWindow | undefined {
    const ws = keys.map((k) => this.windows.get(k)).filter((w): w is AppWindow => w !== undefined);
    if (ws.length <= 1) return ws[0];
    const n = Math.max(...ws.map((w) => w.cpu.length));
    const merged: AppWindow = { cpu: [], mem: [], net: [], disk: [], firstMs: Math.min(...ws.map((w) => w.firstMs)), lastMinuteMs: Math.max(...ws.map((w) => w.lastMinuteMs)) };
    for (let i = 0; i < n; i++) for (const m of METRIC_KEYS) merged[m].push(Math.max(...ws.map((w) => w[m][w[m].length - n + i] ?? 0)));
    return merged;
  }

  /** The VPA recommender's per-pod target for one application (the highest over several), when the loop runs it. */
  recommendation(keys: readonly string[]): { cpu: number; memory: number } | undefined {
    let out: { cpu: number; memory: number } | undefined;
    for (const k of keys) {
      const t = this.recommenders.get(k)?.target();
      if (t) out = out ? { cpu: Math.max(out.cpu, t.cpu), memory: Math.max(out.memory, t.memory) } : t;
    }
    return out;
  }

  /** A forecast to score when the minute it is about arrives. */
  expect(key: string, dueMs: number, due: readonly Due[]): void {
    if (due.length > 0) this.pending.set(`${key}|${dueMs}`, [...due]);
  }
}
