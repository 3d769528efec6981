// TLS with real certificates from `polyarch certs`: served, verified by name against the
// CA, and reloaded when the files change, as cert-manager rotates them.
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/index.ts';
import { startServer, type RunningServer } from '../src/server/http-server.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { waitFor } from './support/wait.ts';

let dir: string;
let server: RunningServer;
const metrics = createMetrics({ defaultMetrics: false });

async function certs(...extra: string[]): Promise<void> {
  const code = await run(['certs', '--service', 'polyarch', '--namespace', 'polyarch-system', '--out', dir, '--output', 'json', ...extra]);
  expect(code).toBe(0);
}

/** GET /healthz as kube-apiserver would dial the Service: trusting only the CA, checking the name. */
async function peer(ca: string): Promise<{ serial: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/healthz', servername: 'polyarch.polyarch-system.svc', ca, agent: false }, (res) => {
      const serial = (res.socket as unknown as { getPeerCertificate(): { serialNumber: string } }).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ serial, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const serialOf = async (): Promise<string> => new X509Certificate(await readFile(join(dir, 'tls.crt'))).serialNumber;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyarch-tls-'));
  await certs();
  server = await startServer({
    listen: '127.0.0.1:0', tlsCertFile: join(dir, 'tls.crt'), tlsPrivateKeyFile: join(dir, 'tls.key'),
    routes: [], metrics, log: silentLogger, bodyLimit: 1024, tlsPollMs: 200,
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serving certificate', () => {
  it('is served over HTTPS and verifies against the CA under the service DNS name', async () => {
    expect(server.tls).toBe(true);
    const ca = await readFile(join(dir, 'ca.crt'), 'utf8');
    const got = await peer(ca);
    expect(got.body).toBe('ok');
    expect(got.serial).toBe(await serialOf());
  });

  it('is reloaded when `polyarch certs` rotates it, with the same CA', async () => {
    const ca = await readFile(join(dir, 'ca.crt'), 'utf8');
    const before = (await peer(ca)).serial;
    await certs('--days', '30');
    const rotated = await serialOf();
    expect(rotated).not.toBe(before);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(ca); // caBundle unchanged
    // Wait for the watch (or the 200 ms poll) to pick it up.
    let now = before;
    await waitFor(async () => (now = (await peer(ca)).serial) === rotated, { what: `the server to serve the rotated certificate (serial ${rotated})`, state: () => ({ serving: now }), intervalMs: 50 });
    expect(now).toBe(rotated);
    expect(await metrics.registry.getSingleMetricAsString('polyarch_tls_reloads_total')).toMatch(/result="ok"} [1-9]/);
  });

  it('keeps the current certificate when the new files do not load (a key that does not match)', async () => {
    const ca = await readFile(join(dir, 'ca.crt'), 'utf8');
    const current = (await peer(ca)).serial;
    const goodKey = await readFile(join(dir, 'tls.key'), 'utf8');
    const other = await mkdtemp(join(tmpdir(), 'polyarch-tls-other-'));
    expect(await run(['certs', '--service', 'x', '--namespace', 'y', '--out', other, '--output', 'json'])).toBe(0);
    await writeFile(join(dir, 'tls.key'), await readFile(join(other, 'tls.key'), 'utf8'));
    expect(await server.reloadCertificate()).toBe(false);
    expect((await peer(ca)).serial).toBe(current);
    await writeFile(join(dir, 'tls.key'), goodKey);
    expect(await server.reloadCertificate()).toBe(true);
    await rm(other, { recursive: true, force: true });
  });

  it('refuses bad flags with exit 2', async () => {
    expect(await run(['certs', '--service', 'polyarch', '--namespace', 'ns', '--out', dir, '--days', '0'])).toBe(2);
    expect(await run(['certs', '--service', 'polyarch', '--namespace', 'ns', '--out', dir, '--ip', 'not-an-ip'])).toBe(2);
  });
});
