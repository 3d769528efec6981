import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { catalogFile, deployment, eventually, events, node, pods, spawnServe } from './helpers.ts';

interface Replica {
  id: string;
  proc: ChildProcess;
  out: string[];
  /** Why it could not be started, once known. */
  failure: () => Error | undefined;
}

const started: Replica[] = [];
let server: FakeApiServer | undefined;

afterEach(async () => {
  for (const r of started.splice(0)) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await server?.close();
  server = undefined;
});

function startReplica(id: string, kubeconfig: string, images: string, roles = ['--scheduler']): Replica {
  const r: Replica = { id, ...spawnServe([...roles, '--kubeconfig', kubeconfig, '--images', images, '--identity', id, '--listen', '127.0.0.1:0',
    '--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '200ms', '--log-level', 'info']) };
  started.push(r);
  return r;
}

/** The fake API server with two nodes and polyarch's namespace; a kubeconfig, a catalog, and who holds a Lease. */
async function setUp(): Promise<{ api: FakeApiServer; kubeconfig: string; images: string; holder: (lease: string) => Promise<string | undefined> }> {
  const s = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true } });
  server = s;
  s.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
  s.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
  const dir = await mkdtemp(join(tmpdir(), 'polyarch-failover-'));
  const leases = s.client(CoordinationV1Api);
  return {
    api: s,
    kubeconfig: await s.writeKubeconfig(join(dir, 'kubeconfig')),
    images: await catalogFile(dir),
    holder: async (name) => {
      try {
        return (await leases.readNamespacedLease({ name, namespace: 'polyarch-system' })).spec?.holderIdentity || undefined;
      } catch {
        return undefined;
      }
    },
  };
}

describe('two replicas of polyarch serve', () => {
  it('one leader schedules; after it is killed the standby takes the Lease and carries on', async () => {
    const { api, kubeconfig, images, holder } = await setUp();
    const a = startReplica('replica-a', kubeconfig, images);
    const b = startReplica('replica-b', kubeconfig, images);
    const first = await eventually(async () => {
      for (const r of [a, b]) {
        const failed = r.failure();
        if (failed) throw failed;
      }
      return holder('polyarch-scheduler');
    }, 60_000, 'a leader');
    const [leader, standby] = first === a.id ? [a, b] : [b, a];

    await api.create(deployment('web', 3, { web: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(api).filter((p) => p.spec?.['nodeName']).length === 3 ? true : undefined), 30_000, 'three pods bound');
    // Only the leader wrote: every Scheduled event names it.
    await eventually(() => (events(api).filter((e) => e['reason'] === 'Scheduled').length === 3 ? true : undefined), 10_000, 'Scheduled events');
    expect(new Set(events(api).filter((e) => e['reason'] === 'Scheduled').map((e) => e['reportingInstance']))).toEqual(new Set([leader.id]));
    expect(standby.out.some((l) => l.includes('became leader'))).toBe(false);

    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    await eventually(async () => ((await holder('polyarch-scheduler')) === standby.id ? true : undefined), 30_000, 'the standby to take the Lease');
    const failoverMs = Date.now() - killedAt;
    await api.create(deployment('api', 2, { api: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(api).filter((p) => p.spec?.['nodeName']).length === 5 ? true : undefined), 30_000, 'five pods bound');
    await eventually(() => (events(api).filter((e) => e['reason'] === 'Scheduled').length === 5 ? true : undefined), 10_000, 'five Scheduled events');
    const byInstance = events(api).filter((e) => e['reason'] === 'Scheduled').map((e) => e['reportingInstance']);
    expect(byInstance.filter((i) => i === standby.id)).toHaveLength(2);
    // No pod bound twice: five pods, five Scheduled events, no bind conflicts logged.
    expect(byInstance).toHaveLength(5);
    expect(standby.out.some((l) => l.includes('bind refused'))).toBe(false);
    // The Lease records the handover (client-go: leaseTransitions).
    const lease = await api.client(CoordinationV1Api).readNamespacedLease({ name: 'polyarch-scheduler', namespace: 'polyarch-system' });
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    console.log(`failover: standby took the Lease ${failoverMs} ms after the leader was killed`);
  }, 120_000);
});

// Issue 15 item 6: every role started as its own process used to take the same default
// Lease, so a separate `serve --autoscaler` starved `serve --scheduler --migrator` forever
// (pods Pending, no event). Each writing role now has its own Lease by default.
describe('leader election with roles split across processes', () => {
  it('a separate `serve --autoscaler` leads its own Lease; `serve --scheduler --migrator` still leads and schedules', async () => {
    const { api, kubeconfig, images, holder } = await setUp();
    const autoscaler = startReplica('autoscaler-0', kubeconfig, images, ['--autoscaler']);
    await eventually(async () => ((await holder('polyarch-autoscaler')) === 'autoscaler-0' ? true : undefined), 60_000, "the autoscaler's Lease");
    startReplica('writer-0', kubeconfig, images, ['--scheduler', '--migrator']);
    await eventually(async () => ((await holder('polyarch-scheduler')) === 'writer-0' ? true : undefined), 60_000, "the scheduler's Lease (before: the autoscaler's process held the only Lease)");
    await eventually(async () => ((await holder('polyarch-migrator')) === 'writer-0' ? true : undefined), 10_000, "the migrator's Lease");

    await api.create(deployment('web', 2, { web: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(api).filter((p) => p.spec?.['nodeName']).length === 2 ? true : undefined), 30_000, 'two pods bound');
    // Both still hold their own Lease: neither starved the other.
    expect(await holder('polyarch-autoscaler')).toBe('autoscaler-0');
    expect(await holder('polyarch-scheduler')).toBe('writer-0');
    expect(autoscaler.proc.exitCode).toBeNull();
  }, 150_000);
});
