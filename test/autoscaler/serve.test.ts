/** `polyarch serve --autoscaler` as a process: the fake API server, a probe on the node's InternalIP, /metrics. */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { amountOf } from '../../src/core/units/amounts.ts';
import { startProbeServer, type ProbeServer } from '../../src/server/probe-server.ts';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { denied, grantsOf, renderDeploy } from '../support/deploy.ts';
import { node } from '../kube/helpers.ts';
import { ManualTime, Mi, ScriptedNodeProbe } from './harness.ts';
import { waitFor } from '../support/wait.ts';
import { spawnChecked } from '../support/spawn.ts';

let server: FakeApiServer | undefined;
let probeServer: ProbeServer | undefined;
let proc: ChildProcess | undefined;
afterEach(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  await probeServer?.close();
  await server?.close();
});

/** Waits for `f` (test/support/wait.ts); on timeout the error carries serve's last output. */
const until = <T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, out: string[], ms = 20_000): Promise<T> =>
  waitFor(f, { what, timeoutMs: ms, intervalMs: 100, state: () => out.slice(-20), failure: () => serveFailure?.() });
let serveFailure: (() => Error | undefined) | undefined;

describe('polyarch serve --autoscaler', () => {
  it('resizes a rising workload in place and exports its metrics', async () => {
    server = await FakeApiServer.start({ controllers: { kubelet: true } });
    const n1 = node('n1', 'amd64', { cpu: '8', memory: '16Gi' });
    (n1.status as Record<string, unknown>)['addresses'] = [{ type: 'InternalIP', address: '127.0.0.1' }];
    server.seed(n1);
    const now = Date.now();
    const probe = new ScriptedNodeProbe('n1', new ManualTime(now), now - 20 * 60_000);
    probeServer = await startProbeServer({ probe, host: '127.0.0.1', port: 0 });
    const pod = await server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-web', controller: true }] },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] },
    });
    probe.pods.push({ uid: pod.metadata.uid ?? '', namespace: 'default', name: 'web-0', app: 'default/web', reqCpu: 0.5, reqMem: 256 * Mi, cpu: (m) => 0.1 + 0.02 * m, mem: () => 100 * Mi });
    await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ScalingPolicy', metadata: { name: 'web', namespace: 'default' }, spec: { targetRef: { kind: 'StatefulSet', name: 'web' }, mode: 'InPlace', forecast: { window: 5, horizon: 5 } } });
    const dir = await mkdtemp(join(tmpdir(), 'polyarch-autoscaler-'));
    const kubeconfig = await server.writeKubeconfig(join(dir, 'kubeconfig'));
    const port = new URL(probeServer.url).port;
    const out: string[] = [];
    const started = spawnChecked(process.execPath, ['bin/polyarch.js', 'serve', '--autoscaler', '--no-leader-elect', '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--probe-port', port, '--autoscaler-interval', '500ms'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = started.proc;
    serveFailure = started.failure;
    proc.stdout?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
    proc.stderr?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));

    await until('a resize', () => (amountOf(server!.get('v1', 'Pod', 'web-0')?.spec.containers[0].resources.requests.cpu)! > 0.5 ? true : undefined), out);
    const status = await until('status', () => server!.get('polyarch.io/v1alpha1', 'ScalingPolicy', 'web')?.status, out);
    expect(status.lastActions.some((a: { reason: string }) => a.reason === 'Resized')).toBe(true);
    const url = await until('the serving line', () => out.map((l) => /"url":"([^"]+)"/.exec(l)?.[1]).find(Boolean), out);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/polyarch_autoscaler_actions_total\{kind="resize",result="ok"\} [1-9]/);
    expect(metrics).toContain('polyarch_autoscaler_unmet_demand');
    // Every request the autoscaler made is allowed by what deploy/'s autoscaler component grants it.
    const rendered = await renderDeploy({ components: ['autoscaler'] });
    expect(server.requests.filter((r) => r.resource === 'pods' && r.subresource === 'resize').length).toBeGreaterThan(0);
    expect(denied(server.requests, grantsOf(rendered, 'polyarch-system', 'polyarch-autoscaler'))).toEqual([]);
  }, 60_000);
});
