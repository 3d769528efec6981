/**
 * The verbs of the API (create, get, list, update, patch, delete) and the pod subresources
 * (binding, eviction, status, resize), with kube-apiserver's semantics. The HTTP layer and
 * the in-process controllers both call this, so a controller's write is a write like any
 * other: a new resourceVersion, watch events, admission.
 *
 * References (API conventions, api-concepts):
 * - metadata on create (name/generateName, uid, creationTimestamp, generation):
 *   https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#metadata
 * - optimistic concurrency, 409 Conflict on a stale resourceVersion:
 *   https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency
 * - graceful deletion (deletionTimestamp, deletionGracePeriodSeconds, finalizers):
 *   https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 * - list semantics for resourceVersion / resourceVersionMatch, limit and continue:
 *   https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-get-and-list
 * - eviction and PodDisruptionBudgets: https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
 * - in-place resize (1.33): https://kubernetes.io/docs/tasks/configure-pod-container/resize-container-resources/
 */
import { isDeepStrictEqual } from 'node:util';
import type { AdmissionChain, Operation } from './admission.ts';
import type { Clock } from './clock.ts';
import { rfc3339 } from './clock.ts';
import { parseQuantity } from '../src/core/k8s/quantity.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts';
import type { ResourceDef, ResourceTable } from './resources.ts';
import { customResource, groupVersion, resourceId } from './resources.ts';
import { matchesFields, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { requirementsMatch, selectorMatches } from '../src/core/k8s/labels.ts';
import { defaultTolerations } from '../src/core/kube-model/node-lifecycle.ts';
import type { LabelSelector, Pod, PodDisruptionBudget } from '../src/core/k8s/types.ts';
import { disruptionNumbers, evictionAllowed, ignoresBudgets, type DisruptionNumbers } from '../src/core/kube-model/disruption.ts';
import {
  ApiError, alreadyExists, badRequest, conflict, forbidden, gone, invalid, methodNotAllowed, notFound, successStatus,
  tooManyRequests, unsupportedMediaType,
} from './status.ts';
import type { StatusBody } from './status.ts';
import type { Store } from './store.ts';
import type { KubeObject } from './types.ts';
import { validate } from './validation.ts';
import { createRng } from '../src/core/rng.ts';

export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  resourceVersion?: string | null;
  resourceVersionMatch?: string | null;
  limit?: number | null;
  continue?: string | null;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun?: string[];
}

export interface WriteOptions { dryRun?: boolean; subResource?: string; /** generateName retries so far */ attempt?: number }

/** Raised when a write's base object changed while admission ran; the write is recomputed. */
class StaleRead extends Error {}

/** A seeded generator, so names and uids are reproducible in tests. */
export const seededRandom = (seed: number): (() => number) => createRng(seed).next;

/** The alphabet of apiserver's generateName suffixes (k8s.io/apimachinery/pkg/util/rand): no vowels, no look-alikes. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
// Key order differs between clients' serialisations; equality must not depend on it.
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/** The part of an object that bumps metadata.generation: its spec (or, for spec-less kinds, all but metadata and status). */
const specOf = (o: KubeObject): unknown => {
  if (o.spec !== undefined) return o.spec;
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
};

export const podIsReady = (pod: KubeObject): boolean =>
  Array.isArray(pod.status?.conditions) && pod.status.conditions.some((c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True');

/** Pod QoS class (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/). */
export const qosClass = (spec: { containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] } | undefined): string => {
  const cs = spec?.containers ?? [];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined) guaranteed = false;
      else if (req[r] !== undefined && req[r] !== lim[r]) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
};

export class Api {
  constructor(
    readonly store: Store,
    readonly table: ResourceTable,
    readonly clock: Clock,
    readonly random: () => number,
    readonly admission: AdmissionChain,
  ) {}

  // ---------- helpers ----------

  resource(group: string, plural: string): ResourceDef {
    const def = this.table.byGroupResource(group, plural);
    if (!def) throw new Error(`no resource ${plural}.${group} in the table`);
    return def;
  }

  private now(): string {
    return rfc3339(this.clock.now());
  }

