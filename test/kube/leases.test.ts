// Issue 15 item 6: every role started as its own process used to take the same default
// Lease, so a separate `serve --autoscaler` starved `serve --scheduler --migrator` forever
// (pods Pending, no event). Each writing role now has its own Lease by default.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../support/apiserver/index.ts';
import { catalogFile, deployment, eventually, node, pods } from './helpers.ts';

const started: { proc: ChildProcess; out: string[] }[] = [];
let server: FakeApiServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  for (const r of started.splice(0)) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await server?.close();
  server = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

function serve(identity: string, args: string[]): { proc: ChildProcess; out: string[] } {
  const proc = spawn(process.execPath, ['bin/polyarch.js', 'serve', ...args, '--identity', identity, '--listen', '127.0.0.1:0',
    '--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '200ms', '--log-level', 'info'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { proc, out: [] as string[] };
  proc.stdout?.on('data', (b: Buffer) => r.out.push(...b.toString().split('\n').filter(Boolean)));
  proc.stderr?.on('data', (b: Buffer) => r.out.push(...b.toString().split('\n').filter(Boolean)));
  started.push(r);
  return r;
}

describe('leader election with roles split across processes', () => {
  it('a separate `serve --autoscaler` leads its own Lease; `serve --scheduler --migrator` still leads and schedules', async () => {
    server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true } });
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    dir = await mkdtemp(join(tmpdir(), 'polyarch-leases-'));
    const kubeconfig = await server.writeKubeconfig(join(dir, 'kubeconfig'));
    const images = await catalogFile(dir);
    const leases = server.client(CoordinationV1Api);
    const holder = async (name: string): Promise<string | undefined> => {
      try {
        return (await leases.readNamespacedLease({ name, namespace: 'polyarch-system' })).spec?.holderIdentity || undefined;
      } catch {
        return undefined;
      }
    };
    const said = (r: { out: string[] }): string => r.out.slice(-10).join('\n');

    const autoscaler = serve('autoscaler-0', ['--autoscaler', '--kubeconfig', kubeconfig]);
    await eventually(async () => ((await holder('polyarch-autoscaler')) === 'autoscaler-0' ? true : undefined), 60_000, `the autoscaler's Lease; it said:\n${said(autoscaler)}`);
    const writer = serve('writer-0', ['--scheduler', '--migrator', '--kubeconfig', kubeconfig, '--images', images]);
    await eventually(async () => ((await holder('polyarch-scheduler')) === 'writer-0' ? true : undefined), 60_000, `the scheduler's Lease; it said:\n${said(writer)}`);
    await eventually(async () => ((await holder('polyarch-migrator')) === 'writer-0' ? true : undefined), 10_000, `the migrator's Lease; it said:\n${said(writer)}`);

    await server.create(deployment('web', 2, { web: 'registry.example/shop/web:1.4' }));
    await eventually(() => (pods(server!).filter((p) => p.spec?.['nodeName']).length === 2 ? true : undefined), 30_000, `two pods bound; the scheduler said:\n${said(writer)}`);
    // Both still hold their own Lease: neither starved the other.
    expect(await holder('polyarch-autoscaler')).toBe('autoscaler-0');
    expect(await holder('polyarch-scheduler')).toBe('writer-0');
    expect(autoscaler.proc.exitCode).toBeNull();
  }, 150_000);
});
