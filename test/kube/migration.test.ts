import { afterEach, describe, expect, it } from 'vitest';
import { requestDrain } from '../../src/app/migrator.ts';
import { FENCED_ANNOTATION } from '../../src/app/node-migrator.ts';
import type { Node } from '../../src/core/k8s/types.ts';
import { nodePlatform } from '../../src/core/platform/platform.ts';
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { barePod, deployment, eventually, events, node, pods, startHarness, type Harness } from './helpers.ts';
import type { FakeApiServer } from '../support/apiserver/index.ts';

const apps = (server: FakeApiServer): AppsV1Api => server.client(AppsV1Api);

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const WEB = 'registry.example/shop/web:1.4';
type PodObj = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
const nodeOf = (p: PodObj): string => (p.spec?.['nodeName'] as string | undefined) ?? '';
const running = (p: PodObj): boolean => p.status?.['phase'] === 'Running' && ((p.status?.['conditions'] as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe('migration on the API server', () => {
  it('moves every pod off a node that stops heart-beating, across architectures, none lost or duplicated', async () => {
    h = await startHarness({ controllers: 'all', nodeMonitorGracePeriodMs: 400 }, {}, {});
    const { server, registry } = h;
    server.seed(node('amd-1', 'amd64'));
    await server.create(deployment('web', 4, { web: WEB }));
    await server.create(barePod('solo', { solo: WEB }));
    await eventually(() => (pods(server).filter((p) => nodeOf(p) === 'amd-1' && running(p)).length === 5 ? true : undefined), 15_000, 'five pods running on amd-1');
    // Other architectures join; then amd-1 dies.
    server.seed(node('arm-1', 'arm64'), node('riscv-1', 'riscv64'));
    server.controllers.stopKubelet('amd-1');

    const moved = await eventually(() => {
      const ps = pods(server);
      const web = ps.filter((p) => p.metadata?.labels?.['app'] === 'web');
      const solo = ps.filter((p) => p.metadata?.name === 'solo');
      const ok = web.length === 4 && solo.length === 1 && [...web, ...solo].every((p) => nodeOf(p) !== '' && nodeOf(p) !== 'amd-1' && running(p));
      return ok ? [...web, ...solo] : undefined;
    }, 20_000, 'pods running off amd-1');

    const nodes = new Map(server.list('v1', 'Node').map((n) => [n.metadata?.name ?? '', n as unknown as Node]));
    const archesUsed = new Set<string>();
    for (const p of moved) {
      const np = nodePlatform(nodes.get(nodeOf(p)) as Node);
      expect(np.ok).toBe(true);
      if (!np.ok) continue;
      archesUsed.add(np.value.architecture);
      const image = (p.spec?.['containers'] as { image: string }[])[0]?.image ?? '';
      // The variant built for this node's platform (what its runtime would pull from the index).
      const expected = registry.answer(WEB);
      const variant = expected?.ok ? expected.value.platforms.find((x) => x.platform.architecture === np.value.architecture) : undefined;
      expect(image, `${p.metadata?.name} on ${nodeOf(p)}`).toBe(variant?.image);
      expect(p.metadata?.annotations?.['polyarch.io/platform']).toContain(np.value.architecture);
      expect(JSON.parse(p.metadata?.annotations?.['polyarch.io/source-images'] ?? '{}')).toEqual({ [p.metadata?.name === 'solo' ? 'solo' : 'web']: WEB });
    }
    expect(archesUsed.has('amd64')).toBe(false);
    expect(archesUsed.size).toBeGreaterThanOrEqual(1);
    // The bare pod kept its name and was re-created once; its move is recorded.
    const migrations = server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system');
    const solo = migrations.filter((m) => (m.spec as { pod: string }).pod === 'default/solo');
    expect(solo).toHaveLength(1);
    expect((solo[0]?.status as { phase: string }).phase).toBe('Succeeded');
    expect(migrations.filter((m) => (m.spec as { reason: string }).reason === 'node-lost').length).toBe(5);
    expect(events(server).some((e) => e['reason'] === 'Migrated')).toBe(true);
  });

  it('waits on a drain blocked by a PodDisruptionBudget, then completes it', async () => {
    h = await startHarness({ controllers: 'all' }, {}, {});
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64'));
    await server.create(deployment('api', 2, { api: WEB }));
    await server.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'api' } } } });
    await eventually(() => (pods(server).filter((p) => nodeOf(p) === 'amd-1' && running(p)).length === 2 ? true : undefined), 15_000, 'two pods running');
    server.seed(node('arm-1', 'arm64'));
    await eventually(async () => ((await cluster.getNode('arm-1')) ? true : undefined), 5_000, 'arm-1 seen');

    const drain = await requestDrain(cluster, cluster, 'amd-1');
    expect(drain.ok).toBe(true);
    // minAvailable 2 of 2: every eviction is refused (429), the drain waits and says why.
    await eventually(() => events(server).find((e) => e['reason'] === 'MigrationBlocked' && String(e['message']).includes('PodDisruptionBudget api')), 10_000, 'MigrationBlocked event');
    await new Promise((r) => setTimeout(r, 300));
    expect(pods(server).filter((p) => p.metadata?.labels?.['app'] === 'api' && nodeOf(p) === 'amd-1')).toHaveLength(2);
    // The operator adds a replica; it lands on arm-1 (amd-1 is cordoned), the budget allows one eviction at a time.
    await apps(server).patchNamespacedDeployment(
      { name: 'api', namespace: 'default', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(() => {
      const ps = pods(server).filter((p) => p.metadata?.labels?.['app'] === 'api');
      return ps.length === 3 && ps.every((p) => nodeOf(p) === 'arm-1' && running(p)) ? true : undefined;
    }, 20_000, 'api pods running on arm-1');
    const migrations = server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system');
    expect(migrations.filter((m) => (m.spec as { reason: string }).reason === 'drain')).toHaveLength(2);
    await eventually(() => (server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').every((m) => (m.status as { phase: string }).phase === 'Succeeded') ? true : undefined), 5_000, 'migrations succeeded');
    expect(server.get('v1', 'Node', 'amd-1')?.spec?.['unschedulable']).toBe(true);
  });

  it('replaces a StatefulSet pod on a lost node only once the node is fenced', async () => {
    h = await startHarness({ controllers: { nodeLifecycle: true, kubelet: true }, nodeMonitorGracePeriodMs: 300 }, {}, {});
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    server.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db-0', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'sts-uid', controller: true }] },
      spec: { nodeName: 'amd-1', schedulerName: 'polyarch', containers: [{ name: 'db', image: WEB }] },
      status: { phase: 'Running' },
    });
    server.controllers.stopKubelet('amd-1');
    const waiting = await eventually(() => server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').find((m) => String((m.status as { message?: string })?.message).includes('confirmed gone')), 10_000, 'migration waiting for fencing');
    expect(waiting).toBeDefined();
    // Lost for a while, not fenced: the pod stays (its volume may still be attached there).
    await new Promise((r) => setTimeout(r, 500));
    expect(server.get('v1', 'Pod', 'db-0')).toBeDefined();
    expect((await cluster.annotateNode('amd-1', { [FENCED_ANNOTATION]: 'true' })).ok).toBe(true);
    await eventually(() => (server.get('v1', 'Pod', 'db-0') ? undefined : true), 10_000, 'db-0 deleted after fencing');
  });
});
