/**
 * The probe's HTTP surface over real HTTP on loopback, and the `polyarch probe` command,
 * on a cgroup v2 fixture tree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { CgroupReader } from '../src/adapters/probe/cgroup-fs.ts';
import { ProbeSampler } from '../src/adapters/probe/sampler.ts';
import { functionPodInfoSource, filePodInfoSource } from '../src/adapters/probe/pod-list.ts';
import { startProbeServer, type ProbeServer } from '../src/server/probe-server.ts';
import { run } from '../src/cli/index.ts';
import { inProcess } from './support/cli.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { WindowsReport } from '../src/core/probe/report.ts';
import { cpuStat } from './support/cgroup-tree.ts';
import { copyFixture, FIXTURE_PODS, fixtureContainerPath, fixturePodInfo } from './support/probe-fixture.ts';
import { waitFor } from './support/wait.ts';
import { spawnChecked } from './support/spawn.ts';

const T0 = 1_764_000_000_000;
const Gi = 2 ** 30;
const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function serve(opts: { allowReclaim?: boolean; token?: string } = {}) {
  const fx = copyFixture('systemd');
  cleanup.push(fx.dispose);
  const clock: Clock & { t: number } = { t: T0, now() { return this.t; }, async sleep() {} };
  const sampler = new ProbeSampler({
    reader: new CgroupReader({ layout: { version: 'v2', base: fx.root }, procRoot: fx.procRoot }),
    clock,
    nodeName: 'node-a',
    capacity: { cpu: { amount: 4, source: 't' }, mem: { amount: 8 * Gi, source: 't' }, net: { amount: 1e8, source: 't' }, disk: { amount: 1e8, source: 't' } },
    pods: functionPodInfoSource(() => fixturePodInfo(T0 - 600_000)),
    intervalMs: 10_000,
    warmupMs: 0,
    ...(opts.allowReclaim ? { allowReclaim: true } : {}),
  });
  const server: ProbeServer = await startProbeServer({ probe: sampler, host: '127.0.0.1', port: 0, ...(opts.token ? { reclaimToken: opts.token } : {}) });
  cleanup.push(() => server.close());
  return { fx, clock, sampler, server };
}

describe('probe HTTP server', () => {
  it('/healthz is 503 before the first sample and 200 after; /windows serves the report', async () => {
    const { sampler, server, clock, fx } = await serve();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    await sampler.sample();
    const web = FIXTURE_PODS[0]!;
    writeFileSync(join(fx.root, fixtureContainerPath('systemd', web, web.containers[1]!), 'cpu.stat'), cpuStat({ usageUsec: web.containers[1]!.values.usageUsec + 3_000_000 }));
    clock.t = T0 + 10_000;
    await sampler.sample();
    sampler.closeMinutes(T0 + 60_000);
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.text()).toMatch(/^ok: last sample 0 s ago: 4 containers, 0 errors/);
    const res = await fetch(`${server.url}/windows`);
    expect(res.headers.get('content-type')).toBe('application/json');
    const report = (await res.json()) as WindowsReport;
    const w = report.pods.find((p) => p.name === 'web-7d9f')!.containers.find((c) => c.name === 'web')!;
    expect(w.metrics.cpu.usage[0]).toBeCloseTo(0.3, 5);
    expect(report.node).toBe('node-a');
  });

  it('/metrics is Prometheus text with utilisation by namespace, pod, container, metric and basis', async () => {
    const { sampler, server, clock } = await serve();
    await sampler.sample();
    clock.t = T0 + 10_000;
    await sampler.sample();
    sampler.closeMinutes(T0 + 60_000);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE polyarch_probe_utilisation_ratio gauge');
    // db's working set 1280 MiB of its 2 GiB limit.
    expect(text).toContain('polyarch_probe_utilisation_ratio{namespace="data",pod="db-0",container="db",metric="mem",basis="limit"} 0.625');
    expect(text).toContain('polyarch_probe_containers 4');
    expect(text).toMatch(/polyarch_probe_window_minutes\{namespace="shop",pod="web-7d9f",container="web",metric="cpu",basis="limit"\} 1/);
  });

  it('POST /reclaim: validated body, token, and the result with a status that says what happened', async () => {
    const { sampler, server, fx } = await serve({ allowReclaim: true, token: 's3cret' });
    await sampler.sample();
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer s3cret' }) =>
      fetch(`${server.url}/reclaim`, { method: 'POST', body, headers });
    const db = FIXTURE_PODS[1]!;
    expect((await post('{}', { 'content-type': 'application/json' })).status).toBe(401);
    expect((await post('x=1', { 'content-type': 'text/plain', authorization: 'Bearer s3cret' })).status).toBe(415);
    const bad = await post(JSON.stringify({ podUid: db.uid, bytes: -1 }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^bytes: /);
    expect((await post('x'.repeat(5000))).status).toBe(413);
    const ok = await post(JSON.stringify({ podUid: db.uid, container: 'db', bytes: 1048576 }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, requestedBytes: 1048576 });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(fx.root, fixtureContainerPath('systemd', db, db.containers[1]!), 'memory.reclaim'), 'utf8')).toBe('1048576');
    expect((await post(JSON.stringify({ podUid: 'nope', bytes: 1 }))).status).toBe(404);
    expect((await fetch(`${server.url}/windows`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('polyarch_probe_reclaims_total{result="ok"} 1');
    expect(metrics).toContain('polyarch_probe_reclaims_total{result="not-found"} 1');
  });
});

describe('POST /reclaim fails closed', () => {
  it('no token, no reclaim endpoint: 404, and memory.reclaim is never written, even with reclaim allowed', async () => {
    const { sampler, server, fx } = await serve({ allowReclaim: true });
    await sampler.sample();
    const db = FIXTURE_PODS[1]!;
    const file = join(fx.root, fixtureContainerPath('systemd', db, db.containers[1]!), 'memory.reclaim');
    const { readFileSync } = await import('node:fs');
    const before = readFileSync(file, 'utf8');
    const r = await fetch(`${server.url}/reclaim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ podUid: db.uid, container: 'db', bytes: 1048576 }) });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toMatch(/only with a token/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('`polyarch probe --allow-reclaim` without $POLYARCH_PROBE_TOKEN is a usage error (exit 2), before it listens', async () => {
    const saved = process.env['POLYARCH_PROBE_TOKEN'];
    delete process.env['POLYARCH_PROBE_TOKEN'];
    try {
      const r = await inProcess('probe', '--allow-reclaim', '--listen', '127.0.0.1:0');
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('polyarch: --allow-reclaim needs a bearer token in $POLYARCH_PROBE_TOKEN: POST /reclaim is never served without one\n');
    } finally {
      if (saved !== undefined) process.env['POLYARCH_PROBE_TOKEN'] = saved;
    }
  });
});

describe('polyarch probe --once', () => {
  const capture = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const o = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const code = await run(argv);
      return { code, out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = o;
      process.stderr.write = e;
    }
  };

  it('prints the sample set as JSON, with the pods file naming pods and containers', async () => {
    const fx = copyFixture('cgroupfs');
    cleanup.push(fx.dispose);
    const podsFile = join(fx.root, '..', 'pods.json');
    const items = fixturePodInfo(T0).map((p) => ({
      metadata: { uid: p.uid, name: p.name, namespace: p.namespace },
      spec: { nodeName: 'node-a', containers: p.containers.map((c) => ({ name: c.name, resources: { requests: { cpu: c.requests.cpu === undefined ? undefined : `${c.requests.cpu * 1000}m` }, limits: c.limits.memory ? { memory: `${c.limits.memory / 2 ** 20}Mi` } : {} } })) },
      status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }], containerStatuses: p.containers.map((c) => ({ name: c.name, containerID: `containerd://${c.id}`, ready: true })) },
    }));
    writeFileSync(podsFile, JSON.stringify({ kind: 'PodList', items }));
    const r = await capture(['probe', '--once', '--cgroup-root', fx.root, '--proc-root', fx.procRoot, '--interval', '100ms', '--pods-file', podsFile, '--node-name', 'node-a', '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as WindowsReport;
    expect(report.cgroup).toMatchObject({ version: 'v2', driver: 'cgroupfs' });
    const web = report.pods.find((p) => p.name === 'web-7d9f')!;
    expect(web.monitoring.state).toBe('monitoring');
    expect(web.containers.map((c) => c.name)).toEqual(['web', 'sidecar']);
    expect(web.containers[0]!.metrics.mem.basis).toEqual({ kind: 'limit', amount: Gi, source: 'pod spec' });
    expect(web.containers[1]!.metrics.cpu.basis).toEqual({ kind: 'request', amount: 0.1, source: 'pod spec' });
  });

  it('a bad pods file is reported naming the field; a bad flag is a usage error (exit 2)', async () => {
    const fx = copyFixture('systemd');
    cleanup.push(fx.dispose);
    const podsFile = join(fx.root, '..', 'pods.json');
    writeFileSync(podsFile, JSON.stringify({ items: [{ metadata: { name: 'x' }, spec: { containers: [] } }] }));
    const r = await capture(['probe', '--once', '--cgroup-root', fx.root, '--proc-root', fx.procRoot, '--interval', '100ms', '--pods-file', podsFile, '-o', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as WindowsReport;
    expect(report.podInfo).toMatchObject({ ok: false, error: `pod list ${podsFile}: items[0].metadata.uid: Invalid input: expected string, received undefined` });
    expect(report.pods.every((p) => p.monitoring.state === 'not-ready')).toBe(true);
    const bad = await capture(['probe', '--once', '--interval', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('polyarch: --interval: expected a duration such as 5s, 500ms or 2m, got "soon"\n');
    const noRoot = await capture(['probe', '--once', '--cgroup-root', join(fx.root, 'nope')]);
    expect(noRoot.code).toBe(1);
    expect(noRoot.err).toMatch(/neither cgroup v2 .* nor cgroup v1/);
  });

  it('the file source re-reads the file, keeps only pods of this node, and names a missing file', async () => {
    const fx = copyFixture('systemd');
    cleanup.push(fx.dispose);
    const file = join(fx.root, '..', 'pods.json');
    const src = filePodInfoSource(file, 'node-a');
    expect(await src.list()).toMatchObject({ ok: false, error: { kind: 'not-found' } });
    writeFileSync(file, JSON.stringify({ items: [{ metadata: { uid: 'u1', name: 'a' }, spec: { nodeName: 'node-b', containers: [{ name: 'c' }] } }] }));
    expect(await src.list()).toEqual({ ok: true, pods: [] });
    writeFileSync(file, JSON.stringify({ items: [{ metadata: { uid: 'u1', name: 'a' }, spec: { nodeName: 'node-a', containers: [{ name: 'c', resources: { limits: { cpu: 'lots' } } }] } }] }));
    const bad = await src.list();
    expect(bad).toMatchObject({ ok: false, error: { kind: 'invalid' } });
    if (!bad.ok) expect(bad.error.message.startsWith(`pod list ${file}: items[0].spec.containers[0].resources.limits.cpu: invalid quantity "lots"`)).toBe(true);
  });
});

describe('polyarch probe (serving)', () => {
  it('serves on the address given, samples, and stops cleanly on SIGTERM', async () => {
    const fx = copyFixture('systemd');
    cleanup.push(fx.dispose);
    const probe = spawnChecked(process.execPath, ['bin/polyarch.js', 'probe', '--cgroup-root', fx.root, '--proc-root', fx.procRoot, '--listen', '127.0.0.1:0', '--interval', '200ms', '--node-name', 'node-z'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = probe.proc;
    cleanup.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`probe exited ${child.exitCode}: ${stderr}`);
      return /"url":"(http:\/\/[^"]+)"/.exec(stderr)?.[1];
    }, { what: 'the probe to log the URL it serves on', timeoutMs: 30_000, failure: probe.failure, state: () => stderr.slice(-500) });
    let health = 0;
    await waitFor(async () => (health = (await fetch(`${url}/healthz`)).status) === 200, { what: `${url}/healthz to answer 200`, intervalMs: 100, state: () => ({ health, stderr: stderr.slice(-500) }) });
    expect(health).toBe(200);
    const report = (await (await fetch(`${url}/windows`)).json()) as WindowsReport;
    expect(report).toMatchObject({ node: 'node-z', intervalMs: 200, cgroup: { version: 'v2', driver: 'systemd' } });
    expect(report.pods).toHaveLength(3);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toContain('probe stopped');
  });
});
