/**
 * MetricsSource on the node probes (deploy/autoscaler/probe-daemonset.yaml): GET /windows of each
 * node's probe, turned into the port's per-application minutes. The finest of the three
 * sources: per-minute maxima of samples every few seconds, with memory spikes between
 * samples caught by memory.peak.
 */
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { AppUsageSample, MetricsSource } from '../../ports/metrics-source.ts';
import { AppMinuteMaxima, MINUTE_MS, type Resolution } from './app-usage.ts';

const windowSchema = z.object({ basis: z.object({ amount: z.number().positive() }).loose(), usage: z.array(z.number()), utilisation: z.array(z.number()) }).loose();
const reportSchema = z
  .object({
    node: z.string(),
    windowEnd: z.number(),
    intervalMs: z.number(),
    pods: z.array(
      z
        .object({
          uid: z.string(),
          namespace: z.string().optional(),
          name: z.string().optional(),
          app: z.string().optional(),
          net: windowSchema.optional(),
          containers: z.array(z.object({ name: z.string(), metrics: z.object({ cpu: windowSchema, mem: windowSchema, disk: windowSchema.optional() }).loose() }).loose()),
        })
        .loose(),
    ),
  })
  .loose();
type Report = z.infer<typeof reportSchema>;

export interface ProbeSourceOptions {
  /** Base URLs of the node probes (e.g. http://<node InternalIP>:9477), asked each time. */
  readonly endpoints: () => readonly string[] | Promise<readonly string[]>;
  readonly clock: Clock;
  /** Node disk bandwidth (bytes/s), the basis of disk utilisation; default: each probe's own basis. */
  readonly diskBytesPerSec?: number;
  readonly timeoutMs?: number;
}

export class ProbeMetricsSource implements MetricsSource {
  resolution: Resolution = { sampleSeconds: 5, note: 'node probe: per-minute maxima of samples every few seconds (memory spikes between samples included via memory.peak)' };
  private errors: string[] = [];

  constructor(private readonly opts: ProbeSourceOptions) {}

  /** Probes that could not be read in the last call, each named. */
  status(): { ok: boolean; errors: readonly string[]; resolution: Resolution } {
    return { ok: this.errors.length === 0, errors: this.errors, resolution: this.resolution };
  }

  async appUsage(sinceMs: number): Promise<readonly AppUsageSample[]> {
    const endpoints = await this.opts.endpoints();
    const results = await Promise.all(endpoints.map((e) => this.fetchReport(e)));
    const maxima = new AppMinuteMaxima();
    const errors: string[] = [];
    for (const r of results) {
      if (!r.ok) {
        errors.push(r.error);
        continue;
      }
      this.resolution = { ...this.resolution, sampleSeconds: r.report.intervalMs / 1000 };
      this.add(maxima, r.report);
    }
    this.errors = errors;
    return maxima.closed(sinceMs, this.opts.clock.now());
  }

  /**
   * A pod's minute: CPU and memory summed over its containers (each container's own minute
   * maximum, so the sum can exceed the pod's true maximum when containers peak at different
   * moments), network the pod's, disk the containers' sum.
   */
  private add(maxima: AppMinuteMaxima, report: Report): void {
    const at = (xs: readonly number[], age: number): number => xs[xs.length - 1 - age] ?? Number.NaN;
    for (const pod of report.pods) {
      const app = pod.app ?? (pod.namespace && pod.name ? `${pod.namespace}/${pod.name}` : pod.uid);
      const minutes = Math.max(0, ...pod.containers.map((c) => c.metrics.cpu.usage.length));
      for (let age = 0; age < minutes; age++) {
        let cpu = 0;
        let mem = 0;
        let disk = 0;
        let diskBasis = this.opts.diskBytesPerSec;
        let seen = false;
        for (const c of pod.containers) {
          const cv = at(c.metrics.cpu.usage, age);
          const mv = at(c.metrics.mem.usage, age);
          if (Number.isFinite(cv)) {
            cpu += cv;
            seen = true;
          }
          if (Number.isFinite(mv)) mem += mv;
          if (c.metrics.disk) {
            const dv = at(c.metrics.disk.usage, age);
            if (Number.isFinite(dv)) disk += dv;
            diskBasis ??= c.metrics.disk.basis.amount;
          }
        }
        if (!seen) continue;
        const net = pod.net ? at(pod.net.utilisation, age) : 0;
        maxima.record(app, `${report.node}/${pod.uid}`, report.windowEnd - (age + 1) * MINUTE_MS, {
          cpuMilli: cpu * 1000,
          memoryBytes: mem,
          net: Number.isFinite(net) ? net : 0,
          disk: diskBasis ? disk / diskBasis : 0,
        });
      }
    }
  }

  private async fetchReport(base: string): Promise<{ ok: true; report: Report } | { ok: false; error: string }> {
    const url = `${base.replace(/\/+$/, '')}/windows`;
    let body: unknown;
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000) });
      if (!res.ok) return { ok: false, error: `${url}: HTTP ${res.status}` };
      body = await res.json();
    } catch (err) {
      return { ok: false, error: `${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}` };
    }
    const parsed = reportSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return { ok: false, error: `${url}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}` };
    }
    return { ok: true, report: parsed.data };
  }
}
