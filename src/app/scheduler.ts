/**
 * The scheduler (S1-S4), the one `polyarch serve --scheduler` and `polyarch simulate`
 * construct: pending pods whose spec.schedulerName is ours go through a
 * kube-scheduler-style queue (scheduling-queue.ts) in priority order; each is decided by
 * the placement core against the cache (scheduler-cache.ts), assumed, then written: the
 * chosen image variants and annotations patched into the pod, then the binding.
 *
 * On a cluster `run()` drives it from the change feed; the simulator calls `runOnce()`
 * once per simulated minute. The platform-blind baseline is the framework's
 * `kube-scheduler` profile: no image lookup, no patch, only the binding.
 */
import type { Pod } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import type { Decision } from '../core/placement/decision.ts';
import type { Framework } from '../core/placement/framework.ts';
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION, sourceImages } from '../core/k8s/annotations.ts';
import { unconstrainedImage, type ImageInfo } from '../core/placement/pod-info.ts';
import { podAgeMs, unreadableVerdict, type UnreadableFallback, type UnreadableImage } from '../core/placement/unreadable-images.ts';
import { policyForPod } from '../core/placement/namespace-policy.ts';
import type { Rng } from '../core/rng.ts';
import { placePod } from '../core/placement/schedule.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster, ObjectRef } from '../ports/cluster.ts';
import type { ChangeNotifier, PodConditionWriter } from '../ports/cluster-extras.ts';
import type { RegistryCredentials } from '../ports/image-resolver.ts';
import type { Logger } from '../ports/logger.ts';
import type { PlacementPolicyReader } from '../ports/placement-policy.ts';
import { noTelemetry, type Telemetry } from '../ports/telemetry.ts';
import { isTransientImageError, type ImageLookupService } from './image-lookup.ts';
import { isTerminal, SchedulerCache } from './scheduler-cache.ts';
import { SchedulingQueue, type QueueOptions, type QueuedPod } from './scheduling-queue.ts';

export const DEFAULT_SCHEDULER_NAME = 'polyarch';

export interface SchedulerOptions {
  readonly cluster: Cluster & Partial<PodConditionWriter & ChangeNotifier>;
  readonly resolver: ImageLookupService;
  readonly framework: Framework;
  /** Per-namespace placement policies (PlacementPolicy objects); none: every platform the images have. */
  readonly policies?: PlacementPolicyReader;
  /** When no policy says what to do with an image whose platforms cannot be read (serve: --gate-release-after-ms; default Block). */
  readonly unreadable?: UnreadableFallback;
  readonly rng: Rng;
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry?: Telemetry;
  readonly schedulerName?: string;
  readonly queue?: QueueOptions;
  /** Writes (patch + bind) in flight at once. */
  readonly bindConcurrency?: number;
  /** Without a change notifier, how often to look at the change feed. */
  readonly pollMs?: number;
}

/** What became of one attempt that got as far as a decision or a write. */
export interface Placement {
  readonly decision: Decision;
  /** bound; unschedulable (no node); failed (a write failed, retried); conflict (someone else bound it). */
  readonly result: 'bound' | 'unschedulable' | 'failed' | 'conflict';
  readonly message?: string;
}

/** One pass of runOnce. */
export interface SchedulingRound {
  /** Pods taken from the queue. */
  readonly tried: number;
  /** The decisions of the pass, with what their writes gave. */
  readonly placements: readonly Placement[];
}

export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  errors: number;
  bindConflicts: number;
}

