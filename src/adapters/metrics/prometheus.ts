/**
 * MetricsSource on Prometheus, from the cAdvisor container metrics kubelet exposes
 * (`container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`,
 * `container_network_*_bytes_total`, `container_fs_*_bytes_total`), one query_range per
 * metric at a 60 s step. Coarser than the probe: CPU, network and disk are the minute's
 * average rate (rate over [1m]), not the maximum of few-second samples; memory is the
 * maximum of the scrapes in the minute (max_over_time), so spikes between scrapes are unseen.
 */
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { AppUsageSample, MetricsSource } from '../../ports/metrics-source.ts';
import { AppMinuteMaxima, appFromPodName, MINUTE_MS, type Resolution } from './app-usage.ts';

const SEL = '{container!="",container!="POD",pod!=""}';

/** The queries, one series per (namespace, pod); each value stands for the minute before its timestamp. */
export const CADVISOR_QUERIES = {
  cpu: `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total${SEL}[1m]))`,
  mem: `sum by (namespace, pod) (max_over_time(container_memory_working_set_bytes${SEL}[1m]))`,
  net: 'sum by (namespace, pod) (rate(container_network_receive_bytes_total{pod!=""}[1m])) + sum by (namespace, pod) (rate(container_network_transmit_bytes_total{pod!=""}[1m]))',
  disk: `sum by (namespace, pod) (rate(container_fs_reads_bytes_total${SEL}[1m])) + sum by (namespace, pod) (rate(container_fs_writes_bytes_total${SEL}[1m]))`,
} as const;

type MetricKey = keyof typeof CADVISOR_QUERIES;

const response = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({
      resultType: z.literal('matrix'),
      result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) })),
    }),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() }),
]);

export interface PrometheusOptions {
  /** Base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090 */
  readonly url: string;
  readonly clock: Clock;
  /** Node bandwidths, the basis of network and disk utilisation (bytes/s). */
  readonly netBytesPerSec: number;
  readonly diskBytesPerSec: number;
  /** `namespace/name` of a pod's workload; default: from the pod's name (a heuristic). */
  readonly appOf?: (namespace: string, pod: string) => string;
  readonly bearerToken?: string;
  readonly timeoutMs?: number;
  readonly keepMinutes?: number;
}

export class PrometheusSource implements MetricsSource {
  readonly resolution: Resolution = {
    sampleSeconds: 60,
    note: 'Prometheus over cAdvisor: CPU, network and disk are per-minute average rates (rate over [1m]), memory the maximum of the scrapes in each minute; spikes shorter than the scrape interval are not seen',
  };
  private lastError: string | undefined;

  constructor(private readonly opts: PrometheusOptions) {}

  status(): { ok: boolean; error?: string; resolution: Resolution } {
    return { ok: this.lastError === undefined, ...(this.lastError ? { error: this.lastError } : {}), resolution: this.resolution };
  }

  /** Minutes since `sinceMs` that have ended; [] (and status() says why) when Prometheus fails. */
  async appUsage(sinceMs: number): Promise<readonly AppUsageSample[]> {
    const keep = this.opts.keepMinutes ?? 60;
    const now = this.opts.clock.now();
    const endS = Math.floor(now / MINUTE_MS) * 60; // the newest minute that has ended ends here
    const firstS = Number.isFinite(sinceMs) ? Math.ceil(sinceMs / MINUTE_MS) * 60 + 60 : -Infinity;
    const startS = Math.max(firstS, endS - (keep - 1) * 60);
    if (startS > endS) return [];
    const series = {} as Record<MetricKey, Map<string, Map<number, number>>>;
    for (const key of Object.keys(CADVISOR_QUERIES) as MetricKey[]) {
      const r = await this.queryRange(CADVISOR_QUERIES[key], startS, endS);
      if (!r.ok) {
        this.lastError = `${key}: ${r.error}`;
        return [];
      }
      series[key] = r.value;
    }
    this.lastError = undefined;
    const appOf = this.opts.appOf ?? appFromPodName;
    const maxima = new AppMinuteMaxima(keep);
    for (const [pod, byTime] of series.cpu) {
      const [namespace, name] = splitKey(pod);
      const app = appOf(namespace, name);
      for (const [tS, cores] of byTime) {
        const minuteMs = (tS - 60) * 1000;
        maxima.record(app, pod, minuteMs, {
          cpuMilli: cores * 1000,
          memoryBytes: series.mem.get(pod)?.get(tS) ?? 0,
          net: (series.net.get(pod)?.get(tS) ?? 0) / this.opts.netBytesPerSec,
          disk: (series.disk.get(pod)?.get(tS) ?? 0) / this.opts.diskBytesPerSec,
        });
      }
    }
    return maxima.closed(sinceMs, now);
  }

  private async queryRange(query: string, startS: number, endS: number): Promise<{ ok: true; value: Map<string, Map<number, number>> } | { ok: false; error: string }> {
    const url = new URL('api/v1/query_range', this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`);
    url.search = new URLSearchParams({ query, start: String(startS), end: String(endS), step: '60' }).toString();
    let body: unknown;
    let status: number;
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json', ...(this.opts.bearerToken ? { authorization: `Bearer ${this.opts.bearerToken}` } : {}) },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      status = res.status;
      body = await res.json().catch(() => undefined);
    } catch (err) {
      return { ok: false, error: `${this.opts.url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}` };
    }
    const parsed = response.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return { ok: false, error: `${this.opts.url}: HTTP ${status}: unexpected answer at ${i.path.map(String).join('.') || '(root)'}: ${i.message}` };
    }
    if (parsed.data.status === 'error') return { ok: false, error: `${this.opts.url}: HTTP ${status}: ${parsed.data.errorType ?? 'error'}: ${parsed.data.error}` };
    const out = new Map<string, Map<number, number>>();
    for (const s of parsed.data.data.result) {
      const ns = s.metric['namespace'];
      const pod = s.metric['pod'];
      if (!ns || !pod) continue;
      const byTime = new Map<number, number>();
      for (const [t, v] of s.values) {
        const n = Number(v);
        if (Number.isFinite(n) && n >= 0) byTime.set(t, n);
      }
      out.set(`${ns}/${pod}`, byTime);
    }
    return { ok: true, value: out };
  }
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
