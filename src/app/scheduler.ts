/**
 * The scheduler loop (S1-S4) against the ports: keep a scheduling cache of the cluster
 * (placement's ClusterSnapshot) in step with the cluster's change feed, take the pods
 * waiting for this scheduler in priority order, resolve their images' platforms, let
 * the placement core choose node and image variant, then write the variant images and
 * the polyarch.io annotations and bind. The same loop runs on the simulator and on a
 * cluster.
 *
 * `platformAware: false` turns it into the first baseline: kube-scheduler as it is,
 * which knows nothing of image platforms and starts the image as written.
 */
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { ImageLookupService } from './image-lookup.ts';
import type { Pod, PriorityClass } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import { ClusterSnapshot } from '../core/placement/snapshot.ts';
import { createFramework, type Framework } from '../core/placement/framework.ts';
import { placePod } from '../core/placement/schedule.ts';
import type { Decision } from '../core/placement/decision.ts';
import { sourceImages } from '../core/k8s/annotations.ts';
import type { ImageInfo } from '../core/placement/pod-info.ts';
import type { Rng } from '../core/placement/rng.ts';
import { formatReference, parseReference } from '../core/image/reference.ts';

export interface SchedulerOptions {
  /** Pods with this spec.schedulerName are ours. */
  readonly schedulerName: string;
  /** False: the platform-blind baseline (no platform filter, least-allocated, images as written). */
  readonly platformAware: boolean;
  readonly rng: Rng;
  /** kube-scheduler's percentageOfNodesToScore (0 = adaptive, as kube-scheduler's default). */
  readonly percentageOfNodesToScore?: number;
}

export interface Placement {
  readonly decision: Decision;
  /** What was written: bound, or why not. */
  readonly result: 'bound' | 'unschedulable' | 'failed';
  readonly message?: string;
}

export interface ScheduleRound {
  readonly placements: readonly Placement[];
}

const normalise = (ref: string): string => {
  const r = parseReference(ref);
  return r.ok ? formatReference(r.value) : ref;
};

/** kube-scheduler as shipped: every filter but the platform one; score by least allocated only. */
function platformBlindFramework(pct: number): Framework {
  const fw = createFramework({
    percentageOfNodesToScore: pct,
    topNodes: 1,
    weights: { LeastAllocated: 1, BalancedAllocation: 0, NodeAffinity: 0, TaintToleration: 0, ImageLocality: 0, ArchitecturePreference: 0 },
  });
  if (!fw.ok) throw new Error(`platform-blind policy rejected: ${fw.error}`);
  return { ...fw.value, filters: fw.value.filters.filter((f) => f.name !== 'NodePlatform') };
}

export class Scheduler {
  private snapshot = new ClusterSnapshot();
  private version = -1;
  private readonly framework: Framework;
  /** Bound pods as last accounted, to skip changes that do not touch requests. */
  private readonly seen = new Map<string, Pod>();
  private readonly images = new Map<string, ImageInfo>();
  private priorityClasses: readonly PriorityClass[] | undefined;
  /** Last FailedScheduling reason per pod, so an unchanged reason is not repeated as an event. */
  private readonly lastFailure = new Map<string, string>();
  /**
   * kube-scheduler's unschedulable queue: a pod that did not fit is retried after 1, 2,
   * 4, then every 5 rounds, or at once when a node changes or a pod goes away (room may
   * have appeared). Without it every waiting pod is tried against every node each round.
   */
  private readonly backoff = new Map<string, { attempts: number; nextRound: number }>();
  private round = 0;

  constructor(
    private readonly reader: ClusterReader,
    private readonly writer: ClusterWriter,
    private readonly resolver: ImageLookupService,
    private readonly opts: SchedulerOptions,
  ) {
    const pct = opts.percentageOfNodesToScore ?? 0;
    if (opts.platformAware) {
      const fw = createFramework({ percentageOfNodesToScore: pct, topNodes: 2 });
      if (!fw.ok) throw new Error(`default placement policy rejected: ${fw.error}`);
      this.framework = fw.value;
    } else {
      this.framework = platformBlindFramework(pct);
    }
  }

  /** Brings the scheduling cache up to date: a full list the first time or when the feed expired, else the changes. */
  async sync(): Promise<void> {
    if (this.version >= 0) {
      const feed = await this.reader.changes(this.version);
      if (!feed.expired) {
        const nodes = new Set<string>();
        const pods = new Set<string>();
        for (const e of feed.events) {
          if (e.kind === 'Node' || (e.kind === 'Pod' && e.type === 'DELETED')) this.backoff.clear();
          if (e.kind === 'Node') nodes.add(e.name);
          else if (e.kind === 'Pod') pods.add(`${e.namespace ?? 'default'}/${e.name}`);
          else if (e.kind === 'PriorityClass') this.priorityClasses = undefined;
        }
        for (const name of nodes) {
          const n = await this.reader.getNode(name);
          if (n) this.snapshot.setNode(n);
          else this.snapshot.removeNode(name);
        }
        for (const key of pods) {
          const slash = key.indexOf('/');
          const pod = await this.reader.getPod({ namespace: key.slice(0, slash), name: key.slice(slash + 1) });
          this.account(key, pod);
        }
        this.version = feed.version;
        return;
      }
    }
    this.version = await this.reader.version();
    this.snapshot = ClusterSnapshot.fromNodes(await this.reader.listNodes());
    this.seen.clear();
    for (const pod of await this.reader.listPods()) if (pod.spec.nodeName) this.account(podKey(pod), pod);
    this.priorityClasses = undefined;
  }

