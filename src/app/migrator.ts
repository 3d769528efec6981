/**
 * The migrator (self-healing and migration of the placement method), one loop for the
 * simulator and for a cluster: pods leave a node that is lost, deleted or drained, and
 * S2-S4 run again for them, so the replacement may land on a node of another
 * architecture with the variant built for it.
 *
 * Each round: read nodes, pods and the Migration records (MigrationStore: custom
 * resources on a cluster, memory on the simulator); record a Migration for every pod
 * that must leave and has none (at once, when the trouble is first seen, so nothing the
 * pod carried is lost if pod GC removes it first); then advance every record by the
 * pure phase machine of core/migration (`advance(record, observed)`) and do the one
 * action it names: evict (PodDisruptionBudgets hold; a refusal is retried with
 * backoff), delete, or create the replacement of a bare pod. A restarted or failed-over
 * migrator reads the records and finishes what another started.
 */
import type { Pod, Taint } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import { imageReferences, snapshotWithBoundPods } from '../core/placement/batch.ts';
import { createFramework } from '../core/placement/framework.ts';
import { createRng } from '../core/rng.ts';
import { schedulePod } from '../core/placement/schedule.ts';
import { advance, capture, refusedStatus, sameStatus, viewNode, type EventSpec, type NodeView, type Step } from '../core/migration/decide.ts';
import { DRAIN_TAINT } from '../core/migration/plan.ts';
import { isFinished, migrationName, type MigrationPhase, type MigrationRecord, type MigrationStatus } from '../core/migration/record.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster, ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { MigrationStore } from '../ports/cluster-extras.ts';
import { silentLogger, type Logger } from '../ports/logger.ts';
import { noTelemetry, type Telemetry } from '../ports/telemetry.ts';
import type { ImageLookupService } from './image-lookup.ts';
import { runRounds } from './run-loop.ts';
import { ChangeFollower } from './change-follower.ts';

export interface MigratorOptions {
  readonly cluster: Cluster & MigrationStore;
  readonly clock: Clock;
  readonly log?: Logger;
  readonly telemetry?: Telemetry;
  /** Toleration of a lost node for pods that carry none (DefaultTolerationSeconds). Default 300 s. */
  readonly defaultTolerationMs?: number;
  /** Re-create bare pods from their source images. Default true; false is Kubernetes' own behaviour (they are lost). */
  readonly recreateBarePods?: boolean;
  /** How long a Node object must stay missing before its pods count as on a deleted node (caches lag). Default 30 s. */
  readonly nodeGoneGraceMs?: number;
  /** Backoff between refused actions on one record (PDB 429): initial, doubling to max. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Interval of the loop in `run`. */
  readonly intervalMs?: number;
  /** Record moves only off these nodes (`polyarch migrate --node`); all nodes when absent. */
  readonly onlyNodes?: readonly string[];
}

/** A pod taken off its node this round (evicted or deleted), or an action refused. */
export interface MoveOutcome {
  readonly record: MigrationRecord;
  /** The pod as it was before the action. */
  readonly pod: Pod;
  readonly outcome: 'moved' | 'refused';
  readonly message: string;
}

export interface RoundResult {
  readonly lost: readonly string[];
  readonly draining: readonly string[];
  /** Records created this round. */
  readonly started: number;
  readonly succeeded: number;
  readonly blocked: number;
  readonly waiting: number;
  readonly moves: readonly MoveOutcome[];
}

/** Starts a drain the way `polyarch migrate --node` does: cordon, then mark for the migrator. */
export async function requestDrain(reader: ClusterReader, writer: ClusterWriter, nodeName: string): Promise<{ ok: boolean; message: string }> {
  const node = await reader.getNode(nodeName);
  if (!node) return { ok: false, message: `node ${nodeName} not found` };
  const c = await writer.cordonNode(nodeName, true);
  if (!c.ok) return { ok: false, message: c.error.message };
  const fresh = (await reader.getNode(nodeName)) ?? node;
  const taints: Taint[] = [...(fresh.spec?.taints ?? []).filter((t) => t.key !== DRAIN_TAINT), { key: DRAIN_TAINT, value: 'true', effect: 'NoSchedule' }];
  const t = await writer.setNodeTaints(nodeName, taints);
  if (!t.ok) return { ok: false, message: t.error.message };
  await writer.recordEvent({ involved: { kind: 'Node', name: nodeName }, type: 'Normal', reason: 'Draining', message: `node ${nodeName} cordoned; its pods will be moved` });
  return { ok: true, message: `draining ${nodeName}` };
}

/**
 * Undoes a drain (`polyarch migrate --node N --undo`, and a node's recovery on the
 * simulator): the drain mark removed and the node uncordoned. Moves not yet made are
 * cancelled by the migrator's next round; pods already evicted stay where they went.
 */
