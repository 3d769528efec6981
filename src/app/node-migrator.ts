/**
 * The migrator on a live cluster (self-healing and migration of the placement method):
 * pods leave a node that is lost (not Ready past a grace period) or drained, and S2-S4
 * run again for them, so the new pod may land on a node of another architecture with
 * the variant built for it. Every move is recorded first as a Migration object in the
 * API (the store of record), so a restarted or failed-over migrator finishes it.
 *
 * How a pod moves:
 * - owned by a controller (ReplicaSet, Job, ...): evicted through the Eviction API, so
 *   PodDisruptionBudgets hold (a 429 is retried with backoff); the controller creates
 *   the replacement from its architecture-neutral template and the scheduler places it;
 * - a bare pod: evicted, then re-created from its recorded original
 *   (`polyarch.io/source-images`), once the old one is gone (same name);
 * - a StatefulSet pod on a lost node: deleted only once the node is confirmed gone (Node
 *   object deleted, or fenced by the operator's annotation), so two pods with one
 *   identity never run at once; the StatefulSet controller re-creates it.
 * DaemonSet pods and mirror pods stay where they are.
 */
import type { Node, Pod } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import { DRAIN_TAINT, replacementPod } from '../core/migration/plan.ts';
import { parsePlatform } from '../core/platform/platform.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster } from '../ports/cluster.ts';
import type { MigrationRecord, MigrationStore } from '../ports/cluster-extras.ts';
import type { Logger } from '../ports/logger.ts';
import { noTelemetry, type Telemetry } from '../ports/telemetry.ts';

export const FENCED_ANNOTATION = 'polyarch.io/fenced';

export interface NodeMigratorOptions {
  readonly cluster: Cluster & MigrationStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry?: Telemetry;
  /** A node not Ready for this long is lost. Default 30 s. */
  readonly lostGraceMs?: number;
  /** Backoff between refused evictions of one pod (PDB 429): initial, doubling to max. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Interval of the loop in `run`. */
  readonly intervalMs?: number;
  /** Only these nodes (the `polyarch migrate --node` command); all when absent. */
  readonly onlyNodes?: readonly string[];
}

type Phase = NonNullable<MigrationRecord['status']>['phase'];
const FINISHED: ReadonlySet<Phase> = new Set(['Succeeded', 'Failed']);

export interface RoundResult {
  readonly lost: readonly string[];
  readonly draining: readonly string[];
  readonly started: number;
  readonly succeeded: number;
  readonly waiting: number;
}

export class NodeMigrator {
  /** When we first saw a node not Ready (fallback when the condition has no transition time). */
  private readonly notReadySince = new Map<string, number>();
  /** Not before this time, per migration (backoff after a refusal). */
  private readonly retryAt = new Map<string, number>();
  /** When we first missed a Node object that pods are bound to (caches fill in any order). */
  private readonly missingSince = new Map<string, number>();
  private readonly telemetry: Telemetry;

