/** Conformance: discovery, create/get/update/delete semantics and Status bodies, through @kubernetes/client-node over HTTP. */
import { AdmissionregistrationV1Api, ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer, ManualClock } from '../index.ts';
import { expectStatus, node, pod, raw } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));

beforeAll(async () => {
  server = await FakeApiServer.start({ clock, controllerAutoRun: false });
  core = server.client(CoreV1Api);
});
afterAll(() => server.close());

describe('discovery', () => {
  it('serves /version, /api, /apis and each group version', async () => {
    const v = await server.client(VersionApi).getCode();
    expect(v.major).toBe('1');
    expect(v.gitVersion).toMatch(/^v1\.33/);
    const api = await raw(server.url, 'GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const apis = await raw(server.url, 'GET', '/apis');
    const groups = (apis.json.groups as { name: string }[]).map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'policy', 'scheduling.k8s.io', 'coordination.k8s.io', 'polyarch.io']));
    const v1 = await raw(server.url, 'GET', '/api/v1');
    const names = (v1.json.resources as { name: string; verbs: string[] }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods', 'pods/binding', 'pods/eviction', 'pods/status', 'pods/resize', 'nodes', 'namespaces', 'events', 'secrets', 'serviceaccounts']));
    const pa = await raw(server.url, 'GET', '/apis/polyarch.io/v1alpha1');
    expect(pa.json.resources).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'migrations', kind: 'Migration', namespaced: true }),
      expect.objectContaining({ name: 'migrations/status' }),
      expect.objectContaining({ name: 'scalingpolicies', kind: 'ScalingPolicy' }),
    ]));
    const missing = await raw(server.url, 'GET', '/apis/nope.io/v1');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });
});

describe('kubeconfig', () => {
  it('the written kubeconfig loads with KubeConfig.loadFromFile and reaches the server', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(await server.writeKubeconfig());
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain('kube-node-lease');
  });
});

describe('create', () => {
  it('dryRun=All answers as a create would and stores nothing', async () => {
    const before = server.store.currentRv;
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('dry'), dryRun: 'All' });
    expect(p.metadata?.uid).toBeDefined();
    expect(server.get('v1', 'Pod', 'dry')).toBeUndefined();
    expect(server.store.currentRv).toBe(before);
  });

  it('fills generateName, uid, creationTimestamp, resourceVersion, generation and the namespace', async () => {
    const before = server.store.currentRv;
    const p = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } });
    expect(p.metadata?.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(p.metadata?.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.metadata?.namespace).toBe('default');
    expect(p.metadata?.creationTimestamp?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(Number(p.metadata?.resourceVersion)).toBe(before + 1);
    expect(p.metadata?.generation).toBe(1);
    expect(p.status?.phase).toBe('Pending');
    expect(p.spec?.schedulerName).toBe('default-scheduler');
    // DefaultTolerationSeconds admission.
    expect(p.spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', tolerationSeconds: 300 })]));
  });

  it('a generateName that lands on a taken name is retried with another suffix', async () => {
    const a = await FakeApiServer.start({ seed: 7, controllerAutoRun: false });
    const b = await FakeApiServer.start({ seed: 7, controllerAutoRun: false });
    try {
      const first = await a.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-', namespace: 'default' } });
      b.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: first.metadata.name, namespace: 'default', uid: 'taken' } });
      const second = await b.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-', namespace: 'default' } });
      expect(second.metadata.name).toMatch(/^cfg-[a-z0-9]{5}$/);
      expect(second.metadata.name).not.toBe(first.metadata.name);
      expect(b.get('v1', 'ConfigMap', first.metadata.name ?? '')?.metadata.uid).toBe('taken');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers 409 AlreadyExists for a taken name', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('dup') });
    const s = await expectStatus(core.createNamespacedPod({ namespace: 'default', body: pod('dup') }), 409, 'AlreadyExists');
    expect(s.message).toBe('pods "dup" already exists');
    expect(s.details).toMatchObject({ name: 'dup', kind: 'pods' });
  });

  it('refuses a missing namespace (404) and a namespace that differs from the URL (400)', async () => {
    await expectStatus(core.createNamespacedPod({ namespace: 'nowhere', body: pod('x') }), 404, 'NotFound');
    await expectStatus(core.createNamespacedPod({ namespace: 'default', body: pod('x', { namespace: 'kube-system' }) }), 400, 'BadRequest');
  });

  it('validates: 422 Invalid for a pod with no containers and for names that are not DNS-1123', async () => {
    const s = await expectStatus(core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'empty' }, spec: { containers: [] } } }), 422, 'Invalid');
    expect((s.details as { causes: { field: string }[] }).causes).toEqual([expect.objectContaining({ field: 'spec.containers', reason: 'FieldValueRequired' })]);
    const bad = await expectStatus(core.createNamespacedPod({ namespace: 'default', body: pod('Bad_Name') }), 422, 'Invalid');
    expect(bad.message).toContain('RFC 1123');
    await expectStatus(core.createNode({ body: { metadata: { name: '-edge' } } }), 422, 'Invalid');
    await expectStatus(core.createNamespace({ body: { metadata: { name: 'a.b' } } }), 422, 'Invalid');
  });

  it('answers 415 for a body that is not JSON and 400 for malformed JSON', async () => {
    const yaml = await raw(server.url, 'POST', '/api/v1/namespaces/default/pods', 'a: b', 'application/vnd.kubernetes.protobuf');
    expect(yaml.status).toBe(415);
    expect(yaml.json).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    const broken = await raw(server.url, 'POST', '/api/v1/namespaces/default/pods', '{"metadata":', 'application/json');
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
  });

  it('answers 405 MethodNotAllowed for a verb the resource does not have', async () => {
    const r = await raw(server.url, 'PUT', '/api/v1/namespaces/default/pods', {});
    expect(r.status).toBe(405);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    const g = await raw(server.url, 'GET', '/api/v1/namespaces/default/pods/dup/binding');
    expect(g.status).toBe(405);
  });
});

