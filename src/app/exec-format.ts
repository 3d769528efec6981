/**
 * Exec format errors, caught at run time and repaired: the controller `polyarch serve
 * --exec-format` and `polyarch simulate` run beside the migrator.
 *
 * Each round: read the negative record (BadPlatformStore: a ConfigMap on a cluster) into
 * the one image lookup service; then, for every bound pod with no Migration yet, read
 * what the API shows (core/exec-format/detect.ts: the container's state and lastState,
 * and for a container that exited at once the tail of its log, bounded). For a pod
 * caught:
 * 1. the (digest, platform) is recorded as not running, in the store and in the image
 *    lookup service at once, so the scheduler, the extender and the webhook (all through
 *    that service) never offer that digest for that platform again;
 * 2. an event (`ExecFormatError`) and the metric
 *    `polyarch_exec_format_errors_total{image,platform}`;
 * 3. the pod moves through the one migration path (a Migration, reason
 *    `exec-format-error`, that the migrator carries out) when its images still run on a
 *    platform some node has; otherwise the Migration is recorded Blocked with the reason
 *    and the pod is left where it is. Each move removes a platform, so a pod never loops.
 */
import { detectExecFormat, findingFromLog, LOG_TAIL_BYTES, LOG_TAIL_LINES, type ExecFormatFinding } from '../core/exec-format/detect.ts';
import { badPlatformOf, type BadPlatform } from '../core/exec-format/bad-platforms.ts';
import { decideRepair } from '../core/exec-format/repair.ts';
import { sourceImages } from '../core/k8s/annotations.ts';
import type { Node, Pod } from '../core/k8s/types.ts';
import { podKey } from '../core/k8s/types.ts';
import { migrationName, type MigrationRecord } from '../core/migration/record.ts';
import { imageReferences } from '../core/placement/batch.ts';
import { formatPlatform, nodePlatform } from '../core/platform/platform.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster } from '../ports/cluster.ts';
import type { BadPlatformStore, MigrationStore, PodLogReader } from '../ports/cluster-extras.ts';
import { silentLogger, type Logger } from '../ports/logger.ts';
import { noTelemetry, type Telemetry } from '../ports/telemetry.ts';
import { knownImages, type ImageLookupService } from './image-lookup.ts';
import type { Migrator } from './migrator.ts';
import { runRounds } from './run-loop.ts';
import { ChangeFollower } from './change-follower.ts';

export interface ExecFormatOptions {
  readonly cluster: Cluster & MigrationStore & Partial<PodLogReader>;
  /** Where the (digest, platform) pairs that do not run are kept: a ConfigMap on a cluster, memory on the simulator. */
  readonly store: BadPlatformStore;
  readonly resolver: ImageLookupService;
  /** The migration path: records the move (or the block) the migrator carries out. */
  readonly migrator: Pick<Migrator, 'start'>;
  readonly clock: Clock;
  readonly log?: Logger;
  readonly telemetry?: Telemetry;
  /** Interval of the loop in `run` (default 5 s). */
  readonly intervalMs?: number;
  /** Longest wait on the registry for a pod's images in one round (default 10 s). */
  readonly lookupWaitMs?: number;
}

/** One pod caught this round, and what was done. */
export interface ExecFormatCase {
  readonly pod: string;
  readonly node: string;
  readonly platform: string;
  readonly container: string;
  readonly image: string;
  readonly digest: string;
  readonly evidence: ExecFormatFinding['evidence'];
  /** moving: a Migration was recorded; blocked: it can run nowhere else; waiting: the images could not be read now (next round). */
  readonly outcome: 'moving' | 'blocked' | 'waiting';
  readonly reason: string;
}

export interface ExecFormatRound {
  readonly cases: readonly ExecFormatCase[];
  /** Pods held before (their images ran nowhere else) that can move now: a node of another platform came, the image got a new digest, or an entry was forgotten. */
  readonly resumed: readonly { readonly pod: string; readonly reason: string }[];
  /** Entries of the store left out because they do not parse, and pods whose status could not be read. */
  readonly errors: readonly string[];
}

/**
 * Reads the store into the image lookup service, replacing what it knew (an entry removed
 * with `polyarch exec-format forget` is offered again); `keep`: entries not saved yet. The
 * numbers of entries added and removed, and the store's invalid entries.
 */
