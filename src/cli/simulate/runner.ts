/**
 * Runs a scenario on the embedded cluster with one strategy, minute by minute: the
 * timeline's events, the migrator, the controllers of kube-controller-manager, the scheduler, the kubelets and,
 * every interval, the autoscaler. polyarch and the baselines run the same app loops
 * (app/) over the same ports, configured differently. The composition lives in cli/
 * because it is the one place that knows both the simulator and the app.
 */
import type { Node, Pod } from '../../core/k8s/types.ts';
import { canRun, formatPlatform, nodePlatform } from '../../core/platform/platform.ts';
import { describeOutcome } from '../../core/kube-model/runtime.ts';
import { Scheduler } from '../../app/scheduler.ts';
import { createFramework } from '../../core/placement/framework.ts';
import { ImageLookupService } from '../../app/image-lookup.ts';
import { Migrator, requestDrain, undoDrain } from '../../app/migrator.ts';
import { ExecFormatController } from '../../app/exec-format.ts';
import { MemoryBadPlatformStore } from '../../sim/bad-platforms.ts';
import { Autoscaler } from '../../app/autoscaler.ts';
import { silentLogger } from '../../ports/logger.ts';
import type { Hindsight } from '../../ports/metrics-source.ts';
import type { Usage } from '../../sim/usage.ts';
import { MemoryPolicyStore } from '../../sim/scaling-policies.ts';
import { MemoryPlacementPolicies } from '../../sim/placement-policies.ts';
import { boostAtCreation } from '../../app/admission.ts';
import { largestFreeCpuMilli } from '../../core/autoscale/startup-boost.ts';
import { parseScalingPolicy } from '../../core/autoscale/policy.ts';
import type { PodLike } from '../../core/admission/pod.ts';
import { buildWorld, deployWorkload, type World } from '../../sim/world.ts';
import { appOf } from '../../sim/kubelet.ts';
import { allocatableAmounts, podRequestAmounts } from '../../core/k8s/resources.ts';
import type { SimRegistry } from '../../sim/registry.ts';
import type { UsageModel } from '../../sim/usage.ts';
import type { Scenario } from '../../sim/scenario/load.ts';
import { selectorMatches } from '../../core/k8s/labels.ts';
import type { AppSeries, ExecFormatRepair, SimMigration, PlatformSeries, RunResult, Strategy } from '../../sim/results.ts';

export interface RunOptions {
  readonly seed: number;
  readonly strategy: Strategy;
  /** Check the invariants after every minute (tests); violations are listed in the result. */
  readonly checkInvariants?: boolean;
  /** Workloads whose usage, forecast and allocation the timeline keeps. */
  readonly trackApps?: readonly string[];
  /** Minutes between timeline samples (default: about 240 samples per run). */
  readonly sampleEvery?: number;
  readonly onProgress?: (minute: number) => void;
  /** Called after every simulated minute with the world (tests look inside). */
  readonly onMinute?: (minute: number, world: World) => void;
  readonly registry?: SimRegistry;
  readonly usage?: UsageModel;
  /** The headroom quantile of the generated ScalingPolicies, instead of the scenario's (the trade-off curve). */
  readonly errorQuantile?: number;
}

/** One pod's forecast use of a workload after the last round (millicores, bytes; NaN while starting), for the timeline. */
interface AppScaling {
  readonly forecastCpu: number;
  readonly forecastMem: number;
}

/**
 * The ScalingPolicy objects of a run: the scenario's own, and one for every other
 * Deployment and StatefulSet, InPlace (Off when the strategy keeps static requests).
 */
