// The scheme a registry gets: plain HTTP only for loopback and --insecure-registry
// hosts, HTTPS with certificate verification for every other host. The registry is
// addressed as 2130706433 (127.0.0.1 written as one number, which URL parsing turns
// back into 127.0.0.1), a spelling that neither Docker nor polyarch takes for loopback,
// so the rules for remote registries apply while the traffic stays on loopback.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageLookupService } from '../src/app/image-lookup.ts';
import { registryLookup, type RegistryLookupOptions } from './support/registry-lookup.ts';
import { manualClock } from './support/clock.ts';
import { selfSignedCertificate } from './support/der.ts';
import { startRegistry, type TestRegistry } from './support/registry.ts';

let reg: TestRegistry;
let tls: Server;
let remote: string;
let tlsHost: string;
const resolvers: ImageLookupService[] = [];
const resolver = (o: RegistryLookupOptions = {}): ImageLookupService => {
  const r = registryLookup({ clock: manualClock(), conventions: [], attempts: 1, ...o });
  resolvers.push(r);
  return r;
};

beforeAll(async () => {
  reg = await startRegistry();
  await reg.pushImage('team/app', '1.4', 'linux/arm64');
  remote = `2130706433:${reg.port}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  tls = createServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: selfSignedCertificate(privateKey, 'localhost') }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  tlsHost = `2130706433:${(tls.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  tls?.closeAllConnections();
  await new Promise((r) => tls?.close(r));
  await reg?.stop();
});

describe('scheme and verification', () => {
  it('a non-loopback registry is spoken to over HTTPS (a plain-HTTP registry there fails)', async () => {
    const r = await resolver().resolve(`${remote}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unreachable');
    expect(!r.ok && r.error.message).toMatch(
      new RegExp(`^2130706433:${reg.port}/team/app:1\\.4: registry 2130706433:${reg.port} unreachable \\(TLS handshake failed: ERR_SSL_WRONG_VERSION_NUMBER; if it serves plain HTTP, name it with --insecure-registry\\)$`),
    );
  });

  it('--insecure-registry makes it plain HTTP', async () => {
    const r = await resolver({ insecureRegistries: [remote] }).resolve(`${remote}/team/app:1.4`);
    expect(r.ok && r.value.platforms.map((p) => p.image.split('@')[0])).toEqual([`${remote}/team/app`]);
  });

  it('certificates are verified: a self-signed one is refused, naming the cause', async () => {
    const r = await resolver().resolve(`${tlsHost}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unreachable');
    expect(!r.ok && r.error.message).toBe(`${tlsHost}/team/app:1.4: registry ${tlsHost} unreachable (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate; its TLS certificate is not trusted)`);
  });
});
