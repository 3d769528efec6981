/**
 * Writes that race: with an admission plugin that yields (as a webhook call does), two
 * writes interleave inside the server. As with etcd's compare-and-swap, exactly one binding
 * wins, no patch is lost, and a budget's last disruption is spent once.
 */
import { CoreV1Api, PatchStrategy, PolicyV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';
import { node, pod, readyPod, statusOf } from './helpers.ts';

let server: FakeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await FakeApiServer.start({ controllerAutoRun: false });
  core = server.client(CoreV1Api);
  // A slow "webhook": every admitted write yields to the event loop for a while.
  server.admission.register({ name: 'slow', mutate: () => new Promise((r) => setTimeout(r, 20)) });
  server.seed(node('n1'), node('n2'), node('n3'));
});
afterAll(() => server.close());

const outcome = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 201;
  } catch (e) {
    return statusOf(e).code;
  }
};

describe('racing writes', () => {
  it('ten schedulers bind the same pod at once: one 201, nine 409, and the pod is on the winner', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('contested') });
    const targets = Array.from({ length: 10 }, (_, i) => `n${(i % 3) + 1}`);
    const codes = await Promise.all(targets.map((t) => outcome(core.createNamespacedPodBinding({ name: 'contested', namespace: 'default', body: { metadata: { name: 'contested' }, target: { name: t } } }))));
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(9);
    const winner = targets[codes.indexOf(201)];
    expect(server.get('v1', 'Pod', 'contested')?.spec.nodeName).toBe(winner);
  });

  it('concurrent merge patches without a resourceVersion are all applied (none lost)', async () => {
    const sm = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await Promise.all(Array.from({ length: 8 }, (_, i) => core.patchNode({ name: 'n1', body: { metadata: { labels: { [`l${i}`]: 'x' } } } }, sm)));
    const labels = server.get('v1', 'Node', 'n1')?.metadata.labels ?? {};
    for (let i = 0; i < 8; i++) expect(labels[`l${i}`]).toBe('x');
  });

  it('concurrent updates from the same resourceVersion: one wins, the others get 409 Conflict', async () => {
    const base = await core.readNode({ name: 'n2' });
    const codes = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(core.replaceNode({ name: 'n2', body: { ...base, metadata: { ...base.metadata, labels: { winner: String(i) } } } }))));
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(4);
  });

  it('concurrent evictions spend the last disruption a budget allows once', async () => {
    server.seed(readyPod('e1', { app: 'e' }), readyPod('e2', { app: 'e' }), readyPod('e3', { app: 'e' }));
    await server.client(PolicyV1Api).createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name: 'e' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'e' } } } } });
    const codes = await Promise.all(['e1', 'e2', 'e3'].map((name) => outcome(core.createNamespacedPodEviction({ name, namespace: 'default', body: { metadata: { name, namespace: 'default' } } }))));
    expect(codes.sort()).toEqual([201, 429, 429]);
  });
});
