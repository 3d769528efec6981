import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../support/apiserver/index.ts';
import { catalogFile, deployment, eventually, events, node, pods } from './helpers.ts';

interface Replica {
  id: string;
  proc: ChildProcess;
  out: string[];
}

const started: Replica[] = [];
let server: FakeApiServer | undefined;

afterEach(async () => {
  for (const r of started.splice(0)) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await server?.close();
  server = undefined;
});

function startReplica(id: string, kubeconfig: string, images: string): Replica {
  const proc = spawn(
    process.execPath,
    ['bin/polyarch.js', 'serve', '--scheduler', '--kubeconfig', kubeconfig, '--images', images, '--identity', id, '--listen', '127.0.0.1:0',
      '--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '200ms', '--log-level', 'info'],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const r: Replica = { id, proc, out: [] };
  proc.stdout?.on('data', (b: Buffer) => r.out.push(...b.toString().split('\n').filter(Boolean)));
  proc.stderr?.on('data', (b: Buffer) => r.out.push(...b.toString().split('\n').filter(Boolean)));
  started.push(r);
  return r;
}

describe('two replicas of polyarch serve', () => {
  it('one leader schedules; after it is killed the standby takes the Lease and carries on', async () => {
    server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true } });
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    const dir = await mkdtemp(join(tmpdir(), 'polyarch-failover-'));
    const kubeconfig = await server.writeKubeconfig(join(dir, 'kubeconfig'));
    const images = await catalogFile(dir);
    const a = startReplica('replica-a', kubeconfig, images);
    const b = startReplica('replica-b', kubeconfig, images);
    const leases = server.client(CoordinationV1Api);
    const holder = async (): Promise<string | undefined> => {
      try {
        const l = await leases.readNamespacedLease({ name: 'polyarch-scheduler', namespace: 'polyarch-system' });
        return l.spec?.holderIdentity || undefined;
      } catch {
        return undefined;
      }
    };
    const first = await eventually(holder, 60_000, 'a leader');
    const [leader, standby] = first === a.id ? [a, b] : [b, a];

    await server.create(deployment('web', 3, { web: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(server!).filter((p) => p.spec?.['nodeName']).length === 3 ? true : undefined), 30_000, 'three pods bound');
    // Only the leader wrote: every Scheduled event names it.
    await eventually(() => (events(server!).filter((e) => e['reason'] === 'Scheduled').length === 3 ? true : undefined), 10_000, 'Scheduled events');
    expect(new Set(events(server).filter((e) => e['reason'] === 'Scheduled').map((e) => e['reportingInstance']))).toEqual(new Set([leader.id]));
    expect(standby.out.some((l) => l.includes('became leader'))).toBe(false);

    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    await eventually(async () => ((await holder()) === standby.id ? true : undefined), 30_000, 'the standby to take the Lease');
    const failoverMs = Date.now() - killedAt;
    await server.create(deployment('api', 2, { api: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(server!).filter((p) => p.spec?.['nodeName']).length === 5 ? true : undefined), 30_000, 'five pods bound');
    await eventually(() => (events(server!).filter((e) => e['reason'] === 'Scheduled').length === 5 ? true : undefined), 10_000, 'five Scheduled events');
    const byInstance = events(server).filter((e) => e['reason'] === 'Scheduled').map((e) => e['reportingInstance']);
    expect(byInstance.filter((i) => i === standby.id)).toHaveLength(2);
    // No pod bound twice: five pods, five Scheduled events, no bind conflicts logged.
    expect(byInstance).toHaveLength(5);
    expect(standby.out.some((l) => l.includes('bind refused'))).toBe(false);
    // The Lease records the handover (client-go: leaseTransitions).
    const lease = await leases.readNamespacedLease({ name: 'polyarch-scheduler', namespace: 'polyarch-system' });
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    console.log(`failover: standby took the Lease ${failoverMs} ms after the leader was killed`);
  }, 120_000);
});
