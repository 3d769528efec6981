// The mutating webhook over real HTTP: each answer is checked against the AdmissionReview
// schema, its patch applied with a JSON Patch library, and the resulting pod inspected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateController } from '../src/app/gate-controller.ts';
import type { Pod } from '../src/core/k8s/types.ts';
import { startServer, type RunningServer } from '../src/server/http-server.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { webhookRoute } from '../src/server/webhook.ts';
import { makeNode } from './builders/node.ts';
import { makePod } from './builders/pod.ts';
import { admissionReview, admissionReviewResponse, applyResponse, decodePatch, type AdmissionReviewResponse } from './support/admission-review.ts';
import { MemoryPodCluster } from './support/memory-pod-cluster.ts';
import { MemoryResolver } from './support/memory-resolver.ts';
import { realClock } from './support/real-clock.ts';

const ARCH = 'kubernetes.io/arch';
const OS = 'kubernetes.io/os';
const REQ = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREF = 'preferredDuringSchedulingIgnoredDuringExecution';

const resolver = new MemoryResolver()
  .add('example.com/web:1.0', ['linux/amd64', 'linux/arm64', 'linux/riscv64'])
  .add('example.com/proxy:2.0', ['linux/amd64', 'linux/arm64', 'linux/s390x'])
  .add('example.com/init-amd64-only:1', ['linux/amd64'], 'manifest')
  .add('example.com/tagged:1.4', ['linux/amd64', 'linux/arm64', 'linux/loong64'], 'tag-convention')
  .add('example.com/cold:3', ['linux/arm64', 'linux/amd64'], 'index', false);
const preferences = [{ architecture: 'arm64', weight: 80 }, { architecture: 'riscv64', weight: 10 }];
const metrics = createMetrics({ defaultMetrics: false });
let server: RunningServer;

beforeAll(async () => {
  const route = webhookRoute({ resolver, preferences, skipNamespaces: ['kube-system', 'polyarch-system'] }, metrics, silentLogger);
  server = await startServer({ listen: '127.0.0.1:0', routes: [route], metrics, log: silentLogger, bodyLimit: 64 * 1024 });
});
afterAll(() => server.close());

