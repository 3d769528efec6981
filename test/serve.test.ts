// `polyarch serve --webhook --extender` as a process, against the fake API server over
// HTTP: it comes up, gets ready, answers both protocols over TLS, and stops on SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/index.ts';
import { FakeApiServer } from '../fake-apiserver/index.ts';
import { admissionReview, admissionReviewResponse } from './support/admission-review.ts';
import { node } from './kube/helpers.ts';
import { waitFor } from './support/wait.ts';
import { spawnChecked } from './support/spawn.ts';

const BIN = new URL('../bin/polyarch.js', import.meta.url).pathname;
let api: FakeApiServer;
let dir: string;
let child: ChildProcess | undefined;
let stderr = '';

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

beforeAll(async () => {
  api = await FakeApiServer.start();
  api.seed(node('a1', 'amd64'), node('r1', 'arm64'));
  dir = await mkdtemp(join(tmpdir(), 'polyarch-serve-'));
  expect(await run(['certs', '--service', 'polyarch-admission', '--namespace', 'polyarch-system', '--out', dir, '--output', 'json'])).toBe(0);
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe('polyarch serve', () => {
  it('refuses to start without a role (exit 2)', async () => {
    expect(await run(['serve', '--listen', '127.0.0.1:0'])).toBe(2);
  });

  it('serves the webhook and the extender over TLS, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
    const started = spawnChecked(process.execPath, [BIN, 'serve', '--webhook', '--extender', '--listen', '127.0.0.1:0', '--admission-listen', `127.0.0.1:${port}`,
      '--tls-cert-file', join(dir, 'tls.crt'), '--tls-private-key-file', join(dir, 'tls.key'), '--kubeconfig', kubeconfig, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started.proc;
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = started.exited;
    const dispatcher = new Agent({ connect: { ca: await readFile(join(dir, 'ca.crt'), 'utf8'), servername: 'polyarch-admission.polyarch-system.svc' } });
    const base = `https://127.0.0.1:${port}`;
    // Starting tsx and syncing the informers takes a while on a loaded machine.
    let last = 'no answer';
    await waitFor(async () => {
      if (child?.exitCode !== null) throw new Error(`serve exited early (${child?.exitCode}): ${stderr}`);
      const r = await fetch(`${base}/readyz`, { dispatcher }).catch((e: unknown) => ((last = String(e)), undefined));
      if (r) last = `HTTP ${r.status}`;
      return r?.status === 200;
    }, { what: `${base}/readyz to answer 200`, timeoutMs: 60_000, intervalMs: 200, failure: started.failure, state: () => ({ last, stderr: stderr.slice(-500) }) });
    const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: '127.0.0.1:1/never/there:1' }] } };
    const review = await fetch(`${base}/mutate-pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admissionReview(pod)), dispatcher });
    const answer = admissionReviewResponse.parse(await review.json());
    // A cold cache: gated, without waiting on the (unreachable) registry.
    expect(JSON.parse(Buffer.from(answer.response.patch ?? '', 'base64').toString())).toContainEqual({ op: 'add', path: '/spec/schedulingGates', value: [{ name: 'polyarch.io/platform' }] });
    const filter = await fetch(`${base}/extender/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Pod: pod, NodeNames: ['a1', 'r1'] }), dispatcher });
    const result = (await filter.json()) as { Error: string };
    expect(result.Error).toMatch(/127\.0\.0\.1:1/); // the unreachable registry is an Error, not a hang
    const metrics = await (await fetch(`${base}/metrics`, { dispatcher })).text();
    expect(metrics).toMatch(/polyarch_admission_reviews_total\{outcome="gated"\} 1/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // With the TLS flags given: no plain-HTTP warning, and the shared admission server is announced once.
    expect(stdout).not.toMatch(/plain HTTP/);
    expect(stdout.match(/admission server listening/g)).toHaveLength(1);
  }, 90_000);
});
