/**
 * The MetricsSource adapters for clusters without the probe, over real HTTP on loopback:
 * a fake Prometheus answering query_range, and a fake API server with metrics.k8s.io.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { CADVISOR_QUERIES, PrometheusSource } from '../src/adapters/metrics/prometheus.ts';
import { MetricsServerSource } from '../src/adapters/metrics/metrics-server.ts';
import { appFromPodName, appOfPod } from '../src/adapters/metrics/app-usage.ts';
import { ProbeMetricsSource } from '../src/adapters/metrics/probe-source.ts';
import { CgroupReader } from '../src/adapters/probe/cgroup-fs.ts';
import { ProbeSampler } from '../src/adapters/probe/sampler.ts';
import { functionPodInfoSource } from '../src/adapters/probe/pod-list.ts';
import { startProbeServer } from '../src/server/probe-server.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuStat } from './support/cgroup-tree.ts';
import { copyFixture, FIXTURE_PODS, fixtureContainerPath, fixturePodInfo } from './support/probe-fixture.ts';

const servers: Server[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(handler: (url: URL) => { status: number; body: unknown }): Promise<{ url: string; requests: URL[] }> {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url);
    const { status, body } = handler(url);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const T = 1_764_000_000; // seconds, a minute boundary
const clockAt = (ms: number) => ({ now: () => ms, sleep: async () => {} });

describe('PrometheusSource (cAdvisor via query_range)', () => {
  // Two pods of Deployment shop/web and one of StatefulSet data/db, minutes ending at T+60 and T+120.
  const series: Record<keyof typeof CADVISOR_QUERIES, { ns: string; pod: string; values: [number, string][] }[]> = {
    cpu: [
      { ns: 'shop', pod: 'web-7d9f8c6b5-x2k4p', values: [[T + 60, '0.25'], [T + 120, '0.5']] },
      { ns: 'shop', pod: 'web-7d9f8c6b5-q8r2m', values: [[T + 60, '0.75'], [T + 120, 'NaN']] },
      { ns: 'data', pod: 'db-0', values: [[T + 60, '1.5'], [T + 120, '1']] },
    ],
    mem: [
      { ns: 'shop', pod: 'web-7d9f8c6b5-x2k4p', values: [[T + 60, '1000'], [T + 120, '3000']] },
      { ns: 'shop', pod: 'web-7d9f8c6b5-q8r2m', values: [[T + 60, '2000']] },
      { ns: 'data', pod: 'db-0', values: [[T + 60, '5000'], [T + 120, '6000']] },
    ],
    net: [{ ns: 'shop', pod: 'web-7d9f8c6b5-x2k4p', values: [[T + 60, '500000'], [T + 120, '250000']] }],
    disk: [{ ns: 'data', pod: 'db-0', values: [[T + 60, '100000000'], [T + 120, '0']] }],
  };
  const which = (q: string) => (Object.keys(CADVISOR_QUERIES) as (keyof typeof CADVISOR_QUERIES)[]).find((k) => CADVISOR_QUERIES[k] === q);

  it('turns per-pod series into per-application per-minute maxima (highest pod), with net and disk as utilisation', async () => {
    const prom = await serve((url) => {
      const k = which(url.searchParams.get('query') ?? '');
      if (url.pathname !== '/api/v1/query_range' || !k) return { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'unknown query' } };
      return { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: series[k].map((s) => ({ metric: { namespace: s.ns, pod: s.pod }, values: s.values })) } } };
    });
    const src = new PrometheusSource({ url: prom.url, clock: clockAt((T + 150) * 1000), netBytesPerSec: 1e6, diskBytesPerSec: 5e8 });
    const samples = await src.appUsage(T * 1000);
    expect(prom.requests).toHaveLength(4);
    expect(prom.requests[0]!.searchParams.get('start')).toBe(String(T + 60));
    expect(prom.requests[0]!.searchParams.get('end')).toBe(String(T + 120));
    expect(prom.requests[0]!.searchParams.get('step')).toBe('60');
    const sorted = [...samples].sort((a, b) => a.minuteMs - b.minuteMs || a.app.localeCompare(b.app));
    expect(sorted).toEqual([
      { app: 'data/db', minuteMs: T * 1000, cpuMilli: 1500, memoryBytes: 5000, net: 0, disk: 0.2, pods: 1 },
      { app: 'shop/web', minuteMs: T * 1000, cpuMilli: 750, memoryBytes: 2000, net: 0.5, disk: 0, pods: 2 },
      { app: 'data/db', minuteMs: (T + 60) * 1000, cpuMilli: 1000, memoryBytes: 6000, net: 0, disk: 0, pods: 1 },
      { app: 'shop/web', minuteMs: (T + 60) * 1000, cpuMilli: 500, memoryBytes: 3000, net: 0.25, disk: 0, pods: 1 },
    ]);
    expect(src.status()).toMatchObject({ ok: true, resolution: { sampleSeconds: 60 } });
    // Asked again for what it already has: nothing new, no query.
    expect(await src.appUsage((T + 61) * 1000)).toEqual([]);
    expect(prom.requests).toHaveLength(4);
  });

  it('a Prometheus error or an unreachable server gives no minutes and a status naming the cause', async () => {
    const prom = await serve(() => ({ status: 422, body: { status: 'error', errorType: 'execution', error: 'query timed out' } }));
    const src = new PrometheusSource({ url: prom.url, clock: clockAt((T + 150) * 1000), netBytesPerSec: 1e6, diskBytesPerSec: 1e6 });
    expect(await src.appUsage(T * 1000)).toEqual([]);
    expect(src.status().error).toBe(`cpu: ${prom.url}: HTTP 422: execution: query timed out`);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = new PrometheusSource({ url: `http://127.0.0.1:${port}`, clock: clockAt((T + 150) * 1000), netBytesPerSec: 1e6, diskBytesPerSec: 1e6 });
    expect(await down.appUsage(T * 1000)).toEqual([]);
    expect(down.status().error).toMatch(new RegExp(`^cpu: http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});

describe('MetricsServerSource (metrics.k8s.io)', () => {
  const kubeConfigFor = (url: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
    return kc;
  };
  const owner = (kind: string, name: string) => [{ apiVersion: 'apps/v1', kind, name, uid: 'x', controller: true }];

  it('polls pod metrics, sums containers, maps pods to their workload and keeps per-minute maxima', async () => {
    let cpuWeb = '250m';
    const api = await serve((url) => {
      if (url.pathname === '/apis/metrics.k8s.io/v1beta1/pods') {
        return {
          status: 200,
          body: {
            kind: 'PodMetricsList',
            apiVersion: 'metrics.k8s.io/v1beta1',
            items: [
              { metadata: { name: 'web-7d9f8c6b5-x2k4p', namespace: 'shop' }, window: '15s', containers: [{ name: 'web', usage: { cpu: cpuWeb, memory: '100Mi' } }, { name: 'sidecar', usage: { cpu: '50m', memory: '20Mi' } }] },
              { metadata: { name: 'db-0', namespace: 'data' }, window: '15s', containers: [{ name: 'db', usage: { cpu: '1200000000n', memory: '2Gi' } }] },
            ],
          },
        };
      }
      if (url.pathname === '/api/v1/pods') {
        return {
          status: 200,
          body: {
            kind: 'PodList',
            apiVersion: 'v1',
            items: [
              { metadata: { name: 'web-7d9f8c6b5-x2k4p', namespace: 'shop', labels: { 'pod-template-hash': '7d9f8c6b5' }, ownerReferences: owner('ReplicaSet', 'web-7d9f8c6b5') } },
              { metadata: { name: 'db-0', namespace: 'data', ownerReferences: owner('StatefulSet', 'db') } },
            ],
          },
        };
      }
      return { status: 404, body: { kind: 'Status', code: 404 } };
    });
    let now = T * 1000 + 5_000;
    const src = new MetricsServerSource({ kubeConfig: kubeConfigFor(api.url), clock: { now: () => now, sleep: async () => {} } });
    expect(await src.poll()).toEqual({ ok: true, pods: 2 });
    now += 15_000;
    cpuWeb = '900m';
    await src.poll();
    now += 15_000;
    cpuWeb = '100m';
    await src.poll();
    expect(await src.appUsage(0)).toEqual([]); // the minute has not ended
    now = (T + 60) * 1000;
    const samples = await src.appUsage(0);
    expect(samples).toEqual([
      { app: 'shop/web', minuteMs: T * 1000, cpuMilli: 950, memoryBytes: 120 * 2 ** 20, net: 0, disk: 0, pods: 1 },
      { app: 'data/db', minuteMs: T * 1000, cpuMilli: 1200, memoryBytes: 2 * 2 ** 30, net: 0, disk: 0, pods: 1 },
    ]);
    expect(src.status().resolution.note).toMatch(/no network or disk/);
  });

  it('metrics.k8s.io missing (no metrics-server) is a poll error naming the API', async () => {
    const api = await serve(() => ({ status: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 } }));
    const src = new MetricsServerSource({ kubeConfig: kubeConfigFor(api.url), clock: clockAt(0) });
    const r = await src.poll();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^metrics\.k8s\.io: /);
    expect(src.status().ok).toBe(false);
  });
});

describe('which application a pod belongs to', () => {
  it('from owner references: a ReplicaSet stands for its Deployment', () => {
    expect(appOfPod({ metadata: { name: 'web-7d9f8c6b5-x2k4p', namespace: 'shop', labels: { 'pod-template-hash': '7d9f8c6b5' }, ownerReferences: owner('ReplicaSet', 'web-7d9f8c6b5') } })).toBe('shop/web');
    expect(appOfPod({ metadata: { name: 'agent-x2k4p', namespace: 'kube-system', ownerReferences: owner('DaemonSet', 'agent') } })).toBe('kube-system/agent');
    expect(appOfPod({ metadata: { name: 'lonely', namespace: 'default' } })).toBe('default/lonely');
  });
  it('from the name alone (Prometheus without a pod list)', () => {
    expect(appFromPodName('shop', 'web-7d9f8c6b5-x2k4p')).toBe('shop/web');
    expect(appFromPodName('data', 'db-12')).toBe('data/db');
    expect(appFromPodName('kube-system', 'node-exporter-x2k4p')).toBe('kube-system/node-exporter');
    expect(appFromPodName('default', 'lonely')).toBe('default/lonely');
  });
  function owner(kind: string, name: string) {
    return [{ kind, name, controller: true }];
  }
});

describe('ProbeMetricsSource (the node probes\' /windows)', () => {
  it('reads every node\'s probe and gives per-application minutes: highest pod, containers summed; a dead probe is named', async () => {
    const T0 = T * 1000;
    let now = T0;
    const clock = { now: () => now, sleep: async () => {} };
    const urls: string[] = [];
    const web = FIXTURE_PODS[0]!;
    for (const [driver, extraUsec] of [['systemd', 6_000_000], ['cgroupfs', 3_000_000]] as const) {
      const fx = copyFixture(driver);
      cleanups.push(fx.dispose);
      const sampler = new ProbeSampler({
        reader: new CgroupReader({ layout: { version: 'v2', base: fx.root }, procRoot: fx.procRoot }),
        clock,
        nodeName: `node-${driver}`,
        capacity: { cpu: { amount: 4, source: 't' }, mem: { amount: 2 ** 34, source: 't' }, net: { amount: 1e8, source: 't' }, disk: { amount: 1e8, source: 't' } },
        pods: functionPodInfoSource(() => fixturePodInfo(T0 - 600_000)),
        intervalMs: 10_000,
        warmupMs: 0,
      });
      now = T0;
      await sampler.sample();
      writeFileSync(join(fx.root, fixtureContainerPath(driver, web, web.containers[1]!), 'cpu.stat'), cpuStat({ usageUsec: web.containers[1]!.values.usageUsec + extraUsec }));
      now = T0 + 10_000;
      await sampler.sample();
      const server = await startProbeServer({ probe: sampler, host: '127.0.0.1', port: 0 });
      cleanups.push(() => server.close());
      urls.push(server.url);
    }
    now = T0 + 65_000; // the probes close minute 0 when asked for their windows at this time
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));

    const src = new ProbeMetricsSource({ endpoints: () => [...urls, deadUrl], clock });
    const samples = await src.appUsage(0);
    // Node A's web pod used 0.6 cores, node B's 0.3: the application's minute is the higher;
    // memory is web's working set (400-80 MiB) plus the sidecar's (50-2 MiB).
    expect(samples.find((x) => x.app === 'shop/web')).toEqual({ app: 'shop/web', minuteMs: T0, cpuMilli: expect.closeTo(600, 3), memoryBytes: 368 * 2 ** 20, net: 0, disk: 0, pods: 2 });
    expect(samples.find((x) => x.app === 'data/db')).toMatchObject({ minuteMs: T0, cpuMilli: 0, memoryBytes: 1280 * 2 ** 20, pods: 2 });
    expect(samples.filter((x) => x.minuteMs !== T0)).toEqual([]);
    expect(src.resolution.sampleSeconds).toBe(10);
    expect(src.status().errors).toEqual([expect.stringMatching(new RegExp(`^${deadUrl}/windows: .*ECONNREFUSED`))]);
  });
});