  uid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(this.random() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  private suffix(): string {
    return Array.from({ length: 5 }, () => NAME_ALPHABET[Math.floor(this.random() * NAME_ALPHABET.length)]).join('');
  }

  private nsOf(def: ResourceDef, ns: string | undefined): string {
    return def.namespaced ? (ns ?? '') : '';
  }

  private mustGet(def: ResourceDef, ns: string, name: string): KubeObject {
    const o = this.store.get(resourceId(def), this.nsOf(def, ns), name);
    if (!o) throw notFound(def.group, def.plural, name);
    return o;
  }

  private reqUid(): string {
    return this.uid();
  }

  private async admit(op: Operation, def: ResourceDef, sub: string, ns: string, name: string, object: KubeObject | undefined, oldObject: KubeObject | undefined, dryRun: boolean): Promise<KubeObject | undefined> {
    const req = { uid: this.reqUid(), operation: op, resource: def, subResource: sub, namespace: ns, name, dryRun,
      ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}) };
    const mutated = await this.admission.mutate(req);
    return mutated;
  }

  private async admitValidate(op: Operation, def: ResourceDef, sub: string, ns: string, name: string, object: KubeObject | undefined, oldObject: KubeObject | undefined, dryRun: boolean): Promise<void> {
    await this.admission.validate({ uid: this.reqUid(), operation: op, resource: def, subResource: sub, namespace: ns, name, dryRun,
      ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}) });
  }

  /** NamespaceLifecycle admission: no new objects in a namespace that does not exist or is terminating. */
  private checkNamespace(def: ResourceDef, ns: string, name: string): void {
    if (!def.namespaced) return;
    const nsObj = this.store.get('/namespaces', '', ns);
    if (!nsObj) throw notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') {
      throw forbidden(def.group, def.plural, name, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  // ---------- create ----------

  async create(def: ResourceDef, ns: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    const obj = clone(body) as KubeObject;
    if (!isObject(obj.metadata)) obj.metadata = {};
    this.checkTypeMeta(def, obj);
    const urlNs = this.nsOf(def, ns);
    if (def.namespaced) {
      if (obj.metadata.namespace && urlNs && obj.metadata.namespace !== urlNs) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = urlNs || obj.metadata.namespace || 'default';
    } else delete obj.metadata.namespace;
    const namespace = obj.metadata.namespace ?? '';
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${this.suffix()}`;
    this.checkNamespace(def, namespace, obj.metadata.name ?? '');

    // Fields the server owns (api-conventions "Metadata"): clients cannot set them on create.
    delete obj.metadata.resourceVersion;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    obj.metadata.uid = this.uid();
    obj.metadata.creationTimestamp = this.now();
    obj.metadata.generation = 1;
    obj.apiVersion = groupVersion(def);
    obj.kind = def.kind;
    this.defaultOnCreate(def, obj);

    const mutated = (await this.admit('CREATE', def, opts.subResource ?? '', namespace, obj.metadata.name ?? '', obj, undefined, !!opts.dryRun)) ?? obj;
    validate(def, mutated);
    await this.admitValidate('CREATE', def, opts.subResource ?? '', namespace, mutated.metadata.name ?? '', mutated, undefined, !!opts.dryRun);
    const id = resourceId(def);
    if (this.store.get(id, namespace, mutated.metadata.name ?? '')) {
      // generateName collisions are retried by the real server; a fixed name is AlreadyExists.
      const asked = (body as KubeObject).metadata;
      if (!asked?.name && asked?.generateName && (opts.attempt ?? 0) < 8) {
        return this.create(def, ns, body, { ...opts, attempt: (opts.attempt ?? 0) + 1 });
      }
      throw alreadyExists(def.group, def.plural, mutated.metadata.name ?? '');
    }
    if (opts.dryRun) return mutated;
    if (def.kind === 'CustomResourceDefinition') this.establish(mutated);
    return this.store.put(id, mutated);
  }

  /**
   * A created CustomResourceDefinition is served at once (its served versions, scope and
   * status subresource) and reported Established, as apiextensions-apiserver does.
   */
  private establish(crd: KubeObject): void {
    const spec = crd.spec ?? {};
    const names = spec.names ?? {};
    if (!spec.group || !names.plural || !names.kind) {
      throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', crd.metadata.name ?? '', [{ reason: 'FieldValueRequired', field: 'spec.names', message: 'Required value: group, names.plural and names.kind' }]);
    }
    if (crd.metadata.name !== `${names.plural}.${spec.group}`) {
      throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', crd.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${crd.metadata.name ?? ''}": must be spec.names.plural+"."+spec.group` }]);
    }
    for (const v of (spec.versions ?? []) as { name: string; served?: boolean; subresources?: { status?: unknown } }[]) {
      if (v.served === false) continue;
      this.table.add(customResource(spec.group, v.name, names.plural, names.kind, {
        namespaced: spec.scope !== 'Cluster',
        singular: names.singular ?? names.kind.toLowerCase(),
        ...(names.shortNames ? { shortNames: names.shortNames } : {}),
        categories: names.categories ?? [],
        subresources: v.subresources?.status !== undefined ? ['status'] : [],
        statusSubresource: v.subresources?.status !== undefined,
      }));
    }
    const now = this.now();
    crd.status = {
      acceptedNames: { plural: names.plural, kind: names.kind, ...(names.singular ? { singular: names.singular } : {}), ...(names.shortNames ? { shortNames: names.shortNames } : {}) },
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now },
      ],
      storedVersions: ((spec.versions ?? []) as { name: string; storage?: boolean }[]).filter((v) => v.storage).map((v) => v.name),
    };
  }

  private checkTypeMeta(def: ResourceDef, obj: KubeObject): void {
    if (obj.apiVersion !== undefined && obj.apiVersion !== groupVersion(def)) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${groupVersion(def)})`);
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`);
    }
  }

  /** Defaulting and PrepareForCreate of the kinds polyarch uses (status reset, pod spec defaults, priority). */
  private defaultOnCreate(def: ResourceDef, obj: KubeObject): void {
    switch (def.kind) {
      case 'Pod': {
        const spec = (obj.spec ??= {});
        spec.schedulerName ??= 'default-scheduler';
        spec.restartPolicy ??= 'Always';
        spec.terminationGracePeriodSeconds ??= 30;
        spec.dnsPolicy ??= 'ClusterFirst';
        spec.serviceAccountName ??= 'default';
        spec.enableServiceLinks ??= true;
        // Priority admission: resolve priorityClassName to spec.priority (the API server
        // creates the two system classes at start-up); without a name, the globalDefault
        // class, whose name is recorded; a given spec.priority must agree.
        const system: Record<string, number> = { 'system-cluster-critical': 2000000000, 'system-node-critical': 2000001000 };
        const builtin = (name: string): KubeObject | undefined => (system[name] === undefined ? undefined : { metadata: { name }, value: system[name] } as KubeObject);
        const named: KubeObject | undefined = spec.priorityClassName
          ? this.store.get('scheduling.k8s.io/priorityclasses', '', spec.priorityClassName) ?? builtin(spec.priorityClassName)
          : this.store.list('scheduling.k8s.io/priorityclasses').find((pc) => pc.globalDefault === true);
        if (spec.priorityClassName && !named) throw forbidden('', 'pods', obj.metadata.name ?? '', `no PriorityClass with name ${spec.priorityClassName} was found`);
        const value = Number(named?.value ?? 0);
        if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
          throw forbidden('', 'pods', obj.metadata.name ?? '', `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
        }
        if (named && !spec.priorityClassName) spec.priorityClassName = named.metadata?.name;
        spec.priority = value;
        if (named) spec.preemptionPolicy ??= named.preemptionPolicy ?? 'PreemptLowerPriority';
        // DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 300 s.
        spec.tolerations = [...(spec.tolerations ?? []), ...defaultTolerations(spec.tolerations ?? [])];
        for (const c of spec.containers ?? []) {
          c.imagePullPolicy ??= typeof c.image === 'string' && (c.image.endsWith(':latest') || !/:[^/]+$/.test(c.image.split('@')[0] ?? '')) ? 'Always' : 'IfNotPresent';
          c.terminationMessagePath ??= '/dev/termination-log';
          c.terminationMessagePolicy ??= 'File';
          c.resources ??= {};
        }
        // Pod PrepareForCreate: status is the server's.
        const bound = typeof spec.nodeName === 'string' && spec.nodeName !== '';
        obj.status = { phase: 'Pending', qosClass: qosClass(spec) };
        if (bound) obj.status.conditions = [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.now() }];
        break;
      }
      case 'ReplicaSet':
        obj.spec ??= {};
        obj.spec.replicas ??= 1;
        obj.status = { replicas: 0 };
        break;
      case 'Deployment':
        obj.spec ??= {};
        obj.spec.replicas ??= 1;
        obj.spec.revisionHistoryLimit ??= 10;
        obj.spec.progressDeadlineSeconds ??= 600;
        obj.spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
        obj.status = {};
        break;
      case 'Namespace':
        obj.spec = { finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
        break;
      case 'PodDisruptionBudget':
        obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
        break;
      case 'PriorityClass':
        obj.preemptionPolicy ??= 'PreemptLowerPriority';
        break;
      default:
        // Custom resources with a status subresource drop status on create.
        if (def.statusSubresource && !def.strategicMerge) delete obj.status;
    }
  }

  // ---------- get / list ----------

  get(def: ResourceDef, ns: string | undefined, name: string): KubeObject {
    return this.mustGet(def, this.nsOf(def, ns), name);
  }

  list(def: ResourceDef, ns: string | undefined, q: ListQuery = {}): ListResult {
    const labelSel = parseLabelSelector(q.labelSelector);
    const fieldSel = parseFieldSelector(q.fieldSelector, ['metadata.name', 'metadata.namespace', ...Object.keys(def.fieldSelectors)]);
    const scope = def.namespaced && ns ? ns : undefined;
    const current = this.store.currentRv;
    let atRv = current;
    let startAfter = '';
    if (q.continue) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8'));
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (token.rv < this.store.oldestWatchableRv) {
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      atRv = token.rv;
      startAfter = token.start;
    } else if (q.resourceVersion && q.resourceVersion !== '0') {
      const rv = Number(q.resourceVersion);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version "${q.resourceVersion}"`);
      if (q.resourceVersionMatch === 'Exact') atRv = rv;
      else if (rv > current) {
        // "NotOlderThan" a version the server has not reached: it waits, then gives up with 504 Timeout.
        throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${current}`,
          { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      }
    } else if (q.resourceVersionMatch && !q.resourceVersion) {
      throw invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
    }
    // Filter the stored objects in place and copy only what is returned.
    const byNode = def.kind === 'Pod' ? fieldSel.find((r) => r.field === 'spec.nodeName' && r.op === '=' && r.value !== '') : undefined;
    const all = atRv !== current ? this.store.listAt(resourceId(def), scope, atRv)
      : byNode ? this.store.scanPodsOnNode(byNode.value, scope)
        : this.store.scan(resourceId(def), scope);
    const filtered = all.filter((o) => this.matchesSelectors(def, o, labelSel, fieldSel));
    const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const after = startAfter ? filtered.filter((o) => keyOf(o) > startAfter) : filtered;
    // With resourceVersion=0 the list is served from the watch cache, which ignores limit.
    const limit = q.resourceVersion === '0' ? 0 : (q.limit ?? 0);
    if (limit > 0 && after.length > limit) {
      const page = after.slice(0, limit).map(clone);
      const last = page[page.length - 1];
      const token = Buffer.from(JSON.stringify({ rv: atRv, start: last ? keyOf(last) : '' })).toString('base64url');
      const unfiltered = !q.labelSelector && !q.fieldSelector;
      return { items: page, resourceVersion: String(atRv), continue: token, ...(unfiltered ? { remainingItemCount: after.length - limit } : {}) };
    }
    return { items: after.map(clone), resourceVersion: String(atRv) };
  }

  matchesSelectors(def: ResourceDef, o: KubeObject, labelSel: ReturnType<typeof parseLabelSelector>, fieldSel: ReturnType<typeof parseFieldSelector>): boolean {
    return requirementsMatch(labelSel, o.metadata.labels) && matchesFields(fieldSel, (f) => this.fieldValue(def, o, f));
  }

  fieldValue(def: ResourceDef, o: KubeObject, field: string): string {
    if (field === 'metadata.name') return o.metadata.name ?? '';
    if (field === 'metadata.namespace') return o.metadata.namespace ?? '';
    return def.fieldSelectors[field]?.(o) ?? '';
  }

  // ---------- update / patch ----------

  async update(def: ResourceDef, ns: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    return this.retryStale(() => this.updateOnce(def, ns, name, body, opts));
  }

  async patch(def: ResourceDef, ns: string | undefined, name: string, contentType: string, patchBody: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    return this.retryStale(() => this.patchOnce(def, ns, name, contentType, patchBody, opts));
  }

  private async retryStale<T>(f: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await f();
      } catch (e) {
        if (!(e instanceof StaleRead) || i >= 10) throw e instanceof StaleRead ? new ApiError(500, 'InternalError', 'Internal error occurred: too many concurrent writes') : e;
      }
    }
  }

  private async updateOnce(def: ResourceDef, ns: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    const next = clone(body) as KubeObject;
    if (!isObject(next.metadata)) next.metadata = {};
    const namespace = this.nsOf(def, ns);
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && next.metadata.namespace && next.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const sub = opts.subResource ?? '';
    if (sub === 'binding' || sub === 'eviction') throw methodNotAllowed();
    if (sub && !def.subresources.includes(sub as never)) throw notFound(def.group, `${def.plural}/${sub}`, name);
    const existing = this.mustGet(def, namespace, name);
    if (sub === 'scale') return this.applyScale(def, existing, next, !!opts.dryRun, !!next.metadata?.resourceVersion);
    this.checkTypeMeta(def, next);
    const rv = next.metadata.resourceVersion;
    if (!rv && !def.unconditionalUpdate) {
      throw invalid(def.kind, def.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    return this.writeUpdate(def, existing, next, sub, !!opts.dryRun, !!rv);
  }

  private async patchOnce(def: ResourceDef, ns: string | undefined, name: string, contentType: string, patchBody: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    const namespace = this.nsOf(def, ns);
    const sub = opts.subResource ?? '';
    if (sub === 'binding' || sub === 'eviction') throw methodNotAllowed();
    if (sub && !def.subresources.includes(sub as never)) throw notFound(def.group, `${def.plural}/${sub}`, name);
    const existing = this.mustGet(def, namespace, name);
    const type = contentType.split(';')[0]?.trim() ?? '';
    // The scale subresource patches the Scale view of the object, not the object.
    const base = sub === 'scale' ? this.scaleOf(def, existing) : existing;
    const apply = (target: KubeObject): KubeObject => {
      if (type === 'application/json-patch+json') return applyJsonPatch(target, patchBody);
      if (type === 'application/merge-patch+json') return this.objectPatch(patchBody, (p) => applyMergePatch(target, p));
      if (type === 'application/strategic-merge-patch+json') {
        if (!def.strategicMerge) throw unsupportedMediaType(type);
        return this.objectPatch(patchBody, (p) => applyStrategicMergePatch(target, p));
      }
      throw unsupportedMediaType(type);
    };
    const next = apply(base);
    // A patch that sets metadata.resourceVersion is a precondition on it (409 when stale);
    // otherwise it applies to whatever is current, retried if a write slips in meanwhile.
    const withoutRv = clone(base);
    delete withoutRv.metadata.resourceVersion;
    let precondition = false;
    try {
      const probe = apply(withoutRv);
      precondition = isObject(probe?.metadata) && probe.metadata.resourceVersion !== undefined;
    } catch {
      precondition = false; // the patch failed on the stripped copy only (e.g. a json-patch test of the version)
    }
    if (sub === 'scale') return this.applyScale(def, existing, next, !!opts.dryRun, precondition);
    if (!isObject(next) || !isObject(next.metadata)) throw badRequest('the patched object is not a valid object');
    if (next.metadata.name !== name) throw badRequest(`metadata.name: Invalid value: "${String(next.metadata.name)}": field is immutable`);
    return this.writeUpdate(def, existing, next, sub, !!opts.dryRun, precondition);
  }

  /** The autoscaling/v1 Scale view of a scalable object (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/#scale). */
  scaleOf(def: ResourceDef, obj: KubeObject): KubeObject {
    const sel = (obj.spec?.selector ?? {}) as { matchLabels?: Record<string, string> };
    return {
      apiVersion: 'autoscaling/v1', kind: 'Scale',
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector: Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
    };
  }

  private async applyScale(def: ResourceDef, existing: KubeObject, scale: KubeObject, dryRun: boolean, precondition: boolean): Promise<KubeObject> {
    const name = existing.metadata.name ?? '';
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) {
      throw conflict(def.group, def.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0` }]);
    }
    const next = clone(existing);
    next.spec = { ...(next.spec ?? {}), replicas };
    return this.scaleOf(def, await this.writeUpdate(def, existing, next, '', dryRun, precondition));
  }

  private objectPatch(patchBody: unknown, f: (p: unknown) => KubeObject): KubeObject {
    if (!isObject(patchBody)) throw badRequest('the patch must be a JSON object');
    return f(patchBody);
  }

  /** The common path of PUT and PATCH once the new object is known. */
  private async writeUpdate(def: ResourceDef, existing: KubeObject, incoming: KubeObject, sub: string, dryRun: boolean, precondition: boolean): Promise<KubeObject> {
    const name = existing.metadata.name ?? '';
    const namespace = existing.metadata.namespace ?? '';
    const rv = incoming.metadata.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) {
      throw conflict(def.group, def.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    let next: KubeObject;
    if (sub === 'status') {
      // Status strategy: only .status changes through /status (and nothing but metadata bookkeeping).
      next = clone(existing);
      next.status = incoming.status;
      if (def.kind === 'Pod' && Array.isArray(next.status?.conditions)) next.status.conditions = this.stampConditions(existing.status?.conditions, next.status.conditions);
    } else if (sub === 'resize') {
      next = this.resizeStrategy(existing, incoming);
    } else {
      next = clone(incoming);
      // ObjectMeta fields the server owns stay as they were.
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace'] as const) {
        if (existing.metadata[f] === undefined) delete next.metadata[f];
        else (next.metadata as Record<string, unknown>)[f] = existing.metadata[f];
      }
      next.apiVersion = groupVersion(def);
      next.kind = def.kind;
      if (def.statusSubresource) {
        if (existing.status === undefined) delete next.status;
        else next.status = clone(existing.status);
      }
      if (def.kind === 'Pod') this.checkPodUpdate(existing, next);
      if (def.kind === 'Namespace') next.spec = existing.spec;
    }
    if (!def.namespaced) delete next.metadata.namespace;
    if (!same(specOf(existing), specOf(next))) next.metadata.generation = (existing.metadata.generation ?? 1) + 1;

    const mutated = (await this.admit('UPDATE', def, sub, namespace, name, next, existing, dryRun)) ?? next;
    validate(def, mutated);
    await this.admitValidate('UPDATE', def, sub, namespace, name, mutated, existing, dryRun);
    if (dryRun) return mutated;
    // Admission awaited: another write may have landed meanwhile. Like etcd's
    // compare-and-swap, the write applies only to the version it was computed from; the
    // callers retry an update without a resourceVersion precondition (GuaranteedUpdate).
    const now = this.store.get(resourceId(def), namespace, name);
    if (!now) throw notFound(def.group, def.plural, name);
    if (now.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      if (precondition) throw conflict(def.group, def.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
      throw new StaleRead();
    }
    mutated.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (same(mutated, existing)) return existing; // a no-op write does not bump resourceVersion
    // An object being deleted goes once its last finalizer is removed.
    if (mutated.metadata.deletionTimestamp && !(mutated.metadata.finalizers ?? []).length && def.kind !== 'Pod' && def.kind !== 'Namespace') {
      return this.store.remove(resourceId(def), namespace, name) ?? mutated;
    }
    const stored = this.store.put(resourceId(def), mutated);
    if (def.kind === 'Pod' && stored.metadata.deletionTimestamp && !(stored.metadata.finalizers ?? []).length && (stored.status?.phase === 'Succeeded' || stored.status?.phase === 'Failed')) {
      // A terminating pod that reached a terminal phase has nothing left to wait for.
      return this.store.remove(resourceId(def), namespace, name) ?? stored;
    }
    return stored;
  }

  /** lastTransitionTime is set when a condition's status changes and the writer left it out. */
  private stampConditions(prev: unknown, next: { type?: string; status?: string; lastTransitionTime?: string }[]): unknown[] {
    const old = Array.isArray(prev) ? (prev as { type?: string; status?: string; lastTransitionTime?: string }[]) : [];
    return next.map((c) => {
      if (c.lastTransitionTime) return c;
      const o = old.find((x) => x.type === c.type);
      return { ...c, lastTransitionTime: o && o.status === c.status && o.lastTransitionTime ? o.lastTransitionTime : this.now() };
    });
  }

  /**
   * Pod updates may change only a few spec fields (ValidatePodUpdate): container images,
   * activeDeadlineSeconds, tolerations (additions), terminationGracePeriodSeconds and
   * schedulingGates (removal). Everything else in spec is immutable; resources go through /resize.
   */
  private checkPodUpdate(existing: KubeObject, next: KubeObject): void {
    const a = clone(existing.spec ?? {});
    const b = clone(next.spec ?? {});
    for (const s of [a, b]) {
      for (const list of ['containers', 'initContainers']) for (const c of s[list] ?? []) delete c.image;
      delete s.activeDeadlineSeconds;
      delete s.tolerations;
      delete s.terminationGracePeriodSeconds;
      delete s.schedulingGates;
    }
    if (!same(a, b)) {
      throw invalid('Pod', '', existing.metadata.name ?? '', [{
        reason: 'FieldValueForbidden', field: 'spec',
        message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      }]);
    }
    const oldTol: unknown[] = existing.spec?.tolerations ?? [];
    const newTol: unknown[] = next.spec?.tolerations ?? [];
    if (!oldTol.every((t) => newTol.some((n) => same(n, t)))) {
      throw invalid('Pod', '', existing.metadata.name ?? '', [{ reason: 'FieldValueForbidden', field: 'spec.tolerations', message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds' }]);
    }
    if ((existing.spec?.schedulingGates ?? []).length === 0 && (next.spec?.schedulingGates ?? []).length > 0) {
      throw invalid('Pod', '', existing.metadata.name ?? '', [{ reason: 'FieldValueForbidden', field: 'spec.schedulingGates', message: 'Forbidden: only deletion is allowed, but found new scheduling gate' }]);
    }
  }

  /**
   * pods/resize (1.33): only containers' resources and resizePolicy are taken from the
   * request; the QoS class may not change. The kubelet model (controllers.ts) then sets the
   * PodResizePending / PodResizeInProgress conditions and actuates.
   */
  private resizeStrategy(existing: KubeObject, incoming: KubeObject): KubeObject {
    const next = clone(existing);
    const name = existing.metadata.name ?? '';
    const incomingContainers: { name?: string; resources?: unknown; resizePolicy?: unknown }[] = incoming.spec?.containers ?? [];
    for (const c of next.spec?.containers ?? []) {
      const n = incomingContainers.find((x) => x.name === c.name);
      if (!n) continue;
      if (n.resources !== undefined) c.resources = n.resources;
      if (n.resizePolicy !== undefined) c.resizePolicy = n.resizePolicy;
    }
    if (qosClass(next.spec) !== existing.status?.qosClass && existing.status?.qosClass) {
      throw invalid('Pod', '', name, [{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: "Guaranteed": Pod QOS Class may not change as a result of resizing' }]);
    }
    for (const c of next.spec?.containers ?? []) {
      const res = c.resources ?? {};
      for (const r of Object.keys(res.requests ?? {})) {
        if (res.limits?.[r] !== undefined && res.requests[r] !== undefined && compareQuantity(res.requests[r], res.limits[r]) > 0) {
          throw invalid('Pod', '', name, [{ reason: 'FieldValueInvalid', field: `spec.containers[${c.name}].resources.requests`, message: `Invalid value: "${res.requests[r]}": must be less than or equal to ${r} limit of ${res.limits[r]}` }]);
        }
      }
    }
    return next;
  }

  // ---------- delete ----------

  async delete(def: ResourceDef, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject | StatusBody> {
    const namespace = this.nsOf(def, ns);
    const existing = this.mustGet(def, namespace, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== existing.metadata.uid) {
      throw conflict(def.group, def.plural, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
    }
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(def.group, def.plural, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`);
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw invalid('DeleteOptions', '', name, [{ reason: 'FieldValueInvalid', field: 'gracePeriodSeconds', message: 'Invalid value: must be >= 0' }]);
    }
    const dryRun = (opts.dryRun ?? []).includes('All');
    await this.admit('DELETE', def, '', namespace, name, undefined, existing, dryRun);
    await this.admitValidate('DELETE', def, '', namespace, name, undefined, existing, dryRun);
    if (dryRun) return existing;
    return this.deleteNow(def, namespace, name, opts);
  }

  /**
   * The deletion itself, synchronous from a fresh read (no await between the checks and
   * the write): graceful for bound pods, held by finalizers, immediate otherwise.
   */
  private deleteNow(def: ResourceDef, namespace: string, name: string, opts: DeleteOptions): KubeObject | StatusBody {
    const existing = this.mustGet(def, namespace, name);
    const id = resourceId(def);
    const returnObject = def.kind === 'Pod' || !def.strategicMerge;

    if (def.kind === 'Namespace') {
      if (name === 'default' || name === 'kube-system' || name === 'kube-public') {
        throw forbidden('', 'namespaces', name, `this namespace may not be deleted`);
      }
      if (existing.metadata.deletionTimestamp) return existing;
      existing.metadata.deletionTimestamp = this.now();
      existing.status = { ...(existing.status ?? {}), phase: 'Terminating' };
      return this.store.put(id, existing); // the namespace controller empties and removes it
    }

    let grace = 0;
    if (def.kind === 'Pod') {
      // Pod CheckGracefulDelete: default from the spec; unscheduled or terminal pods go at once.
      grace = opts.gracePeriodSeconds ?? existing.spec?.terminationGracePeriodSeconds ?? 30;
      if (!existing.spec?.nodeName || existing.status?.phase === 'Succeeded' || existing.status?.phase === 'Failed') grace = 0;
    }
    const finalizers = existing.metadata.finalizers ?? [];
    if (grace > 0 || finalizers.length > 0) {
      const deadline = this.clock.now() + grace * 1000;
      const cur = existing.metadata.deletionTimestamp ? Date.parse(existing.metadata.deletionTimestamp) : Infinity;
      if (grace === 0 && def.kind === 'Pod' && finalizers.length > 0) {
        existing.metadata.deletionGracePeriodSeconds = 0;
      }
      if (deadline < cur || !existing.metadata.deletionTimestamp) {
        existing.metadata.deletionTimestamp = rfc3339(Math.min(deadline, cur));
        if (def.kind === 'Pod') existing.metadata.deletionGracePeriodSeconds = grace;
        else existing.metadata.deletionGracePeriodSeconds = 0;
        return this.store.put(id, existing);
      }
      return existing;
    }
    const removed = this.store.remove(id, namespace, name) ?? existing;
    return returnObject ? removed : successStatus(200, { name, group: def.group, kind: def.plural, uid: existing.metadata.uid ?? '' });
  }

  async deleteCollection(def: ResourceDef, ns: string | undefined, q: ListQuery, opts: DeleteOptions = {}): Promise<ListResult> {
    const { items, resourceVersion } = this.list(def, ns, { labelSelector: q.labelSelector ?? null, fieldSelector: q.fieldSelector ?? null });
    const out: KubeObject[] = [];
    for (const o of items) {
      const r = await this.delete(def, o.metadata.namespace, o.metadata.name ?? '', opts);
      if ((r as KubeObject).metadata && (r as StatusBody).kind !== 'Status') out.push(r as KubeObject);
    }
    return { items: out, resourceVersion };
  }

  // ---------- pods/binding ----------

  /** POST pods/NAME/binding (registry/core/pod/storage BindingREST.assignPod). */
  async bind(ns: string, name: string, body: unknown): Promise<StatusBody> {
    const def = this.resource('', 'pods');
    if (!isObject(body)) throw badRequest('the body of the request must be a Binding');
    const binding = body as { metadata?: { name?: string; annotations?: Record<string, string>; uid?: string }; target?: { kind?: string; name?: string } };
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
    }
    const target = binding.target?.name ?? '';
    if (!target) throw invalid('Binding', '', name, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    if (binding.target?.kind && binding.target.kind !== 'Node') {
      throw invalid('Binding', '', name, [{ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: "${binding.target.kind}": supported values: "Node", "<empty>"` }]);
    }
    this.mustGet(def, ns, name);
    await this.admit('CREATE', def, 'binding', ns, name, body as KubeObject, undefined, false);
    // Read again after the await: of two racing bindings exactly one finds the pod unbound.
    const pod = this.mustGet(def, ns, name);
    if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) {
      throw conflict('', 'pods', name, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
    }
    if (pod.metadata.deletionTimestamp) throw conflict('', 'pods', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw conflict('', 'pods', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = target;
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...(binding.metadata?.annotations ?? {}) };
    const conds: { type: string }[] = (pod.status.conditions ??= []);
    const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.now() };
    const i = conds.findIndex((c) => c.type === 'PodScheduled');
    if (i >= 0) conds[i] = cond;
    else conds.push(cond);
    this.store.put(resourceId(def), pod);
    return successStatus(201);
  }

  // ---------- pods/eviction ----------

  /**
   * POST pods/NAME/eviction (registry/core/pod/storage/eviction.go): a pod that is not
   * running (or is already terminating) is deleted without consulting budgets; otherwise
   * the one PodDisruptionBudget that selects it must allow a disruption, else 429
   * (https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy
   * for pods that are running but not Ready).
   */
  async evict(ns: string, name: string, body: unknown): Promise<StatusBody> {
    const podDef = this.resource('', 'pods');
    if (!isObject(body)) throw badRequest('the body of the request must be an Eviction');
    const ev = body as { metadata?: { name?: string }; deleteOptions?: DeleteOptions };
    if (ev.metadata?.name && ev.metadata.name !== name) {
      throw badRequest(`name in URL does not match name in Eviction object`);
    }
    this.mustGet(podDef, ns, name);
    await this.admit('CREATE', podDef, 'eviction', ns, name, body as KubeObject, undefined, false);
    // From here to the deletion nothing awaits, so two evictions cannot both spend the
    // budget's last disruption.
    const pod = this.mustGet(podDef, ns, name);
    const opts = ev.deleteOptions ?? {};
    if (opts.preconditions?.uid && opts.preconditions.uid !== pod.metadata.uid) {
      throw conflict('', 'pods', name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
    }
    if (!ignoresBudgets(pod as unknown as Pod)) {
      const pdbDef = this.resource('policy', 'poddisruptionbudgets');
      const pdbs = this.store.scan(resourceId(pdbDef), ns).filter((p) => selectorMatches(p.spec?.selector as LabelSelector, pod.metadata.labels));
      if (pdbs.length > 1) {
        throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      }
      const pdb = pdbs[0];
      if (pdb) {
        const s = this.disruptionStatus(pdb);
        // core/kube-model/disruption.ts: a Ready pod spends a disruption; one that is not may
        // go while the budget is met (IfHealthyBudget) or always (AlwaysAllow).
        if (!evictionAllowed(pdb as unknown as PodDisruptionBudget, s, pod as unknown as Pod)) {
          throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', [{
            reason: 'DisruptionBudget',
            message: `The disruption budget ${pdb.metadata.name ?? ''} needs ${s.desiredHealthy} healthy pods and has ${s.currentHealthy} currently`,
          }]);
        }
      }
    }
    this.deleteNow(podDef, ns, name, opts);
    return successStatus(201);
  }

  /**
   * A PodDisruptionBudget's status as the disruption controller computes it
   * (core/kube-model/disruption.ts), a ReplicaSet's pods counting as its Deployment's scale.
   */
  disruptionStatus(pdb: KubeObject): DisruptionNumbers {
    const ns = pdb.metadata.namespace ?? '';
    const pods = this.store.scan('/pods', ns).filter((p) => selectorMatches(pdb.spec?.selector as LabelSelector, p.metadata.labels));
    const replicasOf = (o: KubeObject | undefined): number | undefined => (o ? (typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1) : undefined);
    return disruptionNumbers(pdb as unknown as PodDisruptionBudget, pods as unknown as Pod[], (ref) => {
      if (ref.kind === 'ReplicaSet') {
        const rs = this.store.get('apps/replicasets', ns, ref.name ?? '');
        const d = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
        return d ? replicasOf(this.store.get('apps/deployments', ns, d.name)) : replicasOf(rs);
      }
      if (ref.kind === 'Deployment') return replicasOf(this.store.get('apps/deployments', ns, ref.name ?? ''));
      if (ref.kind === 'StatefulSet') return replicasOf(this.store.get('apps/statefulsets', ns, ref.name ?? ''));
      return undefined;
    });
  }

  /** Writes with the server's authority, bypassing admission and strategies: for controllers and seeding. */
  putDirect(def: ResourceDef, obj: KubeObject): KubeObject {
    const o = clone(obj);
    o.apiVersion = groupVersion(def);
    o.kind = def.kind;
    o.metadata.uid ??= this.uid();
    o.metadata.creationTimestamp ??= this.now();
    o.metadata.generation ??= 1;
    if (def.namespaced) o.metadata.namespace ||= 'default';
    else delete o.metadata.namespace;
    return this.store.put(resourceId(def), o);
  }

  removeDirect(def: ResourceDef, ns: string, name: string): KubeObject | undefined {
    return this.store.remove(resourceId(def), this.nsOf(def, ns), name);
  }
}

/** Compares two quantities numerically (-1, 0, 1); unparsable ones compare equal. */
function compareQuantity(a: unknown, b: unknown): number {
  const q = (v: unknown): number | undefined => {
    const r = typeof v === 'string' || typeof v === 'number' ? parseQuantity(v) : undefined;
    return r?.ok ? r.value : undefined;
  };
  const pa = q(a);
  const pb = q(b);
  if (pa === undefined || pb === undefined) return 0;
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
