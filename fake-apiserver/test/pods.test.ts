/** Conformance: pod subresources (binding, eviction with PodDisruptionBudgets, status, resize) and the small kinds polyarch writes. */
import { CoordinationV1Api, CoreV1Api, EventsV1Api, PatchStrategy, PolicyV1Api, SchedulingV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeApiServer, ManualClock } from '../index.ts';
import { expectStatus, node, pod, raw, readyPod } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;
let policy: PolicyV1Api;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));

beforeAll(async () => {
  server = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { kubelet: true } });
  core = server.client(CoreV1Api);
  policy = server.client(PolicyV1Api);
  server.seed(node('n1', 'arm64'), node('n2', 'amd64'));
});
afterAll(() => server.close());

const bind = (name: string, nodeName: string, namespace = 'default'): Promise<unknown> =>
  core.createNamespacedPodBinding({ name, namespace, body: { metadata: { name }, target: { kind: 'Node', name: nodeName } } });

describe('pods/binding', () => {
  it('sets spec.nodeName and PodScheduled=True, copies the binding annotations, answers 201 Success', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('b1', { schedulerName: 'polyarch' }) });
    const r = await raw(server.url, 'POST', '/api/v1/namespaces/default/pods/b1/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b1', annotations: { 'polyarch.io/decision': 'arm64 fits' } }, target: { kind: 'Node', name: 'n1' } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const p = await core.readNamespacedPod({ name: 'b1', namespace: 'default' });
    expect(p.spec?.nodeName).toBe('n1');
    expect(p.metadata?.annotations?.['polyarch.io/decision']).toBe('arm64 fits');
    expect(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
  });

  it('refuses a second binding with 409 Conflict naming the node', async () => {
    const s = await expectStatus(bind('b1', 'n2'), 409, 'Conflict');
    expect(s.message).toBe('Operation cannot be fulfilled on pods "b1": pod b1 is already assigned to node "n1"');
    expect((await core.readNamespacedPod({ name: 'b1', namespace: 'default' })).spec?.nodeName).toBe('n1');
  });

  it('404 for a missing pod, 422 without a target', async () => {
    await expectStatus(bind('nobody', 'n1'), 404, 'NotFound');
    await core.createNamespacedPod({ namespace: 'default', body: pod('b2') });
    await expectStatus(core.createNamespacedPodBinding({ name: 'b2', namespace: 'default', body: { metadata: { name: 'b2' }, target: { name: '' } } }), 422, 'Invalid');
  });

  it('the kubelet model starts a bound pod: Running, Ready, containerStatuses', async () => {
    await server.reconcile();
    const p = await core.readNamespacedPod({ name: 'b1', namespace: 'default' });
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0 });
  });
});

