/** Cluster behaviour for end-to-end tests: ReplicaSet and Deployment controllers, garbage collection, node lifecycle, kubelet, admission. */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer, ManualClock, deny } from '../index.ts';
import { expectStatus, node, pod, until } from './helpers.ts';

const template = (app: string): { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string }[]; schedulerName: string } } => ({
  metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: `registry.local/${app}:1` }], schedulerName: 'polyarch' },
});

describe('workload controllers (running by themselves)', () => {
  let server: FakeApiServer;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  beforeAll(async () => {
    server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, garbageCollector: true } });
    core = server.client(CoreV1Api);
    apps = server.client(AppsV1Api);
  });
  afterAll(() => server.close());

  const podsOf = async (app: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

  it('a ReplicaSet keeps its replicas: generateName, ownerReferences, re-creation after a delete, scale down', async () => {
    const rs = await apps.createNamespacedReplicaSet({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('web') } } });
    await until(async () => (await podsOf('web')).length === 3, 'three pods');
    const pods = await podsOf('web');
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid, controller: true })]);
      expect(p.spec?.schedulerName).toBe('polyarch');
    }
    const victim = pods[0]?.metadata?.name ?? '';
    await core.deleteNamespacedPod({ name: victim, namespace: 'default' });
    await until(async () => { const now = await podsOf('web'); return now.length === 3 && !now.some((p) => p.metadata?.name === victim); }, 'a replacement');
    const scale = await apps.patchNamespacedReplicaSetScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=web' } });
    await until(async () => (await podsOf('web')).length === 1, 'scaled down to one');
    await until(async () => (await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' })).status?.replicas === 1, 'status.replicas');
  });

  it('deleting a ReplicaSet garbage-collects its pods', async () => {
    await apps.deleteNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    await until(async () => (await podsOf('web')).length === 0, 'pods collected');
  });

  it('a Deployment creates one ReplicaSet with the pod-template-hash, which creates the pods', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'api' }, spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: template('api') } } });
    await until(async () => (await podsOf('api')).length === 2, 'two pods');
    const rss = (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=api' })).items;
    expect(rss).toHaveLength(1);
    const hash = rss[0]?.metadata?.labels?.['pod-template-hash'] ?? '';
    expect(rss[0]?.metadata?.name).toBe(`api-${hash}`);
    expect(rss[0]?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: d.metadata?.uid });
    expect((await podsOf('api')).every((p) => p.metadata?.labels?.['pod-template-hash'] === hash)).toBe(true);
    await until(async () => (await apps.readNamespacedDeployment({ name: 'api', namespace: 'default' })).status?.replicas === 2, 'deployment status');
  });
});

