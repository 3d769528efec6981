/** Conformance: JSON patch, merge patch and strategic merge patch, through client-node and raw HTTP. */
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';
import { expectStatus, node, pod, raw } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;
const as = (type: string): ReturnType<typeof setHeaderOptions> => setHeaderOptions('Content-Type', type);

beforeAll(async () => {
  server = await FakeApiServer.start({ controllerAutoRun: false });
  core = server.client(CoreV1Api);
  const p = pod('multi', { labels: { app: 'm', drop: 'me' } });
  p.spec!.containers.push({ name: 'sidecar', image: 'registry.local/side:2', env: [{ name: 'A', value: '1' }] });
  p.metadata!.annotations = { keep: 'yes' };
  await core.createNamespacedPod({ namespace: 'default', body: p });
  await core.createNode({ body: node('pn') });
});
afterAll(() => server.close());

describe('application/json-patch+json (RFC 6902)', () => {
  it('applies add, replace, remove and test operations', async () => {
    const out = await core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: [
      { op: 'test', path: '/spec/containers/0/name', value: 'app' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'registry.local/app:1.0@sha256:' + 'a'.repeat(64) },
      { op: 'add', path: '/metadata/annotations/polyarch.io~1platform', value: 'linux/arm64' },
      { op: 'remove', path: '/metadata/labels/drop' },
    ] }, as(PatchStrategy.JsonPatch));
    expect(out.spec?.containers[0]?.image).toContain('@sha256:');
    expect(out.metadata?.annotations).toEqual({ keep: 'yes', 'polyarch.io/platform': 'linux/arm64' });
    expect(out.metadata?.labels).toEqual({ app: 'm' });
  });

  it('a failed test operation or a missing path is 422 and changes nothing', async () => {
    const rv = (await core.readNamespacedPod({ name: 'multi', namespace: 'default' })).metadata?.resourceVersion;
    await expectStatus(core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: [{ op: 'test', path: '/metadata/name', value: 'other' }] }, as(PatchStrategy.JsonPatch)), 422, 'Invalid');
    await expectStatus(core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: [{ op: 'remove', path: '/metadata/labels/absent' }] }, as(PatchStrategy.JsonPatch)), 422, 'Invalid');
    expect((await core.readNamespacedPod({ name: 'multi', namespace: 'default' })).metadata?.resourceVersion).toBe(rv);
  });
});

describe('application/merge-patch+json (RFC 7386)', () => {
  it('merges maps, deletes with null and replaces lists', async () => {
    const out = await core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: {
      metadata: { labels: { tier: 'x' }, annotations: { keep: null } },
    } }, as(PatchStrategy.MergePatch));
    expect(out.metadata?.labels).toEqual({ app: 'm', tier: 'x' });
    expect(out.metadata?.annotations).toEqual({ 'polyarch.io/platform': 'linux/arm64' });
    const n = await core.patchNode({ name: 'pn', body: { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } } }, as(PatchStrategy.MergePatch));
    const n2 = await core.patchNode({ name: 'pn', body: { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } } }, as(PatchStrategy.MergePatch));
    expect(n.spec?.taints?.map((t) => t.key)).toEqual(['a']);
    expect(n2.spec?.taints?.map((t) => t.key)).toEqual(['b']);
  });

  it('a patch carrying a stale metadata.resourceVersion is 409 Conflict', async () => {
    await expectStatus(core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: { metadata: { resourceVersion: '2', labels: { z: '1' } } } }, as(PatchStrategy.MergePatch)), 409, 'Conflict');
  });
});

describe('application/strategic-merge-patch+json', () => {
  it('merges containers by name: changes one image, keeps the other container', async () => {
    const out = await core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: {
      spec: { containers: [{ name: 'sidecar', image: 'registry.local/side:2-arm64' }] },
    } }, as(PatchStrategy.StrategicMergePatch));
    expect(out.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      expect.stringMatching(/^app=registry.local\/app:1.0@sha256:/),
      'sidecar=registry.local/side:2-arm64',
    ]);
    expect(out.spec?.containers[1]?.env).toEqual([{ name: 'A', value: '1' }]);
  });

  it('replaces tolerations whole (they have no patch strategy in the API types), adding to the existing ones only', async () => {
    const cur = await core.readNamespacedPod({ name: 'multi', namespace: 'default' });
    const extra = { key: 'polyarch.io/arch', operator: 'Exists', effect: 'NoSchedule' };
    const out = await core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: { spec: { tolerations: [...(cur.spec?.tolerations ?? []), extra] } } }, as(PatchStrategy.StrategicMergePatch));
    expect(out.spec?.tolerations).toHaveLength((cur.spec?.tolerations ?? []).length + 1);
    // Sending only the new toleration would drop existing ones: a pod update refuses that.
    await expectStatus(core.patchNamespacedPod({ name: 'multi', namespace: 'default', body: { spec: { tolerations: [extra] } } }, as(PatchStrategy.StrategicMergePatch)), 422, 'Invalid');
  });

  it('merges status conditions by type through pods/status', async () => {
    await core.patchNamespacedPodStatus({ name: 'multi', namespace: 'default', body: { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } } }, as(PatchStrategy.StrategicMergePatch));
    const out = await core.patchNamespacedPodStatus({ name: 'multi', namespace: 'default', body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] } } }, as(PatchStrategy.StrategicMergePatch));
    expect(out.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=False', 'Initialized=True', 'PodScheduled=False']);
    expect(out.status?.conditions?.[2]?.lastTransitionTime).toBeDefined();
    const again = await core.patchNamespacedPodStatus({ name: 'multi', namespace: 'default', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } }, as(PatchStrategy.StrategicMergePatch));
    expect(again.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'Initialized=True', 'PodScheduled=False']);
  });

  it('honours $patch: delete on a list element and on a map', async () => {
    const sm = as(PatchStrategy.StrategicMergePatch);
    await core.patchNodeStatus({ name: 'pn', body: { status: { conditions: [{ type: 'DiskPressure', status: 'False' }] } } }, sm);
    const out = await core.patchNodeStatus({ name: 'pn', body: { status: { conditions: [{ type: 'DiskPressure', $patch: 'delete' }] } } }, sm);
    expect(out.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    const n = await core.patchNode({ name: 'pn', body: { metadata: { labels: { $patch: 'replace', only: 'this' } } } }, sm);
    expect(n.metadata?.labels).toEqual({ only: 'this' });
  });

  it('is not supported for custom resources: 415 UnsupportedMediaType', async () => {
    const co = server.client(CustomObjectsApi);
    await co.createNamespacedCustomObject({ group: 'polyarch.io', version: 'v1alpha1', namespace: 'default', plural: 'scalingpolicies', body: { apiVersion: 'polyarch.io/v1alpha1', kind: 'ScalingPolicy', metadata: { name: 'sp' }, spec: { window: 60 } } });
    const r = await raw(server.url, 'PATCH', '/apis/polyarch.io/v1alpha1/namespaces/default/scalingpolicies/sp', { spec: { window: 30 } }, 'application/strategic-merge-patch+json');
    expect(r.status).toBe(415);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    const m = await raw(server.url, 'PATCH', '/apis/polyarch.io/v1alpha1/namespaces/default/scalingpolicies/sp', { spec: { window: 30 } }, 'application/merge-patch+json');
    expect(m.status).toBe(200);
    expect(m.json.spec).toEqual({ window: 30 });
  });

  it('an unknown patch content type is 415', async () => {
    const r = await raw(server.url, 'PATCH', '/api/v1/nodes/pn', { spec: {} }, 'text/plain');
    expect(r.status).toBe(415);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
  });
});