describe('get, update and optimistic concurrency', () => {
  it('404 NotFound with a Status for a missing object', async () => {
    const s = await expectStatus(core.readNamespacedPod({ name: 'ghost', namespace: 'default' }), 404, 'NotFound');
    expect(s.message).toBe('pods "ghost" not found');
  });

  it('updates with the current resourceVersion and refuses a stale one with 409 Conflict', async () => {
    const n = await core.createNode({ body: node('upd') });
    const first = await core.replaceNode({ name: 'upd', body: { ...n, metadata: { ...n.metadata, labels: { a: '1' } } } });
    expect(Number(first.metadata?.resourceVersion)).toBeGreaterThan(Number(n.metadata?.resourceVersion));
    const s = await expectStatus(core.replaceNode({ name: 'upd', body: { ...n, metadata: { ...n.metadata, labels: { a: '2' } } } }), 409, 'Conflict');
    expect(s.message).toContain('the object has been modified; please apply your changes to the latest version and try again');
    expect((await core.readNode({ name: 'upd' })).metadata?.labels).toEqual({ a: '1' });
  });

  it('a no-op update keeps the resourceVersion; a spec change bumps generation', async () => {
    const apps = server.client(AppsV1Api);
    const rs = await apps.createNamespacedReplicaSet({ namespace: 'default', body: {
      metadata: { name: 'gen' }, spec: { replicas: 1, selector: { matchLabels: { app: 'gen' } }, template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
    } });
    const same = await apps.replaceNamespacedReplicaSet({ name: 'gen', namespace: 'default', body: rs });
    expect(same.metadata?.resourceVersion).toBe(rs.metadata?.resourceVersion);
    const scaled = await apps.replaceNamespacedReplicaSet({ name: 'gen', namespace: 'default', body: { ...same, spec: { ...same.spec!, replicas: 3 } } });
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('keeps status apart: PUT on the resource ignores status, PUT on /status changes only status', async () => {
    const n = await core.readNode({ name: 'upd' });
    const viaMain = await core.replaceNode({ name: 'upd', body: { ...n, status: { ...n.status, phase: 'Terminated' } } });
    expect(viaMain.status?.phase).toBeUndefined();
    const viaStatus = await core.replaceNodeStatus({ name: 'upd', body: { ...viaMain, metadata: { ...viaMain.metadata, labels: { changed: 'no' } }, status: { ...viaMain.status, phase: 'Terminated' } } });
    expect(viaStatus.status?.phase).toBe('Terminated');
    expect(viaStatus.metadata?.labels).toEqual({ a: '1' });
  });

  it('refuses a pod update that changes an immutable spec field (422), allows an image change', async () => {
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('immut') });
    const img = await core.replaceNamespacedPod({ name: 'immut', namespace: 'default', body: { ...p, spec: { ...p.spec!, containers: [{ ...p.spec!.containers[0]!, image: 'registry.local/app:1.0-arm64' }] } } });
    expect(img.spec?.containers[0]?.image).toBe('registry.local/app:1.0-arm64');
    await expectStatus(core.replaceNamespacedPod({ name: 'immut', namespace: 'default', body: { ...img, spec: { ...img.spec!, nodeName: 'n1' } } }), 422, 'Invalid');
  });

  it('custom resources: create, status subresource, and PUT without resourceVersion refused', async () => {
    const co = server.client(CustomObjectsApi);
    const base = { group: 'polyarch.io', version: 'v1alpha1', namespace: 'default', plural: 'migrations' };
    const created = await co.createNamespacedCustomObject({ ...base, body: { apiVersion: 'polyarch.io/v1alpha1', kind: 'Migration', metadata: { name: 'm1' }, spec: { pod: 'p' }, status: { phase: 'Ignored' } } }) as { metadata: { resourceVersion: string }; status?: unknown };
    expect(created.status).toBeUndefined();
    const st = await co.replaceNamespacedCustomObjectStatus({ ...base, name: 'm1', body: { ...created, status: { phase: 'Moving' } } }) as { status: { phase: string } };
    expect(st.status.phase).toBe('Moving');
    const { metadata: _m, ...noRv } = created as { metadata: Record<string, unknown> };
    await expectStatus(co.replaceNamespacedCustomObject({ ...base, name: 'm1', body: { ...noRv, metadata: { name: 'm1' } } }), 422, 'Invalid');
    const list = await co.listNamespacedCustomObject({ ...base }) as { items: { kind: string }[] };
    expect(list.items).toEqual([expect.objectContaining({ kind: 'Migration' })]);
  });
});

describe('delete', () => {
  it('deletes an unbound pod at once and returns it', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('gone') });
    const out = await core.deleteNamespacedPod({ name: 'gone', namespace: 'default' });
    expect(out.metadata?.name).toBe('gone');
    await expectStatus(core.readNamespacedPod({ name: 'gone', namespace: 'default' }), 404, 'NotFound');
  });

  it('a bound pod gets deletionTimestamp = now + grace, then disappears once the grace has passed', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('graceful', { nodeName: 'n1' }) });
    const out = await core.deleteNamespacedPod({ name: 'graceful', namespace: 'default', gracePeriodSeconds: 20 });
    expect(out.metadata?.deletionTimestamp?.toISOString()).toBe(new Date(clock.now() + 20_000).toISOString());
    expect(out.metadata?.deletionGracePeriodSeconds).toBe(20);
    await server.reconcile();
    expect((await core.readNamespacedPod({ name: 'graceful', namespace: 'default' })).metadata?.deletionTimestamp).toBeDefined();
    clock.advance(20_000);
    await server.reconcile();
    await expectStatus(core.readNamespacedPod({ name: 'graceful', namespace: 'default' }), 404, 'NotFound');
  });

  it('gracePeriodSeconds=0 deletes a bound pod immediately', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('now', { nodeName: 'n1' }) });
    await core.deleteNamespacedPod({ name: 'now', namespace: 'default', gracePeriodSeconds: 0 });
    await expectStatus(core.readNamespacedPod({ name: 'now', namespace: 'default' }), 404, 'NotFound');
  });

  it('an object with finalizers stays with a deletionTimestamp until they are removed', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fin', finalizers: ['polyarch.io/hold'] } } });
    expect(cm.metadata?.finalizers).toEqual(['polyarch.io/hold']);
    await core.deleteNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    const held = await core.readNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    await core.replaceNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    await expectStatus(core.readNamespacedConfigMap({ name: 'fin', namespace: 'default' }), 404, 'NotFound');
  });

  it('a deleted namespace is Terminating, refuses new content (403), and is emptied and removed', async () => {
    await core.createNamespace({ body: { metadata: { name: 'tmp' } } });
    await core.createNamespacedSecret({ namespace: 'tmp', body: { metadata: { name: 's' }, type: 'Opaque', data: { k: 'dg==' } } });
    await server.reconcile(); // the service-account controller
    expect((await core.readNamespacedServiceAccount({ name: 'default', namespace: 'tmp' })).metadata?.name).toBe('default');
    const ns = await core.deleteNamespace({ name: 'tmp' }) as { status?: { phase?: string } };
    expect(ns.status?.phase).toBe('Terminating');
    await expectStatus(core.createNamespacedSecret({ namespace: 'tmp', body: { metadata: { name: 's2' } } }), 403, 'Forbidden');
    await server.reconcile();
    await expectStatus(core.readNamespace({ name: 'tmp' }), 404, 'NotFound');
    expect(server.list('v1', 'Secret', 'tmp')).toEqual([]);
  });
});