export async function undoDrain(reader: ClusterReader, writer: ClusterWriter, nodeName: string): Promise<{ ok: boolean; message: string }> {
  const node = await reader.getNode(nodeName);
  if (!node) return { ok: false, message: `node ${nodeName} not found` };
  const taints = node.spec?.taints ?? [];
  const marked = taints.some((t) => t.key === DRAIN_TAINT);
  if (!marked && !node.spec?.unschedulable) return { ok: true, message: `node ${nodeName} is not drained` };
  if (marked) {
    const t = await writer.setNodeTaints(nodeName, taints.filter((t) => t.key !== DRAIN_TAINT));
    if (!t.ok) return { ok: false, message: t.error.message };
  }
  const c = await writer.cordonNode(nodeName, false);
  if (!c.ok) return { ok: false, message: c.error.message };
  await writer.recordEvent({ involved: { kind: 'Node', name: nodeName }, type: 'Normal', reason: 'DrainUndone', message: `node ${nodeName} uncordoned; moves not yet made are cancelled` });
  return { ok: true, message: `drain of ${nodeName} undone` };
}

/**
 * Before a manual move touches anything (`polyarch migrate POD --to PLATFORM`): could
 * the pod, pinned to that platform, run on some node now? The replacement as it would
 * be created goes through the scheduler's own filters (S2, the default profile) over the
 * nodes and the pods bound to them (the pod itself leaves), with its images' platforms
 * from the registry (S1). The answer names why not: no node of that platform, no
 * variant of an image for it, no room.
 */
