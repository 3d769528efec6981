// End to end: the fake API server calls polyarch's webhook on pod creation as
// kube-apiserver does (deploy/'s MutatingWebhookConfiguration: rules, namespaceSelector,
// objectSelector, timeoutSeconds, failurePolicy; TLS with the caBundle of `polyarch
// certs`), applies the patch, and the gate controller finishes gated pods through the
// Kubernetes adapters and the official client.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster } from '../src/adapters/kube/cluster.ts';
import { KubePodJsonPatcher } from '../src/adapters/kube/pod-json-patcher.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { GateController } from '../src/app/gate-controller.ts';
import { run } from '../src/cli/index.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { startServer, type JsonRoute, type RunningServer } from '../src/server/http-server.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { webhookRoute } from '../src/server/webhook.ts';
import { extenderRoutes } from '../src/server/extender.ts';
import { Extender } from '../src/app/extender.ts';
import { Agent, fetch as undiciFetch } from 'undici';
import { FakeApiServer } from '../fake-apiserver/index.ts';
import { allowGatedSchedulingDirectives } from './support/apiserver-gated-directives.ts';
import { registerMutatingWebhooks, type MutatingWebhookConfiguration, type WebhookCall } from './support/apiserver-webhooks.ts';
import { MemoryResolver } from './support/memory-resolver.ts';
import { node } from './kube/helpers.ts';
import { waitFor } from './support/wait.ts';

const ARCH = 'kubernetes.io/arch';
let api: FakeApiServer;
let webhook: RunningServer;
let dir: string;
let calls: WebhookCall[];
let unregister: () => void;
let core: CoreV1Api;
let kubeCluster: KubeCluster;
let restoreDirectives: () => void;
const resolver = new MemoryResolver()
  .add('example.com/web:1.0', ['linux/amd64', 'linux/arm64'])
  .add('example.com/tools:2', ['linux/arm64', 'linux/riscv64'], 'index', false)
  .add('example.com/tagged:3', ['linux/amd64', 'linux/riscv64'], 'tag-convention')
  .add('example.com/stuck:1', ['linux/arm64'], 'index', false);

function configuration(caBundle: string, overrides: Partial<MutatingWebhookConfiguration['webhooks'][number]> = {}): MutatingWebhookConfiguration {
  const text = readFileSync(new URL('../deploy/admission/ca-bundle/mutating-webhook.yaml', import.meta.url), 'utf8').replace('caBundle: CA_BUNDLE', `caBundle: ${caBundle}`);
  const config = parse(text) as MutatingWebhookConfiguration;
  config.webhooks = config.webhooks.map((w) => ({ ...w, ...overrides }));
  return config;
}

function pod(name: string, images: Record<string, string>, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: Object.entries(images).map(([n, image]) => ({ name: n, image })) } };
}