describe('deletecollection and the request log', () => {
  it('DELETE on a collection deletes what the selector selects', async () => {
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'k1', labels: { batch: 'x' } } } });
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'k2', labels: { batch: 'x' } } } });
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'k3', labels: { batch: 'y' } } } });
    await core.deleteCollectionNamespacedSecret({ namespace: 'default', labelSelector: 'batch=x' });
    expect(server.list('v1', 'Secret', 'default').map((o) => o.metadata.name)).toEqual(['k3']);
  });

  it('records every request with its RBAC attributes (verb, group, resource, subresource)', async () => {
    const from = server.requests.length;
    await core.listNamespacedPod({ namespace: 'default', labelSelector: 'none=1' });
    await core.createNamespacedPod({ namespace: 'default', body: pod('logged') });
    await core.createNamespacedPodBinding({ name: 'logged', namespace: 'default', body: { metadata: { name: 'logged' }, target: { name: 'n1' } } });
    await server.client(AppsV1Api).listReplicaSetForAllNamespaces();
    const seen = server.requests.slice(from).map((r) => `${r.verb} ${r.apiGroup}/${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ?? '*'} ${r.code}`);
    expect(seen).toEqual(['list /pods default 200', 'create /pods default 201', 'create /pods/binding default 201', 'list apps/replicasets * 200']);
  });
});

