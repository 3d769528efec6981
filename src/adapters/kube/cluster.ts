import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  PolicyV1Api,
  SchedulingV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Deployment, Node, Pod, PodCondition, PodDisruptionBudget, PriorityClass, StatefulSet, Taint } from '../../core/k8s/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  BindOptions,
  ChangeEvent,
  ChangeFeed,
  Cluster,
  EventRecord,
  EvictResult,
  ObjectRef,
  PodFilter,
  PodPatch,
  PodResize,
  WriteError,
  WriteResult,
} from '../../ports/cluster.ts';
import type { BadPlatform, BadPlatformStore, ChangeNotifier, MigrationRecord, MigrationStore, PodConditionWriter, PodLogReader } from '../../ports/cluster-extras.ts';
import { BAD_PLATFORMS_CONFIGMAP, badPlatformData, parseBadPlatforms } from '../../core/exec-format/bad-platforms.ts';
import { parseMigration } from '../../core/migration/record.ts';
import type { Logger } from '../../ports/logger.ts';
import { Backoff } from './backoff.ts';
import { apiFailure, type ApiFailure } from './errors.ts';
import { EventRecorder, type EventRecorderStats } from './events.ts';
import { ResilientInformer } from './informer.ts';
import { requestOptions } from './request-options.ts';

export const MIGRATION_GROUP = 'polyarch.io';
export const MIGRATION_VERSION = 'v1alpha1';
export const MIGRATION_PLURAL = 'migrations';

export interface KubeClusterOptions {
  readonly kc: KubeConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** Decide and log, write nothing. */
  readonly dryRun?: boolean;
  /** Component name on events (source.component). */
  readonly component?: string;
  readonly instance?: string;
  /** Namespace of polyarch's own records (Migration objects). */
  readonly namespace?: string;
  /** How many changes the feed keeps before a reader must list again. */
  readonly feedLimit?: number;
  /** Informer reconnect backoff. */
  readonly watchBackoff?: { initialMs: number; maxMs: number };
  /** Deadline of one API request. */
  readonly requestTimeoutMs?: number;
  /** Transient write failures (5xx, network) retried this many times. */
  readonly writeRetries?: number;
}

/**
 * The cluster ports on a live API server. Reads come from informers (a local cache kept
 * by list+watch), so the scheduler asks nothing of the API server per cycle; writes
 * are the API's own verbs (pods/binding, pods/eviction, JSON patch, pods/status) and a
 * refusal comes back as a value.
 */
export class KubeCluster implements Cluster, PodConditionWriter, ChangeNotifier, MigrationStore, BadPlatformStore, PodLogReader {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly policy: PolicyV1Api;
  private readonly scheduling: SchedulingV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventRecorder;
  readonly nodes: ResilientInformer<V1Node>;
  readonly pods: ResilientInformer<V1Pod>;
  private feed: ChangeEvent[] = [];
  private counter = 0;
  private oldest = 0;
  private readonly listeners = new Set<() => void>();
  private readonly dryRun: boolean;
  private readonly namespace: string;
  /** API calls made, by verb (for metrics and the benchmark's requests-per-pod). */
  readonly calls = new Map<string, number>();

