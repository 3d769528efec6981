/**
 * CPU startup boost end to end through `polyarch serve --webhook --scheduler --autoscaler`
 * as a process: the fake API server calls the real HTTPS webhook on pod CREATE (deploy/'s
 * MutatingWebhookConfiguration, TLS with the caBundle of `polyarch certs`), the boost is in
 * the stored pod (never above the ScalingPolicy's maximum nor the largest node's room),
 * the scheduler binds it, the kubelet model makes it Ready, and the autoscaler gives the
 * CPU back in place (pods/resize: same uid), removing the record, with an event.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { run } from '../../src/cli/index.ts';
import { registerMutatingWebhooks, type MutatingWebhookConfiguration } from '../support/apiserver-webhooks.ts';
import { waitFor } from '../support/wait.ts';
import { catalogFile, eventually, events, installPullCheck, node, resolver, spawnServe } from './helpers.ts';

const procs: ChildProcess[] = [];
let server: FakeApiServer | undefined;
let unregister: (() => void) | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  unregister?.();
  await server?.close();
  server = undefined;
});

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

const WEB = 'registry.example/shop/web:1.4';
const pod = (name: string, app: string, cpu: string, limit?: string): V1Pod => ({
  metadata: { name, labels: { app } },
  spec: { schedulerName: 'polyarch', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: WEB, resources: { requests: { cpu, memory: '64Mi' }, ...(limit ? { limits: { cpu: limit, memory: '64Mi' } } : {}) } }] },
});
const cpuOf = (p: V1Pod | undefined): { request: unknown; limit: unknown } => ({ request: p?.spec?.containers[0]?.resources?.requests?.['cpu'], limit: p?.spec?.containers[0]?.resources?.limits?.['cpu'] });

describe('polyarch serve: CPU startup boost through the HTTPS webhook', () => {
  it('boosts at creation (capped at the policy\'s maximum and the node\'s room), then takes the boost back in place once Ready', async () => {
    const s = await FakeApiServer.start({ controllers: { kubelet: true } });
    server = s;
    installPullCheck(s, resolver());
    s.seed(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }, spec: {}, status: { phase: 'Active' } },
      node('amd-1', 'amd64', { cpu: '4' }), node('arm-1', 'arm64', { cpu: '3' }),
    );
    // java: factor 4, at most 1500m; big: 8 cores more, more than any node has (the largest: 4).
    await s.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ScalingPolicy', metadata: { name: 'java', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'java' } }, mode: 'Off', containers: [{ name: '*', max: { cpu: '1500m' } }], startupBoost: { cpu: { type: 'Factor', factor: 4 } } } });
    await s.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ScalingPolicy', metadata: { name: 'big', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'big' } }, mode: 'Off', startupBoost: { cpu: { type: 'Quantity', quantity: '8' } } } });

    // The namespace's placement policy, read by the same process's webhook and scheduler: arm64 only as v8 (arm-1 is unlabelled: v8).
    await s.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'shop', namespace: 'shop' }, spec: { platforms: ['linux/amd64', 'linux/arm64/v8'] } });
    const dir = await mkdtemp(join(tmpdir(), 'polyarch-boost-serve-'));
    expect(await run(['certs', '--service', 'polyarch-admission', '--namespace', 'polyarch-system', '--out', dir, '--output', 'json'])).toBe(0);
    const port = await freePort();
    const kubeconfig = await s.writeKubeconfig(join(dir, 'kubeconfig'));
    const serve = spawnServe(['--webhook', '--scheduler', '--autoscaler', '--no-leader-elect', '--kubeconfig', kubeconfig, '--images', await catalogFile(dir),
      '--listen', '127.0.0.1:0', '--admission-listen', `127.0.0.1:${port}`, '--tls-cert-file', join(dir, 'tls.crt'), '--tls-private-key-file', join(dir, 'tls.key'),
      '--autoscaler-interval', '500ms', '--gate-interval-ms', '200', '--log-level', 'info']);
    procs.push(serve.proc);
    // The API server calls the webhook as deploy/ configures it, at the process's HTTPS port.
    const text = readFileSync(new URL('../../deploy/admission/ca-bundle/mutating-webhook.yaml', import.meta.url), 'utf8').replace('caBundle: CA_BUNDLE', `caBundle: ${(await readFile(join(dir, 'ca.crt'))).toString('base64')}`);
    const registered = registerMutatingWebhooks(s, parse(text) as MutatingWebhookConfiguration, { resolveService: (svc) => `https://127.0.0.1:${port}${svc.path ?? '/'}` });
    unregister = registered.unregister;
    const dispatcher = new Agent({ connect: { ca: await readFile(join(dir, 'ca.crt'), 'utf8'), servername: 'polyarch-admission.polyarch-system.svc' } });
    await eventually(async () => {
      const f = serve.failure();
      if (f) throw f;
      const r = await fetch(`https://127.0.0.1:${port}/readyz`, { dispatcher }).catch(() => undefined);
      return r?.status === 200;
    }, 60_000, 'serve ready over HTTPS');
    // The webhook's snapshot has both policies and the nodes' room: the most CPU free on one node (amd-1: 4 cores).
    const snapshot = (room: number): Promise<true> => eventually(() => serve.out.some((l) => l.includes('startup boost snapshot') && l.includes('"policies":2') && l.includes(`"roomMilli":${room}`)) || undefined, 20_000, `the webhook's startup boost snapshot with room ${room}`);
    await snapshot(4000);

    const core = s.client(CoreV1Api);
    const big = await core.createNamespacedPod({ namespace: 'shop', body: pod('big', 'big', '1') });
    // Boosted at creation: 1 + 8 cores, capped at the room, 4.
    expect(cpuOf(big)).toEqual({ request: '4', limit: undefined });
    expect(big.metadata?.annotations?.['polyarch.io/startup-boost']).toBeDefined();
    // Bound to amd-1 (the only node with 4 free): now the most free on one node is arm-1's 3 cores.
    await snapshot(3000);
    const java = await core.createNamespacedPod({ namespace: 'shop', body: pod('java', 'java', '500m', '1') });
    // 500m x4 = 2, capped at the policy's 1500m (its limit kept in ratio: 3).
    expect(cpuOf(java)).toEqual({ request: '1500m', limit: '3' });
    expect(registered.calls.filter((c) => c.outcome === 'patched').map((c) => c.object)).toEqual(['shop/big', 'shop/java']);
    // The platform constraint in the same admission, the policy's variant included.
    expect(java.spec?.schedulingGates ?? []).toEqual([]);
    expect(java.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.map((t) => t.matchExpressions?.map((e) => `${e.key} ${e.operator} ${(e.values ?? []).join(',')}`.trim()))).toEqual([
      ['kubernetes.io/arch In amd64', 'kubernetes.io/os In linux'],
      ['kubernetes.io/arch In arm64', 'kubernetes.io/os In linux', 'polyarch.io/arch-variant In v8'],
      ['kubernetes.io/arch In arm64', 'kubernetes.io/os In linux', 'polyarch.io/arch-variant DoesNotExist'],
    ]);

    // Bound, started, Ready; then the autoscaler's round gives the CPU back in place.
    let seen: V1Pod[] = [];
    const restored = await waitFor(async () => {
      const f = serve.failure();
      if (f) throw f;
      seen = (await core.listNamespacedPod({ namespace: 'shop' })).items;
      return seen.length === 2 && seen.every((p) => !p.metadata?.annotations?.['polyarch.io/startup-boost']) && seen;
    }, {
      timeoutMs: 60_000, intervalMs: 100, what: 'both boosts taken back',
      state: () => ({ pods: seen.map((p) => [p.metadata?.name, p.spec?.nodeName, p.status?.phase, p.status?.conditions?.map((c) => `${c.type}=${c.status}`).join(','), cpuOf(p)]), serve: serve.out.slice(-15) }),
    });
    const after = new Map(restored.map((p) => [p.metadata?.name, p]));
    expect(cpuOf(after.get('java'))).toEqual({ request: '500m', limit: '1' });
    expect(cpuOf(after.get('big'))).toEqual({ request: '1', limit: undefined });
    expect(after.get('java')?.metadata?.uid).toBe(java.metadata?.uid);
    expect(after.get('big')?.metadata?.uid).toBe(big.metadata?.uid);
    expect(after.get('big')?.spec?.nodeName).toBe('amd-1'); // 4 cores at creation: only amd-1 had room
    expect(s.requests.filter((r) => r.resource === 'pods' && r.subresource === 'resize').length).toBeGreaterThanOrEqual(2);
    const removed = (): string[] => events(s, 'shop').filter((e) => e['reason'] === 'StartupBoostRemoved').map((e) => (e['involvedObject'] as { name?: string }).name ?? '').sort();
    // The event follows the resize (the pod shows the take-back first).
    expect(await eventually(() => removed().length === 2 && removed(), 10_000, 'two StartupBoostRemoved events')).toEqual(['big', 'java']);
  }, 120_000);
});
