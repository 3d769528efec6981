/**
 * Shared by the MetricsSource adapters for clusters without the probe: which application a
 * pod belongs to, and per-application per-minute maxima built from coarser samples.
 */
import type { AppUsageSample } from '../../ports/metrics-source.ts';

export const MINUTE_MS = 60_000;

export interface PodOwnerView {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  };
}

/**
 * `namespace/name` of the workload that owns a pod, as the autoscaler keys applications:
 * a ReplicaSet's pod belongs to the Deployment whose name is the ReplicaSet's without its
 * `-<pod-template-hash>`; StatefulSet, DaemonSet and other controllers by their name; a bare
 * pod by its own.
 */
export function appOfPod(pod: PodOwnerView): string {
  const ns = pod.metadata.namespace ?? 'default';
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!owner) return `${ns}/${pod.metadata.name}`;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return `${ns}/${owner.name.slice(0, -hash.length - 1)}`;
  return `${ns}/${owner.name}`;
}

/**
 * Where no pod list is at hand (Prometheus alone): the workload from the pod's name by
 * the controllers' naming (Deployment `web-7d9f8c6b5-x2k4p`, StatefulSet `db-0`, DaemonSet
 * or Job `agent-x2k4p`). A heuristic: pass a pod list when there is one.
 */
// Kubernetes' generated suffixes use this alphabet (no vowels, no 0, 1, 3: rand.SafeEncodeString).
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const POD_NAME = new RegExp(`^(.+?)-(?:${SAFE}{6,10}-${SAFE}{5}|\\d+|${SAFE}{5})$`);

export function appFromPodName(namespace: string, pod: string): string {
  const m = POD_NAME.exec(pod);
  return `${namespace}/${m ? m[1] : pod}`;
}

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
