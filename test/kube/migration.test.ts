import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requestDrain } from '../../src/app/migrator.ts';
import { FENCED_ANNOTATION } from '../../src/core/migration/decide.ts';
import type { Node } from '../../src/core/k8s/types.ts';
import { nodePlatform } from '../../src/core/platform/platform.ts';
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { barePod, core, deployment, eventually, events, leaveLostNodeAfter, node, pods, startHarness, type Harness } from './helpers.ts';
import type { FakeApiServer } from '../../fake-apiserver/index.ts';

const apps = (server: FakeApiServer): AppsV1Api => server.client(AppsV1Api);

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const WEB = 'registry.example/shop/web:1.4';
type PodObj = { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
const nodeOf = (p: PodObj): string => (p.spec?.['nodeName'] as string | undefined) ?? '';
/** Evictions the API server refused with 429 (a PodDisruptionBudget said no). */
const refusedEvictions = (server: FakeApiServer): number => server.requests.filter((r) => r.method === 'POST' && /\/eviction$/.test(r.path) && r.code === 429).length;

/** Counts the migrator's completed rounds (each loop of `run` is one `runOnce`). */
function countRounds(h: Harness): () => number {
  const migrator = h.migrator;
  if (!migrator) throw new Error('the harness has no migrator');
  let n = 0;
  const once = migrator.runOnce.bind(migrator);
  migrator.runOnce = async () => {
    const r = await once();
    n++;
    return r;
  };
  return () => n;
}
const running = (p: PodObj): boolean => p.status?.['phase'] === 'Running' && ((p.status?.['conditions'] as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe('migration on the API server', () => {
  it('moves every pod off a node that stops heart-beating, across architectures, none lost or duplicated', async () => {
    h = await startHarness({ controllers: 'all', nodeMonitorGracePeriodMs: 400 }, {}, {});
    const { server, registry } = h;
    server.seed(node('amd-1', 'amd64'));
    // They tolerate an unreachable node for 1 s (300 s by default): the migrator waits that out.
    await server.create(leaveLostNodeAfter(deployment('web', 4, { web: WEB }), 1));
    await server.create(leaveLostNodeAfter(barePod('solo', { solo: WEB }), 1));
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
      // The index has one entry per architecture: the node's runtime pulls the variant
      // built for its platform from the reference as written, which the pod keeps.
      const expected = registry.answer(WEB);
      const variant = expected?.ok ? expected.value.platforms.find((x) => x.platform.architecture === np.value.architecture) : undefined;
      expect(variant, `${nodeOf(p)} has a variant`).toBeDefined();
      expect(image, `${p.metadata?.name} on ${nodeOf(p)}`).toBe(WEB);
      expect(p.metadata?.annotations?.['polyarch.io/platform']).toContain(np.value.architecture);
      expect(JSON.parse(p.metadata?.annotations?.['polyarch.io/source-images'] ?? '{}')).toEqual({ [p.metadata?.name === 'solo' ? 'solo' : 'web']: WEB });
    }
    expect(archesUsed.has('amd64')).toBe(false);
    expect(archesUsed.size).toBeGreaterThanOrEqual(1);
    // The bare pod kept its name and was re-created once; its move is recorded.
    const migrations = server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system');
    const solo = migrations.filter((m) => (m.spec as { pod: string }).pod === 'default/solo');
    expect(solo).toHaveLength(1);
    expect(migrations.filter((m) => (m.spec as { reason: string }).reason === 'node-lost').length).toBe(5);
    // The bare pod's move is done once its replacement is placed (the next round sees it).
    await eventually(() => (server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').every((m) => (m.status as { phase?: string } | undefined)?.phase === 'Succeeded') ? true : undefined), 10_000, 'every move Succeeded');
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
    // Still blocked on later tries: wait until two more evictions were refused (429), then nothing has moved.
    const refusedNow = refusedEvictions(server);
    await eventually(() => refusedEvictions(server) >= refusedNow + 2 || undefined, 10_000, 'two more evictions refused by the budget');
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
    const rounds = countRounds(h);
    server.controllers.stopKubelet('amd-1');
    const waiting = await eventually(() => server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').find((m) => String((m.status as { message?: string })?.message).includes('confirmed gone')), 10_000, 'migration waiting for fencing');
    expect(waiting).toBeDefined();
    // Lost for a while, not fenced: the pod stays (its volume may still be attached there).
    // Two more migrator rounds completed, so one started after the wait was recorded, then look.
    const roundsNow = rounds();
    await eventually(() => rounds() >= roundsNow + 2 || undefined, 10_000, 'two more migrator rounds');
    expect(server.get('v1', 'Pod', 'db-0')).toBeDefined();
    expect((await cluster.annotateNode('amd-1', { [FENCED_ANNOTATION]: 'true' })).ok).toBe(true);
    await eventually(() => (server.get('v1', 'Pod', 'db-0') ? undefined : true), 10_000, 'db-0 deleted after fencing');
  });
});

const REPORT = 'registry.example/legacy/report:7'; // arm64 only
type Migration = { metadata?: { name?: string }; spec?: { pod?: string; reason?: string }; status?: { phase?: string; message?: string } };
const migrations = (server: FakeApiServer): Migration[] => server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system') as Migration[];
const runningPod = (name: string, nodeName: string, image: string): object => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: { 'polyarch.io/source-images': JSON.stringify({ [name]: image }) } },
  spec: { nodeName, schedulerName: 'polyarch', containers: [{ name, image: `${image}-pinned`, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('what the migrator must also get right', () => {
  it('captures a bare pod on a deleted Node at first sight, re-creates it after pod GC, and is Blocked while it can run nowhere', async () => {
    // Controllers run only when the test says (server.reconcile()): pod GC happens exactly when wanted.
    h = await startHarness({ controllers: { nodeLifecycle: true }, controllerAutoRun: false }, {}, { nodeGoneGraceMs: 400 });
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'), runningPod('report', 'arm-1', REPORT));
    await eventually(async () => ((await cluster.getPod({ name: 'report' })) ? true : undefined), 5_000, 'report seen');
    await core(server).deleteNode({ name: 'arm-1' });
    // The Node is missing: the move is recorded at once, template and all, before the loss is confirmed.
    const recorded = await eventually(() => migrations(server).find((m) => m.spec?.pod === 'default/report' && m.status), 10_000, 'migration recorded');
    expect(recorded.status?.phase).toBe('Pending');
    expect(recorded.status?.message).toContain('missing from the API');
    expect(server.get('v1', 'Pod', 'report')?.metadata?.uid).toBe('uid-report');
    // Pod GC removes the pod of the deleted node before the migrator acts on it.
    await server.reconcile();
    expect(server.get('v1', 'Pod', 'report')).toBeUndefined();
    // Re-created from the record; its only architecture has no node left: Blocked with the scheduler's reason, not Succeeded.
    const blocked = await eventually(() => migrations(server).find((m) => m.spec?.pod === 'default/report' && m.status?.phase === 'Blocked'), 15_000, 'migration Blocked');
    expect(blocked.status?.message).toMatch(/can run nowhere now: 0\/1 nodes are available/);
    const again = server.get('v1', 'Pod', 'report');
    expect(again?.metadata?.uid).not.toBe('uid-report');
    expect((again?.spec?.['containers'] as { image: string }[])[0]?.image).toBe(REPORT);
    await eventually(() => events(server).find((e) => e['reason'] === 'MigrationBlocked' && String(e['message']).includes('can run nowhere')), 10_000, 'MigrationBlocked event');
    // An arm64 node joins: the same record finishes.
    server.seed(node('arm-2', 'arm64'));
    const done = await eventually(() => migrations(server).find((m) => m.spec?.pod === 'default/report' && m.status?.phase === 'Succeeded'), 15_000, 'migration Succeeded');
    expect(done.status?.message).toContain('now on arm-2');
  });

  it('undoes a drain with `polyarch migrate --node N --undo`, and follows `kubectl uncordon`', async () => {
    h = await startHarness({ controllers: 'all' }, {}, {});
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    await eventually(async () => ((await cluster.listNodes()).length === 2 ? true : undefined), 5_000, 'nodes seen');
    await cluster.cordonNode('arm-1', true);
    await server.create(deployment('api', 2, { api: WEB }));
    // minAvailable 2 of 2: every eviction is refused, the drain waits.
    await server.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'api' } } } });
    await eventually(() => (pods(server).filter((p) => nodeOf(p) === 'amd-1' && running(p)).length === 2 ? true : undefined), 15_000, 'two pods running on amd-1');
    const before = pods(server).map((p) => p.metadata?.name).sort();
    const taints = (): string[] => ((server.get('v1', 'Node', 'amd-1')?.spec?.['taints'] as { key: string }[] | undefined) ?? []).map((t) => t.key);
    const drainMoves = (): Migration[] => migrations(server).filter((m) => m.spec?.reason === 'drain');

    expect((await requestDrain(cluster, cluster, 'amd-1')).ok).toBe(true);
    await eventually(() => (drainMoves().length === 2 && drainMoves().every((m) => m.status?.phase === 'Evicting') ? true : undefined), 10_000, 'two refused evictions');
    const kubeconfig = await server.writeKubeconfig();
    const { run } = await import('../../src/cli/index.ts');
    const code = await run(['migrate', '--node', 'amd-1', '--undo', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(code).toBe(0);
    expect(server.get('v1', 'Node', 'amd-1')?.spec?.['unschedulable']).toBeFalsy();
    expect(taints()).not.toContain('polyarch.io/draining');
    // The moves not made are cancelled (their records go); the pods stay where they were.
    await eventually(() => (drainMoves().length === 0 ? true : undefined), 10_000, 'drain moves cancelled');
    await eventually(() => events(server).find((e) => e['reason'] === 'MigrationCancelled'), 10_000, 'MigrationCancelled event');
    expect(pods(server).map((p) => p.metadata?.name).sort()).toEqual(before);

    // Drained again, then the operator runs the real `kubectl uncordon`: the drain mark follows.
    expect((await requestDrain(cluster, cluster, 'amd-1')).ok).toBe(true);
    await eventually(() => (drainMoves().length === 2 ? true : undefined), 10_000, 'drain moves recorded again');
    await promisify(execFile)('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'uncordon', 'amd-1']);
    await eventually(() => (taints().includes('polyarch.io/draining') ? undefined : true), 10_000, 'drain taint removed after kubectl uncordon');
    await eventually(() => (drainMoves().length === 0 ? true : undefined), 10_000, 'drain moves cancelled after uncordon');
    expect(pods(server).map((p) => p.metadata?.name).sort()).toEqual(before);
  });
});
