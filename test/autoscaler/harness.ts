/**
 * The autoscaler end to end: the fake kube-apiserver over real HTTP with the real client
 * (KubeCluster, the ScalingPolicy store), and per node a real probe HTTP server
 * (startProbeServer: GET /windows, POST /reclaim) whose windows come from a usage script
 * per pod, read by the real ProbeMetricsSource and reclaim client.
 */
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { KubeScalingPolicyStore } from '../../src/adapters/kube/scaling-policies.ts';
import { ProbeMetricsSource } from '../../src/adapters/metrics/probe-source.ts';
import { HttpNodeReclaimer } from '../../src/adapters/probe/reclaim-client.ts';
import { Autoscaler, type AutoscaleRound } from '../../src/app/autoscaler.ts';
import type { ReclaimRequest, ReclaimResult, WindowsReport, PodReport } from '../../src/core/probe/report.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { PlanPolicy } from '../../src/core/scaling/types.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { NodeProbe } from '../../src/ports/node-probe.ts';
import { startProbeServer, type ProbeServer } from '../../src/server/probe-server.ts';

import { systemClock } from '../../src/adapters/system-clock.ts';
import { Registry } from 'prom-client';
import { createAutoscalerMetrics, type AutoscalerMetrics } from '../../src/server/autoscaler-metrics.ts';
import { waitFor } from '../support/wait.ts';
import { FakeApiServer, type KubeObject } from '../../fake-apiserver/index.ts';
import { node } from '../kube/helpers.ts';

/** The probes' reclaim token: POST /reclaim exists only behind one. */
const PROBE_TOKEN = 'test-probe-token';

export const Mi = 2 ** 20;
const MINUTE = 60_000;

/** Usage of one pod in minute m (m = 0 is the first minute of the script): cores and bytes. */
export type Series = (m: number) => number;

interface ScriptedPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly app: string;
  readonly reqCpu: number;
  readonly reqMem: number;
  cpu: Series;
  mem: Series;
}

export class ManualTime implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(): Promise<void> {}
}

/** A node probe whose windows follow a script (the per-minute maxima a real probe would have measured). */
export class ScriptedNodeProbe implements NodeProbe {
  readonly pods: ScriptedPod[] = [];
  readonly reclaims: ReclaimRequest[] = [];
  constructor(
    readonly node: string,
    private readonly clock: ManualTime,
    private readonly t0: number,
  ) {}

  windows(): WindowsReport {
    const closed = Math.floor((this.clock.now() - this.t0) / MINUTE);
    const from = Math.max(0, closed - 60);
    const minutes = Array.from({ length: closed - from }, (_, i) => from + i);
    const win = (unit: 'cores' | 'bytes', amount: number, f: Series) => ({
      unit,
      basis: { kind: 'request' as const, amount, source: 'pod spec' },
      usage: minutes.map(f),
      utilisation: minutes.map((m) => Math.min(1, f(m) / amount)),
    });
    const pods: PodReport[] = this.pods.map((p) => ({
      uid: p.uid,
      namespace: p.namespace,
      name: p.name,
      app: p.app,
      qos: 'Burstable',
      monitoring: { state: 'monitoring', since: this.t0 },
      containers: [{ name: 'app', id: `id-${p.uid}`, runtime: 'containerd', cgroup: `/kubepods/burstable/pod${p.uid}/id`, metrics: { cpu: win('cores', p.reqCpu, p.cpu), mem: win('bytes', p.reqMem, p.mem) }, memPeakBetweenSamples: false }],
    }));
    return {
      node: this.node,
      time: this.clock.now(),
      windowEnd: this.t0 + closed * MINUTE,
      minutes: 60,
      intervalMs: 5000,
      warmupMs: 0,
      cgroup: { version: 'v2', driver: 'systemd', base: '/sys/fs/cgroup' },
      podInfo: { source: 'script', ok: true },
      pods,
      errors: [],
    };
  }

  reclaim(request: ReclaimRequest): ReclaimResult {
    this.reclaims.push(request);
    const p = this.pods.find((x) => x.uid === request.podUid);
    if (!p) return { ok: false, kind: 'not-found', message: `no pod ${request.podUid}` };
    const closed = Math.floor((this.clock.now() - this.t0) / MINUTE);
    const before = p.mem(closed - 1);
    return { ok: true, path: `/sys/fs/cgroup/pod${p.uid}/memory.reclaim`, requestedBytes: request.bytes, before, after: Math.max(0, before - request.bytes / 4) };
  }

  health(): { ok: boolean; message: string } {
    return { ok: true, message: 'scripted' };
  }
}

export interface AppOptions {
  readonly node: string;
  readonly cpu: string;
  readonly memory: string;
  readonly memoryLimit?: string;
  readonly cpuLimit?: string;
  readonly cpuUse: Series;
  readonly memUse: Series;
}

export class Harness {
  readonly probes = new Map<string, ScriptedNodeProbe>();
  private readonly servers: ProbeServer[] = [];
  private readonly urls = new Map<string, string>();
  readonly time: ManualTime;
  cluster!: KubeCluster;
  autoscaler!: Autoscaler;
  /** The autoscaler's Prometheus metrics, on a registry of this harness. */
  readonly registry = new Registry();
  readonly metrics: AutoscalerMetrics = createAutoscalerMetrics(this.registry);