export function scenarioPolicies(scenario: Scenario, mode: 'InPlace' | 'Off', errorQuantile = scenario.policy.errorQuantile): { namespace: string; name: string; spec: unknown }[] {
  const own = scenario.scalingPolicies.map((p) => (mode === 'Off' ? { ...p, spec: { ...(p.spec as object), mode: 'Off' } } : p));
  const covered = new Set(own.map((p) => `${p.namespace}/${(p.spec as { targetRef?: { name?: string } }).targetRef?.name ?? ''}`));
  const policy = scenario.policy;
  const workloads = [...scenario.deployments.map((d) => ({ d, kind: 'Deployment' as const })), ...scenario.statefulSets.map((d) => ({ d, kind: 'StatefulSet' as const }))];
  return [
    ...own,
    ...workloads
      .filter(({ d }) => !covered.has(`${d.metadata.namespace ?? 'default'}/${d.metadata.name ?? ''}`))
      .map(({ d, kind }) => ({
        namespace: d.metadata.namespace ?? 'default',
        name: d.metadata.name ?? '',
        spec: { targetRef: { kind, name: d.metadata.name ?? '' }, mode, headroom: policy.headroom, forecast: { window: 10, horizon: policy.horizon, errorQuantile } },
      })),
  ];
}

const ARCH_LABEL = 'kubernetes.io/arch';

interface StrategyConfig {
  readonly schedulerName: string;
  readonly platformAware: boolean;
  readonly recreateBarePods: boolean;
  readonly scaling: 'predictive' | 'vpa' | 'oracle' | 'none';
  readonly perArch: boolean;
}

const CONFIG: Readonly<Record<Strategy, StrategyConfig>> = {
  polyarch: { schedulerName: 'polyarch', platformAware: true, recreateBarePods: true, scaling: 'predictive', perArch: false },
  static: { schedulerName: 'polyarch', platformAware: true, recreateBarePods: true, scaling: 'none', perArch: false },
  vpa: { schedulerName: 'polyarch', platformAware: true, recreateBarePods: true, scaling: 'vpa', perArch: false },
  oracle: { schedulerName: 'polyarch', platformAware: true, recreateBarePods: true, scaling: 'oracle', perArch: false },
  'kube-scheduler': { schedulerName: 'default-scheduler', platformAware: false, recreateBarePods: false, scaling: 'none', perArch: false },
  'per-arch': { schedulerName: 'default-scheduler', platformAware: false, recreateBarePods: false, scaling: 'none', perArch: true },
};

/**
 * The static split of the second baseline: each workload lives in the cluster of one
 * architecture its images exist for, with the image written for that architecture, as
 * an operator running one cluster per architecture would. Workloads are placed in file
 * order into the supported cluster with the most CPU not yet promised (a fair split).
 */
function perArchAssignment(scenario: Scenario, registry: SimRegistry): (pod: Pod, workload: string) => Pod {
  const archCpu = new Map<string, number>();
  for (const n of scenario.nodes) {
    const p = nodePlatform(n);
    if (!p.ok) continue;
    archCpu.set(p.value.architecture, (archCpu.get(p.value.architecture) ?? 0) + allocatableAmounts(n).cpu);
  }
  const replicas = new Map<string, number>();
  for (const d of [...scenario.deployments, ...scenario.statefulSets]) replicas.set(`${d.metadata.namespace ?? 'default'}/${d.metadata.name ?? ''}`, d.spec.replicas ?? 1);
  const cache = new Map<string, { arch: string; images: Record<string, string> } | undefined>();
  return (pod, workload) => {
    if (!cache.has(workload)) {
      let best: { arch: string; images: Record<string, string> } | undefined;
      const byArch = [...archCpu.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      for (const [arch] of byArch) {
        const images: Record<string, string> = {};
        let all = true;
        for (const c of pod.spec.containers) {
          const r = registry.answer(c.image ?? '');
          const hit = r?.ok ? r.value.platforms.find((p) => p.platform.architecture === arch) : undefined;
          if (!hit) {
            all = false;
            break;
          }
          images[c.name] = hit.image;
        }
        if (all) {
          best = { arch, images };
          break;
        }
      }
      if (best) archCpu.set(best.arch, (archCpu.get(best.arch) ?? 0) - podRequestAmounts(pod).cpu * (replicas.get(workload) ?? 1));
      cache.set(workload, best);
    }
    const a = cache.get(workload);
    if (!a) return pod;
    return {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...(pod.metadata.labels ?? {}), 'polyarch.io/cluster': a.arch } },
      spec: {
        ...pod.spec,
        nodeSelector: { ...(pod.spec.nodeSelector ?? {}), [ARCH_LABEL]: a.arch },
        containers: pod.spec.containers.map((c) => ({ ...c, image: a.images[c.name] ?? c.image })),
      },
    };
  };
}