describe('pods/eviction and PodDisruptionBudgets', () => {
  beforeEach(async () => {
    for (const p of server.list('v1', 'Pod', 'default')) server.api.removeDirect(server.def('v1', 'Pod'), 'default', p.metadata.name ?? '');
    for (const p of server.list('policy/v1', 'PodDisruptionBudget', 'default')) server.api.removeDirect(server.def('policy/v1', 'PodDisruptionBudget'), 'default', p.metadata.name ?? '');
    server.seed(readyPod('web-1', { app: 'web' }), readyPod('web-2', { app: 'web' }), readyPod('web-3', { app: 'web' }));
  });
  const evict = (name: string, grace?: number): Promise<unknown> => core.createNamespacedPodEviction({ name, namespace: 'default', body: {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...(grace !== undefined ? { deleteOptions: { gracePeriodSeconds: grace } } : {}),
  } });
  const pdb = (name: string, spec: Record<string, unknown>): Promise<unknown> => policy.createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } } });

  it('without a budget, evicts with a graceful delete', async () => {
    await evict('web-1');
    const p = await core.readNamespacedPod({ name: 'web-1', namespace: 'default' });
    expect(p.metadata?.deletionTimestamp?.getTime()).toBe(clock.now() + 30_000);
  });

  it('minAvailable (int): allows evictions down to the minimum, then 429 TooManyRequests with a DisruptionBudget cause', async () => {
    await pdb('min2', { minAvailable: 2 });
    await evict('web-1', 0);
    const s = await expectStatus(evict('web-2'), 429, 'TooManyRequests');
    expect(s.message).toBe('Cannot evict pod as it would violate the pod\'s disruption budget.');
    expect((s.details as { causes: unknown[] }).causes).toEqual([{ reason: 'DisruptionBudget', message: 'The disruption budget min2 needs 2 healthy pods and has 2 currently' }]);
    expect((await core.readNamespacedPod({ name: 'web-2', namespace: 'default' })).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('maxUnavailable as a percent (rounded up, of the controller\'s replicas) and pods being deleted count as unavailable', async () => {
    // A scale-based budget counts the pods' controller: a ReplicaSet of 3 owns them.
    server.seed({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'rs-web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } } as never);
    for (const n of ['web-1', 'web-2', 'web-3']) {
      const p = readyPod(n, { app: 'web' });
      server.seed({ ...p, metadata: { ...p.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-web', controller: true }] } });
    }
    await pdb('max34', { maxUnavailable: '34%' }); // ceil(0.34 * 3) = 2 may be unavailable
    await evict('web-1'); // graceful: web-1 is terminating, so no longer healthy
    await evict('web-2');
    await expectStatus(evict('web-3'), 429, 'TooManyRequests');
  });

  it('minAvailable as a percent; a scale-based budget over pods without a controller fails safe', async () => {
    await pdb('pct', { minAvailable: '100%' });
    await expectStatus(evict('web-3'), 429, 'TooManyRequests');
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'pct', namespace: 'default' });
    await pdb('bare', { maxUnavailable: 2 });
    await expectStatus(evict('web-3'), 429, 'TooManyRequests');
  });

  it('a pod that is not running (Pending) is evicted regardless of its budget', async () => {
    await pdb('all', { minAvailable: '100%' });
    server.seed({ ...pod('web-pending', { labels: { app: 'web' } }), status: { phase: 'Pending' } });
    await evict('web-pending');
    await expectStatus(core.readNamespacedPod({ name: 'web-pending', namespace: 'default' }), 404, 'NotFound');
  });

  it('a running pod that is not Ready may go while the healthy count is met (IfHealthyBudget); AlwaysAllow lets it go regardless', async () => {
    const unready = readyPod('web-sick', { app: 'web' });
    unready.status!.conditions = [{ type: 'Ready', status: 'False' }];
    server.seed(unready);
    await pdb('three', { minAvailable: 3 }); // 3 healthy of 3 needed: no disruption allowed
    await expectStatus(evict('web-1'), 429, 'TooManyRequests');
    await evict('web-sick', 0); // not Ready, and the healthy count (3) is met
    await expectStatus(core.readNamespacedPod({ name: 'web-sick', namespace: 'default' }), 404, 'NotFound');
    // With a healthy count that is not met, only AlwaysAllow lets an unhealthy pod go.
    server.seed({ ...unready, metadata: { name: 'web-sick2', labels: { app: 'web' } } });
    await policy.patchNamespacedPodDisruptionBudget({ name: 'three', namespace: 'default', body: { spec: { minAvailable: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await expectStatus(evict('web-sick2'), 429, 'TooManyRequests');
    await policy.patchNamespacedPodDisruptionBudget({ name: 'three', namespace: 'default', body: { spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await evict('web-sick2', 0);
    await expectStatus(core.readNamespacedPod({ name: 'web-sick2', namespace: 'default' }), 404, 'NotFound');
  });

  it('a pod selected by two budgets cannot be evicted (500)', async () => {
    await pdb('one', { minAvailable: 0 });
    await pdb('two', { minAvailable: 0 });
    const r = await raw(server.url, 'POST', '/api/v1/namespaces/default/pods/web-1/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1' } });
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure', code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
  });

  it('the disruption controller writes the budget status', async () => {
    const d = await FakeApiServer.start({ controllerAutoRun: false, controllers: { disruption: true } });
    try {
      d.seed(readyPod('a', { app: 'web' }), readyPod('b', { app: 'web' }));
      await d.client(PolicyV1Api).createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } } });
      await d.reconcile();
      const s = (await d.client(PolicyV1Api).readNamespacedPodDisruptionBudget({ name: 'p', namespace: 'default' })).status;
      expect(s).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
      expect(s?.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
    } finally {
      await d.close();
    }
  });
});

describe('pods/resize (in-place, 1.33 conditions)', () => {
  const res = (cpu: string, mem = '256Mi'): Record<string, unknown> => ({ requests: { cpu, memory: mem }, limits: { memory: '1Gi' } });
  const resize = (name: string, cpu: string, mem?: string): Promise<unknown> => core.patchNamespacedPodResize({ name, namespace: 'default', body: { spec: { containers: [{ name: 'app', resources: res(cpu, mem) }] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  const cond = async (name: string, type: string): Promise<{ status?: string; reason?: string; message?: string } | undefined> =>
    (await core.readNamespacedPod({ name, namespace: 'default' })).status?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { ...pod('rz', { nodeName: 'n2', resources: res('1') }), metadata: { name: 'rz' } } });
    await server.reconcile();
  });

  it('changes only resources through /resize, and the kubelet actuates it (PodResizeInProgress, then applied)', async () => {
    const from = server.store.currentRv;
    await resize('rz', '2');
    const p = await core.readNamespacedPod({ name: 'rz', namespace: 'default' });
    expect(p.spec?.containers[0]?.resources?.requests?.cpu).toBe('2');
    await server.reconcile();
    const progressed = server.store.changesSince(from).some((c) => c.resource === '/pods' && c.object.metadata.name === 'rz' && (c.object.status?.conditions ?? []).some((x: { type: string }) => x.type === 'PodResizeInProgress'));
    expect(progressed).toBe(true);
    const done = await core.readNamespacedPod({ name: 'rz', namespace: 'default' });
    expect(done.status?.containerStatuses?.[0]?.resources?.requests?.cpu).toBe('2');
    expect(done.status?.conditions?.some((c) => c.type === 'PodResizeInProgress' || c.type === 'PodResizePending')).toBe(false);
  });

  it('more than the node can ever hold: PodResizePending, reason Infeasible', async () => {
    await resize('rz', '8');
    await server.reconcile();
    const c = await cond('rz', 'PodResizePending');
    expect(c).toMatchObject({ status: 'True', reason: 'Infeasible' });
    expect(c?.message).toBe("Node didn't have enough capacity: cpu, requested: 8000, capacity: 4000");
  });

  it('more than is free now: Deferred, then applied once room is made', async () => {
    server.seed({ ...pod('hog', { nodeName: 'n2', resources: { requests: { cpu: '2500m' } } }), status: { phase: 'Running' } });
    await resize('rz', '3');
    await server.reconcile();
    expect(await cond('rz', 'PodResizePending')).toMatchObject({ reason: 'Deferred' });
    await core.deleteNamespacedPod({ name: 'hog', namespace: 'default', gracePeriodSeconds: 0 });
    await server.reconcile();
    expect(await cond('rz', 'PodResizePending')).toBeUndefined();
    const p = await core.readNamespacedPod({ name: 'rz', namespace: 'default' });
    expect(p.status?.containerStatuses?.[0]?.resources?.requests?.cpu).toBe('3');
  });

  it('a resize that would change the QoS class is 422', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('gq', { nodeName: 'n2', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }) });
    expect((await core.readNamespacedPod({ name: 'gq', namespace: 'default' })).status?.qosClass).toBe('Guaranteed');
    const s = await expectStatus(core.patchNamespacedPodResize({ name: 'gq', namespace: 'default', body: { spec: { containers: [{ name: 'app', resources: { requests: { cpu: '500m' } } }] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)), 422, 'Invalid');
    expect(s.message).toContain('Pod QOS Class may not change as a result of resizing');
  });

  it('resources cannot change through a plain pod update', async () => {
    const p = await core.readNamespacedPod({ name: 'rz', namespace: 'default' });
    p.spec!.containers[0]!.resources = res('1');
    await expectStatus(core.replaceNamespacedPod({ name: 'rz', namespace: 'default', body: p }), 422, 'Invalid');
  });
});

describe('pods/status', () => {
  it('PUT status changes the status only', async () => {
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('st') });
    const out = await core.replaceNamespacedPodStatus({ name: 'st', namespace: 'default', body: { ...p, spec: { ...p.spec!, nodeName: 'sneaky' }, status: { phase: 'Failed', reason: 'Evicted' } } });
    expect(out.status?.phase).toBe('Failed');
    expect(out.spec?.nodeName).toBeUndefined();
  });
});

describe('events, leases, priority classes, secrets, service accounts', () => {
  it('records core/v1 and events.k8s.io/v1 events and lists them by involvedObject', async () => {
    await core.createNamespacedEvent({ namespace: 'default', body: { metadata: { generateName: 'b1.' }, involvedObject: { kind: 'Pod', name: 'b1', namespace: 'default' }, reason: 'FailedScheduling', message: 'no node can run linux/s390x', type: 'Warning' } });
    const evs = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=b1,reason=FailedScheduling' });
    expect(evs.items.map((e) => e.message)).toEqual(['no node can run linux/s390x']);
    const e2 = await server.client(EventsV1Api).createNamespacedEvent({ namespace: 'default', body: { metadata: { name: 'x.1' }, eventTime: new Date(clock.now()), reportingController: 'polyarch', reportingInstance: 'p-0', action: 'Binding', reason: 'Scheduled', regarding: { kind: 'Pod', name: 'b1' } } });
    expect(e2.metadata?.uid).toBeDefined();
  });

  it('leases: create and renew with optimistic concurrency (leader election)', async () => {
    const coord = server.client(CoordinationV1Api);
    const l = await coord.createNamespacedLease({ namespace: 'kube-system', body: { metadata: { name: 'polyarch' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    const renewed = await coord.replaceNamespacedLease({ name: 'polyarch', namespace: 'kube-system', body: { ...l, spec: { ...l.spec, renewTime: new Date(clock.now()) } } });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(l.metadata?.resourceVersion));
    await expectStatus(coord.replaceNamespacedLease({ name: 'polyarch', namespace: 'kube-system', body: { ...l, spec: { ...l.spec, holderIdentity: 'b' } } }), 409, 'Conflict');
  });

  it('priorityClassName resolves to spec.priority; an unknown class is refused (403)', async () => {
    await server.client(SchedulingV1Api).createPriorityClass({ body: { metadata: { name: 'high' }, value: 1000 } });
    const p = await core.createNamespacedPod({ namespace: 'default', body: { ...pod('prio'), spec: { ...pod('prio').spec!, priorityClassName: 'high' } } });
    expect(p.spec?.priority).toBe(1000);
    await expectStatus(core.createNamespacedPod({ namespace: 'default', body: { ...pod('prio2'), spec: { ...pod('prio2').spec!, priorityClassName: 'nope' } } }), 403, 'Forbidden');
  });

  it('secrets and service accounts (imagePullSecrets) round-trip', async () => {
    const cfg = Buffer.from(JSON.stringify({ auths: { 'registry.local': { auth: Buffer.from('u:p').toString('base64') } } })).toString('base64');
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': cfg } } });
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'builder' }, imagePullSecrets: [{ name: 'pull' }] } });
    const sa = await core.readNamespacedServiceAccount({ name: 'builder', namespace: 'default' });
    expect(sa.imagePullSecrets).toEqual([{ name: 'pull' }]);
    const secrets = await core.listNamespacedSecret({ namespace: 'default', fieldSelector: 'type=kubernetes.io/dockerconfigjson' });
    expect(secrets.items.map((s) => s.data?.['.dockerconfigjson'])).toEqual([cfg]);
  });
});
