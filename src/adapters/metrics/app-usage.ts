/**
 * Shared by the MetricsSource adapters for clusters without the probe: which application a
 * pod belongs to, and per-application per-minute maxima built from coarser samples.
 */
import type { AppUsageSample } from '../../ports/metrics-source.ts';

export { appFromPodName, appOfPod, type PodOwnerView } from '../../core/probe/app-of.ts';

import { MINUTE_MS } from '../../core/forecast/window.ts';

export { MINUTE_MS };

export interface PodUsage {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  /** Utilisations in [0, 1] (0 when the source has none). */
  readonly net: number;
  readonly disk: number;
}

interface Minute {
  cpuMilli: number;
  memoryBytes: number;
  net: number;
  disk: number;
  pods: Set<string>;
}

/**
 * Per application and minute, the highest use of one of its pods (the port's contract).
 * Keeps `keepMinutes` minutes; a minute is served once it has ended.
 */
export class AppMinuteMaxima {
  private readonly minutes = new Map<number, Map<string, Minute>>();

  constructor(private readonly keepMinutes = 60) {}

  record(app: string, pod: string, tMs: number, u: PodUsage): void {
    const minuteMs = Math.floor(tMs / MINUTE_MS) * MINUTE_MS;
    let byApp = this.minutes.get(minuteMs);
    if (!byApp) this.minutes.set(minuteMs, (byApp = new Map()));
    let m = byApp.get(app);
    if (!m) byApp.set(app, (m = { cpuMilli: 0, memoryBytes: 0, net: 0, disk: 0, pods: new Set() }));
    m.cpuMilli = Math.max(m.cpuMilli, u.cpuMilli);
    m.memoryBytes = Math.max(m.memoryBytes, u.memoryBytes);
    m.net = Math.max(m.net, Math.min(1, u.net));
    m.disk = Math.max(m.disk, Math.min(1, u.disk));
    m.pods.add(pod);
    const oldest = minuteMs - this.keepMinutes * MINUTE_MS;
    for (const k of this.minutes.keys()) if (k < oldest) this.minutes.delete(k);
  }

  /** Minutes that started at or after `sinceMs` and ended by `nowMs`, oldest first. */
  closed(sinceMs: number, nowMs: number): AppUsageSample[] {
    const out: AppUsageSample[] = [];
    for (const minuteMs of [...this.minutes.keys()].sort((a, b) => a - b)) {
      if (minuteMs < sinceMs || minuteMs + MINUTE_MS > nowMs) continue;
      for (const [app, m] of this.minutes.get(minuteMs)!) {
        out.push({ app, minuteMs, cpuMilli: m.cpuMilli, memoryBytes: m.memoryBytes, net: m.net, disk: m.disk, pods: m.pods.size });
      }
    }
    return out;
  }
}

/** How fine a source's figures are, stated to whoever reads them (docs, status, logs). */
export interface Resolution {
  /** Seconds between the source's own measurements. */
  readonly sampleSeconds: number;
  readonly note: string;
}