const emptyAppSeries = (): AppSeries => ({ cpuUsage: [], cpuForecast: [], cpuRequest: [], cpuLimit: [], memUsage: [], memForecast: [], memRequest: [], memLimit: [], running: [] });
const emptyPlatformSeries = (): PlatformSeries => ({ cpuUsed: [], memUsed: [], cpuRequested: [], memRequested: [], readyNodes: [] });
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export async function runStrategy(scenario: Scenario, opts: RunOptions): Promise<RunResult> {
  const cfg = CONFIG[opts.strategy];
  const policy = scenario.policy;
  const perArch = cfg.perArch && opts.registry ? perArchAssignment(scenario, opts.registry) : undefined;
  // The CPU startup boost the webhook applies at creation (polyarch's autoscaling only; the baselines start unboosted).
  const boost = cfg.scaling === 'predictive' || cfg.scaling === 'oracle' ? startupBoostInSim(scenario) : undefined;
  const mutate = perArch || boost
    ? (pod: Pod, workload: string): Pod => {
        const placed = perArch ? perArch(pod, workload) : pod;
        return boost ? boost.apply(placed) : placed;
      }
    : undefined;
  const world = await buildWorld(scenario, {
    seed: opts.seed,
    controllers: { schedulerName: cfg.schedulerName, ...(mutate ? { mutate } : {}) },
    ...(mutate ? { mutatePod: (p: Pod) => mutate(p, `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`) } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.usage ? { usage: opts.usage } : {}),
  });
  const { cluster, clock, kubelet, controllers, registry } = world;
  kubelet.tracked = new Set(opts.trackApps ?? []);
  // `serve --scheduler`'s scheduler and profile; the platform-blind baselines run kube-scheduler's default profile.
  const framework = createFramework(cfg.platformAware ? {} : { profile: 'kube-scheduler' });
  if (!framework.ok) throw new Error(`scheduling profile: ${framework.error}`);
  // The one image lookup service (S1): the scheduler and the exec format controller share it, negative record included.
  const resolver = new ImageLookupService({ source: registry, clock });
  const scheduler = new Scheduler({
    cluster, resolver, framework: framework.value, rng: world.rng.fork('scheduler'), clock, log: silentLogger, schedulerName: cfg.schedulerName,
    // The scenario's placement policies, read as `serve` reads them (the platform-blind baselines have none).
    ...(cfg.platformAware && scenario.placementPolicies?.length ? { policies: new MemoryPlacementPolicies(scenario.placementPolicies) } : {}),
  });
  // The migrator `serve --migrator` runs; the Kubernetes baselines configure it as Kubernetes behaves (bare pods are lost).
  // Its default toleration is the one the simulated API server's admission gives pods (world.ts).
  const migrator = new Migrator({ cluster, clock, defaultTolerationMs: policy.evictionTimeout * 60_000, recreateBarePods: cfg.recreateBarePods });
  // `serve --exec-format`: exec format errors caught and repaired through the migrator; the platform-blind baselines have none (Kubernetes reports, nothing acts).
  const execFormat = cfg.platformAware ? new ExecFormatController({ cluster, store: new MemoryBadPlatformStore(), resolver, migrator, clock, log: silentLogger }) : undefined;
  const execFormatRepairs: ExecFormatRepair[] = [];
  /** The minute a pod's current incarnation first failed (the kubelet's record), for time to repair. */
  const failedMinute = (pod: string, atOrBefore: number): number => {
    let at = atOrBefore;
    for (const f of kubelet.failures) if (f.pod === pod && f.minute <= atOrBefore) at = f.minute;
    return at;
  };
  // The one autoscaler, as `serve --autoscaler` runs it; the baselines differ by forecaster (VPA) or mode (Off: static requests).
  const autoscaler = new Autoscaler({
    reader: cluster,
    writer: cluster,
    metrics: kubelet,
    policies: new MemoryPolicyStore(scenarioPolicies(scenario, cfg.scaling === 'none' ? 'Off' : 'InPlace', opts.errorQuantile)),
    clock,
    log: silentLogger,
    forecaster: cfg.scaling === 'vpa' ? 'vpa' : cfg.scaling === 'oracle' ? 'oracle' : 'dma',
    // VPA keeps limits in proportion to requests (RequestsAndLimits, its default); the oracle is about requests alone.
    limits: cfg.scaling === 'predictive' ? 'RaiseOnly' : 'RequestsAndLimits',
    hindsight: hindsightOf(world),
    intervalMs: policy.interval * 60_000,
    plan: { usageMinutes: policy.window, maxPodChanges: policy.maxPodChanges },
  });

  const nodePlat = new Map<string, string>();
  for (const n of scenario.nodes) {
    const p = nodePlatform(n);
    nodePlat.set(n.metadata.name ?? '', p.ok ? formatPlatform(p.value) : 'unknown');
  }
  const placementsByPlatform: Record<string, number> = {};
  const matrix: Record<string, Record<string, number>> = {};
  const migrations: SimMigration[] = [];
  const refusals = new Map<string, number>();
  let evictionsRefused = 0;
  const scaling = { rounds: 0, resized: 0, deferred: 0, grants: 0, releases: 0 };
  const violations: string[] = [];
  const events: { minute: number; type: string; detail: string }[] = [];
  const stranded = { cpu: 0, mem: 0 };
  const sampleEvery = opts.sampleEvery ?? Math.max(1, Math.round(scenario.durationMinutes / 240));
  const tracked = opts.trackApps ?? [];
  const timeline = { minutes: [] as number[], platforms: {} as Record<string, PlatformSeries>, apps: {} as Record<string, AppSeries> };
  for (const a of tracked) timeline.apps[a] = emptyAppSeries();
  let lastScaling = new Map<string, AppScaling>();
  const eventQueue = [...scenario.events];
  const failedAt = new Map<string, number>();
  const phaseMs: Record<string, number> = {};
  const lap = (phase: string, since: number): number => {
    const now = performance.now();
    phaseMs[phase] = (phaseMs[phase] ?? 0) + (now - since);
    return now;
  };

  for (let minute = 0; minute < scenario.durationMinutes; minute++) {
    clock.advanceTo(scenario.startMs + minute * 60_000);
    while (eventQueue.length > 0 && eventQueue[0]!.at <= minute) {
      const e = eventQueue.shift()!;
      if (e.type === 'node-failure') {
        cluster.failNode(e.node);
        failedAt.set(e.node, minute);
        events.push({ minute, type: e.type, detail: `${e.node} (${nodePlat.get(e.node) ?? '?'}) stops answering` });
      } else if (e.type === 'drain') {
        const r = await requestDrain(cluster, cluster, e.node);
        events.push({ minute, type: e.type, detail: `${e.node} (${nodePlat.get(e.node) ?? '?'}): ${r.message}` });
      } else if (e.type === 'fence') {
        cluster.fenceNode(e.node);
        events.push({ minute, type: e.type, detail: `${e.node} (${nodePlat.get(e.node) ?? '?'}) confirmed off (out-of-service taint): its StatefulSet pods may be replaced` });
      } else if (e.type === 'recovery') {
        cluster.recoverNode(e.node);
        await undoDrain(cluster, cluster, e.node);
        events.push({ minute, type: e.type, detail: `${e.node} (${nodePlat.get(e.node) ?? '?'}) is back` });
      } else if (e.type === 'deploy') {
        const key = e.workload.includes('/') ? e.workload : `default/${e.workload}`;
        deployWorkload(world, key);
        events.push({ minute, type: e.type, detail: `${key} deployed` });
      } else {
        const key = e.workload.includes('/') ? e.workload : `default/${e.workload}`;
        cluster.scaleWorkload(key, e.replicas);
        events.push({ minute, type: e.type, detail: `${key} scaled to ${e.replicas}` });
      }
    }

    let t = performance.now();
    for (const c of (await execFormat?.runOnce())?.cases ?? []) {
      if (c.outcome === 'waiting') continue;
      execFormatRepairs.push({ minute, pod: c.pod, node: c.node, platform: c.platform, image: c.image, digest: c.digest, outcome: c.outcome, failedMinute: failedMinute(c.pod, minute), reason: c.reason });
    }
    const round = await migrator.runOnce();
    for (const o of round.moves) {
      const key = o.record.spec.pod;
      if (o.outcome === 'refused') {
        evictionsRefused++;
        refusals.set(key, (refusals.get(key) ?? 0) + 1);
        continue;
      }
      const from = o.record.spec.fromNode ?? '';
      const why = o.record.spec.reason;
      const reason = why === 'node-lost' ? 'node-failure' : why === 'exec-format-error' ? 'exec-format' : 'drain';
      migrations.push({
        minute, pod: key, app: appOf(o.pod), reason,
        fromNode: from, fromPlatform: nodePlat.get(from) ?? 'unknown', refusals: refusals.get(key) ?? 0,
        outSince: reason === 'drain' ? minute : reason === 'exec-format' ? failedMinute(key, minute) : Math.min(minute, failedAt.get(from) ?? minute),
      });
    }
    // kube-controller-manager after the migrator (on a cluster they race; here in a fixed
    // order): the taint manager evicts what the lost nodes' tolerations no longer cover and
    // pod GC removes what terminates on fenced nodes, then the workload controllers create
    // the replacements, all before the scheduler runs.
    // The webhook's room for a boost, as serve refreshes it: the most CPU free on one node now.
    if (boost) boost.refresh(await cluster.listNodes(), await cluster.listPods());
    await controllers.reconcile();
    t = lap('controllers+migrator', t);
    const sched = await scheduler.runOnce();
    t = lap('scheduler', t);
    for (const p of sched.placements) {
      if (p.result !== 'bound' || !p.decision.node) continue;
      const plat = nodePlat.get(p.decision.node) ?? 'unknown';
      placementsByPlatform[plat] = (placementsByPlatform[plat] ?? 0) + 1;
      const pod = cluster.podObject(p.decision.pod);
      const app = pod ? appOf(pod) : p.decision.pod;
      const row = (matrix[app] ??= {});
      row[plat] = (row[plat] ?? 0) + 1;
    }

    kubelet.step(minute);
    t = lap('kubelet', t);
    // The autoscaler takes each boost back once its pod is Ready (as `serve --autoscaler` does first in every round).
    if (boost) await autoscaler.takeBackStartupBoosts();
    for (const key of kubelet.startedThisStep) {
      const pod = cluster.podObject(key);
      if (!pod) continue;
      const app = appOf(pod);
      const open = migrations.find((m) => m.recoveredMinute === undefined && m.app === app && m.minute <= minute);
      if (open) {
        open.toPod = key;
        open.toNode = pod.spec.nodeName ?? '';
        open.toPlatform = nodePlat.get(open.toNode) ?? 'unknown';
        open.recoveredMinute = minute;
      }
    }

    if (minute > 0 && minute % policy.interval === 0) {
      const r = await autoscaler.runOnce();
      scaling.rounds++;
      for (const p of r.policies) for (const o of p.pods) {
        if (o.done === 'resized') scaling.resized++;
        if (o.decision.kind === 'wait' || o.decision.nodeFull) scaling.deferred++;
      }
      for (const a of r.plan?.apps ?? []) for (const act of a.actions) {
        if (act.kind === 'grant') scaling.grants++;
        if (act.kind === 'release' || act.kind === 'compact') scaling.releases++;
      }
      lastScaling = new Map();
      for (const p of r.policies) for (const app of p.apps ?? []) if (p.forecast) lastScaling.set(app, { forecastCpu: p.forecast.cpu * 1000, forecastMem: p.forecast.memory });
    }

    t = lap('autoscaler', t);
    if (cfg.perArch) accumulateStranded(world, stranded);
    if (minute % sampleEvery === 0 || minute === scenario.durationMinutes - 1) sample(world, minute, timeline, tracked, lastScaling);
    if (opts.checkInvariants) checkInvariants(world, cfg, migrations, minute, violations);
    lap('accounting', t);
    opts.onProgress?.(minute);
    opts.onMinute?.(minute, world);
  }

  // The end: which wanted pods are not running.
  let wanted = 0;
  let lost = 0;
  const runningByApp = new Map<string, number>();
  const runningByPlatform: Record<string, number> = {};
  // Alive: running, or restarting after an OOM kill (it comes back by itself).
  const alive = (key: string): boolean => {
    const st = cluster.runtimeOf(key)?.state;
    return st === 'Running' || st === 'OOMKilled';
  };
  for (const [key, pod] of cluster.podEntries()) {
    if (!alive(key)) continue;
    const app = appOf(pod);
    runningByApp.set(app, (runningByApp.get(app) ?? 0) + 1);
    const plat = nodePlat.get(pod.spec.nodeName ?? '') ?? 'unknown';
    runningByPlatform[plat] = (runningByPlatform[plat] ?? 0) + 1;
  }
  for (const w of cluster.workloadKeys()) {
    const obj = w.kind === 'Deployment' ? cluster.deploymentObject(w.key) : cluster.statefulSetObject(w.key);
    const want = obj?.spec.replicas ?? 1;
    wanted += want;
    lost += Math.max(0, want - (runningByApp.get(w.key) ?? 0));
  }
  for (const p of scenario.pods) {
    const key = `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`;
    wanted++;
    if (!alive(key)) lost++;
  }
  if (opts.checkInvariants && cfg.platformAware) {
    for (const m of migrations) {
      if (m.recoveredMinute === undefined && m.minute < scenario.durationMinutes - 15) violations.push(`minute ${m.minute}: ${m.pod} moved off ${m.fromNode} and never ran again`);
    }
  }
  const archClusters = new Set(scenario.nodes.map((n) => n.metadata.labels?.[ARCH_LABEL] ?? n.status?.nodeInfo?.architecture ?? ''));
  return {
    strategy: opts.strategy,
    seed: opts.seed,
    minutes: scenario.durationMinutes,
    counters: { ...kubelet.counters },
    placementsByPlatform,
    placementMatrix: matrix,
    runningByPlatform,
    migrations,
    evictionsRefused,
    scaling,
    podsLost: lost,
    podsWanted: wanted,
    controlPlaneNodes: scenario.controlPlaneNodesPerCluster * (cfg.perArch ? archClusters.size : 1),
    stranded: { cpuCoreHours: round3(stranded.cpu / 1000 / 60), memGiBHours: round3(stranded.mem / 2 ** 30 / 60) },
    failures: kubelet.failures.slice(0, 200),
    execFormat: execFormatRepairs,
    timeline,
    invariantViolations: violations.slice(0, 100),
    timeToReady: {
      pods: kubelet.readyMinutes.length,
      meanMinutes: kubelet.readyMinutes.length === 0 ? null : round3(kubelet.readyMinutes.reduce((a, b) => a + b, 0) / kubelet.readyMinutes.length),
      boosted: boost?.count() ?? 0,
    },
    phaseMs: Object.fromEntries(Object.entries(phaseMs).map(([k, v]) => [k, Math.round(v)])),
    events,
  };
}