  constructor(private readonly o: NodeMigratorOptions) {
    this.telemetry = o.telemetry ?? noTelemetry;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.runOnce();
      } catch (err) {
        this.o.log.error({ error: err instanceof Error ? err.message : String(err) }, 'migration round failed');
      }
      await this.o.clock.sleep(this.o.intervalMs ?? 1_000, signal).catch(() => undefined);
    }
  }

  /** Is the node lost: Ready not True for longer than the grace period? */
  lostFor(node: Node, now: number): number | undefined {
    const name = node.metadata.name ?? '';
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (!ready || ready.status === 'True') {
      this.notReadySince.delete(name);
      return undefined;
    }
    const since = (ready as { lastTransitionTime?: string }).lastTransitionTime;
    const parsed = since ? Date.parse(since) : Number.NaN;
    let start = Number.isFinite(parsed) ? parsed : this.notReadySince.get(name);
    if (start === undefined) {
      start = now;
      this.notReadySince.set(name, now);
    }
    return now - start;
  }

  async runOnce(): Promise<RoundResult> {
    const { cluster, clock } = this.o;
    const now = clock.now();
    const grace = this.o.lostGraceMs ?? 30_000;
    const nodes = await cluster.listNodes();
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
    const lost: string[] = [];
    const draining: string[] = [];
    for (const n of nodes) {
      const name = n.metadata.name ?? '';
      if (this.o.onlyNodes && !this.o.onlyNodes.includes(name)) continue;
      const down = this.lostFor(n, now);
      if (down !== undefined && down >= grace) lost.push(name);
      else if ((n.spec?.taints ?? []).some((t) => t.key === DRAIN_TAINT)) draining.push(name);
    }

    const records = await cluster.listMigrations();
    const active = new Map<string, MigrationRecord>();
    for (const r of records) if (!FINISHED.has(r.status?.phase ?? 'Pending')) active.set(r.spec.pod, r);

    // Start a migration for every pod that must leave and has none in flight.
    let started = 0;
    const troubled: [string, 'node-lost' | 'drain'][] = [...lost.map((n): [string, 'node-lost'] => [n, 'node-lost']), ...draining.map((n): [string, 'drain'] => [n, 'drain'])];
    // Pods bound to a Node object that is gone (deleted): their StatefulSet identities are
    // free. Absence counts only once it has lasted the grace period, so a cache that has
    // not caught up yet never looks like a deleted node.
    const gone = new Set<string>();
    for (const p of await cluster.listPods()) {
      const nn = p.spec.nodeName;
      if (!nn || nodeByName.has(nn) || (this.o.onlyNodes && !this.o.onlyNodes.includes(nn))) continue;
      const since = this.missingSince.get(nn) ?? now;
      this.missingSince.set(nn, since);
      if (now - since < grace) continue;
      gone.add(nn);
      if (!active.has(podKey(p)) && !p.metadata.deletionTimestamp && !skip(p)) {
        if (await this.start(p, 'node-lost', nn, undefined)) started++;
      }
    }
    for (const nn of this.missingSince.keys()) if (nodeByName.has(nn)) this.missingSince.delete(nn);
    for (const [name, reason] of troubled) {
      for (const p of await cluster.listPods({ nodeName: name })) {
        if (skip(p) || active.has(podKey(p))) continue;
        if (p.metadata.deletionTimestamp && reason === 'drain') continue; // already leaving
        if (await this.start(p, reason, name, undefined)) started++;
      }
    }

    // Advance every migration in flight (including those a previous replica started).
    let succeeded = 0;
    let waiting = 0;
    for (const r of await cluster.listMigrations()) {
      if (FINISHED.has(r.status?.phase ?? 'Pending')) continue;
      const phase = await this.advance(r, nodeByName, [...lost, ...gone]);
      if (phase === 'Succeeded') succeeded++;
      else if (phase !== 'Failed') waiting++;
    }
    return { lost, draining, started, succeeded, waiting };
  }

  /**
   * Records a migration for one pod; `toPlatform` for a manual move. False when one
   * already exists (another replica, or an earlier round) or the pod cannot move.
   */
  async start(pod: Pod, reason: MigrationRecord['spec']['reason'], fromNode: string, toPlatform: string | undefined): Promise<boolean> {
    const { cluster, log } = this.o;
    const owner = controllerOf(pod);
    let method: MigrationRecord['spec']['method'] = owner ? 'evict' : 'recreate';
    if (owner?.kind === 'StatefulSet') method = 'delete';
    let template: unknown;
    if (method === 'recreate') {
      const rp = replacementPod(pod, fromNode);
      if (!rp.ok) {
        await this.event(pod, 'Warning', 'MigrationFailed', rp.error);
        this.telemetry.migration(reason, 'failed');
        return false;
      }
      template = toPlatform ? pinPlatform(rp.value, toPlatform) : rp.value;
    }
    const record: MigrationRecord = {
      name: migrationName(pod),
      spec: {
        pod: podKey(pod),
        ...(pod.metadata.uid ? { podUID: pod.metadata.uid } : {}),
        reason,
        fromNode,
        ...(toPlatform ? { toPlatform } : {}),
        method,
        ...(template ? { template } : {}),
      },
      status: { phase: 'Pending', attempts: 0, message: `moving off ${fromNode} (${reason})` },
    };
    const r = await cluster.createMigration(record);
    if (!r.ok) {
      if (r.error.kind !== 'conflict') log.warn({ pod: podKey(pod), error: r.error.message }, 'cannot record migration');
      return false;
    }
    log.info({ pod: podKey(pod), node: fromNode, reason, method }, 'migration started');
    return true;
  }

  private async advance(r: MigrationRecord, nodes: ReadonlyMap<string, Node>, lost: readonly string[]): Promise<Phase> {
    const { cluster, clock, log } = this.o;
    const now = clock.now();
    if ((this.retryAt.get(r.name) ?? 0) > now) return r.status?.phase ?? 'Pending';
    const [namespace = 'default', name = ''] = split(r.spec.pod);
    const ref = { namespace, name };
    const pod = await cluster.getPod(ref);
    const same = pod !== undefined && (r.spec.podUID === undefined || pod.metadata.uid === r.spec.podUID);
    const from = r.spec.fromNode ?? '';
    const nodeGone = !nodes.has(from) && lost.includes(from);
    const nodeLost = lost.includes(from);
    const attempts = (r.status?.attempts ?? 0) + 1;

    const finish = async (phase: 'Succeeded' | 'Failed', message: string, extra: Partial<NonNullable<MigrationRecord['status']>> = {}): Promise<Phase> => {
      await cluster.updateMigrationStatus(r.name, { phase, message, attempts, ...extra });
      this.retryAt.delete(r.name);
      this.telemetry.migration(r.spec.reason, phase === 'Succeeded' ? 'succeeded' : 'failed');
      const involved = { kind: 'Pod' as const, namespace, name };
      await cluster.recordEvent({ involved, type: phase === 'Succeeded' ? 'Normal' : 'Warning', reason: phase === 'Succeeded' ? 'Migrated' : 'MigrationFailed', message });
      log.info({ migration: r.name, pod: r.spec.pod, phase }, message);
      return phase;
    };
    const wait = async (phase: Phase, message: string, backoff: boolean): Promise<Phase> => {
      if (r.status?.phase !== phase || r.status.message !== message) {
        await cluster.updateMigrationStatus(r.name, { phase, message, attempts });
        if (backoff) await cluster.recordEvent({ involved: { kind: 'Pod', namespace, name }, type: 'Warning', reason: 'MigrationBlocked', message });
      }
      if (backoff) {
        const initial = this.o.retryInitialMs ?? 1_000;
        const delay = Math.min(this.o.retryMaxMs ?? 30_000, initial * 2 ** Math.min(attempts - 1, 16));
        this.retryAt.set(r.name, now + delay);
      }
      return phase;
    };

    if (r.spec.method === 'delete') {
      // StatefulSet identity: only once the node is confirmed gone.
      if (!same) return finish('Succeeded', `pod ${r.spec.pod} left ${from}; its StatefulSet re-creates it`);
      const fenced = nodes.get(from)?.metadata.annotations?.[FENCED_ANNOTATION] === 'true';
      if (r.spec.reason === 'drain') {
        const ev = await cluster.evictPod(ref);
        if (ev.ok || ev.refused === 'not-found') return wait('WaitingForReplacement', `evicted from ${from}; its StatefulSet re-creates it`, false);
        return wait('Evicting', `eviction refused: ${ev.message}`, true);
      }
      if (!nodeGone && !fenced) {
        return wait('Pending', `waiting for node ${from} to be confirmed gone (delete the Node, or annotate it ${FENCED_ANNOTATION}=true) before replacing StatefulSet pod ${r.spec.pod}`, false);
      }
      const d = await cluster.deletePod(ref);
      if (!d.ok && d.error.kind !== 'not-found') return wait('Pending', `delete failed: ${d.error.message}`, true);
      return wait('WaitingForReplacement', `deleted from fenced node ${from}; its StatefulSet re-creates it`, false);
    }

    if (same && !pod.metadata.deletionTimestamp) {
      // Still there: evict (budgets hold). On a lost node nobody will confirm a graceful
      // termination, so the eviction deletes at once once allowed.
      const ev = await cluster.evictPod(ref);
      if (!ev.ok && ev.refused !== 'not-found') {
        this.telemetry.migration(r.spec.reason, 'blocked');
        return wait('Evicting', ev.refused === 'disruption-budget' ? `eviction blocked by PodDisruptionBudget ${ev.budget}: ${ev.message}` : ev.message, true);
      }
    }
    if (same && nodeLost) {
      const d = await cluster.deletePod(ref);
      if (!d.ok && d.error.kind !== 'not-found') return wait('Evicting', `delete failed: ${d.error.message}`, true);
    }
    if (r.spec.method === 'evict') {
      return finish('Succeeded', `evicted from ${from}; its controller creates the replacement, placed by the scheduler`);
    }
    // recreate: once the old pod is gone, create it again from the recorded original.
    const current = await cluster.getPod(ref);
    if (current && (r.spec.podUID === undefined || current.metadata.uid === r.spec.podUID)) {
      return wait('WaitingForReplacement', `waiting for ${r.spec.pod} to terminate on ${from}`, false);
    }
    if (current) return finish('Succeeded', `re-created from its source images; now ${current.spec.nodeName ? `on ${current.spec.nodeName}` : 'pending'}`, { replacement: r.spec.pod });
    const template = r.spec.template as Pod | undefined;
    if (!template) return finish('Failed', `no template recorded for ${r.spec.pod}`);
    const c = await cluster.createPod(template);
    if (!c.ok && c.error.kind !== 'conflict') return wait('WaitingForReplacement', `re-create failed: ${c.error.message}`, true);
    return finish('Succeeded', `re-created ${r.spec.pod} from its source images${r.spec.toPlatform ? ` for ${r.spec.toPlatform}` : ''}; the scheduler places it`, { replacement: r.spec.pod });
  }

  private async event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.o.cluster.recordEvent({ involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, type, reason, message });
  }
}