async function call(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; review: AdmissionReviewResponse }> {
  const res = await fetch(`${server.url}/mutate-pods`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const json: unknown = await res.json();
  return { status: res.status, review: admissionReviewResponse.parse(json) };
}

/** Sends the pod, checks the answer, applies the patch: the pod as it would be stored. */
async function admit(pod: Pod, namespace = 'default'): Promise<{ pod: Pod; review: AdmissionReviewResponse }> {
  const body = admissionReview(pod, { namespace });
  const { status, review } = await call(body);
  expect(status).toBe(200);
  expect(review.response.uid).toBe((body.request as { uid: string }).uid);
  expect(review.response.allowed).toBe(true);
  return { pod: applyResponse(pod, review), review };
}

const terms = (p: Pod) => p.spec.affinity?.nodeAffinity?.[REQ]?.nodeSelectorTerms ?? [];
const archValues = (t: { matchExpressions?: readonly { key: string; values?: readonly string[] | null }[] | null }) => t.matchExpressions?.find((e) => e.key === ARCH)?.values;

describe('mutating webhook', () => {
  it('adds a required affinity on arch and os for the platforms every container has, preferred terms and the originals', async () => {
    const pod = makePod('web').image('example.com/web:1.0', 'web').image('example.com/proxy:2.0', 'proxy').build();
    const { pod: out, review } = await admit(pod);
    expect(terms(out)).toEqual([{ matchExpressions: [{ key: ARCH, operator: 'In', values: ['amd64', 'arm64'] }, { key: OS, operator: 'In', values: ['linux'] }] }]);
    // riscv64 is preferred by policy but the proxy has no riscv64 image: no term for it.
    expect(out.spec.affinity?.nodeAffinity?.[PREF]).toEqual([{ weight: 80, preference: { matchExpressions: [{ key: ARCH, operator: 'In', values: ['arm64'] }] } }]);
    expect(JSON.parse(out.metadata.annotations?.['polyarch.io/source-images'] ?? '')).toEqual({ web: 'example.com/web:1.0', proxy: 'example.com/proxy:2.0' });
    // Annotation keys carry a '/', escaped as ~1 in the JSON Pointer.
    const raw = Buffer.from(review.response.patch ?? '', 'base64').toString('utf8');
    expect(raw.includes('polyarch.io~1source-images') || raw.includes('"/metadata/annotations"')).toBe(true);
    expect(out.spec.containers.map((c) => c.image)).toEqual(['example.com/web:1.0', 'example.com/proxy:2.0']);
  });

  it('ANDs the constraint into every existing nodeSelectorTerm, keeping the user\'s expressions and terms', async () => {
    const pod = makePod('zoned').image('example.com/web:1.0', 'web')
      .requiredTerms(
        { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] },
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n-7'] }] },
      )
      .preferred(5, { matchExpressions: [{ key: 'disktype', operator: 'In', values: ['ssd'] }] })
      .annotation('team', 'shop')
      .build();
    const { pod: out } = await admit(pod);
    const t = terms(out);
    expect(t).toHaveLength(2);
    expect(t[0]?.matchExpressions?.[0]).toEqual({ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] });
    expect(archValues(t[0]!)).toEqual(['amd64', 'arm64', 'riscv64']);
    expect(t[1]?.matchFields).toEqual([{ key: 'metadata.name', operator: 'In', values: ['n-7'] }]);
    expect(archValues(t[1]!)).toEqual(['amd64', 'arm64', 'riscv64']);
    expect(out.spec.affinity?.nodeAffinity?.[PREF]?.map((p) => p.weight)).toEqual([5, 80, 10]);
    expect(out.metadata.annotations?.team).toBe('shop');
  });

  it('keeps a nodeSelector and adds the affinity beside it; a nodeSelector on the arch label is left alone', async () => {
    const pod = makePod('ssd').image('example.com/web:1.0').nodeSelector({ disktype: 'ssd' }).build();
    const { pod: out } = await admit(pod);
    expect(out.spec.nodeSelector).toEqual({ disktype: 'ssd' });
    expect(archValues(terms(out)[0]!)).toEqual(['amd64', 'arm64', 'riscv64']);

    const pinned = makePod('pinned').image('example.com/web:1.0').nodeSelector({ [ARCH]: 'arm64' }).build();
    const r = await admit(pinned);
    expect(r.review.response.patch).toBeUndefined();
    expect(r.pod).toEqual(pinned);
  });

  it('counts init containers: an amd64-only init container narrows the pod to amd64', async () => {
    const pod = makePod('with-init').init('example.com/init-amd64-only:1', 'setup').image('example.com/web:1.0', 'web').build();
    const { pod: out } = await admit(pod);
    expect(archValues(terms(out)[0]!)).toEqual(['amd64']);
    expect(out.spec.affinity?.nodeAffinity?.[PREF]).toBeUndefined();
    expect(JSON.parse(out.metadata.annotations?.['polyarch.io/source-images'] ?? '')).toEqual({ setup: 'example.com/init-amd64-only:1', web: 'example.com/web:1.0' });
  });

  it('leaves alone: a required arch affinity, the opt-out label, kube-system and polyarch\'s namespace', async () => {
    const withArch = makePod('arch').image('example.com/web:1.0').requiredTerms({ matchExpressions: [{ key: ARCH, operator: 'In', values: ['arm64'] }] }).build();
    const optedOut = { ...makePod('out').image('example.com/web:1.0').build(), metadata: { name: 'out', namespace: 'default', labels: { 'polyarch.io/inject': 'false' } } };
    const plain = makePod('sys').image('example.com/web:1.0').build();
    for (const [pod, ns] of [[withArch, 'default'], [optedOut, 'default'], [plain, 'kube-system'], [plain, 'polyarch-system']] as const) {
      const { pod: out, review } = await admit(pod, ns);
      expect(review.response.patch).toBeUndefined();
      expect(out).toEqual(pod);
    }
  });

  it('adds nothing twice when re-invoked on its own output', async () => {
    const pod = makePod('again').image('example.com/web:1.0').build();
    const first = await admit(pod);
    const second = await admit(first.pod);
    expect(second.review.response.patch).toBeUndefined();
    expect(second.pod).toEqual(first.pod);
    // Reinvoked after a sidecar injector added a container: its image narrows the constraint.
    const withSidecar = { ...first.pod, spec: { ...first.pod.spec, containers: [...first.pod.spec.containers, { name: 'proxy', image: 'example.com/proxy:2.0' }] } };
    const third = await admit(withSidecar);
    const t = terms(third.pod)[0]?.matchExpressions?.filter((e) => e.key === ARCH).map((e) => e.values);
    expect(t).toEqual([['amd64', 'arm64', 'riscv64'], ['amd64', 'arm64']]); // ANDed: amd64 or arm64
    expect(JSON.parse(third.pod.metadata.annotations?.['polyarch.io/source-images'] ?? '')).toEqual({ c0: 'example.com/web:1.0', proxy: 'example.com/proxy:2.0' });
    expect((await admit(third.pod)).review.response.patch).toBeUndefined();
    const gated = await admit(makePod('again-gated').image('example.com/cold:3').build());
    const regated = await admit(gated.pod);
    expect(regated.pod.spec).toEqual(gated.pod.spec);
  });
});