/**
 * The webhook's startup boost in the simulator: the scenario's ScalingPolicies with a
 * startupBoost, applied to each pod as it is created, by the same function the webhook runs.
 */
function startupBoostInSim(scenario: Scenario): { apply: (pod: Pod) => Pod; count: () => number; refresh: (nodes: readonly Node[], pods: readonly Pod[]) => void } | undefined {
  const policies = scenario.scalingPolicies.flatMap((p) => {
    const r = parseScalingPolicy({ metadata: { namespace: p.namespace, name: p.name }, spec: p.spec });
    return r.ok && r.value.spec.startupBoost ? [r.value] : [];
  });
  if (policies.length === 0) return undefined;
  // Before the first refresh (the pods of minute 0) every node is empty: its allocatable is its room.
  let room: number | undefined = Math.max(0, ...scenario.nodes.map((n) => allocatableAmounts(n).cpu));
  let boosted = 0;
  const source = { policies: () => policies, roomMilli: () => room };
  return {
    apply: (pod) => {
      const b = boostAtCreation(pod as PodLike, pod.metadata.namespace ?? 'default', source);
      if (!b) return pod;
      boosted++;
      return b.pod as Pod;
    },
    count: () => boosted,
    refresh: (nodes, pods) => {
      room = largestFreeCpuMilli(nodes, pods);
    },
  };
}