function controllerOf(pod: Pod): { kind: string; name: string } | undefined {
  const o = (pod.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  return o ? { kind: o.kind ?? '', name: o.name ?? '' } : undefined;
}

/** DaemonSet pods belong to their node; mirror pods are the kubelet's; finished pods need nothing. */
function skip(pod: Pod): boolean {
  if (controllerOf(pod)?.kind === 'DaemonSet') return true;
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) return true;
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** A DNS-1123 name for the Migration of one pod incarnation. */
export function migrationName(pod: Pod): string {
  const base = `${pod.metadata.namespace ?? 'default'}.${pod.metadata.name ?? ''}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  const uid = (pod.metadata.uid ?? '').replace(/[^a-z0-9]/g, '').slice(0, 8);
  return `${base.slice(0, 240)}${uid ? `.${uid}` : ''}`.replace(/^[.-]+|[.-]+$/g, '');
}

/** A manual move: the re-created pod must land on nodes of that platform (required node affinity). */
function pinPlatform(pod: Pod, platform: string): Pod {
  const p = parsePlatform(platform);
  if (!p.ok) return pod;
  const exprs = [
    { key: 'kubernetes.io/arch', operator: 'In', values: [p.value.architecture] },
    { key: 'kubernetes.io/os', operator: 'In', values: [p.value.os] },
  ];
  const existing = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const terms = existing.length > 0 ? existing.map((t) => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), ...exprs] })) : [{ matchExpressions: exprs }];
  return {
    ...pod,
    spec: {
      ...pod.spec,
      affinity: {
        ...(pod.spec.affinity ?? {}),
        nodeAffinity: { ...(pod.spec.affinity?.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      },
    },
  };
}

function split(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