describe('custom resource definitions and storage-only kinds', () => {
  it('a created CRD is Established and its resource is served at once (discovery, CRUD)', async () => {
    const ext = server.client(ApiextensionsV1Api);
    const crd = await ext.createCustomResourceDefinition({ body: {
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }] },
    } });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    const disco = await raw(server.url, 'GET', '/apis/example.com/v1');
    expect(disco.json.resources).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'widgets', kind: 'Widget', namespaced: true }), expect.objectContaining({ name: 'widgets/status' })]));
    const co = server.client(CustomObjectsApi);
    await co.createNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } } });
    const got = await co.getNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w' }) as { spec: { size: number } };
    expect(got.spec.size).toBe(1);
    await expectStatus(ext.createCustomResourceDefinition({ body: { metadata: { name: 'wrong' }, spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'gadgets', kind: 'Gadget' }, versions: [{ name: 'v1', served: true, storage: true }] } } }), 422, 'Invalid');
  });

  it('stores webhook configurations and RBAC objects', async () => {
    const adm = server.client(AdmissionregistrationV1Api);
    await adm.createMutatingWebhookConfiguration({ body: { metadata: { name: 'polyarch' }, webhooks: [{ name: 'pods.polyarch.io', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:9443/mutate' }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] }] } });
    expect((await adm.listMutatingWebhookConfiguration()).items.map((w) => w.webhooks?.[0]?.name)).toEqual(['pods.polyarch.io']);
    const rbac = server.client(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'polyarch' }, rules: [{ apiGroups: [''], resources: ['pods/binding'], verbs: ['create'] }] } });
    expect((await rbac.readClusterRole({ name: 'polyarch' })).rules?.[0]?.resources).toEqual(['pods/binding']);
  });
});