/** The simulator's future, for the oracle baseline: a workload's highest use of one running pod over a span of minutes. */
function hindsightOf(world: World): Hindsight {
  const { cluster, usage, scenario } = world;
  const u: Usage = { cpu: 0, mem: 0, net: 0, disk: 0 };
  return {
    peak: (app, fromMs, toMs) => {
      let cpu = -1;
      let mem = 0;
      for (const [key, pod] of cluster.podEntries()) {
        if (appOf(pod) !== app || cluster.runtimeOf(key)?.state !== 'Running') continue;
        const req = cluster.requestOf(key) ?? { cpu: 0, mem: 0 };
        const shift = usage.shiftFor(pod.metadata.name ?? key);
        for (let t = fromMs; t < toMs; t += 60_000) {
          usage.at(app, shift, Math.round((t - scenario.startMs) / 60_000), u, req.cpu, req.mem);
          cpu = Math.max(cpu, u.cpu);
          mem = Math.max(mem, u.mem);
        }
      }
      return cpu < 0 ? undefined : { cpu: cpu / 1000, memory: mem };
    },
  };
}

/** Per architecture cluster: free room that pods waiting in another cluster could have used. */
function accumulateStranded(world: World, acc: { cpu: number; mem: number }): void {
  const { cluster } = world;
  const free = new Map<string, { cpu: number; mem: number }>();
  for (const name of cluster.nodeNames()) {
    const node = cluster.nodeObject(name)!;
    if (!cluster.isNodeReady(name) || node.spec?.unschedulable) continue;
    const arch = node.metadata.labels?.[ARCH_LABEL] ?? '';
    const a = allocatableAmounts(node);
    const r = cluster.requestedOn(name);
    const f = free.get(arch) ?? { cpu: 0, mem: 0 };
    f.cpu += Math.max(0, a.cpu - r.cpu);
    f.mem += Math.max(0, a.mem - r.mem);
    free.set(arch, f);
  }
  const waiting = new Map<string, { cpu: number; mem: number }>();
  for (const key of cluster.pendingKeys()) {
    const pod = cluster.podObject(key);
    const arch = pod?.spec.nodeSelector?.[ARCH_LABEL] ?? '';
    const req = cluster.requestOf(key);
    if (!req) continue;
    const w = waiting.get(arch) ?? { cpu: 0, mem: 0 };
    w.cpu += req.cpu;
    w.mem += req.mem;
    waiting.set(arch, w);
  }
  let totalCpu = 0;
  let totalMem = 0;
  for (const w of waiting.values()) {
    totalCpu += w.cpu;
    totalMem += w.mem;
  }
  for (const [arch, f] of free) {
    const own = waiting.get(arch) ?? { cpu: 0, mem: 0 };
    acc.cpu += Math.min(f.cpu, totalCpu - own.cpu);
    acc.mem += Math.min(f.mem, totalMem - own.mem);
  }
}