export async function loadBadPlatforms(store: BadPlatformStore, resolver: ImageLookupService, keep: readonly BadPlatform[] = []): Promise<{ added: number; removed: number; errors: readonly string[] }> {
  const r = await store.listBadPlatforms();
  return { ...resolver.replaceBadPlatforms([...r.entries, ...keep]), errors: r.errors };
}

export class ExecFormatController {
  private readonly log: Logger;
  private readonly telemetry: Telemetry;
  /** Pods (uid/container) already counted, and problems already logged: once each. */
  private readonly counted = new Set<string>();
  private readonly warned = new Set<string>();
  /** Log tails already read, by uid/container/restartCount: a container is read once per restart. */
  private readonly logsRead = new Set<string>();
  /** Entries the store refused to take (retried every round). */
  private unsaved: BadPlatform[] = [];
  /**
   * What detectExecFormat said of a status object: an informer (or the simulator) hands
   * the same object back until the pod changes, so an unchanged pod is not parsed again
   * every round (100,000 pods every 5 s). Keyed weakly: a replaced status is forgotten.
   */
  private readonly detected = new WeakMap<object, ReturnType<typeof detectExecFormat>>();
  /**
   * Bound pods whose status shows something to look at (an exec format error, a container
   * that exited at once, a status that does not parse), kept from the change feed: a
   * round with none of them, or only pods already moving, reads no pod at all.
   */
  private readonly watched = new Set<string>();
  private readonly feed: ChangeFollower;

  constructor(private readonly o: ExecFormatOptions) {
    this.log = o.log ?? silentLogger;
    this.telemetry = o.telemetry ?? noTelemetry;
    this.feed = new ChangeFollower(o.cluster);
  }

  run(signal: AbortSignal): Promise<void> {
    return runRounds(this, { signal, clock: this.o.clock, intervalMs: this.o.intervalMs ?? 5_000, log: this.log, what: 'exec format round failed' });
  }

  async runOnce(): Promise<ExecFormatRound> {
    const { cluster, resolver } = this.o;
    const errors: string[] = [];
    const loaded = await loadBadPlatforms(this.o.store, resolver, this.unsaved);
    for (const e of loaded.errors) this.warnOnce(`store:${e}`, { error: e }, 'exec format record ignored: invalid entry');
    errors.push(...loaded.errors);
    await this.saveUnsaved();

    const migrations = await cluster.listMigrations();
    const known = new Set(migrations.map((r) => r.name));
    const cases: ExecFormatCase[] = [];
    const resumed: { pod: string; reason: string }[] = [];
    const changed = await this.feed.next();
    if (changed.relist) {
      this.watched.clear();
      for (const pod of await cluster.listPods()) if (this.worthALook(pod)) this.watched.add(podKey(pod));
    } else {
      for (const [key, ref] of changed.pods) {
        const pod = await cluster.getPod(ref);
        if (pod && this.worthALook(pod)) this.watched.add(key);
        else this.watched.delete(key);
      }
    }
    const held = migrations.filter((r) => r.spec.reason === 'exec-format-error' && r.spec.heldReason !== undefined);
    // Nothing to look at: no pod shows an error that no Migration carries already, or a log tail not yet read.
    let fresh = false;
    for (const key of this.watched) {
      const [namespace = 'default', name = ''] = key.split('/');
      const pod = await cluster.getPod({ namespace, name });
      if (pod && !known.has(migrationName(pod)) && this.unread(pod)) fresh = true;
    }
    if (held.length === 0 && !fresh) return { cases, resumed, errors };
    const nodes = await cluster.listNodes();
    const byName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
    for (const h of held) {
      const r = await this.reexamine(h, nodes);
      if (r) resumed.push(r);
    }
    if (!fresh) return { cases, resumed, errors };
    // In the order the cluster lists its pods (the cases' order), as a round that read every pod.
    for (const pod of await cluster.listPods()) {
      const nodeName = pod.spec.nodeName;
      if (!nodeName || !this.worthALook(pod)) continue;
      if (known.size > 0 && known.has(migrationName(pod))) continue;
      const finding = await this.findingOf(pod, errors);
      if (!finding) continue;
      const c = await this.repair(pod, finding, byName.get(nodeName), nodes, errors);
      if (c) cases.push(c);
    }
    return { cases, resumed, errors };
  }