/** Decisions kept for `explain` and tests (the oldest forgotten first). */
export const DECISIONS_KEPT = 10_000;

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, errors: 0, bindConflicts: 0 };
  /**
   * The last decision per pod (for `explain` and tests), forgotten when the pod is deleted,
   * for the DECISIONS_KEPT pods decided last (a decision with its runners-up is over a
   * kilobyte: 100,000 pods kept 160 MB); kept without its bound pod object (the API holds the pod).
   */
  readonly decisions = new Map<string, Decision>();
  private since = -1;
  private readonly telemetry: Telemetry;
  private readonly schedulerName: string;
  private readonly resolving = new Map<string, Set<string>>();
  /** The pod object last queued per key (its scheduling inputs are compared only when another object comes). */
  private readonly pendingPods = new Map<string, Pod>();
  private readonly inflight = new Set<Promise<void>>();
  /** Scheduling loops waiting for a free write slot, woken one per finished write (not a race over every write in flight). */
  private readonly slotWaiters: (() => void)[] = [];
  private wake: (() => void) | undefined;
  private dirty = false;
  private placements: Placement[] = [];

  constructor(private readonly o: SchedulerOptions) {
    this.cache = new SchedulerCache(o.log);
    this.queue = new SchedulingQueue(o.queue);
    this.telemetry = o.telemetry ?? noTelemetry;
    this.schedulerName = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  }

  /** Runs until `signal` aborts (leadership lost or shutdown), then waits for writes in flight. */
  async run(signal: AbortSignal): Promise<void> {
    const unsubscribe = this.o.cluster.onChange?.(() => this.poke());
    try {
      while (!signal.aborted) {
        await this.runOnce();
        await this.idle(signal);
      }
    } finally {
      unsubscribe?.();
      await Promise.allSettled([...this.inflight]);
    }
  }

  /**
   * One pass: read the changes, try every pod that is ready now, and wait for the
   * writes of the pass (up to bindConcurrency run at once).
   */
  async runOnce(): Promise<SchedulingRound> {
    await this.sync();
    let tried = 0;
    for (let qp = this.queue.pop(this.o.clock.now()); qp; qp = this.queue.pop(this.o.clock.now())) {
      await this.scheduleOne(qp);
      tried++;
      if (tried % 64 === 0) await this.sync();
    }
    await this.drain();
    this.reportQueue();
    const placements = this.placements;
    this.placements = [];
    return { tried, placements };
  }

  /** Waits for outstanding writes (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ---- the change feed -> cache and queue -------------------------------------------

  async sync(): Promise<void> {
    const { cluster } = this.o;
    const feed = this.since < 0 ? undefined : await cluster.changes(this.since);
    if (!feed || feed.expired) {
      const version = await cluster.version();
      const [nodes, pods] = await Promise.all([cluster.listNodes(), cluster.listPods()]);
      this.cache.reset(nodes, pods);
      const seen = new Set<string>();
      for (const p of pods) {
        if (this.wantsScheduling(p)) {
          seen.add(podKey(p));
          this.enqueue(p);
        }
      }
      for (const key of [...this.pendingPods.keys()]) {
        if (!seen.has(key)) {
          this.pendingPods.delete(key);
          this.queue.delete(key);
        }
      }
      this.since = version;
      return;
    }
    let helpful = false;
    const now = this.o.clock.now();
    // Collapse repeats: only the latest state of each object matters.
    const nodes = new Set<string>();
    const pods = new Map<string, ObjectRef>();
    for (const ev of feed.events) {
      if (ev.kind === 'Node') nodes.add(ev.name);
      else if (ev.kind === 'Pod') pods.set(`${ev.namespace ?? 'default'}/${ev.name}`, { namespace: ev.namespace ?? 'default', name: ev.name });
    }
    for (const name of nodes) {
      const node = await cluster.getNode(name);
      if (node) helpful = this.cache.setNode(node) || helpful;
      else this.cache.removeNode(name);
    }
    for (const [key, ref] of pods) {
      const pod = await cluster.getPod(ref);
      if (!pod) {
        helpful = this.cache.removePod(key) || helpful;
        this.decisions.delete(key);
        this.pendingPods.delete(key);
        this.queue.delete(key);
        continue;
      }
      if (pod.spec.nodeName || isTerminal(pod)) {
        helpful = this.cache.observePod(pod) || helpful;
        this.pendingPods.delete(key);
        this.queue.delete(key);
        continue;
      }
      helpful = this.cache.observePod(pod) || helpful;
      if (this.cache.isAssumed(key)) continue; // our own patch, bind in flight
      if (this.wantsScheduling(pod)) this.enqueue(pod);
      else {
        // Deleted while pending (deletionTimestamp) or handed to another scheduler.
        this.pendingPods.delete(key);
        this.queue.delete(key);
      }
    }
    this.since = feed.version;
    if (helpful) this.queue.moveAllToActiveOrBackoff(now);
  }

  private wantsScheduling(pod: Pod): boolean {
    return (
      (pod.spec?.schedulerName ?? 'default-scheduler') === this.schedulerName &&
      !pod.spec.nodeName &&
      !pod.metadata.deletionTimestamp &&
      !isTerminal(pod) &&
      !this.cache.isAssumed(podKey(pod))
    );
  }

  /**
   * Queues a pending pod, or requeues it when its spec, labels or annotations changed
   * (a status-only update, such as our own PodScheduled condition, is not a reason).
   */
  private enqueue(pod: Pod): void {
    const key = podKey(pod);
    const before = this.pendingPods.get(key);
    this.pendingPods.set(key, pod);
    // The informer hands out the same object until the pod changes.
    if (before && this.queue.has(key) && (before === pod || schedulingInputs(before) === schedulingInputs(pod))) return;
    this.queue.add(key, pod.spec.priority ?? 0, this.o.clock.now());
  }

  // ---- one pod ---------------------------------------------------------------------

  private async scheduleOne(qp: QueuedPod): Promise<void> {
    const { cluster, clock, log } = this.o;
    const [namespace = 'default', name = ''] = splitKey(qp.key);
    const pod = await cluster.getPod({ namespace, name });
    if (!pod || !this.wantsScheduling(pod)) {
      this.queue.done(qp.key);
      this.pendingPods.delete(qp.key);
      return;
    }
    const started = clock.now();
    if (!Array.isArray(pod.spec.containers) || pod.spec.containers.length === 0) {
      await this.refuse(pod, qp, 'invalid pod: spec.containers: must have at least one container', started);
      return;
    }
    const lookup = this.o.framework.platformAware ? await this.imagesFor(pod, qp) : { images: new Map<string, ImageInfo>(), failed: [] };
    if (lookup === 'waiting') return;
    const policy = this.o.policies ? policyForPod(this.o.policies.policyFor(namespace), pod.metadata.labels) : undefined;
    // The one unreadableImages verdict (the webhook, its gate controller and the extender make it too).
    const verdict = unreadableVerdict(policy, this.o.unreadable ?? { action: 'Block', releaseAfterMs: 0 }, lookup.failed, podAgeMs(pod, clock.now()));
    if (verdict?.action === 'wait') {
      this.stats.errors++;
      this.telemetry.schedulingAttempt('error', (clock.now() - started) / 1000);
      await cluster.recordEvent({ involved: { kind: 'Pod', namespace, name }, type: 'Warning', reason: 'FailedScheduling', message: verdict.reason });
      this.queue.requeue(qp.key, false, clock.now());
      return;
    }
    if (verdict?.action === 'block') {
      await this.refuse(pod, qp, verdict.reason, started);
      return;
    }
    if (verdict?.action === 'unconstrained') for (const ref of verdict.images) lookup.images.set(ref, unconstrainedImage(ref, verdict.reason));
    const decision = placePod(this.o.framework, this.cache.snapshot, pod, (ref) => lookup.images.get(ref), this.o.rng, { priority: qp.priority, policy });
    this.decisions.delete(qp.key);
    this.decisions.set(qp.key, decision.boundPod ? { ...decision, boundPod: null } : decision);
    if (this.decisions.size > DECISIONS_KEPT) this.decisions.delete(this.decisions.keys().next().value as string);
    if (decision.outcome !== 'scheduled' || !decision.node || !decision.boundPod) {
      this.placements.push({ decision, result: 'unschedulable', message: decision.reason });
      await this.refuse(pod, qp, decision.reason, started);
      return;
    }
    this.cache.noteAssumed(qp.key, decision.node);
    this.telemetry.schedulingAttempt('scheduled', (clock.now() - started) / 1000);
    log.debug({ pod: qp.key, node: decision.node, platform: decision.platform }, decision.reason);
    const write = this.bind(pod, decision, qp).finally(() => {
      this.inflight.delete(write);
      this.slotWaiters.shift()?.();
    });
    this.inflight.add(write);
    if (this.inflight.size >= (this.o.bindConcurrency ?? 16)) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /**
   * S4 on the API. The variants the pod must name (ImageChoice.write) are patched in with
   * the record of the originals first, so the binding never reaches the kubelet before
   * the image it is to run; a pod whose own references give the node the chosen variants
   * is not patched, and its record of originals travels with the binding, as the
   * platform and the decision always do.
   */
  private async bind(pod: Pod, decision: Decision, qp: QueuedPod): Promise<void> {
    const { cluster, clock, log } = this.o;
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    const node = decision.node ?? '';
    const annotations = decision.boundPod?.metadata.annotations ?? {};
    const images: Record<string, string> = {};
    for (const c of decision.choices) if (c.write) images[c.container] = c.image;
    // A platform-blind profile (kube-scheduler as shipped) only binds.
    const patched = this.o.framework.platformAware && Object.keys(images).length > 0;
    if (patched) {
      const patch = await cluster.patchPod(ref, { images, annotations: { [SOURCE_IMAGES_ANNOTATION]: annotations[SOURCE_IMAGES_ANNOTATION] ?? null } });
      if (!patch.ok) {
        this.cache.forget(qp.key);
        this.writeFailed(decision, qp, 'patch', patch.error);
        return;
      }
    }
    const records: Record<string, string> = {};
    const kinds = patched ? [PLATFORM_ANNOTATION, DECISION_ANNOTATION] : [SOURCE_IMAGES_ANNOTATION, PLATFORM_ANNOTATION, DECISION_ANNOTATION];
    for (const k of kinds) if (this.o.framework.platformAware && annotations[k] !== undefined) records[k] = annotations[k];
    const result = await cluster.bindPod(ref, node, Object.keys(records).length > 0 ? { annotations: records } : {});
    if (!result.ok) {
      this.cache.forget(qp.key);
      if (result.error.kind === 'conflict') {
        // Someone else bound it first (HTTP 409): theirs stands. Our image patch is
        // undone so the pod keeps the references its owner wrote.
        this.stats.bindConflicts++;
        this.placements.push({ decision, result: 'conflict', message: result.error.message });
        log.warn({ pod: qp.key, node, error: result.error.message }, 'bind refused: pod already bound');
        if (patched) await this.undoPatch(pod, ref);
        this.queue.done(qp.key);
        this.pendingPods.delete(qp.key);
        return;
      }
      this.writeFailed(decision, qp, 'bind', result.error);
      return;
    }
    this.stats.scheduled++;
    this.placements.push({ decision, result: 'bound' });
    this.queue.done(qp.key);
    this.pendingPods.delete(qp.key);
    this.telemetry.podScheduled((clock.now() - qp.firstSeen) / 1000);
    await cluster.recordEvent({
      involved: { kind: 'Pod', namespace: ref.namespace, name: ref.name },
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${qp.key} to ${node} (${decision.platform ?? 'unknown platform'})`,
    });
  }

  /** A write that failed: retried later, unless the pod is gone. */
  private writeFailed(decision: Decision, qp: QueuedPod, what: 'patch' | 'bind', error: { kind: string; message: string }): void {
    this.stats.errors++;
    this.placements.push({ decision, result: 'failed', message: error.message });
    this.o.log.warn({ pod: qp.key, node: decision.node, error: error.message }, `${what} failed; pod will be retried`);
    if (error.kind === 'not-found') this.queue.done(qp.key);
    else this.queue.requeue(qp.key, false, this.o.clock.now());
  }

  private async undoPatch(pod: Pod, ref: ObjectRef): Promise<void> {
    const originals = sourceImages(pod);
    const images: Record<string, string> = {};
    for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) if (c.image) images[c.name] = originals[c.name] ?? c.image;
    const r = await this.o.cluster.patchPod(ref, { images, annotations: { [PLATFORM_ANNOTATION]: null, [DECISION_ANNOTATION]: null } });
    if (!r.ok) this.o.log.debug({ pod: `${ref.namespace}/${ref.name}`, error: r.error.message }, 'could not undo image patch');
  }

  /** Written as kube-scheduler writes a failure: PodScheduled=False/Unschedulable and a FailedScheduling event. */
  private async refuse(pod: Pod, qp: QueuedPod, reason: string, started: number): Promise<void> {
    const { cluster, clock, log } = this.o;
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    this.stats.unschedulable++;
    this.telemetry.schedulingAttempt('unschedulable', (clock.now() - started) / 1000);
    log.info({ pod: qp.key, attempts: qp.attempts }, reason);
    if (cluster.setPodCondition) {
      const r = await cluster.setPodCondition(ref, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: reason });
      if (!r.ok) log.debug({ pod: qp.key, error: r.error.message }, 'could not write PodScheduled condition');
    }
    await cluster.recordEvent({ involved: { kind: 'Pod', namespace: ref.namespace, name: ref.name }, type: 'Warning', reason: 'FailedScheduling', message: reason });
    this.queue.requeue(qp.key, true, clock.now());
  }

  // ---- images (S1) -------------------------------------------------------------------

  /**
   * The platforms of each image of the pod, with its pull secrets, from the image lookup
   * service's cache or from lookups started in the background: a pod whose registry is
   * slow waits aside (gated) and does not hold up the pods behind it. The images that
   * could not be read are returned for the unreadableImages verdict.
   */
  private async imagesFor(pod: Pod, qp: QueuedPod): Promise<{ images: Map<string, ImageInfo>; failed: UnreadableImage[] } | 'waiting'> {
    const { resolver } = this.o;
    const credentials = await resolver.credentialsOf(pod);
    const out = new Map<string, ImageInfo>();
    const failed: UnreadableImage[] = [];
    const recorded = sourceImages(pod);
    const missing: string[] = [];
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const original = recorded[c.name] ?? c.image;
      if (!original) continue;
      const parsed = resolver.normalised(original);
      if (!parsed) continue; // the placement core names it as an invalid pod
      const ref = parsed.name;
      const cached = resolver.cached(ref, credentials);
      if (!cached) {
        missing.push(ref);
        continue;
      }
      this.telemetry.registryLookup(true, cached.ok);
      if (cached.ok) out.set(ref, cached);
      else {
        const transient = isTransientImageError(cached.error);
        failed.push({ image: ref, container: c.name, transient, message: transient ? `cannot reach registry ${parsed.ref.registry} for image ${ref}: ${cached.error.message}` : cached.error.message });
      }
    }
    if (missing.length === 0) return { images: out, failed };
    this.queue.gate(qp.key);
    for (const ref of missing) this.startLookup(ref, credentials, qp.key);
    return 'waiting';
  }

  /** Looks `ref` up in the background (the service shares one lookup per key) and ungates the pods waiting on it. */
  private startLookup(ref: string, credentials: readonly RegistryCredentials[], key: string): void {
    const waiting = this.resolving.get(ref);
    if (waiting) {
      waiting.add(key);
      return;
    }
    const set = new Set([key]);
    this.resolving.set(ref, set);
    void this.o.resolver.resolve(ref, { credentials }).then((result) => {
      this.telemetry.registryLookup(false, result.ok);
      const at = this.o.clock.now();
      this.resolving.delete(ref);
      for (const k of set) this.queue.ungate(k, at);
      this.poke();
    });
  }

  // ---- waiting -------------------------------------------------------------------------

  private poke(): void {
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async idle(signal: AbortSignal): Promise<void> {
    const { clock } = this.o;
    if (this.queue.activeCount > 0 || this.dirty) {
      this.dirty = false;
      return;
    }
    const next = this.queue.nextWakeAt();
    const pollMs = this.o.cluster.onChange ? 5_000 : (this.o.pollMs ?? 200);
    const delay = Math.max(0, Math.min(pollMs, next === undefined ? pollMs : next - clock.now()));
    const sleeper = new AbortController();
    const onAbort = (): void => sleeper.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake = () => sleeper.abort();
    try {
      await clock.sleep(delay, sleeper.signal);
    } catch {
      // woken early: a change arrived
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.wake = undefined;
    }
  }

  private reportQueue(): void {
    const c = this.queue.counts();
    this.telemetry.pendingPods('active', c.active);
    this.telemetry.pendingPods('backoff', c.backoff);
    this.telemetry.pendingPods('unschedulable', c.unschedulable);
    this.telemetry.pendingPods('gated', c.gated);
  }
}

/** What a new attempt would read of a pending pod: not its status (our own PodScheduled condition is no reason to retry). */
function schedulingInputs(pod: Pod): string {
  return JSON.stringify([pod.metadata.uid, pod.spec, pod.metadata.labels, pod.metadata.annotations]);
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