describe('workload controllers on the shared model (src/core/kube-model/workload-controllers.ts; manual clock)', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  let server: FakeApiServer;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  beforeAll(async () => {
    server = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { replicaSet: true, statefulSet: true, kubelet: true } });
    core = server.client(CoreV1Api);
    apps = server.client(AppsV1Api);
    server.seed(node('n1'), node('n2'));
  });
  afterAll(() => server.close());

  const names = async (app: string): Promise<string[]> =>
    (await core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '').sort();
  const bind = (name: string, nodeName: string): Promise<unknown> => core.createNamespacedPodBinding({ name, namespace: 'default', body: { metadata: { name }, target: { kind: 'Node', name: nodeName } } });

  it('a StatefulSet (OrderedReady) creates db-0, and db-1 only once db-0 is Running and Ready; scale-down removes the highest ordinal', async () => {
    await apps.createNamespacedStatefulSet({ namespace: 'default', body: { metadata: { name: 'db' }, spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') } } });
    await server.reconcile();
    expect(await names('db')).toEqual(['db-0']);
    const p0 = await core.readNamespacedPod({ name: 'db-0', namespace: 'default' });
    expect(p0.metadata?.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(p0.spec).toMatchObject({ hostname: 'db-0', subdomain: 'db' });
    await bind('db-0', 'n1');
    await server.reconcile();
    expect(await names('db')).toEqual(['db-0', 'db-1']);
    await bind('db-1', 'n2');
    await server.reconcile();
    expect((await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'default' })).status).toMatchObject({ replicas: 2, readyReplicas: 2 });
    await apps.patchNamespacedStatefulSetScale({ name: 'db', namespace: 'default', body: { spec: { replicas: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await server.reconcile();
    expect(await names('db')).toEqual(['db-0']);
  });

  it('a ReplicaSet replaces a Failed pod and does not count it in status.replicas; scale-down takes the unassigned pod first', async () => {
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web') } } });
    await server.reconcile();
    const [a = '', b = ''] = await names('web');
    await bind(a, 'n1');
    await bind(b, 'n2');
    await server.reconcile();
    const failed = await core.readNamespacedPod({ name: b, namespace: 'default' });
    await core.replaceNamespacedPodStatus({ name: b, namespace: 'default', body: { ...failed, status: { ...failed.status, phase: 'Failed', reason: 'Evicted' } } });
    await server.reconcile();
    const now = await names('web');
    expect(now).toHaveLength(3);
    expect((await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' })).status?.replicas).toBe(2);
    const fresh = now.find((n) => n !== a && n !== b) ?? '';
    await apps.patchNamespacedReplicaSetScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await server.reconcile();
    const left = await names('web');
    expect(left).toContain(a);
    expect(left).not.toContain(fresh);
  });
});

describe('node lifecycle and the kubelet model (manual clock)', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  let server: FakeApiServer;
  let core: CoreV1Api;
  beforeAll(async () => {
    server = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { nodeLifecycle: true, kubelet: true }, nodeMonitorGracePeriodMs: 40_000 });
    core = server.client(CoreV1Api);
    server.seed(node('arm-1', 'arm64'), node('x86-1', 'amd64'));
    await core.createNamespacedPod({ namespace: 'default', body: pod('on-arm', { nodeName: 'arm-1' }) });
    await server.reconcile();
  });
  afterAll(() => server.close());

  const ready = async (name: string): Promise<string | undefined> => (await core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const taints = async (name: string): Promise<string[]> => ((await core.readNode({ name })).spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);

  it('kubelets renew their Lease in kube-node-lease and keep nodes Ready', async () => {
    const lease = server.get('coordination.k8s.io/v1', 'Lease', 'arm-1', 'kube-node-lease');
    expect(lease?.spec).toMatchObject({ holderIdentity: 'arm-1', leaseDurationSeconds: 40 });
    clock.advance(60_000);
    await server.reconcile();
    expect(await ready('arm-1')).toBe('True');
    expect((await core.readNamespacedPod({ name: 'on-arm', namespace: 'default' })).status?.phase).toBe('Running');
  });

  it('a node whose Lease is not renewed for the grace period goes Ready=Unknown with the unreachable taints; its pods go not Ready', async () => {
    server.controllers.stopKubelet('arm-1');
    clock.advance(30_000);
    await server.reconcile();
    expect(await ready('arm-1')).toBe('True'); // within the grace period
    clock.advance(15_000);
    await server.reconcile();
    const n = await core.readNode({ name: 'arm-1' });
    const r = n.status?.conditions?.find((c) => c.type === 'Ready');
    expect(r).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(await taints('arm-1')).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    expect(n.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded).toBeDefined();
    expect(await ready('x86-1')).toBe('True');
    const p = await core.readNamespacedPod({ name: 'on-arm', namespace: 'default' });
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('taint-based eviction: pods tolerate unreachable for 300 s (DefaultTolerationSeconds), then are deleted', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('tolerant', { nodeName: 'arm-1' }) });
    const forever = pod('forever', { nodeName: 'arm-1' });
    forever.spec!.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }];
    await core.createNamespacedPod({ namespace: 'default', body: forever });
    await server.reconcile();
    expect((await core.readNamespacedPod({ name: 'tolerant', namespace: 'default' })).metadata?.deletionTimestamp).toBeUndefined();
    clock.advance(300_000);
    await server.reconcile();
    expect((await core.readNamespacedPod({ name: 'tolerant', namespace: 'default' })).metadata?.deletionTimestamp).toBeDefined();
    expect((await core.readNamespacedPod({ name: 'forever', namespace: 'default' })).metadata?.deletionTimestamp).toBeUndefined();
    await core.deleteNamespacedPod({ name: 'forever', namespace: 'default', gracePeriodSeconds: 0 });
    await core.deleteNamespacedPod({ name: 'tolerant', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('a pod on the dead node stays Terminating after a graceful delete (no kubelet to finish it)', async () => {
    await core.deleteNamespacedPod({ name: 'on-arm', namespace: 'default', gracePeriodSeconds: 5 });
    clock.advance(60_000);
    await server.reconcile();
    expect((await core.readNamespacedPod({ name: 'on-arm', namespace: 'default' })).metadata?.deletionTimestamp).toBeDefined();
  });

  it('when the kubelet comes back, the node is Ready and the taints go; the terminating pod finishes', async () => {
    server.controllers.startKubelet('arm-1');
    await server.reconcile();
    expect(await ready('arm-1')).toBe('True');
    expect(await taints('arm-1')).toEqual([]);
    await expectStatus(core.readNamespacedPod({ name: 'on-arm', namespace: 'default' }), 404, 'NotFound');
  });

  it('pods bound to a node that is deleted are garbage-collected', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('orphan', { nodeName: 'x86-1' }) });
    await core.deleteNode({ name: 'x86-1' });
    await server.reconcile();
    await expectStatus(core.readNamespacedPod({ name: 'orphan', namespace: 'default' }), 404, 'NotFound');
  });

  it('containerRuntime decides per container: a pull failure waits with ErrImagePull', async () => {
    server.controllers.containerRuntime = (_pod, c) => (c.image.endsWith('-missing') ? { kind: 'no-matching-manifest' } : { kind: 'runs' });
    await core.createNamespacedPod({ namespace: 'default', body: { ...pod('no-variant', { nodeName: 'arm-1' }), spec: { nodeName: 'arm-1', containers: [{ name: 'app', image: 'registry.local/app:1-missing' }] } } });
    await server.reconcile();
    const p = await core.readNamespacedPod({ name: 'no-variant', namespace: 'default' });
    expect(p.status?.containerStatuses?.[0]?.state?.waiting).toEqual({
      reason: 'ErrImagePull',
      message: 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.local/app:1-missing": no match for platform in manifest: not found',
    });
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    server.controllers.containerRuntime = undefined;
  });
});

describe('the kubelet model on a lying image (the index says arm64, the binary is amd64)', () => {
  const images = { 'registry.local/liar:1': { platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' }, entrypoint: '/usr/bin/liar' } };
  const liar = (name: string, nodeName: string, policy?: string): V1Pod => ({
    ...pod(name, { nodeName }),
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.local/liar:1', ...(policy ? { terminationMessagePolicy: policy } : {}) }] },
  });

  it('on arm64 the container exits 255 with exec format error and crash-loops, restartCount growing with the 10 s doubling back-off', async () => {
    const clock = new ManualClock();
    const s = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { kubelet: true }, images });
    try {
      s.seed(node('arm', 'arm64'), node('x86', 'amd64'));
      const core = s.client(CoreV1Api);
      await core.createNamespacedPod({ namespace: 'default', body: liar('on-arm', 'arm') });
      await core.createNamespacedPod({ namespace: 'default', body: liar('on-x86', 'x86') });
      await s.reconcile();
      const status = async (name: string) => (await core.readNamespacedPod({ name, namespace: 'default' })).status?.containerStatuses?.[0];
      expect((await status('on-x86'))?.state?.running).toBeDefined();
      let st = await status('on-arm');
      const uid = s.get('v1', 'Pod', 'on-arm')?.metadata.uid;
      expect(st).toMatchObject({
        ready: false, restartCount: 0,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=app pod=on-arm_default(${uid})` } },
        lastState: { terminated: { exitCode: 255, reason: 'Error' } },
      });
      expect(st?.lastState?.terminated?.message).toBeUndefined();
      const restarts: number[] = [];
      for (const step of [10_000, 20_000, 40_000, 80_000]) {
        clock.advance(step);
        await s.reconcile();
        st = await status('on-arm');
        restarts.push(st?.restartCount ?? -1);
      }
      expect(restarts).toEqual([1, 2, 3, 4]);
      expect(st?.state?.waiting?.message).toMatch(/^back-off 2m40s restarting failed container=app /);
      // What kubectl logs shows: runc init's line.
      const log = await fetch(`${s.url}/api/v1/namespaces/default/pods/on-arm/log?tailLines=10`);
      expect(log.status).toBe(200);
      expect(await log.text()).toBe('exec /usr/bin/liar: exec format error\n');
      const events = s.list('v1', 'Event', 'default').filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'on-arm');
      expect(events.map((e) => (e as { reason?: string }).reason)).toContain('BackOff');
    } finally {
      await s.close();
    }
  });

  it('with terminationMessagePolicy FallbackToLogsOnError the log line is the terminated message', async () => {
    const s = await FakeApiServer.start({ controllerAutoRun: false, controllers: { kubelet: true }, images });
    try {
      s.seed(node('arm', 'arm64'));
      const core = s.client(CoreV1Api);
      await core.createNamespacedPod({ namespace: 'default', body: liar('fallback', 'arm', 'FallbackToLogsOnError') });
      await s.reconcile();
      const st = (await core.readNamespacedPod({ name: 'fallback', namespace: 'default' })).status?.containerStatuses?.[0];
      expect(st?.lastState?.terminated).toMatchObject({ exitCode: 255, reason: 'Error', message: 'exec /usr/bin/liar: exec format error\n' });
    } finally {
      await s.close();
    }
  });

  it('refuses a declared image whose binaries name a platform it does not list', async () => {
    await expect(FakeApiServer.start({ images: { 'r/x:1': { platforms: ['linux/amd64'], binaries: { 'linux/arm64': 'linux/amd64' } } } }))
      .rejects.toThrow('images.r/x:1.binaries.linux/arm64: not one of the image\'s platforms');
  });
});

describe('kubelet options for large or fast tests', () => {
  it('kubeletLeases: false heartbeats in memory (no Lease writes); a stopped kubelet still makes its node Unknown', async () => {
    const clock = new ManualClock();
    const s = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { kubelet: true, nodeLifecycle: true }, kubeletLeases: false, nodeMonitorGracePeriodMs: 2_000 });
    try {
      s.seed(node('a'), node('b'));
      await s.reconcile();
      const rv = s.store.currentRv;
      clock.advance(1_000);
      await s.reconcile();
      expect(s.store.currentRv).toBe(rv); // live nodes cost no writes
      expect(s.list('coordination.k8s.io/v1', 'Lease')).toEqual([]);
      s.controllers.stopKubelet('a');
      clock.advance(2_500);
      await s.reconcile();
      const ready = (n: string): string => (s.get('v1', 'Node', n, '')?.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'Ready')?.status ?? '';
      expect(ready('a')).toBe('Unknown');
      expect(ready('b')).toBe('True');
    } finally {
      await s.close();
    }
  });

  it('podTerminationCapMs shortens how long the kubelet takes to finish a graceful deletion', async () => {
    const clock = new ManualClock();
    const s = await FakeApiServer.start({ clock, controllerAutoRun: false, controllers: { kubelet: true }, podTerminationCapMs: 1_000 });
    try {
      s.seed(node('a'));
      const core = s.client(CoreV1Api);
      await core.createNamespacedPod({ namespace: 'default', body: pod('quick', { nodeName: 'a' }) });
      await core.deleteNamespacedPod({ name: 'quick', namespace: 'default' });
      expect(s.get('v1', 'Pod', 'quick')?.metadata.deletionGracePeriodSeconds).toBe(30);
      clock.advance(1_000);
      await s.reconcile();
      expect(s.get('v1', 'Pod', 'quick')).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});

describe('admission chain (the extension point for mutating webhooks)', () => {
  let server: FakeApiServer;
  let core: CoreV1Api;
  beforeAll(async () => {
    server = await FakeApiServer.start({ controllers: { replicaSet: true } });
    core = server.client(CoreV1Api);
  });
  afterAll(() => server.close());

  it('a mutating plugin changes pods on CREATE, including pods a controller creates; a denial is a 403 Status', async () => {
    const seen: string[] = [];
    const off = server.admission.register({
      name: 'polyarch-webhook',
      mutate: (req) => {
        seen.push(`${req.operation} ${req.resource.plural}${req.subResource ? `/${req.subResource}` : ''}`);
        if (req.operation !== 'CREATE' || req.resource.kind !== 'Pod' || req.subResource || !req.object) return;
        if (req.object.metadata.labels?.deny === 'yes') throw deny('polyarch-webhook', 'no platform can run this pod');
        const o = req.object;
        o.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }] }] } } };
        return o;
      },
    });
    const p = await core.createNamespacedPod({ namespace: 'default', body: pod('mutated') });
    expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values).toEqual(['amd64', 'arm64']);
    const s = await expectStatus(core.createNamespacedPod({ namespace: 'default', body: pod('refused', { labels: { deny: 'yes' } }) }), 403, 'Forbidden');
    expect(s.message).toBe('admission webhook "polyarch-webhook" denied the request: no platform can run this pod');
    await server.client(AppsV1Api).createNamespacedReplicaSet({ namespace: 'default', body: { metadata: { name: 'ctl' }, spec: { replicas: 1, selector: { matchLabels: { app: 'ctl' } }, template: template('ctl') } } });
    await until(async () => (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ctl' })).items.length === 1, 'controller pod');
    const cp = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ctl' })).items[0];
    expect(cp?.spec?.affinity?.nodeAffinity).toBeDefined();
    expect(seen).toContain('CREATE replicasets');
    off();
    expect((await core.createNamespacedPod({ namespace: 'default', body: pod('plain') })).spec?.affinity).toBeUndefined();
  });
});