const requiredArch = (p: V1Pod): string[] | undefined =>
  p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.find((e) => e.key === ARCH)?.values;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyarch-e2e-'));
  expect(await run(['certs', '--service', 'polyarch-admission', '--namespace', 'polyarch-system', '--out', dir, '--output', 'json'])).toBe(0);
  const metrics = createMetrics({ defaultMetrics: false });
  const routes: JsonRoute[] = [webhookRoute({ resolver, preferences: [], skipNamespaces: ['kube-system', 'polyarch-system'] }, metrics, silentLogger)];
  webhook = await startServer({
    listen: '127.0.0.1:0', tlsCertFile: join(dir, 'tls.crt'), tlsPrivateKeyFile: join(dir, 'tls.key'), bodyLimit: 1 << 20, metrics, log: silentLogger,
    routes,
  });
  api = await FakeApiServer.start();
  // The extender on the same server, on the Kubernetes adapters (informers, pods/binding).
  kubeCluster = new KubeCluster({ kc: api.kubeConfig(), clock: systemClock, log: silentLogger });
  const extender = new Extender({ resolver, cluster: kubeCluster, clock: systemClock, deadlineMs: 2000, preferences: [] });
  routes.push(...extenderRoutes(extender, metrics, silentLogger));
  // Kubernetes >= 1.30 lets a gated pod's node affinity be narrowed (KEP-3838); the fake does not model it yet.
  restoreDirectives = allowGatedSchedulingDirectives(api);
  api.seed(node('a1', 'amd64'), node('a2', 'amd64'), node('r1', 'arm64'), node('v1', 'riscv64'));
  core = api.client(CoreV1Api);
  for (const name of ['shop', 'polyarch-system', 'legacy']) await core.createNamespace({ body: { metadata: { name, labels: name === 'legacy' ? { 'polyarch.io/inject': 'false' } : {} } } });
  await kubeCluster.start();
  const caBundle = (await readFile(join(dir, 'ca.crt'))).toString('base64');
  ({ calls, unregister } = registerMutatingWebhooks(api, configuration(caBundle), {
    resolveService: (s) => `https://127.0.0.1:${webhook.port}${s.path ?? '/'}`,
  }));
});
afterAll(async () => {
  unregister();
  await kubeCluster.stop();
  await webhook.close();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe('webhook called by the API server', () => {
  it('mutates a pod created through the API: the stored pod carries the affinity and the originals', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('web', { web: 'example.com/web:1.0' }) });
    expect(requiredArch(created)).toEqual(['amd64', 'arm64']);
    const stored = await core.readNamespacedPod({ namespace: 'shop', name: 'web' });
    expect(requiredArch(stored)).toEqual(['amd64', 'arm64']);
    expect(stored.metadata?.annotations?.['polyarch.io/source-images']).toBe('{"web":"example.com/web:1.0"}');
    expect(calls.at(-1)).toMatchObject({ object: 'shop/web', outcome: 'patched' });
  });

  it('is not called for polyarch\'s namespace, an opted-out namespace or an opted-out pod', async () => {
    const before = calls.length;
    const a = await core.createNamespacedPod({ namespace: 'polyarch-system', body: pod('self', { web: 'example.com/web:1.0' }) });
    const b = await core.createNamespacedPod({ namespace: 'legacy', body: pod('old', { web: 'example.com/web:1.0' }) });
    const c = await core.createNamespacedPod({ namespace: 'shop', body: pod('mine', { web: 'example.com/web:1.0' }, { 'polyarch.io/inject': 'false' }) });
    for (const p of [a, b, c]) expect(p.spec?.affinity).toBeUndefined();
    expect(calls.length).toBe(before);
  });

  it('gates a pod on a cache miss; the gate controller lifts it with the affinity written', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('tools', { tools: 'example.com/tools:2' }) });
    expect(created.spec?.schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
    const tagged = await core.createNamespacedPod({ namespace: 'shop', body: pod('tagged', { app: 'example.com/tagged:3' }) });
    expect(tagged.spec?.schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);

    const cluster = kubeCluster;
    {
      const controller = new GateController({
        cluster: Object.assign(new KubePodJsonPatcher(api.kubeConfig(), cluster), { listNodes: () => cluster.listNodes(), recordEvent: cluster.recordEvent.bind(cluster) }),
        resolver, clock: systemClock, preferences: [{ architecture: 'amd64', weight: 100 }], deadlineMs: 2000, releaseAfterMs: 0, intervalMs: 100,
      });
      // The informer has to see both pods first.
      await waitFor(async () => {
        const names = (await cluster.listPods({ namespace: 'shop' })).map((p) => p.metadata.name ?? '');
        return names.includes('tools') && names.includes('tagged');
      }, { what: 'the informer to show pods shop/tools and shop/tagged' });
      const results = await controller.runOnce();
      expect(results.map((r) => [r.pod, r.outcome, r.outcome === 'failed' ? r.reason : '']).sort()).toEqual([['shop/tagged', 'lifted', ''], ['shop/tools', 'lifted', '']]);
    }
    const tools = await core.readNamespacedPod({ namespace: 'shop', name: 'tools' });
    expect(tools.spec?.schedulingGates ?? []).toEqual([]);
    expect(requiredArch(tools)).toEqual(['arm64', 'riscv64']);
    const t = await core.readNamespacedPod({ namespace: 'shop', name: 'tagged' });
    expect(t.spec?.schedulingGates ?? []).toEqual([]);
    expect(requiredArch(t)).toEqual(['amd64']); // the placement core, with amd64 preferred
    expect(t.spec?.containers[0]?.image).toMatch(/^example\.com\/tagged:3-amd64@sha256:/);
  });

  it('a gate the API server will not let it lift: the pod keeps it, with one Warning event and a true decision', async () => {
    // An API server without KEP-3838 (before 1.27): a gated pod's affinity may not change.
    restoreDirectives();
    try {
      const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('stuck', { app: 'example.com/stuck:1' }) });
      expect(created.spec?.schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
      const cluster = kubeCluster;
      const controller = new GateController({
        cluster: Object.assign(new KubePodJsonPatcher(api.kubeConfig(), cluster), { listNodes: () => cluster.listNodes(), recordEvent: cluster.recordEvent.bind(cluster) }),
        resolver, clock: systemClock, preferences: [], deadlineMs: 2000, releaseAfterMs: 0, intervalMs: 100,
      });
      const stuck = async (): Promise<V1Pod | undefined> => (await cluster.listPods({ namespace: 'shop' })).find((p) => p.metadata.name === 'stuck') as V1Pod | undefined;
      await waitFor(() => stuck(), { what: 'the pod shop/stuck in the informer' });
      const first = (await controller.runOnce()).find((r) => r.pod === 'shop/stuck');
      expect(first).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^gate kept: the API server refused to lift it \(gate: required linux\/\{arm64\}.*\): .*Forbidden/) });
      const stored = await core.readNamespacedPod({ namespace: 'shop', name: 'stuck' });
      expect(stored.spec?.schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
      expect(stored.metadata?.annotations?.['polyarch.io/decision']).toBe(first?.reason);
      // The informer sees the annotation; the next passes write and record nothing more.
      await waitFor(async () => (await stuck())?.metadata?.annotations?.['polyarch.io/decision'] === first?.reason, { what: 'the informer to show the decision annotation on shop/stuck' });
      await controller.runOnce();
      await controller.runOnce();
      const warnings = api.list('v1', 'Event', 'shop').filter((e) => (e['involvedObject'] as { name?: string } | undefined)?.name === 'stuck');
      expect(warnings.map((e) => [e['type'], e['reason']])).toEqual([['Warning', 'PlatformGateNotLifted']]);
    } finally {
      restoreDirectives = allowGatedSchedulingDirectives(api);
    }
  });

  it('extender over HTTPS on the Kubernetes adapters: filter by name from the informer cache, bind writes the variant and binds', async () => {
    await core.createNamespacedPod({ namespace: 'shop', body: pod('bound', { web: 'example.com/web:1.0' }) });
    const stored = await core.readNamespacedPod({ namespace: 'shop', name: 'bound' });
    // The informer has to see the pod before bind reads it from the cache.
    await waitFor(() => kubeCluster.getPod({ namespace: 'shop', name: 'bound' }), { what: 'the informer to show pod shop/bound' });
    const dispatcher = new Agent({ connect: { ca: await readFile(join(dir, 'ca.crt'), 'utf8'), servername: 'polyarch-admission.polyarch-system.svc' } });
    const post = async (verb: string, body: unknown): Promise<Record<string, unknown>> =>
      (await (await undiciFetch(`https://127.0.0.1:${webhook.port}/extender/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher })).json()) as Record<string, unknown>;
    const filter = await post('filter', { Pod: stored, Nodes: null, NodeNames: ['a1', 'a2', 'r1', 'v1'] });
    expect(filter).toMatchObject({ NodeNames: ['a1', 'a2', 'r1'], Error: '' });
    expect(Object.keys(filter.FailedAndUnresolvableNodes as object)).toEqual(['v1']);
    const bind = await post('bind', { PodName: 'bound', PodNamespace: 'shop', PodUID: stored.metadata?.uid, Node: 'r1' });
    expect(bind).toEqual({ Error: '' });
    const after = await core.readNamespacedPod({ namespace: 'shop', name: 'bound' });
    expect(after.spec?.nodeName).toBe('r1');
    const arm = resolver.table.get('example.com/web:1.0')!.platforms.find((p) => p.platform.architecture === 'arm64')!.image;
    expect(after.spec?.containers[0]?.image).toBe(arm);
    expect(after.metadata?.annotations?.['polyarch.io/platform']).toBe('linux/arm64');
  });

  it('failurePolicy: Ignore admits the pod unchanged when the webhook is down; Fail rejects it', async () => {
    unregister();
    const caBundle = (await readFile(join(dir, 'ca.crt'))).toString('base64');
    const down = { resolveService: () => 'https://127.0.0.1:1/mutate-pods' };
    let reg = registerMutatingWebhooks(api, configuration(caBundle, { failurePolicy: 'Ignore', timeoutSeconds: 2 }), down);
    const ignored = await core.createNamespacedPod({ namespace: 'shop', body: pod('open', { web: 'example.com/web:1.0' }) });
    expect(ignored.spec?.affinity).toBeUndefined();
    expect(reg.calls.at(-1)?.outcome).toBe('failed-open');
    reg.unregister();
    reg = registerMutatingWebhooks(api, configuration(caBundle, { failurePolicy: 'Fail', timeoutSeconds: 2 }), down);
    await expect(core.createNamespacedPod({ namespace: 'shop', body: pod('closed', { web: 'example.com/web:1.0' }) })).rejects.toMatchObject({ code: 500 });
    expect(reg.calls.at(-1)?.outcome).toBe('failed-closed');
    reg.unregister();
    ({ calls, unregister } = registerMutatingWebhooks(api, configuration(caBundle), { resolveService: (s) => `https://127.0.0.1:${webhook.port}${s.path ?? '/'}` }));
  });
});