export async function checkManualMove(reader: ClusterReader, images: ImageLookupService, pod: Pod, platform: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const c = capture(pod, pod.spec.nodeName ?? '', { reason: 'manual', toPlatform: platform }, { defaultTolerationSeconds: 0, recreateBarePods: true });
  if (c.kind !== 'record') return { ok: false, reason: c.reason };
  const template = c.record.spec.template as Pod;
  const key = podKey(pod);
  const bound = (await reader.listPods()).filter((p) => p.spec.nodeName && podKey(p) !== key && !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const { snapshot } = snapshotWithBoundPods(await reader.listNodes(), bound);
  const refs = imageReferences([template]);
  const { lookup, results } = await images.resolveAll(refs, { credentials: await images.credentialsOf(pod) });
  for (const [ref, r] of results) if (!r.ok) return { ok: false, reason: `image ${ref}: ${r.error}` };
  const fw = createFramework({});
  if (!fw.ok) return { ok: false, reason: fw.error };
  const { decision } = schedulePod(fw.value, snapshot, template, lookup, createRng(1));
  return decision.outcome === 'scheduled' ? { ok: true } : { ok: false, reason: `no node can run ${key} as ${platform}: ${decision.reason}` };
}

const split = (key: string): { namespace: string; name: string } => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

export class Migrator {
  /** Not before this time, per record (backoff after a refusal). */
  private readonly retryAt = new Map<string, number>();
  /** When a Node object that pods or records name was first missed. */
  private readonly missingSince = new Map<string, number>();
  private readonly feed: ChangeFollower;
  private readonly log: Logger;
  private readonly telemetry: Telemetry;

  constructor(private readonly o: MigratorOptions) {
    this.log = o.log ?? silentLogger;
    this.telemetry = o.telemetry ?? noTelemetry;
    this.feed = new ChangeFollower(o.cluster);
  }

  run(signal: AbortSignal): Promise<void> {
    return runRounds(this, { signal, clock: this.o.clock, intervalMs: this.o.intervalMs ?? 1_000, log: this.log, what: 'migration round failed' });
  }

  async runOnce(): Promise<RoundResult> {
    const { cluster, clock } = this.o;
    const now = clock.now();
    const nodes = await cluster.listNodes();
    const byName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
    const records = await cluster.listMigrations();
    const known = new Set(records.map((r) => r.name));

    // Nodes named by pods or open records but missing from the API: deleted, or a cache behind.
    // Every pod's node is read only when nodes changed (or the feed starts again); otherwise
    // the pods changed since the last round, and the nodes already missed.
    const referenced = new Set(records.filter((r) => !isFinished(r)).map((r) => r.spec.fromNode ?? ''));
    const changed = await this.feed.next();
    if (changed.relist || changed.nodes.size > 0) {
      for (const p of await cluster.listPods()) if (p.spec.nodeName) referenced.add(p.spec.nodeName);
    } else {
      for (const ref of changed.pods.values()) {
        const nn = (await cluster.getPod(ref))?.spec.nodeName;
        if (nn) referenced.add(nn);
      }
      for (const nn of this.missingSince.keys()) if ((await cluster.listPods({ nodeName: nn })).length > 0) referenced.add(nn);
    }
    for (const nn of referenced) if (nn && !byName.has(nn) && !this.missingSince.has(nn)) this.missingSince.set(nn, now);
    for (const nn of [...this.missingSince.keys()]) if (byName.has(nn) || !referenced.has(nn)) this.missingSince.delete(nn);
    const views = new Map<string, NodeView>();
    const view = (name: string): NodeView => {
      if (!name) return { kind: 'ready' }; // a manual move of a pod not bound anywhere
      let v = views.get(name);
      if (!v) views.set(name, (v = viewNode(byName.get(name), now, { sinceMs: this.missingSince.get(name) ?? now, graceMs: this.o.nodeGoneGraceMs ?? 30_000 })));
      return v;
    };

    // `kubectl uncordon` ends a drain: the mark goes too.
    for (const name of byName.keys()) {
      if (view(name).kind !== 'uncordoned') continue;
      const node = byName.get(name);
      const r = await cluster.setNodeTaints(name, (node?.spec?.taints ?? []).filter((t) => t.key !== DRAIN_TAINT));
      if (r.ok) {
        await cluster.recordEvent({ involved: { kind: 'Node', name }, type: 'Normal', reason: 'DrainUndone', message: `node ${name} was uncordoned: drain ended, moves not yet made are cancelled` });
        this.log.info({ node: name }, 'node uncordoned: drain ended');
      }
    }

    // Record a move for every pod that must leave and has none.
    const lost: string[] = [];
    const draining: string[] = [];
    let started = 0;
    for (const name of new Set([...byName.keys(), ...this.missingSince.keys()])) {
      if (this.o.onlyNodes && !this.o.onlyNodes.includes(name)) continue;
      const v = view(name);
      if (v.kind === 'lost' || v.kind === 'gone') lost.push(name);
      else if (v.kind === 'draining') draining.push(name);
      else continue;
      for (const pod of await cluster.listPods({ nodeName: name })) {
        // A pod already terminating on a live node is someone else's deletion.
        if (pod.metadata.deletionTimestamp && v.kind === 'draining') continue;
        if (known.has(migrationName(pod))) continue;
        if (await this.start(pod, name, v.kind === 'draining' ? { reason: 'drain' } : { reason: 'node-lost' })) started++;
      }
    }

    const outcomes: MoveOutcome[] = [];
    let succeeded = 0;
    let blocked = 0;
    let waiting = 0;
    for (const r of await cluster.listMigrations()) {
      if (isFinished(r)) continue;
      const phase = await this.advanceRecord(r, view, now, outcomes);
      if (phase === 'Succeeded') succeeded++;
      else if (phase === 'Blocked') blocked++;
      else if (phase !== 'Failed' && phase !== 'Cancelled') waiting++;
    }
    return { lost, draining, started, succeeded, blocked, waiting, moves: outcomes };
  }

  /**
   * Records the move of one pod; `manual` with a platform for `polyarch migrate POD --to`.
   * False when a record exists already or the pod stays (DaemonSet, mirror, finished).
   * A pod whose replacement cannot be built is recorded as Failed, with the reason.
   */
  async start(pod: Pod, fromNode: string, why: { reason: 'node-lost' | 'drain' | 'exec-format-error' } | { reason: 'manual'; toPlatform: string }, options: { blocked?: string } = {}): Promise<boolean> {
    const { cluster } = this.o;
    const c = capture(pod, fromNode, why, { defaultTolerationSeconds: (this.o.defaultTolerationMs ?? 300_000) / 1000, recreateBarePods: this.o.recreateBarePods ?? true });
    if (c.kind === 'stays') return false;
    const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
    let record: MigrationRecord =
      c.kind === 'record'
        ? c.record
        : { name: migrationName(pod), spec: { pod: key, ...(pod.metadata.uid ? { podUID: pod.metadata.uid } : {}), reason: why.reason, fromNode, method: 'recreate' }, status: { phase: 'Failed', message: c.reason, attempts: 0 } };
    // Can run nowhere else: recorded held (the phase machine keeps it Blocked) and the pod is left where it is.
    if (options.blocked !== undefined && c.kind === 'record') record = { ...record, spec: { ...record.spec, heldReason: options.blocked }, status: { phase: 'Blocked', attempts: 0, message: options.blocked } };
    const r = await cluster.createMigration(record);
    if (!r.ok) {
      if (r.error.kind !== 'conflict') this.log.warn({ pod: key, error: r.error.message }, 'cannot record migration');
      return false;
    }
    if (c.kind === 'invalid') {
      await this.event(key, { type: 'Warning', reason: 'MigrationFailed', message: c.reason });
      this.telemetry.migration(why.reason, 'failed');
      return false;
    }
    if (record.spec.heldReason !== undefined) {
      // A status sent with a create is dropped (status subresource): written now, and the event with it.
      await this.write({ ...record, status: undefined }, record.status ?? { phase: 'Blocked' }, { type: 'Warning', reason: 'MigrationBlocked', message: record.spec.heldReason });
      return true;
    }
    this.log.info({ pod: key, node: fromNode, reason: why.reason, method: record.spec.method }, 'migration recorded');
    return true;
  }

  /** Up to a few steps of one record: an action whose effect is visible at once (the simulator) leads straight to the next. */
  private async advanceRecord(r: MigrationRecord, view: (node: string) => NodeView, now: number, outcomes: MoveOutcome[]): Promise<MigrationPhase | 'Cancelled'> {
    const { cluster } = this.o;
    if ((this.retryAt.get(r.name) ?? 0) > now) return r.status?.phase ?? 'Pending';
    let rec = r;
    const ref = split(rec.spec.pod);
    for (let i = 0; i < 4; i++) {
      const pod = await cluster.getPod(ref);
      const step = advance(rec, { pod, node: view(rec.spec.fromNode ?? ''), nowMs: now });
      if (step.action === 'cancel') {
        await cluster.deleteMigration(rec.name);
        await this.event(rec.spec.pod, step.event);
        this.log.info({ migration: rec.name, pod: rec.spec.pod }, step.event.message);
        return 'Cancelled';
      }
      if (step.action === 'none') {
        await this.write(rec, step.status, step.event);
        return step.status.phase;
      }
      const failure = await this.act(step, ref);
      if (failure !== undefined) {
        const refused = refusedStatus(rec, failure);
        await this.write(rec, refused.status, refused.event);
        this.telemetry.migration(rec.spec.reason, 'blocked');
        const attempts = refused.status.attempts ?? 1;
        const delay = Math.min(this.o.retryMaxMs ?? 30_000, (this.o.retryInitialMs ?? 1_000) * 2 ** Math.min(attempts - 1, 16));
        this.retryAt.set(rec.name, now + delay);
        if (pod) outcomes.push({ record: rec, pod, outcome: 'refused', message: failure });
        return refused.status.phase;
      }
      this.retryAt.delete(rec.name);
      if (pod && step.action !== 'create') outcomes.push({ record: rec, pod, outcome: 'moved', message: step.status.message ?? '' });
      await this.write(rec, step.status, step.event);
      rec = { ...rec, status: step.status };
      if (isFinished(rec)) return step.status.phase;
    }
    return rec.status?.phase ?? 'Pending';
  }

  /** Does the step's action on the pod; the reason when it was refused or failed. */
  private async act(step: Exclude<Step, { action: 'none' | 'cancel' }>, ref: { namespace: string; name: string }): Promise<string | undefined> {
    const { cluster } = this.o;
    if (step.action === 'create') {
      const c = await cluster.createPod(step.pod);
      // Conflict: a pod of that name exists already (another replica made it); the next round judges it.
      return c.ok || c.error.kind === 'conflict' ? undefined : `re-create failed: ${c.error.message}`;
    }
    if (step.action === 'delete') {
      const d = await cluster.deletePod(ref);
      return d.ok || d.error.kind === 'not-found' ? undefined : `delete failed: ${d.error.message}`;
    }
    const ev = await cluster.evictPod(ref);
    if (ev.ok || ev.refused === 'not-found') return undefined;
    return ev.refused === 'disruption-budget' ? `eviction blocked by PodDisruptionBudget ${ev.budget}: ${ev.message}` : ev.message;
  }

  private async write(rec: MigrationRecord, status: MigrationStatus, event: EventSpec | undefined): Promise<void> {
    if (sameStatus(rec.status, status)) return;
    const w = await this.o.cluster.updateMigrationStatus(rec.name, status);
    if (!w.ok) {
      this.log.warn({ migration: rec.name, error: w.error.message }, 'cannot write migration status');
      return;
    }
    if (event) await this.event(rec.spec.pod, event);
    if (status.phase === 'Succeeded') this.telemetry.migration(rec.spec.reason, 'succeeded');
    else if (status.phase === 'Failed') this.telemetry.migration(rec.spec.reason, 'failed');
    else if (status.phase === 'Blocked') this.telemetry.migration(rec.spec.reason, 'blocked');
    this.log.info({ migration: rec.name, pod: rec.spec.pod, phase: status.phase }, status.message ?? '');
  }

  private async event(podKey: string, e: EventSpec): Promise<void> {
    await this.o.cluster.recordEvent({ involved: { kind: 'Pod', ...split(podKey) }, type: e.type, reason: e.reason, message: e.message });
  }
}