function sample(world: World, minute: number, timeline: { minutes: number[]; platforms: Record<string, PlatformSeries>; apps: Record<string, AppSeries> }, tracked: readonly string[], scaling: ReadonlyMap<string, AppScaling>): void {
  const { kubelet } = world;
  const idx = timeline.minutes.length;
  timeline.minutes.push(minute);
  for (const [plat, s] of kubelet.platformNow) {
    let series = timeline.platforms[plat];
    if (!series) {
      series = emptyPlatformSeries();
      // A platform first seen late starts with zeros so every series has one value per sample.
      for (let i = 0; i < idx; i++) for (const arr of Object.values(series)) (arr as number[]).push(0);
      timeline.platforms[plat] = series;
    }
    series.cpuUsed.push(s.allocatableCpu > 0 ? round3(s.usedCpu / s.allocatableCpu) : 0);
    series.memUsed.push(s.allocatableMem > 0 ? round3(s.usedMem / s.allocatableMem) : 0);
    series.cpuRequested.push(s.allocatableCpu > 0 ? round3(s.requestedCpu / s.allocatableCpu) : 0);
    series.memRequested.push(s.allocatableMem > 0 ? round3(s.requestedMem / s.allocatableMem) : 0);
    series.readyNodes.push(s.readyNodes);
  }
  for (const app of tracked) {
    const s = timeline.apps[app]!;
    const now = kubelet.appNow.get(app);
    const f = scaling.get(app);
    s.cpuUsage.push(Math.round(now?.cpu ?? 0));
    s.memUsage.push(Math.round(now?.mem ?? 0));
    s.cpuRequest.push(Math.round(now?.reqCpu ?? 0));
    s.memRequest.push(Math.round(now?.reqMem ?? 0));
    s.cpuLimit.push(now && Number.isFinite(now.limCpu) ? Math.round(now.limCpu) : null);
    s.memLimit.push(now && Number.isFinite(now.limMem) ? Math.round(now.limMem) : null);
    s.cpuForecast.push(f && Number.isFinite(f.forecastCpu) ? Math.round(f.forecastCpu) : null);
    s.memForecast.push(f && Number.isFinite(f.forecastMem) ? Math.round(f.forecastMem) : null);
    s.running.push(now?.running ?? 0);
  }
}

