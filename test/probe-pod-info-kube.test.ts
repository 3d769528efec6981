/** The probe's pod list from a Kubernetes API server (a small fake on loopback, real HTTP). */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigAccess, serviceAccountAccess } from '../src/adapters/kube/api-access.ts';
import { makeCertificates } from '../src/adapters/tls/certificates.ts';
import { startServiceAccountApi } from './support/service-account-api.ts';
import { kubePodInfoSource } from '../src/adapters/probe/pod-info-kube.ts';
import { denied, grantsOf, renderDeploy } from './support/deploy.ts';

const servers: Pick<Server, 'close'>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'probe', token: 'sa-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'probe' }],
    currentContext: 'fake',
  });
  return kc;
}

const POD = {
  metadata: { uid: 'u-1', name: 'web-5c9d8f7b6-x2k4p', namespace: 'shop', labels: { 'pod-template-hash': '5c9d8f7b6' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5c9d8f7b6', uid: 'rs', controller: true }] },
  spec: { nodeName: 'node-a', hostNetwork: true, containers: [{ name: 'web', resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } } }] },
  status: {
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' }],
    containerStatuses: [{ name: 'web', ready: true, containerID: 'containerd://abc123', image: 'web:1', imageID: 'x', restartCount: 0 }],
  },
};

async function fakeApi(handler: (url: URL, auth: string | undefined) => { status: number; body: unknown }): Promise<{ url: string; requests: URL[] }> {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url);
    const { status, body } = handler(url, req.headers.authorization);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('kubePodInfoSource', () => {
  it('lists the pods of its node (field selector, watch cache), maps readiness, ids, resources and hostNetwork, and refreshes at most every refreshMs', async () => {
    const api = await fakeApi((url, auth) =>
      url.pathname === '/api/v1/pods' && auth === 'Bearer sa-token'
        ? { status: 200, body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [POD] } }
        : { status: 403, body: { kind: 'Status', code: 403, message: 'forbidden' } },
    );
    let t = 1_000_000;
    const src = kubePodInfoSource({ access: kubeConfigAccess(kubeConfigFor(api.url)), nodeName: 'node-a', clock: { now: () => t, sleep: async () => {} }, refreshMs: 10_000 });
    const r = await src.list();
    expect(r).toEqual({
      ok: true,
      pods: [
        {
          uid: 'u-1',
          namespace: 'shop',
          name: 'web-5c9d8f7b6-x2k4p',
          app: 'shop/web',
          ready: true,
          readySince: Date.parse('2026-01-02T03:04:05Z'),
          hostNetwork: true,
          containers: [{ name: 'web', id: 'abc123', ready: true, requests: { cpu: 0.25, memory: 128 * 2 ** 20 }, limits: { cpu: 1, memory: 2 ** 30 } }],
        },
      ],
    });
    expect(api.requests[0]!.searchParams.get('fieldSelector')).toBe('spec.nodeName=node-a');
    expect(api.requests[0]!.searchParams.get('resourceVersion')).toBe('0');
    t += 5_000;
    await src.list();
    expect(api.requests).toHaveLength(1);
    t += 6_000;
    await src.list();
    expect(api.requests).toHaveLength(2);
    // What it asked (list pods, all namespaces) is what deploy/ grants the probe's ServiceAccount.
    expect(api.requests.map((u) => u.pathname)).toEqual(['/api/v1/pods', '/api/v1/pods']);
    const asked = api.requests.map(() => ({ method: 'GET', path: '/api/v1/pods', code: 200, watch: false, verb: 'list', apiGroup: '', resource: 'pods' }));
    expect(denied(asked, grantsOf(await renderDeploy({ components: ['autoscaler'] }), 'polyarch-system', 'polyarch-probe'))).toEqual([]);
  });

  it('an API error or an unreachable server is a value naming the server, not a throw', async () => {
    const api = await fakeApi(() => ({ status: 403, body: { kind: 'Status', code: 403, message: 'pods is forbidden' } }));
    const src = kubePodInfoSource({ access: kubeConfigAccess(kubeConfigFor(api.url)), nodeName: 'node-a', clock: { now: () => 0, sleep: async () => {} } });
    const r = await src.list();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(`kubernetes API ${api.url}`);
    if (!r.ok) expect(r.error.message).toMatch(/HTTP 403/);
    const down = kubePodInfoSource({ access: kubeConfigAccess(kubeConfigFor('http://127.0.0.1:1')), nodeName: 'node-a', clock: { now: () => 0, sleep: async () => {} } });
    const d = await down.list();
    expect(d).toMatchObject({ ok: false, error: { kind: 'unreachable' } });
  });
});

describe('serviceAccountAccess: the probe in a pod, without the Kubernetes client', () => {
  it('is HTTPS to $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT trusting ca.crt, with the token re-read for every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-sa-'));
    const api = await startServiceAccountApi(dir, 'token-1', [POD]);
    try {
      const access = serviceAccountAccess(api.env);
      expect(access?.server).toBe(api.server);
      let t = 0;
      const src = kubePodInfoSource({ access: access!, nodeName: 'node-a', clock: { now: () => t, sleep: async () => {} }, refreshMs: 1_000 });
      expect(await src.list()).toMatchObject({ ok: true, pods: [{ uid: 'u-1', name: 'web-5c9d8f7b6-x2k4p', ready: true }] });
      api.setToken('token-2'); // kubelet rotates the bound token
      t += 1_000;
      expect((await src.list()).ok).toBe(true);
      expect(api.requests).toEqual([
        '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=0 Bearer token-1',
        '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=0 Bearer token-2',
      ]);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is undefined outside a pod, and a server it cannot verify is an unreachable source, not a throw', async () => {
    expect(serviceAccountAccess({})).toBeUndefined();
    expect(serviceAccountAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1' })).toBeUndefined();
    expect(serviceAccountAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' })?.server).toBe('https://[fd00::1]:443');
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-sa-'));
    try {
      const other = makeCertificates({ service: 'kubernetes', namespace: 'default', validityDays: 1, ipAddresses: ['127.0.0.1'], now: new Date() });
      const trusted = makeCertificates({ service: 'kubernetes', namespace: 'default', validityDays: 1, now: new Date() });
      writeFileSync(join(dir, 'ca.crt'), trusted.caCertPem);
      writeFileSync(join(dir, 'token'), 'token-1');
      const server = createHttpsServer({ cert: other.certPem, key: other.keyPem }, (_req, res) => res.end('{}'));
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const access = serviceAccountAccess({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port), POLYARCH_SERVICE_ACCOUNT_DIR: dir });
      const r = await kubePodInfoSource({ access: access!, nodeName: 'node-a', clock: { now: () => 0, sleep: async () => {} } }).list();
      expect(r).toMatchObject({ ok: false, error: { kind: 'unreachable' } });
      if (!r.ok) expect(r.error.message).toContain(`kubernetes API ${access!.server}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
