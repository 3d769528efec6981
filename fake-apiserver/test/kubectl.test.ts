/** The real kubectl against the fake server: discovery, get, create -f, patch (merge, strategic, json), apply, delete, get -w. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';
import { node, pod, until } from './helpers.ts';
import { spawnChecked } from '../../test/support/spawn.ts';
import { waitFor } from '../../test/support/wait.ts';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';

let server: FakeApiServer;
let kubeconfig: string;
let dir: string;

const kubectl = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
  try {
    const { stdout, stderr } = await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: 20_000, env: { ...process.env, HOME: dir } });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
  }
};

beforeAll(async () => {
  server = await FakeApiServer.start();
  dir = await mkdtemp(join(tmpdir(), 'polyarch-kubectl-'));
  kubeconfig = await server.writeKubeconfig(join(dir, 'config'));
  server.seed(node('arm-1', 'arm64'));
});
afterAll(() => server.close());

describe('kubectl round trip', () => {
  it('version and get (table and json) through discovery', async () => {
    const v = await kubectl('version', '-o', 'json');
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).serverVersion.gitVersion).toMatch(/^v1\.33/);
    const nodes = await kubectl('get', 'nodes');
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/^NAME\s+STATUS\s+AGE/);
    expect(nodes.stdout).toMatch(/arm-1\s+Ready/);
    const ns = await kubectl('get', 'ns', '-o', 'json');
    expect(JSON.parse(ns.stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const crd = await kubectl('get', 'migrations.polyarch.io');
    expect(crd.code).toBe(0);
    expect(crd.stderr).toContain('No resources found');
  });

  it('create -f, then patch with merge, strategic and json patches', async () => {
    const file = join(dir, 'pod.json');
    await writeFile(file, JSON.stringify(pod('demo', { labels: { app: 'demo' } })));
    const c = await kubectl('create', '-f', file);
    expect(c.stderr).toBe('');
    expect(c.stdout.trim()).toBe('pod/demo created');
    expect((await kubectl('patch', 'pod', 'demo', '--type', 'merge', '-p', '{"metadata":{"labels":{"tier":"web"}}}')).stdout.trim()).toBe('pod/demo patched');
    expect((await kubectl('patch', 'pod', 'demo', '-p', '{"spec":{"containers":[{"name":"app","image":"registry.local/app:1.0-arm64"}]}}')).stdout.trim()).toBe('pod/demo patched');
    expect((await kubectl('patch', 'pod', 'demo', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/annotations","value":{"polyarch.io/platform":"linux/arm64"}}]')).stdout.trim()).toBe('pod/demo patched');
    const got = JSON.parse((await kubectl('get', 'pod', 'demo', '-o', 'json')).stdout);
    expect(got.metadata.labels).toEqual({ app: 'demo', tier: 'web' });
    expect(got.spec.containers.map((x: { image: string }) => x.image)).toEqual(['registry.local/app:1.0-arm64']);
    expect(got.metadata.annotations).toEqual({ 'polyarch.io/platform': 'linux/arm64' });
    const refused = await kubectl('create', '-f', file);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Error from server (AlreadyExists): error when creating');
  });

  it('apply creates, then updates with a three-way strategic merge', async () => {
    const file = join(dir, 'cm.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n');
    expect((await kubectl('apply', '-f', file)).stdout.trim()).toBe('configmap/cfg created');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  b: "2"\n');
    expect((await kubectl('apply', '-f', file)).stdout.trim()).toBe('configmap/cfg configured');
    const cm = JSON.parse((await kubectl('get', 'configmap', 'cfg', '-o', 'json')).stdout);
    expect(cm.data).toEqual({ b: '2' });
    expect(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"b":"2"');
  });

  it('get -w receives the events of a pod created and deleted meanwhile', async () => {
    const watch = spawnChecked(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'pods', '-w', '--output-watch-events'], { env: { ...process.env, HOME: dir } });
    const child = watch.proc;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await waitFor(() => /demo/.test(out), { what: 'the initial listing from kubectl get -w', timeoutMs: 20_000, failure: watch.failure, state: () => out });
      await until(() => server.watches.count > 0, 'kubectl to watch', 2000);
      const core = server.client(CoreV1Api);
      await core.createNamespacedPod({ namespace: 'default', body: pod('watched') });
      await until(() => /ADDED\s+watched/.test(out), 'the ADDED event', 2000);
      await core.deleteNamespacedPod({ name: 'watched', namespace: 'default' });
      await until(() => /DELETED\s+watched/.test(out), 'the DELETED event', 2000);
    } finally {
      child.kill();
    }
    expect(out).toMatch(/EVENT\s+NAME\s+READY\s+STATUS/);
  });

  it('delete', async () => {
    const d = await kubectl('delete', 'pod', 'demo', '--wait=false');
    expect(d.stdout.trim()).toBe('pod "demo" deleted');
    expect(server.get('v1', 'Pod', 'demo')).toBeUndefined();
    const missing = await kubectl('get', 'pod', 'demo');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "demo" not found');
  });
});

describe('kubectl drain', () => {
  it('cordons, evicts through the Eviction API and waits; the ReplicaSet replaces the pods', async () => {
    const cluster = await FakeApiServer.start({ controllers: 'all' });
    try {
      cluster.seed(node('n1'), node('n2'));
      await cluster.client(AppsV1Api).createNamespacedReplicaSet({ namespace: 'default', body: {
        metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/web:1' }] } } },
      } });
      const core = cluster.client(CoreV1Api);
      await until(async () => (await core.listNamespacedPod({ namespace: 'default' })).items.length === 2, 'two pods');
      const first = (await core.listNamespacedPod({ namespace: 'default' })).items.map((p) => p.metadata?.name ?? '');
      for (const name of first) await core.createNamespacedPodBinding({ name, namespace: 'default', body: { metadata: { name }, target: { name: 'n1' } } });
      await until(async () => (await core.listNamespacedPod({ namespace: 'default' })).items.every((p) => p.status?.phase === 'Running'), 'pods running');
      const kc = await cluster.writeKubeconfig(join(dir, 'drain-config'));
      const { stdout } = await run(KUBECTL, ['--kubeconfig', kc, 'drain', 'n1', '--timeout=30s'], { timeout: 40_000, env: { ...process.env, HOME: dir } });
      expect(stdout).toContain('node/n1 cordoned');
      for (const name of first) expect(stdout).toContain(`pod/${name} evicted`);
      expect(stdout).toContain('node/n1 drained');
      expect((await core.readNode({ name: 'n1' })).spec?.unschedulable).toBe(true);
      expect(cluster.requests.filter((r) => r.subresource === 'eviction').length).toBe(2);
      await until(async () => { const now = (await core.listNamespacedPod({ namespace: 'default' })).items; return now.length === 2 && now.every((p) => !first.includes(p.metadata?.name ?? '')); }, 'replacements');
    } finally {
      await cluster.close();
    }
  });
});
