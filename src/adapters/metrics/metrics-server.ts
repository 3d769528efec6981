/**
 * MetricsSource on metrics.k8s.io (metrics-server), for clusters without the node probe.
 * metrics-server keeps only the latest value per container (CPU averaged over its window,
 * typically 15-30 s; memory the working set at scrape time) and nothing on network or disk,
 * so this adapter polls it and builds the per-minute maxima itself: coarser than the probe
 * (one value per metrics-server resolution, spikes between scrapes unseen; net and disk 0).
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { quantityToNumber } from '../../core/probe/quantity.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AppUsageSample, MetricsSource } from '../../ports/metrics-source.ts';
import { AppMinuteMaxima, appOfPod, type Resolution } from './app-usage.ts';

const podMetricsList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), namespace: z.string() }).loose(),
      timestamp: z.string().optional(),
      window: z.string().optional(),
      containers: z.array(z.object({ name: z.string(), usage: z.object({ cpu: z.string(), memory: z.string() }).loose() }).loose()),
    }).loose(),
  ),
}).loose();

const podList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({
        name: z.string(),
        namespace: z.string(),
        labels: z.record(z.string(), z.string()).optional(),
        ownerReferences: z.array(z.object({ kind: z.string(), name: z.string(), controller: z.boolean().optional() }).loose()).optional(),
      }).loose(),
    }).loose(),
  ),
}).loose();

export interface MetricsServerOptions {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly keepMinutes?: number;
}

export type PollResult = { ok: true; pods: number } | { ok: false; error: string };

const issueText = (e: z.ZodError, what: string): string => {
  const i = e.issues[0]!;
  return `${what}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`;
};

export class MetricsServerSource implements MetricsSource {
  readonly resolution: Resolution = {
    sampleSeconds: 15,
    note: 'metrics.k8s.io (metrics-server): one value per scrape (CPU averaged over the scrape window, memory working set at scrape time); spikes between scrapes are not seen; no network or disk (reported as 0)',
  };
  private readonly maxima: AppMinuteMaxima;
  private readonly metrics: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private lastError: string | undefined;

  constructor(private readonly opts: MetricsServerOptions) {
    this.maxima = new AppMinuteMaxima(opts.keepMinutes ?? 60);
    this.metrics = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** One scrape of metrics-server; call every resolution (15 s). */
  async poll(): Promise<PollResult> {
    const now = this.opts.clock.now();
    let metricsJson: unknown;
    let podsJson: unknown;
    try {
      [metricsJson, podsJson] = await Promise.all([
        this.metrics.listClusterCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods' }),
        this.core.listPodForAllNamespaces({ resourceVersion: '0' }).then((l) => JSON.parse(JSON.stringify(l)) as unknown),
      ]);
    } catch (err) {
      return this.fail(`metrics.k8s.io: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    const metrics = podMetricsList.safeParse(metricsJson);
    if (!metrics.success) return this.fail(issueText(metrics.error, 'metrics.k8s.io PodMetricsList'));
    const pods = podList.safeParse(podsJson);
    if (!pods.success) return this.fail(issueText(pods.error, 'PodList'));
    const owners = new Map(pods.data.items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
    let count = 0;
    for (const pm of metrics.data.items) {
      let cpu = 0;
      let mem = 0;
      for (const c of pm.containers) {
        const q = quantityToNumber(c.usage.cpu);
        const m = quantityToNumber(c.usage.memory);
        if (!q.ok || !m.ok) return this.fail(`metrics.k8s.io ${pm.metadata.namespace}/${pm.metadata.name} container ${c.name}: ${!q.ok ? q.error : !m.ok ? m.error : ''}`);
        cpu += q.value * 1000;
        mem += m.value;
      }
      const key = `${pm.metadata.namespace}/${pm.metadata.name}`;
      const pod = owners.get(key);
      const app = pod ? appOfPod(pod) : key;
      const t = pm.timestamp ? Date.parse(pm.timestamp) : now;
      this.maxima.record(app, key, Number.isFinite(t) ? t : now, { cpuMilli: cpu, memoryBytes: mem, net: 0, disk: 0 });
      count++;
    }
    this.lastError = undefined;
    return { ok: true, pods: count };
  }

  private fail(error: string): PollResult {
    this.lastError = error;
    return { ok: false, error };
  }

  /** The last poll's error, if it failed (appUsage then has no new minutes). */
  status(): { ok: boolean; error?: string; resolution: Resolution } {
    return { ok: this.lastError === undefined, ...(this.lastError ? { error: this.lastError } : {}), resolution: this.resolution };
  }

  async appUsage(sinceMs: number): Promise<readonly AppUsageSample[]> {
    return this.maxima.closed(sinceMs, this.opts.clock.now());
  }
}