describe('cache miss and per-architecture tags: the gate and its controller', () => {
  const cluster = new MemoryPodCluster()
    .addNode(makeNode('a1').arch('amd64').build())
    .addNode(makeNode('a2').arch('amd64').build())
    .addNode(makeNode('r1').arch('arm64').build())
    .addNode(makeNode('l1').arch('loong64').build())
    .addNode(makeNode('l2').arch('loong64').build())
    .addNode(makeNode('l3').arch('loong64').build());
  const controller = new GateController({ cluster, resolver, clock: realClock, preferences: [], deadlineMs: 1000, releaseAfterMs: 0, intervalMs: 10 });

  it('gates a pod whose images are not cached; the controller resolves, writes the affinity and lifts the gate', async () => {
    const pod = makePod('cold').ns('shop').image('example.com/cold:3', 'app').requiredTerms({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] }).build();
    const { pod: gated } = await admit(pod, 'shop');
    expect((gated.spec as { schedulingGates?: unknown }).schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
    expect(archValues(terms(gated)[0]!)).toBeUndefined();
    expect(resolver.lookups).toBe(0); // admission never went to the registry

    cluster.addPod(gated);
    const results = await controller.runOnce();
    expect(results).toEqual([expect.objectContaining({ pod: 'shop/cold', outcome: 'lifted' })]);
    const after = cluster.pod('shop', 'cold')!;
    expect((after.spec as { schedulingGates?: unknown }).schedulingGates).toEqual([]);
    expect(terms(after)[0]?.matchExpressions).toEqual([
      { key: 'tier', operator: 'In', values: ['gold'] },
      { key: ARCH, operator: 'In', values: ['amd64', 'arm64'] },
      { key: OS, operator: 'In', values: ['linux'] },
    ]);
    expect(after.spec.containers[0]?.image).toBe('example.com/cold:3');
    expect(cluster.events.at(-1)).toMatchObject({ reason: 'PlatformGateLifted', type: 'Normal' });
    // Nothing left to do on the next pass.
    expect(await controller.runOnce()).toEqual([]);
  });

  it('gates per-arch-tag images even when cached; the controller picks the platform, pins it and writes that variant', async () => {
    const pod = makePod('tagged').image('example.com/tagged:1.4', 'app').image('example.com/web:1.0', 'sidecar').build();
    const { pod: gated } = await admit(pod);
    expect((gated.spec as { schedulingGates?: unknown }).schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
    cluster.addPod(gated);
    const [r] = await controller.runOnce();
    expect(r?.outcome).toBe('lifted');
    const after = cluster.pod('default', 'tagged')!;
    // The placement core chose among the platforms every container runs on (web has no loong64 image).
    const arch = archValues(terms(after)[0]!)?.[0] ?? '';
    expect(['amd64', 'arm64']).toContain(arch);
    expect(terms(after)[0]?.matchExpressions).toEqual([{ key: ARCH, operator: 'In', values: [arch] }, { key: OS, operator: 'In', values: ['linux'] }]);
    const want = resolver.table.get('example.com/tagged:1.4')!.platforms.find((p) => p.platform.architecture === arch)!.image;
    expect(after.spec.containers[0]?.image).toBe(want);
    expect(after.spec.containers[0]?.image).toMatch(new RegExp(`tagged:1\\.4-${arch}@sha256:`));
    expect(after.spec.containers[1]?.image).toBe('example.com/web:1.0'); // an index serves every platform under one name
    expect(after.metadata.annotations?.['polyarch.io/platform']).toBe(arch === 'arm64' ? 'linux/arm64' : 'linux/amd64');
    expect(JSON.parse(after.metadata.annotations?.['polyarch.io/source-images'] ?? '')).toEqual({ app: 'example.com/tagged:1.4', sidecar: 'example.com/web:1.0' });
  });

  it('keeps the gate, and says why, while the registry is unreachable; lifts it once it answers', async () => {
    resolver.add('example.com/later:1', ['linux/arm64'], 'index', false);
    const { pod: gated } = await admit(makePod('later').image('example.com/later:1').build());
    cluster.addPod(gated);
    resolver.registry = 'unreachable';
    const [r1] = await controller.runOnce();
    expect(r1?.outcome).toBe('waiting');
    expect((cluster.pod('default', 'later')!.spec as { schedulingGates?: unknown }).schedulingGates).toEqual([{ name: 'polyarch.io/platform' }]);
    resolver.registry = 'up';
    const [r2] = await controller.runOnce();
    expect(r2?.outcome).toBe('lifted');
    expect(archValues(terms(cluster.pod('default', 'later')!)[0]!)).toEqual(['arm64']);
  });
});

describe('a valid AdmissionReview on every path', () => {
  const pod = makePod('p').image('example.com/web:1.0').build();

  it('wrong content type, bad JSON, over the limit, not an AdmissionReview: non-200 with an errored review', async () => {
    const cases: [unknown, Record<string, string>, number][] = [
      [admissionReview(pod), { 'content-type': 'application/yaml' }, 415],
      ['{"apiVersion":', { 'content-type': 'application/json' }, 400],
      [admissionReview({ ...pod, metadata: { name: 'x'.repeat(70 * 1024) } }), { 'content-type': 'application/json' }, 413],
      [{ apiVersion: 'v1', kind: 'Pod' }, { 'content-type': 'application/json' }, 400],
      [{ ...admissionReview(pod), kind: 'TokenReview' }, { 'content-type': 'application/json' }, 400],
    ];
    for (const [body, headers, code] of cases) {
      const { status, review } = await call(body, headers);
      expect(status).toBe(code);
      expect(review.response.allowed).toBe(false);
      expect(review.response.status?.code).toBe(code);
    }
  });

  it('another kind, another operation, an unreadable pod: allowed unchanged', async () => {
    for (const body of [
      admissionReview({ metadata: { name: 'd' } }, { kind: 'Deployment' }),
      admissionReview(pod, { operation: 'UPDATE' }),
      admissionReview({ spec: { containers: 'not a list' } }),
    ]) {
      const { status, review } = await call(body);
      expect(status).toBe(200);
      expect(review.response.allowed).toBe(true);
      expect(decodePatch(review)).toEqual([]);
    }
  });

  it('answers v1beta1 in v1beta1', async () => {
    const { review } = await call(admissionReview(pod, { apiVersion: 'admission.k8s.io/v1beta1' }));
    expect(review.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(review.response.allowed).toBe(true);
  });
});