  constructor(private readonly options: KubeClusterOptions) {
    const { kc, clock, log } = options;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.policy = kc.makeApiClient(PolicyV1Api);
    this.scheduling = kc.makeApiClient(SchedulingV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.dryRun = options.dryRun ?? false;
    this.namespace = options.namespace ?? 'polyarch-system';
    this.events = new EventRecorder(kc, {
      component: options.component ?? 'polyarch',
      instance: options.instance ?? 'polyarch',
      clock,
      log,
      dryRun: this.dryRun,
    });
    const backoff = options.watchBackoff;
    this.nodes = new ResilientInformer<V1Node>({
      kc,
      path: '/api/v1/nodes',
      list: () => this.count('list-nodes', () => this.core.listNode({}, this.req())),
      handlers: {
        add: (n) => this.note('ADDED', 'Node', n),
        update: (n) => this.note('MODIFIED', 'Node', n),
        delete: (n) => this.note('DELETED', 'Node', n),
      },
      clock,
      log: log.child({ informer: 'nodes' }),
      ...(backoff ? { backoff } : {}),
    });
    this.pods = new ResilientInformer<V1Pod>({
      kc,
      path: '/api/v1/pods',
      list: () => this.count('list-pods', () => this.core.listPodForAllNamespaces({}, this.req())),
      handlers: {
        add: (p) => this.note('ADDED', 'Pod', p),
        update: (p) => this.note('MODIFIED', 'Pod', p),
        delete: (p) => this.note('DELETED', 'Pod', p),
      },
      clock,
      log: log.child({ informer: 'pods' }),
      ...(backoff ? { backoff } : {}),
    });
  }

  /** Starts the informers and waits for their first list. */
  async start(): Promise<void> {
    await Promise.all([this.nodes.start(), this.pods.start()]);
    await Promise.all([this.nodes.synced(), this.pods.synced()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.nodes.stop(), this.pods.stop(), this.events.flush()]);
  }

  get synced(): boolean {
    return this.nodes.hasSynced && this.pods.hasSynced;
  }

  // ---- change feed ----------------------------------------------------------

  private note(type: ChangeEvent['type'], kind: ChangeEvent['kind'], obj: KubernetesObject): void {
    this.counter += 1;
    const ns = obj.metadata?.namespace;
    this.feed.push({ type, kind, name: obj.metadata?.name ?? '', version: this.counter, ...(ns ? { namespace: ns } : {}) });
    const limit = this.options.feedLimit ?? 100_000;
    if (this.feed.length > limit) {
      const drop = this.feed.length - limit;
      this.oldest = this.feed[drop - 1]?.version ?? this.oldest;
      this.feed = this.feed.slice(drop);
    }
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  version(): Promise<number> {
    return Promise.resolve(this.counter);
  }

  changes(since: number): Promise<ChangeFeed> {
    if (since < this.oldest) return Promise.resolve({ version: this.counter, events: [], expired: true });
    // Versions are dense, so the first event after `since` sits at a known offset.
    const first = this.feed[0]?.version ?? this.counter + 1;
    const events = this.feed.slice(Math.max(0, since + 1 - first));
    return Promise.resolve({ version: this.counter, events, expired: false });
  }

  // ---- reads (from the informers' caches) -------------------------------------

  listNodes(): Promise<readonly Node[]> {
    return Promise.resolve(this.nodes.list() as unknown as readonly Node[]);
  }

  getNode(name: string): Promise<Node | undefined> {
    return Promise.resolve(this.nodes.get(name) as unknown as Node | undefined);
  }

  listPods(filter: PodFilter = {}): Promise<readonly Pod[]> {
    const all = this.pods.list(filter.namespace) as unknown as readonly Pod[];
    const sel = filter.labelSelector ? Object.entries(filter.labelSelector) : [];
    return Promise.resolve(
      all.filter(
        (p) =>
          (filter.nodeName === undefined || (p.spec?.nodeName ?? '') === filter.nodeName) &&
          (filter.schedulerName === undefined || (p.spec?.schedulerName ?? 'default-scheduler') === filter.schedulerName) &&
          sel.every(([k, v]) => p.metadata.labels?.[k] === v),
      ),
    );
  }

  getPod(ref: ObjectRef): Promise<Pod | undefined> {
    return Promise.resolve(this.pods.get(ref.name, ref.namespace ?? 'default') as unknown as Pod | undefined);
  }

  async listDeployments(namespace?: string) {
    const list = await this.count('list-deployments', () =>
      namespace ? this.apps.listNamespacedDeployment({ namespace }, this.req()) : this.apps.listDeploymentForAllNamespaces({}, this.req()),
    );
    return plain(list.items) as unknown as readonly Deployment[];
  }

  async listStatefulSets(namespace?: string) {
    const list = await this.count('list-statefulsets', () =>
      namespace ? this.apps.listNamespacedStatefulSet({ namespace }, this.req()) : this.apps.listStatefulSetForAllNamespaces({}, this.req()),
    );
    return plain(list.items) as unknown as readonly StatefulSet[];
  }

  async listPodDisruptionBudgets(namespace?: string) {
    const list = await this.count('list-pdbs', () =>
      namespace ? this.policy.listNamespacedPodDisruptionBudget({ namespace }, this.req()) : this.policy.listPodDisruptionBudgetForAllNamespaces({}, this.req()),
    );
    return plain(list.items) as unknown as readonly PodDisruptionBudget[];
  }

  async listPriorityClasses() {
    const list = await this.count('list-priorityclasses', () => this.scheduling.listPriorityClass({}, this.req()));
    return plain(list.items) as unknown as readonly PriorityClass[];
  }

  // ---- writes -----------------------------------------------------------------

  /**
   * POST pods/binding, with the uid of the pod the informer holds as a precondition (as
   * kube-scheduler's binder sends it: a pod deleted and re-created under the same name is
   * never bound) and the annotations the API server copies onto the pod.
   */
  bindPod(pod: ObjectRef, nodeName: string, options: BindOptions = {}): Promise<WriteResult> {
    const namespace = pod.namespace ?? 'default';
    const uid = this.pods.get(pod.name, namespace)?.metadata?.uid;
    const metadata = { name: pod.name, namespace, ...(uid ? { uid } : {}), ...(options.annotations ? { annotations: { ...options.annotations } } : {}) };
    return this.write('bind', `pod ${namespace}/${pod.name} -> ${nodeName}`, () =>
      this.core.createNamespacedPodBinding({
        name: pod.name,
        namespace,
        body: { apiVersion: 'v1', kind: 'Binding', metadata, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      }, this.req()),
    );
  }

  /**
   * JSON patch (RFC 6902) of a pending pod: a container's image is one of the few pod
   * fields that may change after creation. Each image replace is preceded by a `test`
   * of the uid, so a pod deleted and re-created under the same name is never patched.
   */
  async patchPod(pod: ObjectRef, patch: PodPatch): Promise<WriteResult> {
    const namespace = pod.namespace ?? 'default';
    const current = this.pods.get(pod.name, namespace);
    if (!current) return fail('not-found', `pod ${namespace}/${pod.name} not found`);
    const ops: object[] = [];
    if (current.metadata?.uid) ops.push({ op: 'test', path: '/metadata/uid', value: current.metadata.uid });
    const annotations = patch.annotations ?? {};
    const setAnn = Object.entries(annotations).filter(([, v]) => v !== null);
    if (!current.metadata?.annotations && setAnn.length > 0) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
    for (const [k, v] of Object.entries(annotations)) {
      const path = `/metadata/annotations/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (v === null) {
        if (current.metadata?.annotations?.[k] !== undefined) ops.push({ op: 'remove', path });
      } else ops.push({ op: 'add', path, value: v });
    }
    for (const [name, image] of Object.entries(patch.images ?? {})) {
      const i = current.spec?.containers.findIndex((c) => c.name === name) ?? -1;
      const j = current.spec?.initContainers?.findIndex((c) => c.name === name) ?? -1;
      if (i >= 0) ops.push({ op: 'replace', path: `/spec/containers/${i}/image`, value: image });
      else if (j >= 0) ops.push({ op: 'replace', path: `/spec/initContainers/${j}/image`, value: image });
      else return fail('invalid', `pod ${namespace}/${pod.name} has no container "${name}"`);
    }
    return this.write('patch-pod', `pod ${namespace}/${pod.name} images`, () =>
      this.core.patchNamespacedPod({ name: pod.name, namespace, body: ops }, this.req(PatchStrategy.JsonPatch)),
    );
  }

  async setPodCondition(pod: ObjectRef, condition: PodCondition): Promise<WriteResult> {
    const namespace = pod.namespace ?? 'default';
    const current = this.pods.get(pod.name, namespace);
    if (!current) return fail('not-found', `pod ${namespace}/${pod.name} not found`);
    const existing = (current.status?.conditions ?? []) as unknown as PodCondition[];
    const before = existing.find((c) => c.type === condition.type);
    // Unchanged: no write (kube-scheduler also skips a no-op status update).
    if (before && before.status === condition.status && before.reason === condition.reason && before.message === condition.message) {
      return { ok: true, value: undefined };
    }
    const now = new Date(this.options.clock.now()).toISOString();
    const next = {
      ...condition,
      lastProbeTime: null,
      lastTransitionTime: before && before.status === condition.status ? ((before as { lastTransitionTime?: string }).lastTransitionTime ?? now) : now,
    };
    const conditions = [...existing.filter((c) => c.type !== condition.type), next];
    return this.write('pod-status', `pod ${namespace}/${pod.name} condition ${condition.type}`, () =>
      this.core.patchNamespacedPodStatus(
        { name: pod.name, namespace, body: { status: { conditions } } },
        this.req(PatchStrategy.MergePatch),
      ),
    );
  }

  async evictPod(pod: ObjectRef): Promise<EvictResult> {
    const namespace = pod.namespace ?? 'default';
    if (this.dryRun) {
      this.options.log.info({ pod: `${namespace}/${pod.name}`, dryRun: true }, 'would evict');
      return { ok: true };
    }
    const backoff = new Backoff({ initialMs: 200, maxMs: 5_000 });
    for (let attempt = 0; ; attempt++) {
      try {
        await this.count('evict', () =>
          this.core.createNamespacedPodEviction({
            name: pod.name,
            namespace,
            body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace } },
          }, this.req()),
        );
        return { ok: true };
      } catch (err) {
        const f = apiFailure(err);
        if (f.status === 404) return { ok: false, refused: 'not-found', message: f.message };
        if (f.status === 429 && isBudgetRefusal(f)) {
          return { ok: false, refused: 'disruption-budget', budget: budgetName(f), message: f.message };
        }
        // Plain throttling or server trouble: retry a few times here, then report unavailable.
        if ((f.status === 429 || f.status === 0 || f.status >= 500) && attempt < (this.options.writeRetries ?? 3)) {
          await this.options.clock.sleep(f.retryAfterSeconds ? f.retryAfterSeconds * 1000 : backoff.next());
          continue;
        }
        return { ok: false, refused: 'unavailable', message: `evict pod ${namespace}/${pod.name}: ${f.message}` };
      }
    }
  }

  deletePod(pod: ObjectRef, gracePeriodSeconds = 0): Promise<WriteResult> {
    const namespace = pod.namespace ?? 'default';
    const uid = this.pods.get(pod.name, namespace)?.metadata?.uid;
    return this.write('delete-pod', `pod ${namespace}/${pod.name}`, () =>
      this.core.deleteNamespacedPod({
        name: pod.name,
        namespace,
        gracePeriodSeconds,
        // Never delete a newer pod that took the same name.
        body: uid ? { preconditions: { uid } } : {},
      }, this.req()),
    );
  }

  async createPod(pod: Pod): Promise<WriteResult<Pod>> {
    const namespace = pod.metadata.namespace ?? 'default';
    if (this.dryRun) {
      this.options.log.info({ pod: `${namespace}/${pod.metadata.name ?? pod.metadata.generateName ?? ''}`, dryRun: true }, 'would create pod');
      return { ok: true, value: pod };
    }
    try {
      const created = await this.count('create-pod', () => this.core.createNamespacedPod({ namespace, body: pod as unknown as V1Pod }, this.req()));
      return { ok: true, value: plain(created) as unknown as Pod };
    } catch (err) {
      return { ok: false, error: toWriteError(apiFailure(err), `create pod ${namespace}/${pod.metadata.name ?? ''}`) };
    }
  }

  resizePod(pod: ObjectRef, resize: PodResize): Promise<WriteResult> {
    const namespace = pod.namespace ?? 'default';
    const containers = Object.entries(resize).map(([name, r]) => ({ name, resources: r }));
    return this.write('resize-pod', `pod ${namespace}/${pod.name} resize`, () =>
      this.core.patchNamespacedPodResize(
        { name: pod.name, namespace, body: { spec: { containers } } },
        this.req(PatchStrategy.StrategicMergePatch),
      ),
    );
  }

  cordonNode(name: string, unschedulable: boolean): Promise<WriteResult> {
    return this.write('cordon', `node ${name} unschedulable=${unschedulable}`, () =>
      this.core.patchNode({ name, body: { spec: { unschedulable } } }, this.req(PatchStrategy.MergePatch)),
    );
  }

  setNodeTaints(name: string, taints: readonly Taint[]): Promise<WriteResult> {
    return this.write('taint', `node ${name} taints`, () =>
      this.core.patchNode({ name, body: { spec: { taints } } }, this.req(PatchStrategy.MergePatch)),
    );
  }

  /** Sets (string) or removes (null) annotations on a node (e.g. the fencing mark). */
  annotateNode(name: string, annotations: Record<string, string | null>): Promise<WriteResult> {
    return this.write('annotate-node', `node ${name} annotations`, () =>
      this.core.patchNode({ name, body: { metadata: { annotations } } }, this.req(PatchStrategy.MergePatch)),
    );
  }

  /** Queues the event on the recorder (aggregated, spam-filtered, written in the background): no request on the caller's path. */
  recordEvent(event: EventRecord): Promise<void> {
    const namespace = event.involved.kind === 'Node' ? 'default' : (event.involved.namespace ?? 'default');
    const live =
      event.involved.kind === 'Pod' ? this.pods.get(event.involved.name, namespace) : this.nodes.get(event.involved.name);
    this.bump('event');
    this.events.record({
      target: { kind: event.involved.kind, namespace, name: event.involved.name, ...(live?.metadata?.uid ? { uid: live.metadata.uid } : {}) },
      type: event.type,
      reason: event.reason,
      message: event.message,
    });
    return Promise.resolve();
  }

  /** Resolves when the events recorded so far are written (tests, shutdown). */
  flushEvents(): Promise<void> {
    return this.events.flush();
  }

  /** What the event recorder did (created, updated, coalesced, aggregated, dropped). */
  get eventStats(): Readonly<EventRecorderStats> {
    return this.events.stats;
  }

  // ---- Migration records (polyarch.io/v1alpha1) ---------------------------------

  async listMigrations(): Promise<readonly MigrationRecord[]> {
    const list = (await this.count('list-migrations', () =>
      this.custom.listNamespacedCustomObject({ group: MIGRATION_GROUP, version: MIGRATION_VERSION, namespace: this.namespace, plural: MIGRATION_PLURAL }, this.req()),
    )) as { items?: { metadata?: { name?: string }; spec?: unknown; status?: unknown }[] };
    const out: MigrationRecord[] = [];
    for (const o of list.items ?? []) {
      const r = parseMigration({ name: o.metadata?.name, spec: o.spec, ...(o.status ? { status: o.status } : {}) });
      if (r.ok) out.push(r.value);
      else this.options.log.warn({ migration: o.metadata?.name, error: r.error }, 'Migration record ignored: invalid');
    }
    return out;
  }

  createMigration(record: MigrationRecord): Promise<WriteResult> {
    return this.write('create-migration', `migration ${record.name}`, () =>
      this.custom.createNamespacedCustomObject({
        group: MIGRATION_GROUP,
        version: MIGRATION_VERSION,
        namespace: this.namespace,
        plural: MIGRATION_PLURAL,
        body: {
          apiVersion: `${MIGRATION_GROUP}/${MIGRATION_VERSION}`,
          kind: 'Migration',
          metadata: { name: record.name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'polyarch' } },
          spec: record.spec,
          ...(record.status ? { status: record.status } : {}),
        },
      }, this.req()),
    );
  }

  updateMigrationStatus(name: string, status: NonNullable<MigrationRecord['status']>): Promise<WriteResult> {
    return this.write('migration-status', `migration ${name} status`, () =>
      this.custom.patchNamespacedCustomObjectStatus(
        { group: MIGRATION_GROUP, version: MIGRATION_VERSION, namespace: this.namespace, plural: MIGRATION_PLURAL, name, body: { status } },
        this.req(PatchStrategy.MergePatch),
      ),
    );
  }

  deleteMigration(name: string): Promise<WriteResult> {
    return this.write('delete-migration', `migration ${name}`, () =>
      this.custom.deleteNamespacedCustomObject({ group: MIGRATION_GROUP, version: MIGRATION_VERSION, namespace: this.namespace, plural: MIGRATION_PLURAL, name }, this.req()),
    );
  }

  // ---- exec format errors: the negative record (ConfigMap) and pods/log -------------

  async listBadPlatforms(): Promise<{ entries: readonly BadPlatform[]; errors: readonly string[] }> {
    try {
      const cm = await this.count('get-configmap', () => this.core.readNamespacedConfigMap({ name: BAD_PLATFORMS_CONFIGMAP, namespace: this.namespace }, this.req()));
      const r = parseBadPlatforms(cm.data);
      return { entries: r.entries, errors: r.errors.map((e) => `ConfigMap ${this.namespace}/${BAD_PLATFORMS_CONFIGMAP}: ${e}`) };
    } catch (err) {
      const f = apiFailure(err);
      if (f.status === 404) return { entries: [], errors: [] };
      throw new Error(`reading ConfigMap ${this.namespace}/${BAD_PLATFORMS_CONFIGMAP}: ${f.message}`);
    }
  }

  /**
   * One data key per entry, added by a merge patch (two writers adding different entries
   * never conflict); the ConfigMap is created on the first entry.
   */
  async recordBadPlatform(entry: BadPlatform): Promise<WriteResult> {
    const [key, value] = badPlatformData(entry);
    const what = `ConfigMap ${this.namespace}/${BAD_PLATFORMS_CONFIGMAP} ${key}`;
    const patch = (): Promise<WriteResult> =>
      this.write('patch-configmap', what, () =>
        this.core.patchNamespacedConfigMap({ name: BAD_PLATFORMS_CONFIGMAP, namespace: this.namespace, body: { data: { [key]: value } } }, this.req(PatchStrategy.MergePatch)),
      );
    const first = await patch();
    if (first.ok || first.error.kind !== 'not-found') return first;
    const created = await this.write('create-configmap', what, () =>
      this.core.createNamespacedConfigMap({
        namespace: this.namespace,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: BAD_PLATFORMS_CONFIGMAP, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'polyarch' } }, data: { [key]: value } },
      }, this.req()),
    );
    // Someone else created it meanwhile: add to theirs.
    return created.ok || created.error.kind !== 'conflict' ? created : patch();
  }

  /** Removes data keys by a merge patch (null deletes a key); a missing ConfigMap has nothing to forget. */
  async forgetBadPlatforms(keys: readonly string[]): Promise<WriteResult> {
    if (keys.length === 0) return { ok: true, value: undefined };
    const r = await this.write('patch-configmap', `ConfigMap ${this.namespace}/${BAD_PLATFORMS_CONFIGMAP}`, () =>
      this.core.patchNamespacedConfigMap({ name: BAD_PLATFORMS_CONFIGMAP, namespace: this.namespace, body: { data: Object.fromEntries(keys.map((k) => [k, null])) } }, this.req(PatchStrategy.MergePatch)),
    );
    return !r.ok && r.error.kind === 'not-found' ? { ok: true, value: undefined } : r;
  }

  async readPodLog(pod: ObjectRef, options: { container: string; previous: boolean; tailLines: number; limitBytes: number }): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
    const namespace = pod.namespace ?? 'default';
    try {
      const text = await this.count('get-pod-log', () =>
        this.core.readNamespacedPodLog({ name: pod.name, namespace, container: options.container, previous: options.previous, tailLines: options.tailLines, limitBytes: options.limitBytes }, this.req()),
      );
      const s = typeof text === 'string' ? text : String(text);
      // The server honours limitBytes; what a server sends beyond it is not looked at.
      return { ok: true, value: s.length > options.limitBytes ? s.slice(-options.limitBytes) : s };
    } catch (err) {
      return { ok: false, error: `log of pod ${namespace}/${pod.name} container ${options.container}: ${apiFailure(err).message}` };
    }
  }

  // ---- plumbing -----------------------------------------------------------------

  /** Call options: a deadline on the request, and the patch type when there is one. */
  private req(contentType?: PatchStrategy): never {
    return requestOptions(this.options.requestTimeoutMs, contentType) as never;
  }

  private bump(verb: string): void {
    this.calls.set(verb, (this.calls.get(verb) ?? 0) + 1);
  }

  private async count<T>(verb: string, call: () => Promise<T>): Promise<T> {
    this.bump(verb);
    return call();
  }

  /** One write with the dry-run switch, transient retries, and failures as values. */
  private async write(verb: string, what: string, call: () => Promise<unknown>): Promise<WriteResult> {
    if (this.dryRun) {
      this.options.log.info({ write: verb, object: what, dryRun: true }, 'dry run: not written');
      return { ok: true, value: undefined };
    }
    const backoff = new Backoff({ initialMs: 100, maxMs: 2_000 });
    for (let attempt = 0; ; attempt++) {
      try {
        await this.count(verb, call);
        return { ok: true, value: undefined };
      } catch (err) {
        const f = apiFailure(err);
        const transient = f.status === 0 || f.status === 429 || f.status >= 500;
        if (transient && attempt < (this.options.writeRetries ?? 3)) {
          this.options.log.debug({ write: verb, object: what, status: f.status, error: f.message }, 'write failed; retrying');
          await this.options.clock.sleep(f.retryAfterSeconds ? f.retryAfterSeconds * 1000 : backoff.next());
          continue;
        }
        return { ok: false, error: toWriteError(f, `${verb} ${what}`) };
      }
    }
  }
}

function fail(kind: WriteError['kind'], message: string): WriteResult {
  return { ok: false, error: { kind, message } };
}

function toWriteError(f: ApiFailure, what: string): WriteError {
  const message = `${what}: ${f.message}`;
  if (f.status === 404) return { kind: 'not-found', message };
  if (f.status === 409) return { kind: 'conflict', message };
  if (f.status === 400 || f.status === 422) return { kind: 'invalid', message };
  if (f.status === 401 || f.status === 403) return { kind: 'forbidden', message };
  return { kind: 'unavailable', message };
}

/** The 429 that means "a PodDisruptionBudget forbids this now" (Status.details.causes reason DisruptionBudget). */
function isBudgetRefusal(f: ApiFailure): boolean {
  // API priority-and-fairness throttling carries Retry-After; a budget refusal does not.
  return [f.message, ...f.causes].some((m) => /disruption budget/i.test(m)) || f.retryAfterSeconds === undefined;
}

function budgetName(f: ApiFailure): string {
  for (const m of [...f.causes, f.message]) {
    const hit = /disruption budget ([a-z0-9][\w.-]*)/i.exec(m);
    if (hit?.[1]) return hit[1];
  }
  return '';
}

function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