  private account(key: string, pod: Pod | undefined): void {
    const prev = this.seen.get(key);
    if (pod?.spec.nodeName) {
      // A status-only change keeps the spec: nothing to re-account.
      if (prev && prev.spec === pod.spec) {
        this.seen.set(key, pod);
        return;
      }
      this.snapshot.forget(key);
      this.snapshot.assumePod(pod);
      this.seen.set(key, pod);
    } else if (prev) {
      this.snapshot.forget(key);
      this.seen.delete(key);
    }
  }

  private async priorityOf(pod: Pod): Promise<number> {
    if (pod.spec.priority !== undefined && pod.spec.priority !== null) return pod.spec.priority;
    this.priorityClasses ??= await this.reader.listPriorityClasses();
    const name = pod.spec.priorityClassName;
    const pc = name ? this.priorityClasses.find((p) => p.metadata.name === name) : this.priorityClasses.find((p) => p.globalDefault);
    return pc?.value ?? 0;
  }

  /** S1 for every image the pods need that is not known yet. */
  private async resolveImages(pods: readonly Pod[]): Promise<void> {
    const wanted = new Set<string>();
    for (const pod of pods) {
      const sources = sourceImages(pod);
      for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
        const ref = normalise(sources[c.name] ?? c.image ?? '');
        if (!this.images.has(ref)) wanted.add(ref);
      }
    }
    for (const ref of wanted) {
      const r = this.resolver.cached(ref) ?? (await this.resolver.resolve(ref));
      this.images.set(ref, r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message });
    }
  }

  async runOnce(): Promise<ScheduleRound> {
    this.round++;
    await this.sync();
    const waiting = await this.reader.listPods({ nodeName: '', schedulerName: this.opts.schedulerName });
    const pending = waiting.filter((p) => (this.backoff.get(podKey(p))?.nextRound ?? 0) <= this.round);
    if (pending.length === 0) return { placements: [] };
    await this.resolveImages(pending);
    const queue: { pod: Pod; priority: number; created: string }[] = [];
    for (const pod of pending) queue.push({ pod, priority: await this.priorityOf(pod), created: pod.metadata.creationTimestamp ?? '' });
    // kube-scheduler's active queue: higher priority first, then older first.
    queue.sort((a, b) => b.priority - a.priority || a.created.localeCompare(b.created) || podKey(a.pod).localeCompare(podKey(b.pod)));
    const lookup = (ref: string): ImageInfo | undefined => this.images.get(ref);
    const placements: Placement[] = [];
    for (const { pod, priority } of queue) {
      const decision = placePod(this.framework, this.snapshot, pod, lookup, this.opts.rng, { priority });
      placements.push(await this.write(pod, decision));
    }
    return { placements };
  }

  private async write(pod: Pod, decision: Decision): Promise<Placement> {
    const key = podKey(pod);
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    if (decision.outcome !== 'scheduled' || !decision.node) {
      if (this.lastFailure.get(key) !== decision.reason) {
        this.lastFailure.set(key, decision.reason);
        await this.writer.recordEvent({ involved: { kind: 'Pod', ...ref }, type: 'Warning', reason: 'FailedScheduling', message: decision.reason });
      }
      const b = this.backoff.get(key) ?? { attempts: 0, nextRound: 0 };
      b.attempts++;
      b.nextRound = this.round + Math.min(5, 2 ** (b.attempts - 1));
      this.backoff.set(key, b);
      return { decision, result: 'unschedulable', message: decision.reason };
    }
    this.lastFailure.delete(key);
    this.backoff.delete(key);
    if (this.opts.platformAware && decision.boundPod) {
      const bound = decision.boundPod;
      const images: Record<string, string> = {};
      for (const c of decision.choices) images[c.container] = c.image;
      const p = await this.writer.patchPod(ref, { images, annotations: { ...(bound.metadata.annotations ?? {}) } });
      if (!p.ok) {
        this.snapshot.forget(key);
        return { decision, result: 'failed', message: p.error.message };
      }
    }
    const b = await this.writer.bindPod(ref, decision.node);
    if (!b.ok) {
      this.snapshot.forget(key);
      return { decision, result: 'failed', message: b.error.message };
    }
    await this.writer.recordEvent({
      involved: { kind: 'Pod', ...ref }, type: 'Normal', reason: 'Scheduled',
      message: `Successfully assigned ${key} to ${decision.node}${decision.platform ? ` (${decision.platform})` : ''}`,
    });
    return { decision, result: 'bound' };
  }
}