/** The invariants checked after every minute; exported so a test can show they catch a violation. */
export function checkInvariants(world: World, cfg: Pick<StrategyConfig, 'platformAware'>, migrations: readonly SimMigration[], minute: number, out: string[]): void {
  if (out.length >= 100) return;
  const { cluster, registry } = world;
  for (const name of cluster.nodeNames()) {
    const node = cluster.nodeObject(name)!;
    const a = allocatableAmounts(node);
    const r = cluster.requestedOn(name);
    if (r.cpu > a.cpu || r.mem > a.mem || r.pods > a.pods) out.push(`minute ${minute}: node ${name} over allocatable (cpu ${r.cpu}/${a.cpu}m, memory ${r.mem}/${a.mem})`);
    if (!cfg.platformAware) continue;
    const plat = nodePlatform(node);
    for (const key of cluster.podsOn(name)) {
      const pod = cluster.podObject(key);
      if (!pod || !plat.ok) continue;
      for (const c of pod.spec.containers) {
        const run = registry.run(c.image ?? '', plat.value);
        // An index entry whose binary lies about its platform is not the placement's fault: only its first failure can tell.
        if (run.kind === 'runs' || (run.kind === 'exec-format-error' && canRun(run.platform, plat.value))) continue;
        out.push(`minute ${minute}: pod ${key} on ${name} (${formatPlatform(plat.value)}) cannot run ${c.image}: ${describeOutcome(run)}`);
      }
    }
  }
  // PodDisruptionBudgets: pods evicted by drains and not yet running again stay within what each budget allows.
  const open = new Map<string, number>();
  for (const m of migrations) if (m.reason === 'drain' && m.recoveredMinute === undefined) open.set(m.app, (open.get(m.app) ?? 0) + 1);
  for (const pdb of world.scenario.pdbs) {
    for (const [app, n] of open) {
      const obj = cluster.deploymentObject(app) ?? cluster.statefulSetObject(app);
      if (!obj || !selectorMatches(pdb.spec.selector, obj.spec.template.metadata?.labels)) continue;
      const replicas = obj.spec.replicas ?? 1;
      const allowed = pdb.spec.minAvailable !== undefined && pdb.spec.minAvailable !== null
        ? replicas - (typeof pdb.spec.minAvailable === 'number' ? pdb.spec.minAvailable : Math.ceil((Number(String(pdb.spec.minAvailable).slice(0, -1)) / 100) * replicas))
        : typeof pdb.spec.maxUnavailable === 'number' ? pdb.spec.maxUnavailable : Math.ceil((Number(String(pdb.spec.maxUnavailable ?? '0').slice(0, -1)) / 100) * replicas);
      if (n > Math.max(0, allowed) && n > 0) out.push(`minute ${minute}: ${n} pod(s) of ${app} evicted and not yet back, budget ${pdb.metadata.name} allows ${allowed}`);
    }
  }
}
