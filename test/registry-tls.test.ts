// The scheme a registry gets: plain HTTP only for loopback and --insecure-registry
// hosts, HTTPS with certificate verification for every other host. The registry is
// addressed as [::ffff:7f00:1] (127.0.0.1 as an IPv4-mapped IPv6 address), which
// polyarch does not treat as loopback, so the rules for remote registries apply.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryResolver, type RegistryResolverOptions } from '../src/adapters/registry/index.ts';
import { manualClock } from './support/clock.ts';
import { selfSignedCertificate } from './support/der.ts';
import { startRegistry, type TestRegistry } from './support/registry.ts';

let reg: TestRegistry;
let tls: Server;
let remote: string;
let tlsHost: string;
const resolvers: RegistryResolver[] = [];
const resolver = (o: RegistryResolverOptions = {}): RegistryResolver => {
  const r = new RegistryResolver({ clock: manualClock(), conventions: [], attempts: 1, ...o });
  resolvers.push(r);
  return r;
};

beforeAll(async () => {
  reg = await startRegistry();
  await reg.pushImage('team/app', '1.4', 'linux/arm64');
  remote = `[::ffff:7f00:1]:${reg.port}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  tls = createServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: selfSignedCertificate(privateKey, 'localhost') }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  tlsHost = `[::ffff:7f00:1]:${(tls.address() as AddressInfo).port}`;
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
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^\\[::ffff:7f00:1\\]:${reg.port}/team/app:1\\.4: registry \\[::ffff:7f00:1\\]:${reg.port} unreachable \\(`));
  });

  it('--insecure-registry makes it plain HTTP', async () => {
    const r = await resolver({ insecureRegistries: [remote] }).resolve(`${remote}/team/app:1.4`);
    expect(r.ok && r.value.platforms.map((p) => p.image.split('@')[0])).toEqual([`${remote}/team/app`]);
  });

  it('certificates are verified: a self-signed one is refused, naming the cause', async () => {
    const r = await resolver().resolve(`${tlsHost}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unreachable');
    expect(!r.ok && r.error.message).toContain(`registry ${tlsHost} unreachable (DEPTH_ZERO_SELF_SIGNED_CERT`);
  });
});
