// Authentication against a real docker-registry: htpasswd basic auth and bearer tokens
// from a token server (registry `auth: token`), credentials from a docker config.json
// auth file and from a .dockerconfigjson pull secret given per call.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthFile, parseDockerConfig } from '../src/adapters/registry/index.ts';
import { mayReceiveCredentials } from '../src/adapters/registry/auth.ts';
import type { ImageLookupService } from '../src/app/image-lookup.ts';
import { registryLookup, type RegistryLookupOptions } from './support/registry-lookup.ts';
import type { RegistryCredentials } from '../src/ports/image-resolver.ts';
import { manualClock } from './support/clock.ts';
import { startRegistry, type PushedManifest, type TestRegistry } from './support/registry.ts';

const resolvers: ImageLookupService[] = [];
const resolver = (o: RegistryLookupOptions = {}): ImageLookupService => {
  const r = registryLookup({ clock: manualClock(), conventions: [], ...o });
  resolvers.push(r);
  return r;
};
const auth = (host: string, user: string, pass: string): RegistryCredentials => ({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } });

let basic: TestRegistry;
let token: TestRegistry;
let index: PushedManifest;
const dir = mkdtempSync(join(tmpdir(), 'polyarch-auth-'));

beforeAll(async () => {
  [basic, token] = await Promise.all([startRegistry({ auth: { htpasswd: { alice: 's3cret' } } }), startRegistry({ auth: { token: { alice: 's3cret' } } })]);
  for (const reg of [basic, token]) {
    const amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
    const arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64');
    const idx = await reg.pushIndex('team/app', '1.4', [amd, arm]);
    if (reg === basic) index = idx;
    await reg.pushImage('team/other', '1.0', 'linux/riscv64');
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  await Promise.all([basic?.stop(), token?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('basic auth (htpasswd)', () => {
  it('resolves with credentials from an auth file', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(auth(`http://${basic.host}/v2/`, 'alice', 's3cret')));
    const creds = await loadAuthFile(file);
    if (!creds.ok) throw new Error(creds.error);
    const r = await resolver({ credentials: [creds.value] }).resolve(`${basic.host}/team/app:1.4`);
    expect(r.ok && r.value.platforms.map((p) => p.platform.architecture)).toEqual(['amd64', 'arm64']);
  });

  it('without credentials: unauthorized, naming registry and cause', async () => {
    const r = await resolver().resolve(`${basic.host}/team/app:1.4`);
    expect(r).toEqual({
      ok: false,
      error: {
        kind: 'unauthorized',
        message: `${basic.host}/team/app:1.4: registry ${basic.host} refused manifest team/app:1.4 without credentials (none for ${basic.host}; pass --auth-file or a pull secret): HTTP 401 (UNAUTHORIZED: authentication required)`,
      },
    });
  });

  it('with a wrong password: unauthorized, naming the user', async () => {
    const r = await resolver({ credentials: [auth(basic.host, 'alice', 'nope')] }).resolve(`${basic.host}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unauthorized');
    expect(!r.ok && r.error.message).toContain(`with the credentials of alice for ${basic.host}: HTTP 401`);
  });

  it('a pull secret given per call works, and a cached failure without it does not block it', async () => {
    const secret = parseDockerConfig(JSON.stringify({ auths: { [basic.host]: { username: 'alice', password: 's3cret' } } }), '.dockerconfigjson');
    if (!secret.ok) throw new Error(secret.error);
    const r = resolver();
    const ref = `${basic.host}/team/app:1.4`;
    expect((await r.resolve(ref)).ok).toBe(false);
    const withSecret = await r.resolve(ref, { credentials: [secret.value] });
    expect(withSecret.ok).toBe(true);
    expect(r.cached(ref, [secret.value])).toEqual(withSecret);
  });

  it('a private answer is cached for the credentials that read it, not given to a caller without them (issue 15)', async () => {
    const secret = parseDockerConfig(JSON.stringify({ auths: { [basic.host]: { username: 'alice', password: 's3cret' } } }), '.dockerconfigjson');
    if (!secret.ok) throw new Error(secret.error);
    const r = resolver();
    const ref = `${basic.host}/team/app:1.4`;
    const pinned = `${basic.host}/team/app@${index.digest}`;
    expect((await r.resolve(ref, { credentials: [secret.value] })).ok).toBe(true);
    expect((await r.resolve(pinned, { credentials: [secret.value] })).ok).toBe(true);
    // As the pod without `regcred` would ask: neither from the answer cache nor from the registry client's digest caches.
    expect(r.cached(ref)).toBeUndefined();
    for (const asked of [ref, pinned]) {
      const anonymous = await r.resolve(asked);
      expect(anonymous.ok).toBe(false);
      expect(!anonymous.ok && anonymous.error.kind).toBe('unauthorized');
    }
    expect(r.cached(ref, [secret.value])?.ok).toBe(true);
  });
});

describe('bearer tokens (token server)', () => {
  it('gets a token for the repository scope and reuses it', async () => {
    const ts = token.tokenServer;
    if (!ts) throw new Error('no token server');
    ts.requests.length = 0;
    const r = resolver({ credentials: [auth(token.host, 'alice', 's3cret')] });
    const got = await r.resolve(`${token.host}/team/app:1.4`);
    expect(got.ok && got.value.platforms).toHaveLength(2);
    expect((await r.resolve(`${token.host}/team/app:1.4-amd64`)).ok).toBe(true);
    expect((await r.resolve(`${token.host}/team/other:1.0`)).ok).toBe(true);
    expect(ts.requests.map((q) => `${q.user} ${q.scopes.join(' ')} ${q.service}`)).toEqual([
      `alice repository:team/app:pull ${ts.service}`,
      `alice repository:team/other:pull ${ts.service}`,
    ]);
  });

  it('without credentials: the registry refuses the anonymous token', async () => {
    const r = await resolver().resolve(`${token.host}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unauthorized');
    expect(!r.ok && r.error.message).toBe(
      `${token.host}/team/app:1.4: registry ${token.host} refused manifest team/app:1.4 without credentials (none for ${token.host}; pass --auth-file or a pull secret): HTTP 401 (UNAUTHORIZED: authentication required)`,
    );
  });

  it('with a wrong password: the token server refuses', async () => {
    const r = await resolver({ credentials: [auth(token.host, 'alice', 'wrong')] }).resolve(`${token.host}/team/app:1.4`);
    expect(!r.ok && r.error.kind).toBe('unauthorized');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`token server 127\\.0\\.0\\.1:\\d+ of registry ${token.host} refused the credentials of alice \\(HTTP 401\\)$`));
  });

  it('an oversized token response is refused at the limit', async () => {
    const ts = token.tokenServer;
    if (!ts) throw new Error('no token server');
    ts.mode = 'oversized';
    try {
      const r = await resolver({ credentials: [auth(token.host, 'alice', 's3cret')] }).resolve(`${token.host}/team/app:1.4`);
      expect(!r.ok && r.error.kind).toBe('too-large');
      expect(!r.ok && r.error.message).toMatch(/token response from 127\.0\.0\.1:\d+ for registry .* is larger than the 1 MiB limit$/);
    } finally {
      ts.mode = 'normal';
    }
  });

  it('a malformed token response is an error naming the token server', async () => {
    const ts = token.tokenServer;
    if (!ts) throw new Error('no token server');
    ts.mode = 'malformed';
    try {
      const r = await resolver({ credentials: [auth(token.host, 'alice', 's3cret')] }).resolve(`${token.host}/team/app:1.4`);
      expect(!r.ok && r.error.message).toMatch(/token server 127\.0\.0\.1:\d+ of registry .* sent a response that is not JSON$/);
    } finally {
      ts.mode = 'normal';
    }
  });
});

describe('token realm on another host (issue 15)', () => {
  let far: TestRegistry;
  beforeAll(async () => {
    // The registry on 127.0.0.1, its token realm plain HTTP on 127.0.0.2; anonymous pulls allowed.
    far = await startRegistry({ auth: { token: { alice: 's3cret' }, anonymousActions: ['pull'], realmHost: '127.0.0.2' } });
    await far.pushImage('team/app', '1.0', 'linux/amd64');
  }, 60_000);
  afterAll(() => far?.stop());

  it('never receives the registry credentials over plain HTTP: asked anonymously, with a warning', async () => {
    const ts = far.tokenServer;
    if (!ts) throw new Error('no token server');
    const before = ts.requests.length;
    const r = await resolver({ credentials: [auth(far.host, 'alice', 's3cret')] }).resolve(`${far.host}/team/app:1.0`);
    expect(r.ok).toBe(true);
    const realm = new URL(ts.realm).origin;
    expect(r.ok && r.value.warnings).toContain(`credentials for ${far.host} not sent to token realm ${realm}: it is plain HTTP on another host than the registry; asked for an anonymous token`);
    const asked = ts.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((q) => q.user === undefined)).toBe(true);
  });

  it('may receive them over HTTPS or on the registry host itself', () => {
    expect(mayReceiveCredentials(new URL('https://auth.example/token'), 'registry.example')).toBe(true);
    expect(mayReceiveCredentials(new URL('http://registry.example:5001/token'), 'registry.example:5000')).toBe(true);
    expect(mayReceiveCredentials(new URL('http://auth.example/token'), 'registry.example')).toBe(false);
  });
});

describe('auth files', () => {
  it.each([
    ['{', 'not valid JSON'],
    [JSON.stringify({ auths: { 'r.io': { auth: 7 } } }), 'auths.r.io.auth'],
    [JSON.stringify({ auths: [] }), 'auths'],
  ])('refuses %s naming the field', (text, why) => {
    const r = parseDockerConfig(text, 'auth file x');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });

  it('a missing auth file is a clear error', async () => {
    const r = await loadAuthFile(join(dir, 'absent.json'));
    expect(r).toEqual({ ok: false, error: `auth file ${join(dir, 'absent.json')}: no such file` });
  });
});