  /** The pod's images as the scheduler will see them (without every platform seen not to run). */
  private lookUp(pod: Pod): ReturnType<ImageLookupService['resolvePod']> {
    const refs = imageReferences([pod]);
    return this.o.resolver.resolvePod(pod, refs.map((image, index) => ({ kind: 'containers' as const, index, container: image, image })), { waitMs: this.o.lookupWaitMs ?? 10_000 });
  }

  /**
   * A pod held because its images ran nowhere else, looked at again every round with what
   * is known now (the nodes, the images' current digests, the record without the entries
   * someone forgot): when it can run somewhere, the held Migration is replaced by a move.
   */
  private async reexamine(held: MigrationRecord, nodes: readonly Node[]): Promise<{ pod: string; reason: string } | undefined> {
    const { cluster } = this.o;
    const [namespace = 'default', name = ''] = held.spec.pod.split('/');
    const pod = await cluster.getPod({ namespace, name });
    if (!pod || (held.spec.podUID && pod.metadata.uid !== held.spec.podUID)) return undefined;
    if (!pod.spec.nodeName || pod.metadata.deletionTimestamp) return undefined;
    const resolved = await this.lookUp(pod);
    if (!resolved.ok) return undefined;
    const known = knownImages(resolved.value);
    const seen = (held.spec.heldReason ?? '').split('; ')[0] ?? '';
    const repair = decideRepair(pod, (r) => known.get(r), nodes, { seen: `${seen}; looked at again` });
    if (repair.kind !== 'move') return undefined;
    const gone = await cluster.deleteMigration(held.name);
    if (!gone.ok && gone.error.kind !== 'not-found') {
      this.log.warn({ pod: held.spec.pod, error: gone.error.message }, 'cannot replace the held Migration; retried next round');
      return undefined;
    }
    const key = podKey(pod);
    await cluster.recordEvent({ involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, type: 'Normal', reason: 'ExecFormatRepairResumed', message: repair.reason });
    await this.o.migrator.start(pod, pod.spec.nodeName, { reason: 'exec-format-error' });
    this.log.info({ pod: key }, repair.reason);
    return { pod: key, reason: repair.reason };
  }