  private constructor(
    readonly server: FakeApiServer,
    readonly t0: number,
    /** Minutes of usage already collected before the first round. */
    history: number,
  ) {
    this.time = new ManualTime(t0 + history * MINUTE);
  }

  static async start(nodes: { name: string; cpu: string; memory: string }[], history = 20): Promise<Harness> {
    const server = await FakeApiServer.start({ controllers: { kubelet: true }, controllerAutoRun: false });
    const h = new Harness(server, Date.UTC(2026, 0, 1, 12, 0), history);
    for (const n of nodes) {
      server.seed(node(n.name, 'amd64', { cpu: n.cpu, memory: n.memory }));
      const probe = new ScriptedNodeProbe(n.name, h.time, h.t0);
      // POST /reclaim exists only behind a token (it fails closed); the autoscaler sends it.
      const s = await startProbeServer({ probe, host: '127.0.0.1', port: 0, reclaimToken: PROBE_TOKEN });
      h.probes.set(n.name, probe);
      h.servers.push(s);
      h.urls.set(n.name, s.url);
    }
    h.cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log: silentLogger });
    await h.cluster.start();
    h.autoscaler = h.newAutoscaler();
    return h;
  }

  /** A fresh autoscaler (as after a restart or a failover): nothing carried over but what the API and the probes hold. */
  newAutoscaler(plan?: Partial<PlanPolicy>): Autoscaler {
    return new Autoscaler({
      ...(plan ? { plan } : {}),
      reader: this.cluster,
      writer: this.cluster,
      metrics: new ProbeMetricsSource({ endpoints: () => [...this.urls.values()], clock: this.time }),
      policies: new KubeScalingPolicyStore(this.server.kubeConfig(), { clock: this.time, log: silentLogger }),
      reclaimer: new HttpNodeReclaimer({ endpointOf: (n) => this.urls.get(n), token: PROBE_TOKEN }),
      clock: this.time,
      log: silentLogger,
      telemetry: this.metrics,
    });
  }

  /** One pod of a StatefulSet `name` on a node, with its usage script. */
  async addApp(name: string, o: AppOptions): Promise<void> {
    const lim = { ...(o.memoryLimit ? { memory: o.memoryLimit } : {}), ...(o.cpuLimit ? { cpu: o.cpuLimit } : {}) };
    const limits = Object.keys(lim).length > 0 ? { limits: lim } : {};
    const pod = await this.server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-0`, namespace: 'default', labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: `uid-${name}`, controller: true }] },
      spec: { nodeName: o.node, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: o.cpu, memory: o.memory }, ...limits } }] },
    });
    this.probes.get(o.node)!.pods.push({
      uid: pod.metadata.uid ?? '',
      namespace: 'default',
      name: `${name}-0`,
      app: `default/${name}`,
      reqCpu: Number.parseFloat(o.cpu.replace(/m$/, '')) / (o.cpu.endsWith('m') ? 1000 : 1),
      reqMem: Number.parseFloat(o.memory) * Mi,
      cpu: o.cpuUse,
      mem: o.memUse,
    });
  }

  async addPolicy(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ScalingPolicy', metadata: { name, namespace: 'default' }, spec });
  }

  /** Lets the kubelet model act and the informers catch up. */
  async settle(): Promise<void> {
    await this.server.reconcile();
    await waitFor(async () => {
      const stored = this.server.list('v1', 'Pod', 'default');
      const seen = await Promise.all(stored.map((p) => this.cluster.getPod({ namespace: 'default', name: p.metadata.name ?? '' })));
      return stored.every((p, i) => seen[i]?.metadata.resourceVersion === p.metadata.resourceVersion);
    }, { what: 'the informer to show every pod the API server stores' });
  }

  /** One round: the minute closes, the autoscaler runs, the kubelet acts. */
  async round(): Promise<AutoscaleRound> {
    this.time.t += MINUTE;
    const r = await this.autoscaler.runOnce();
    await this.settle();
    return r;
  }

  pod(name: string): KubeObject {
    return this.server.get('v1', 'Pod', `${name}-0`)!;
  }

  request(name: string, r: 'cpu' | 'memory'): string {
    return this.pod(name).spec.containers[0].resources.requests[r];
  }

  policy(name: string): KubeObject {
    return this.server.get('polyarch.io/v1alpha1', 'ScalingPolicy', name)!;
  }

  resizeRequests(): number {
    return this.server.requests.filter((r) => r.subresource === 'resize' && r.verb === 'patch').length;
  }

  events(reason?: string): KubeObject[] {
    return this.server.list('v1', 'Event', 'default').filter((e) => reason === undefined || e.reason === reason);
  }

  /** The usage of the app's pod in the last closed minute (what the autoscaler saw). */
  minute(): number {
    return Math.floor((this.time.now() - this.t0) / MINUTE);
  }

  async close(): Promise<void> {
    await this.cluster.stop();
    for (const s of this.servers) await s.close();
    await this.server.close();
  }
}