  /** A bound pod, not finishing, whose status shows an error, a container to read the log of, or does not parse. */
  private worthALook(pod: Pod): boolean {
    if (!pod.spec.nodeName || pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
    // The detection is pure and kept per status object: an unchanged pod is not parsed again.
    const d = this.detect(pod);
    return !d.ok || d.value.findings.length > 0 || d.value.needsLog.length > 0;
  }

  /** The pod's status shows an error or does not parse, or names a log tail not read yet (findingOf would do something). */
  private unread(pod: Pod): boolean {
    const d = this.detect(pod);
    return !d.ok || d.value.findings.length > 0 || d.value.needsLog.some((check) => !this.logsRead.has(logSeen(pod, check)));
  }

  /** detectExecFormat of the pod's status, once per status object. */
  private detect(pod: Pod): ReturnType<typeof detectExecFormat> {
    const status = pod.status;
    let d = status ? this.detected.get(status) : undefined;
    if (!d) {
      d = detectExecFormat(status);
      if (status) this.detected.set(status, d);
    }
    return d;
  }

  /** The first exec format error the pod shows: in its status, else in the log tail of a container that exited at once. */
  private async findingOf(pod: Pod, errors: string[]): Promise<ExecFormatFinding | undefined> {
    const key = podKey(pod);
    const d = this.detect(pod);
    if (!d.ok) {
      const msg = `pod ${key}: ${d.error}`;
      errors.push(msg);
      this.warnOnce(`status:${pod.metadata.uid ?? key}`, { pod: key, error: d.error }, 'pod status unreadable: exec format check skipped');
      return undefined;
    }
    if (d.value.findings[0]) return d.value.findings[0];
    const read = this.o.cluster.readPodLog?.bind(this.o.cluster);
    if (!read) return undefined;
    for (const check of d.value.needsLog) {
      const seen = logSeen(pod, check);
      if (this.logsRead.has(seen)) continue;
      this.logsRead.add(seen);
      const r = await read({ namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, { container: check.container, previous: check.previous, tailLines: LOG_TAIL_LINES, limitBytes: LOG_TAIL_BYTES });
      if (!r.ok) {
        this.log.debug({ pod: key, container: check.container, error: r.error }, 'log tail unreadable');
        continue;
      }
      const f = findingFromLog(check, r.value);
      if (f) return f;
    }
    return undefined;
  }

  private async repair(pod: Pod, finding: ExecFormatFinding, node: Node | undefined, nodes: readonly Node[], errors: string[]): Promise<ExecFormatCase | undefined> {
    const { cluster, resolver, clock } = this.o;
    const key = podKey(pod);
    const nodeName = pod.spec.nodeName ?? '';
    const np = node ? nodePlatform(node) : { ok: false as const, error: `node ${nodeName} is not in the cache` };
    if (!np.ok) {
      errors.push(`pod ${key}: ${np.error}`);
      this.warnOnce(`node:${pod.metadata.uid ?? key}`, { pod: key, error: np.error }, 'exec format error on a node of unknown platform: not recorded');
      return undefined;
    }
    const original = sourceImages(pod)[finding.container] ?? finding.image;
    const credentials = await resolver.credentialsOf(pod);
    const answer = await resolver.resolve(original, { credentials });
    const bad = badPlatformOf(finding, {
      pod: key, node: nodeName, platform: np.value, image: original, at: new Date(clock.now()).toISOString(),
      // Every entry the runtime may pull, those already seen not to run included.
      ...(answer.ok ? { platforms: [...answer.value.platforms, ...(answer.value.withheld ?? [])] } : {}),
    });
    if (!bad.ok) {
      errors.push(`pod ${key}: ${bad.error}`);
      this.warnOnce(`digest:${pod.metadata.uid ?? key}`, { pod: key, error: bad.error }, 'exec format error without a digest: not recorded');
      return undefined;
    }
    const entry = bad.value;
    if (resolver.noteBadPlatforms([entry]) > 0) {
      const w = await this.o.store.recordBadPlatform(entry);
      if (!w.ok) {
        this.unsaved.push(entry);
        this.log.warn({ digest: entry.digest, platform: entry.platform, error: w.error.message }, 'exec format record not saved; retried next round');
      } else this.log.info({ digest: entry.digest, platform: entry.platform, image: entry.image, pod: key }, 'recorded: digest does not run on platform');
    }
    const counted = `${pod.metadata.uid ?? key}/${finding.container}`;
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    if (!this.counted.has(counted)) {
      this.counted.add(counted);
      this.telemetry.execFormatError(original, entry.platform);
      await cluster.recordEvent({
        involved: { kind: 'Pod', ...ref }, type: 'Warning', reason: 'ExecFormatError',
        message: `container ${finding.container}: ${finding.image} does not run on ${formatPlatform(np.value)} (node ${nodeName}; ${finding.reason}: ${finding.message.slice(0, 512)}); recorded, it will not be placed there again`,
      });
    }
    const base = { pod: key, node: nodeName, platform: entry.platform, container: finding.container, image: original, digest: entry.digest, evidence: finding.evidence };
    // The pod's images as the scheduler will see them: without every platform seen not to run.
    const resolved = await this.lookUp(pod);
    if (!resolved.ok && resolved.error.kind !== 'not-found' && resolved.error.kind !== 'invalid-reference') {
      return { ...base, outcome: 'waiting', reason: `images not readable now: ${resolved.error.message}` };
    }
    const known = knownImages(resolved.ok ? resolved.value : []);
    if (!resolved.ok) known.set(resolved.error.image, { ok: false, error: resolved.error.message });
    const repair = decideRepair(pod, (r) => known.get(r), nodes, entry);
    const started = await this.o.migrator.start(pod, nodeName, { reason: 'exec-format-error' }, repair.kind === 'blocked' ? { blocked: repair.reason } : {});
    if (started) this.log.info({ pod: key, outcome: repair.kind }, repair.reason);
    return { ...base, outcome: repair.kind === 'move' ? 'moving' : 'blocked', reason: repair.reason };
  }

  private async saveUnsaved(): Promise<void> {
    const todo = this.unsaved;
    this.unsaved = [];
    for (const e of todo) {
      const w = await this.o.store.recordBadPlatform(e);
      if (!w.ok) this.unsaved.push(e);
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    if (this.warned.size > 10_000) this.warned.clear();
    this.log.warn(fields, message);
  }
}

/** A container's log tail, once per restart: uid/container/restartCount/previous. */
const logSeen = (pod: Pod, check: { readonly container: string; readonly restartCount: number; readonly previous: boolean }): string =>
  `${pod.metadata.uid ?? podKey(pod)}/${check.container}/${check.restartCount}/${check.previous}`;
